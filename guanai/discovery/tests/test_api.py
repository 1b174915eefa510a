from __future__ import annotations

import datetime as dt

from conftest import VILLAGE, client_for, make_child
from guanai.discovery.engine import discovery_run
from guanai.discovery.models import Finding, Link
from guanai.discovery.tests.conftest import ON


def test_the_api_lists_rejects_and_reviews(villages, cast, roster, left_behind_household):
    _ids, household, migrant = left_behind_household
    make_child(VILLAGE, "王小明", birth=dt.date(2014, 3, 7))
    roster("household", household)
    roster("migrant", migrant)
    roster(
        "education",
        [
            {
                "姓名": "王晓东",
                "性别": "男",
                "出生日期": "2014-03-07",
                "学校名称": "虎威小学",
                "学校区划代码": VILLAGE,
                "学籍状态": "在读",
            }
        ],
    )
    discovery_run(on=ON)
    charlie = client_for(cast["charlie"])
    listed = charlie.get("/api/v1/discovery/findings/?rule=UNREGISTERED_LEFT_BEHIND").json()
    assert [f["name"] for f in listed] == ["张小山"]
    assert client_for(cast["alice"]).get("/api/v1/discovery/findings/?rule=UNREGISTERED_LEFT_BEHIND").json() == []
    pk = listed[0]["id"]
    refused = charlie.post(f"/api/v1/discovery/findings/{pk}/reject/", {"reason": ""}, content_type="application/json")
    assert refused.status_code == 400
    done = charlie.post(
        f"/api/v1/discovery/findings/{pk}/reject/", {"reason": "父母已返乡"}, content_type="application/json"
    )
    assert done.json()["status"] == "rejected" and Finding.objects.get(pk=pk).reason == "父母已返乡"

    queue = charlie.get("/api/v1/discovery/review/").json()
    assert len(queue) == 1 and "*" in (queue[0]["row_id_number"] or "*")
    decided = charlie.post(
        f"/api/v1/discovery/review/{queue[0]['id']}/", {"decision": "accept"}, content_type="application/json"
    )
    assert decided.json()["method"] == "reviewed" and Link.objects.get(pk=queue[0]["id"]).state == "accepted"
    assert (
        client_for(cast["alice"])
        .post(f"/api/v1/discovery/review/{queue[0]['id']}/", {"decision": "reject"}, content_type="application/json")
        .status_code
        == 404
    )
