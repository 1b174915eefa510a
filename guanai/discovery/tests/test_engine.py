from __future__ import annotations

import datetime as dt

from conftest import VILLAGE, make_child
from guanai.discovery.engine import discovery_run
from guanai.discovery.models import Finding, Link
from guanai.discovery.tests.conftest import ON, child_number
from guanai.discovery.tests.helpers import one_digit_wrong


def test_a_run_links_exactly_and_probabilistically_and_finds(villages, roster, left_behind_household):
    a = make_child(VILLAGE, "王小明", birth=dt.date(2015, 3, 7))
    b = make_child(VILLAGE, "李小红", birth=dt.date(2014, 9, 1), male=False)
    _ids, household, migrant = left_behind_household
    household.append(
        {
            "姓名": "王小明",
            "性别": "男",
            "出生日期": "2015-03-07",
            "身份证号": child_number(a),
            "户号": "H1",
            "与户主关系": "子",
            "户籍区划代码": VILLAGE,
            "人员状态": "正常",
        }
    )
    roster("household", household)
    roster("migrant", migrant)
    roster(
        "education",
        [
            {
                "姓名": "李晓红",
                "性别": "女",
                "出生日期": "2014-09-01",
                "身份证号": one_digit_wrong(child_number(b)),
                "学校名称": "虎威小学",
                "学校区划代码": VILLAGE,
                "年级": "五年级",
                "学籍状态": "辍学",
                "状态日期": "2026-03-01",
            },
        ],
    )
    run = discovery_run(on=ON)
    assert run.stats["links"] == {"exact/accepted": 3, "probabilistic/accepted": 1}
    assert set(run.timings) >= {"load", "link", "write_links", "rules", "findings", "total"}
    assert Link.objects.filter(child=a, method="exact").exists()
    assert Link.objects.filter(child=b, method="probabilistic", state="accepted").exists()
    assert Finding.objects.filter(rule="UNREGISTERED_LEFT_BEHIND", name="张小山").exists()
    assert Finding.objects.filter(rule="DROPOUT", child=b).exists()
