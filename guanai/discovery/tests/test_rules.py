"""Each discovery rule with positive and negative cases."""

from __future__ import annotations

import datetime as dt

from conftest import VILLAGE, make_child
from guanai.discovery.engine import discovery_run
from guanai.discovery.models import Finding
from guanai.discovery.tests.conftest import ON, child_number
from guanai.discovery.tests.helpers import person_id
from guanai.registry.models import TimelineEvent


def _rules() -> list[str]:
    return sorted(Finding.objects.values_list("rule", flat=True))


def _household(
    kid_name="张小山",
    kid_birth=dt.date(2016, 5, 20),
    kid_id=None,
    father_status="正常",
    mother_status="正常",
    relation="长子",
):
    ids = {
        "kid": kid_id or person_id(VILLAGE, kid_birth, 11, True),
        "father": person_id(VILLAGE, dt.date(1988, 2, 3), 12, True),
        "mother": person_id(VILLAGE, dt.date(1990, 8, 9), 13, False),
    }
    rows = [
        {
            "姓名": "张大山",
            "性别": "男",
            "出生日期": "1988-02-03",
            "身份证号": ids["father"],
            "户号": "H9",
            "与户主关系": "户主",
            "户籍区划代码": VILLAGE,
            "人员状态": father_status,
            "状态日期": "2025-12-01",
        },
        {
            "姓名": "刘静",
            "性别": "女",
            "出生日期": "1990-08-09",
            "身份证号": ids["mother"],
            "户号": "H9",
            "与户主关系": "妻",
            "户籍区划代码": VILLAGE,
            "人员状态": mother_status,
            "状态日期": "2025-11-01",
        },
        {
            "姓名": kid_name,
            "性别": "男",
            "出生日期": kid_birth,
            "身份证号": ids["kid"],
            "户号": "H9",
            "与户主关系": relation,
            "户籍区划代码": VILLAGE,
            "人员状态": "正常",
        },
    ]
    return ids, rows


def _away(name, number, since="2025-01-10", cross="是"):
    return {"姓名": name, "身份证号": number, "外出地点": "广东省东莞市", "外出日期": since, "是否跨县": cross}


def test_both_parents_away_across_counties_finds_an_unregistered_left_behind_child(villages, roster):
    ids, rows = _household()
    roster("household", rows)
    roster("migrant", [_away("张大山", ids["father"]), _away("柳婧", ids["mother"].lower(), "2025/3/1")])
    discovery_run(on=ON)
    finding = Finding.objects.get()
    assert finding.rule == "UNREGISTERED_LEFT_BEHIND" and finding.name == "张小山"
    assert finding.responsible_role == "district_officer" and finding.responsible_region == "500230000000"
    assert "广东省东莞市" in finding.explanation and len(finding.evidence) == 5


def test_a_parent_away_for_less_than_six_months_does_not_count(villages, roster):
    ids, rows = _household()
    roster("household", rows)
    roster("migrant", [_away("张大山", ids["father"]), _away("刘静", ids["mother"], "2026-01-15")])
    discovery_run(on=ON)
    assert _rules() == []


def test_working_away_within_the_county_does_not_count(villages, roster):
    ids, rows = _household()
    roster("household", rows)
    roster("migrant", [_away("张大山", ids["father"], cross="否"), _away("刘静", ids["mother"])])
    discovery_run(on=ON)
    assert _rules() == []


def test_one_parent_away_and_the_other_imprisoned_counts(villages, roster):
    ids, rows = _household(mother_status="服刑在押")
    roster("household", rows)
    roster("migrant", [_away("张大山", ids["father"])])
    discovery_run(on=ON)
    assert "UNREGISTERED_LEFT_BEHIND" in _rules()


def test_a_registered_child_is_not_reported_as_unregistered(villages, roster):
    child = make_child(VILLAGE, "张小山", birth=dt.date(2016, 5, 20))
    ids, rows = _household(kid_id=child_number(child))
    roster("household", rows)
    roster("migrant", [_away("张大山", ids["father"]), _away("刘静", ids["mother"])])
    discovery_run(on=ON)
    assert "UNREGISTERED_LEFT_BEHIND" not in _rules()


def test_a_dropout_in_the_education_roster_is_found_and_written_to_the_timeline(villages, roster):
    child = make_child(VILLAGE, "王小明", birth=dt.date(2014, 3, 7))
    roster(
        "education",
        [
            {
                "姓名": "王小明",
                "性别": "男",
                "出生日期": "2014-03-07",
                "身份证号": child_number(child),
                "学校名称": "虎威中学",
                "学校区划代码": VILLAGE,
                "学籍状态": "辍学",
                "状态日期": "2026-04-01",
            }
        ],
    )
    discovery_run(on=ON)
    finding = Finding.objects.get(rule="DROPOUT")
    assert finding.child == child and finding.responsible_role == "director" and "辍学" in finding.explanation
    assert TimelineEvent.objects.filter(child=child, kind="discovery.finding").count() == 1


def test_a_child_absent_from_the_district_education_roster_is_a_dropout_candidate(villages, roster):
    enrolled = make_child(VILLAGE, "王小明", birth=dt.date(2014, 3, 7))
    absent = make_child(VILLAGE, "李小红", birth=dt.date(2013, 6, 1), male=False)
    make_child(VILLAGE, "婴儿", birth=dt.date(2024, 6, 1))  # too young
    make_child(VILLAGE, "大孩子", birth=dt.date(2009, 6, 1))  # 17: past compulsory education
    roster(
        "education",
        [
            {
                "姓名": "王小明",
                "性别": "男",
                "出生日期": "2014-03-07",
                "身份证号": child_number(enrolled),
                "学校名称": "虎威中学",
                "学校区划代码": VILLAGE,
                "学籍状态": "在读",
            }
        ],
    )
    discovery_run(on=ON)
    assert list(Finding.objects.values_list("rule", "child")) == [("DROPOUT", absent.pk)]


def test_a_parent_imprisoned_and_the_other_dead_makes_a_defacto_unsupported_candidate(villages, roster):
    child = make_child(VILLAGE, "张小山", birth=dt.date(2016, 5, 20))
    _ids, rows = _household(kid_id=child_number(child), father_status="服刑在押", mother_status="死亡")
    roster("household", rows)
    discovery_run(on=ON)
    finding = Finding.objects.get(rule="DEFACTO_UNSUPPORTED_CANDIDATE")
    assert finding.child == child and "服刑在押" in finding.explanation and "死亡" in finding.explanation


def test_both_parents_dead_is_an_orphan_not_defacto_unsupported(villages, roster):
    child = make_child(VILLAGE, "张小山", birth=dt.date(2016, 5, 20))
    _ids, rows = _household(kid_id=child_number(child), father_status="死亡", mother_status="死亡")
    roster("household", rows)
    discovery_run(on=ON)
    assert "DEFACTO_UNSUPPORTED_CANDIDATE" not in _rules()


def test_one_parent_imprisoned_and_the_other_at_home_is_not_defacto_unsupported(villages, roster):
    child = make_child(VILLAGE, "张小山", birth=dt.date(2016, 5, 20))
    _ids, rows = _household(kid_id=child_number(child), father_status="服刑在押")
    roster("household", rows)
    discovery_run(on=ON)
    assert "DEFACTO_UNSUPPORTED_CANDIDATE" not in _rules()


def test_a_severely_disabled_parent_counts_for_defacto_unsupported(villages, roster):
    child = make_child(VILLAGE, "张小山", birth=dt.date(2016, 5, 20))
    ids, rows = _household(kid_id=child_number(child), father_status="强制隔离戒毒")
    roster("household", rows)
    roster(
        "disability",
        [{"姓名": "刘静", "身份证号": ids["mother"], "残疾类别": "智力", "残疾等级": "三级", "发证日期": "2020-01-01"}],
    )
    discovery_run(on=ON)
    assert "DEFACTO_UNSUPPORTED_CANDIDATE" in _rules()


def test_a_child_with_a_disability_certificate_not_in_the_registry_is_found(villages, roster):
    registered = make_child(VILLAGE, "王小明", birth=dt.date(2014, 3, 7))
    unknown = person_id(VILLAGE, dt.date(2012, 1, 5), 21, False)
    adult = person_id(VILLAGE, dt.date(1980, 1, 5), 22, True)
    roster(
        "disability",
        [
            {
                "姓名": "王小明",
                "身份证号": child_number(registered),
                "残疾类别": "肢体",
                "残疾等级": "二级",
                "发证日期": "2023-01-01",
            },
            {"姓名": "陈小花", "身份证号": unknown, "残疾类别": "听力", "残疾等级": "三级", "发证日期": "2022-05-01"},
            {"姓名": "陈大力", "身份证号": adult, "残疾类别": "听力", "残疾等级": "三级", "发证日期": "2022-05-01"},
        ],
    )
    discovery_run(on=ON)
    finding = Finding.objects.get()
    assert (finding.rule, finding.name, finding.region_code) == ("DISABILITY_UNREGISTERED", "陈小花", "500230000000")


def test_a_registry_child_recorded_dead_by_the_police_is_put_up_for_exit_review(villages, roster):
    dead = make_child(VILLAGE, "王小明", birth=dt.date(2014, 3, 7))
    alive = make_child(VILLAGE, "李小红", birth=dt.date(2013, 6, 1), male=False)
    roster(
        "household",
        [
            {
                "姓名": "王小明",
                "性别": "男",
                "出生日期": "2014-03-07",
                "身份证号": child_number(dead),
                "户号": "H1",
                "与户主关系": "子",
                "户籍区划代码": VILLAGE,
                "人员状态": "死亡",
                "状态日期": "2026-02-02",
            },
            {
                "姓名": "李小红",
                "性别": "女",
                "出生日期": "2013-06-01",
                "身份证号": child_number(alive),
                "户号": "H2",
                "与户主关系": "女",
                "户籍区划代码": VILLAGE,
                "人员状态": "正常",
            },
        ],
    )
    discovery_run(on=ON)
    assert list(Finding.objects.values_list("rule", "child")) == [("REGISTRY_EXIT_REVIEW", dead.pk)]


def test_findings_are_deduplicated_across_runs(villages, roster):
    ids, rows = _household()
    roster("household", rows)
    roster("migrant", [_away("张大山", ids["father"]), _away("刘静", ids["mother"])])
    discovery_run(on=ON)
    second = discovery_run(on=ON + dt.timedelta(days=30))
    assert Finding.objects.count() == 1 and second.stats["findings_seen_again"] == 1
    assert Finding.objects.get().last_seen == ON + dt.timedelta(days=30)
