from __future__ import annotations

import datetime as dt

import time_machine

from conftest import VILLAGE, client_for, make_id_number
from guanai.audit.models import AccessEvent

BIRTH = dt.date(2015, 3, 7)
AWAY = {"kind": "working_away", "since": "2025-01-10", "work_place": "广东省东莞市", "cross_county": True}


def payload(**kw):
    body = {
        "name": "王小明",
        "sex": "M",
        "birth_date": "2015-03-07",
        "village_code": VILLAGE,
        "hukou_type": "agricultural",
        "id_number": make_id_number(VILLAGE, BIRTH, True),
        "family": [
            {"relation": "father", "name": "王大山", "statuses": [AWAY]},
            {"relation": "mother", "name": "李秀兰", "phone": "13812345678", "statuses": [AWAY]},
        ],
    }
    body.update(kw)
    return body


@time_machine.travel(dt.datetime(2026, 11, 29, 10, tzinfo=dt.UTC))
def test_register_read_edit_exit_through_the_api(cast):
    client = client_for(cast["alice"])
    created = client.post("/api/v1/children/", payload(), content_type="application/json")
    assert created.status_code == 201, created.content
    child = created.json()
    assert child["status"] == "active"
    assert [g["label"] for g in child["groups"]] == ["农村留守儿童"]
    assert child["family"][1]["phone"] == "138****5678"

    stale_base = child["version"]
    edited = client.patch(
        f"/api/v1/children/{child['id']}/", {"version": stale_base, "grade": "五年级"}, content_type="application/json"
    )
    assert edited.status_code == 200
    assert edited.json()["version"] == stale_base + 1
    stale = client.patch(
        f"/api/v1/children/{child['id']}/", {"version": stale_base, "grade": "六年级"}, content_type="application/json"
    )
    assert stale.status_code == 409
    assert stale.json()["error"]["code"] == "stale"
    assert "年级" in stale.json()["error"]["message"]

    timeline = client.get(f"/api/v1/children/{child['id']}/timeline/").json()["results"]
    assert timeline[0]["summary"].startswith("修改档案：年级")
    assert AccessEvent.objects.filter(action="child.view", object_id=str(child["id"])).exists()

    father = child["family"][0]["person_id"]
    back = client.post(
        f"/api/v1/children/{child['id']}/family/{father}/statuses/",
        {"kind": "at_home", "since": "2026-11-29"},
        content_type="application/json",
    )
    assert back.status_code == 201
    assert back.json()["groups"] == []
    assert back.json()["exit_proposal"]

    exited = client.post(
        f"/api/v1/children/{child['id']}/exit/",
        {"reason": "父母返乡", "on": "2026-11-29"},
        content_type="application/json",
    )
    assert exited.json()["status"] == "exited"
    assert client.get("/api/v1/children/", {"status": "exited"}).json()["count"] == 1


@time_machine.travel(dt.datetime(2026, 11, 29, 10, tzinfo=dt.UTC))
def test_registration_errors_are_field_by_field_in_chinese(cast):
    response = client_for(cast["alice"]).post(
        "/api/v1/children/", payload(birth_date="2016-03-07"), content_type="application/json"
    )
    assert response.status_code == 400
    assert "出生日期" in response.json()["error"]["detail"]["id_number"]


@time_machine.travel(dt.datetime(2026, 11, 29, 10, tzinfo=dt.UTC))
def test_a_partner_cannot_register_and_a_duplicate_is_a_conflict(cast):
    from conftest import make_user

    body = payload()
    assert (
        client_for(make_user("partner_police"))
        .post("/api/v1/children/", body, content_type="application/json")
        .status_code
        == 403
    )
    client = client_for(cast["alice"])
    assert client.post("/api/v1/children/", body, content_type="application/json").status_code == 201
    again = client.post("/api/v1/children/", body, content_type="application/json")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "duplicate_id"


def test_search_parameters_reach_the_selector(cast, children):
    client = client_for(cast["charlie"])
    assert client.get("/api/v1/children/", {"region": "500230101"}).json()["count"] == 2
    assert client.get("/api/v1/children/", {"q": "王小明"}).json()["count"] == 1


def test_an_edit_without_the_version_it_is_based_on_is_refused(cast, villages):
    from conftest import VILLAGE, client_for, make_child

    child = make_child(VILLAGE)
    response = client_for(cast["alice"]).patch(
        f"/api/v1/children/{child.pk}/", {"name": "王小亮"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert "版本号" in str(response.json())
    child.refresh_from_db()
    assert child.name == "王小明"
