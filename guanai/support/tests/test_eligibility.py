"""Benefit eligibility and gaps, rule by rule, with frozen dates (rules/benefits.yaml)."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import NEIGHBOUR_VILLAGE, VILLAGE, make_child
from guanai.registry.groups import groups_refresh
from guanai.registry.models import BenefitEnrolment, Child, ChildGroup, ChildRelation, Household, Person, PersonStatus
from guanai.support.eligibility import benefit_eligibility, benefit_gaps, parse_ruleset, ruleset

ON = dt.date(2026, 3, 10)
YESTERDAY = ON - dt.timedelta(days=1)
TOMORROW = ON + dt.timedelta(days=1)

pytestmark = pytest.mark.usefixtures("villages")


def _child(village: str = VILLAGE, *, birth: dt.date = dt.date(2015, 3, 7), household: bool = True, **fields) -> Child:
    child = make_child(village, birth=birth)
    if household:
        child.household = Household.objects.create(hukou_type="agricultural", village_id=village)
    for name, value in fields.items():
        setattr(child, name, value)
    child.save()
    return child


def _group(child: Child, code: str, why: str = "父亲已死亡；母亲已死亡") -> None:
    ChildGroup.objects.create(
        child=child, code=code, explanation=why, rule_id=code, rule_version=1, source="test", derived_on=ON
    )


def _enrol(kind: str, *, child: Child | None = None, household: Household | None = None, start, end=None):
    return BenefitEnrolment.objects.create(child=child, household=household, kind=kind, start=start, end=end)


def _rules(result: dict[int, list[tuple[str, str, str]]], child: Child) -> set[tuple[str, str]]:
    return {(benefit, rule) for benefit, rule, _ in result.get(child.pk, [])}


def _gaps(child: Child, **kwargs) -> dict[str, str]:
    return {g.rule: g.explanation for g in benefit_gaps(on=ON, **kwargs) if g.child_id == child.pk}


# --- the rule file ------------------------------------------------------------------------------------------
def test_every_rule_cites_a_source_and_names_known_kinds():
    rs = ruleset()
    assert {r.id for r in rs.rules} == {
        "orphan_allowance",
        "unsupported_allowance",
        "disability_rehab",
        "severe_disability_rural_dibao",
        "severe_disability_urban_dibao",
        "education_aid",
    }
    assert all(r.source and r.explain and r.benefit in r.satisfied_by for r in rs.rules)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"benefit": "pension"}, "unknown benefit kinds"),
        ({"when": {"fact": "child.tall"}}, "unknown fact"),
        ({"when": {"some": []}}, "unknown operator"),
        ({"satisfied_by": ["tekun"]}, "must include the benefit"),
    ],
)
def test_a_bad_rule_file_is_refused_with_the_rule_named(change, message):
    spec = {
        "id": "x",
        "version": 1,
        "benefit": "orphan_allowance",
        "satisfied_by": ["orphan_allowance"],
        "age_below": 18,
        "source": "s",
        "explain": "e",
        "when": {"fact": "group.orphan"},
    }
    with pytest.raises(ValueError, match=message):
        parse_ruleset({"version": 1, "rules": [{**spec, **change}]})


# --- orphan allowance ---------------------------------------------------------------------------------------
def test_it_finds_an_orphan_without_the_allowance_and_explains_why():
    child = _child()
    _group(child, "orphan")
    gaps = _gaps(child)
    assert set(gaps) == {"orphan_allowance"}
    assert "认定为孤儿（父亲已死亡；母亲已死亡）" in gaps["orphan_allowance"]
    assert "2026-03-10无有效的孤儿基本生活费记录" in gaps["orphan_allowance"]
    gap = benefit_gaps(on=ON, child_ids=[child.pk])[0]
    assert gap.benefit == "orphan_allowance" and "民发〔2010〕161号" in gap.source


def test_an_active_orphan_allowance_closes_the_gap():
    child = _child()
    _group(child, "orphan")
    _enrol("orphan_allowance", child=child, start=dt.date(2025, 1, 1), end=ON)  # end is inclusive
    assert _gaps(child) == {}
    assert _rules(benefit_eligibility(on=ON), child) == {("orphan_allowance", "orphan_allowance")}


def test_an_allowance_that_ended_yesterday_leaves_a_gap_and_says_when_it_ended():
    child = _child()
    _group(child, "orphan")
    _enrol("orphan_allowance", child=child, start=dt.date(2025, 1, 1), end=YESTERDAY)
    assert "最近一次于2026-03-09终止" in _gaps(child)["orphan_allowance"]


def test_an_allowance_starting_tomorrow_does_not_count_today():
    child = _child()
    _group(child, "orphan")
    _enrol("orphan_allowance", child=child, start=TOMORROW)
    assert "已登记自2026-03-11起享受，尚未生效" in _gaps(child)["orphan_allowance"]
    assert benefit_gaps(on=TOMORROW, child_ids=[child.pk]) == []


def test_an_orphan_turning_18_is_no_longer_eligible():
    child = _child(birth=dt.date(2008, 3, 10))  # 18 on ON
    _group(child, "orphan")
    assert benefit_eligibility(on=ON) == {}
    assert _rules(benefit_eligibility(on=YESTERDAY), child) == {("orphan_allowance", "orphan_allowance")}


def test_an_exited_child_is_not_counted():
    child = _child(status=Child.Status.EXITED)
    _group(child, "orphan")
    assert benefit_gaps(on=ON) == []


def test_received_evidence_from_another_source_suppresses_the_gap():
    child = _child()
    _group(child, "orphan")
    assert _gaps(child, received={child.pk: ["orphan_allowance"]}) == {}
    assert set(_gaps(child, received={child.pk: ["temporary"]})) == {"orphan_allowance"}


def test_groups_derived_from_facts_feed_the_rule():
    child = _child()
    for relation in ("father", "mother"):
        person = Person.objects.create(name="父母")
        ChildRelation.objects.create(child=child, person=person, relation=relation)
        PersonStatus.objects.create(person=person, kind="deceased", since=dt.date(2020, 1, 1))
    groups_refresh(child_ids=[child.pk], today=ON)
    assert "认定为孤儿（父亲已死亡（2020-01-01）；母亲已死亡（2020-01-01））" in _gaps(child)["orphan_allowance"]


# --- de-facto unsupported -----------------------------------------------------------------------------------
def test_an_unsupported_child_needs_the_allowance_or_an_orphan_allowance():
    child = _child()
    _group(child, "unsupported", "父亲服刑在押至2030-01-01；母亲失联已满6个月")
    assert set(_gaps(child)) == {"unsupported_allowance"}
    _enrol("tekun", household=child.household, start=dt.date(2024, 1, 1))
    assert set(_gaps(child)) == {"unsupported_allowance"}  # 特困 does not replace the allowance
    _enrol("orphan_allowance", child=child, start=dt.date(2024, 1, 1))
    assert _gaps(child) == {}


# --- disability rehabilitation --------------------------------------------------------------------------------
def test_a_disabled_child_under_seven_appears_eligible_for_rehabilitation():
    young = _child(birth=dt.date(2020, 5, 1), disability_type="听力", disability_grade=3)
    seven = _child(birth=dt.date(2019, 3, 10), disability_type="听力", disability_grade=3)  # 7 on ON
    healthy = _child(birth=dt.date(2020, 5, 1))
    result = benefit_eligibility(on=ON)
    assert _rules(result, young) == {("disability_rehab", "disability_rehab")}
    assert seven.pk not in result and healthy.pk not in result
    assert "儿童本人听力残疾三级" in _gaps(young)["disability_rehab"]
    _enrol("disability_rehab", child=young, start=dt.date(2026, 1, 1), end=dt.date(2026, 12, 31))
    assert _gaps(young) == {}


# --- 低保 for severely disabled children --------------------------------------------------------------------
def test_a_severely_disabled_rural_child_appears_eligible_for_rural_dibao():
    child = _child(disability_type="肢体", disability_grade=2)
    assert _rules(benefit_eligibility(on=ON), child) == {("rural_dibao", "severe_disability_rural_dibao")}
    assert "儿童本人重度残疾（肢体二级）；农业户口" in _gaps(child)["severe_disability_rural_dibao"]


def test_grade_three_counts_as_severe_only_for_intellectual_or_mental_disability():
    limb = _child(disability_type="肢体", disability_grade=3)
    mind = _child(disability_type="智力", disability_grade=3)
    result = benefit_eligibility(on=ON)
    assert limb.pk not in result
    assert _rules(result, mind) == {("rural_dibao", "severe_disability_rural_dibao")}


def test_an_urban_child_appears_eligible_for_urban_dibao():
    city = _child(disability_type="视力", disability_grade=1, hukou_type="non_agricultural")
    village_resident = _child(NEIGHBOUR_VILLAGE, disability_type="视力", disability_grade=1, hukou_type="resident")
    result = benefit_eligibility(on=ON)
    assert _rules(result, city) == {("urban_dibao", "severe_disability_urban_dibao")}
    assert _rules(result, village_resident) == {("rural_dibao", "severe_disability_rural_dibao")}


def test_a_household_enrolment_covers_the_child():
    child = _child(disability_type="肢体", disability_grade=1)
    _enrol("rural_dibao", household=child.household, start=dt.date(2024, 1, 1))
    assert _gaps(child) == {}


def test_a_household_enrolment_ended_yesterday_no_longer_covers_the_child():
    child = _child(disability_type="肢体", disability_grade=1)
    _enrol("rural_dibao", household=child.household, start=dt.date(2024, 1, 1), end=YESTERDAY)
    assert set(_gaps(child)) == {"severe_disability_rural_dibao"}


def test_another_households_enrolment_does_not_cover_the_child():
    child = _child(disability_type="肢体", disability_grade=1)
    other = Household.objects.create(hukou_type="agricultural", village_id=VILLAGE)
    _enrol("rural_dibao", household=other, start=dt.date(2024, 1, 1))
    assert set(_gaps(child)) == {"severe_disability_rural_dibao"}


# --- education aid ------------------------------------------------------------------------------------------
def test_a_pupil_in_a_dibao_household_appears_eligible_for_education_aid():
    child = _child(schooling="在读")
    _enrol("rural_dibao", household=child.household, start=dt.date(2025, 9, 1))
    gaps = _gaps(child)
    assert set(gaps) == {"education_aid"}
    assert "在读；家庭享受农村低保（自2025-09-01）" in gaps["education_aid"]
    _enrol("education_aid", child=child, start=dt.date(2025, 9, 1), end=dt.date(2026, 7, 31))
    assert _gaps(child) == {}


def test_education_aid_needs_both_school_and_hardship():
    not_in_school = _child(schooling="辍学")
    _enrol("rural_dibao", household=not_in_school.household, start=dt.date(2025, 9, 1))
    no_hardship = _child(schooling="在读")
    relief_from_tomorrow = _child(schooling="在读")
    _enrol("rural_dibao", household=relief_from_tomorrow.household, start=TOMORROW)
    result = benefit_eligibility(on=ON)
    assert not_in_school.pk not in result and no_hardship.pk not in result and relief_from_tomorrow.pk not in result


def test_an_orphan_in_school_is_eligible_for_both():
    child = _child(schooling="在读")
    _group(child, "orphan")
    assert set(_gaps(child)) == {"orphan_allowance", "education_aid"}


# --- scope of the call --------------------------------------------------------------------------------------
def test_child_ids_limit_the_evaluation():
    a, b = _child(), _child()
    _group(a, "orphan")
    _group(b, "orphan")
    assert {g.child_id for g in benefit_gaps(on=ON, child_ids=[b.pk])} == {b.pk}
    assert set(benefit_eligibility(on=ON, child_ids=[a.pk])) == {a.pk}
    assert benefit_gaps(on=ON, child_ids=[]) == []


def test_the_whole_registry_is_evaluated_in_a_bounded_number_of_queries(django_assert_max_num_queries):
    for i in range(30):
        child = _child(schooling="在读", disability_type="智力" if i % 2 else "", disability_grade=2 if i % 2 else None)
        _group(child, "orphan" if i % 3 else "unsupported")
    with django_assert_max_num_queries(12):
        gaps = benefit_gaps(on=ON)
    assert len({g.child_id for g in gaps}) == 30


def test_a_handful_of_children_is_decided_as_the_registry_wide_sql_decides(monkeypatch):
    """Up to eligibility.FEW children skip the rules' SQL (decided in Python); the results must be the same."""
    from guanai.support import eligibility

    disabled = {"disability_type": "智力"}
    kids = [
        _child(schooling="在读", **(disabled | {"disability_grade": i % 4 + 1} if i % 2 else {})) for i in range(12)
    ]
    kids.append(_child(birth=dt.date(2007, 1, 1)))  # 19 on ON: too old for every rule
    kids.append(_child(status=Child.Status.EXITED))
    for i, child in enumerate(kids[:10]):
        _group(child, ("orphan", "unsupported", "rural_left_behind")[i % 3])
    _group(kids[-2], "orphan")  # would be eligible but for the age bound
    _group(kids[-1], "orphan")  # would be eligible but for having exited
    _enrol("rural_dibao", household=kids[3].household, start=YESTERDAY)
    _enrol("orphan_allowance", child=kids[0], start=YESTERDAY)
    ids = [c.pk for c in kids]
    few = benefit_eligibility(on=ON, child_ids=ids)
    few_gaps = sorted((g.child_id, g.rule, g.explanation) for g in benefit_gaps(on=ON, child_ids=ids))
    monkeypatch.setattr(eligibility, "FEW", 0)
    assert benefit_eligibility(on=ON, child_ids=ids) == few and few
    assert sorted((g.child_id, g.rule, g.explanation) for g in benefit_gaps(on=ON, child_ids=ids)) == few_gaps
