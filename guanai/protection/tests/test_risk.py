"""Risk grades: rules as data, an explanation in Chinese, stored per child and read for worklists."""

from __future__ import annotations

import datetime as dt

from guanai.protection import services as svc
from guanai.protection.models import ChildRisk
from guanai.protection.risk_rules import RiskFacts, evaluate
from guanai.protection.selectors import risk_for, risk_rank, risk_rules
from guanai.protection.tests.conftest import NOW, file_report
from guanai.protection.tests.test_assessment import answers_for
from guanai.registry.models import ChildGroup
from guanai.visits.services import ProblemData, problem_open

TODAY = dt.date(2026, 3, 2)


def test_no_factor_is_low_risk():
    grade = evaluate(risk_rules(), RiskFacts())
    assert (grade.grade, grade.label, grade.colour) == ("low", "低", "green")
    assert grade.explanation == "低风险：未发现风险因素"


def test_the_highest_matching_rule_sets_the_grade_and_every_reason_is_explained():
    grade = evaluate(
        risk_rules(),
        RiskFacts(open_reports=1, assessment_result="insufficient", groups=frozenset({"orphan"}), open_problems=1),
    )
    assert (grade.grade, grade.colour) == ("high", "red")
    assert grade.explanation == (
        "高风险：有未办结的强制报告（1件）；最近一次家庭监护能力评估为监护不足；属于孤儿、事实无人抚养儿童或监护困境儿童；"
        "有1个走访发现的问题正在处理"
    )
    assert grade.rule_ids[0] == "open_report"


def test_medium_from_groups_or_an_overdue_problem():
    assert evaluate(risk_rules(), RiskFacts(groups=frozenset({"unsupported"}))).grade == "medium"
    assert evaluate(risk_rules(), RiskFacts(open_problems=1, overdue_problems=1)).grade == "medium"
    assert evaluate(risk_rules(), RiskFacts(open_problems=2, overdue_problems=2)).grade == "high"
    assert evaluate(risk_rules(), RiskFacts(open_problems=1)).grade == "low"


def test_a_report_raises_the_stored_grade_and_its_conclusion_lowers_it(pcast, children):
    child = children["village"]
    report = file_report(pcast["alice"], child_pk=child.pk, region_code="")
    stored = ChildRisk.objects.get(child=child)
    assert (stored.grade, stored.rule_version) == ("high", 1)
    assert "有未办结的强制报告" in stored.explanation

    for routing in report.routings.all():
        who = pcast["police"] if routing.department == "police" else pcast["charlie"]
        svc.report_accept(actor=who, routing_pk=routing.pk, now=NOW)
        svc.report_feedback(actor=who, routing_pk=routing.pk, text="已处置", concludes=True, now=NOW)
    assert risk_for([child.pk]) == {child.pk: ("low", "低风险：未发现风险因素")}


def test_a_poor_assessment_is_medium_and_groups_are_read_from_the_registry(pcast, children, instrument):
    child = children["village"]
    svc.assessment_submit(
        actor=pcast["alice"],
        child_pk=child.pk,
        answers=answers_for(
            instrument,
            in_income="short",
            in_support="none",
            ec_parents="rarely",
            kn_support="none",
            nb_help="no",
            le_space="no",
        ),
        assessed_on=TODAY,
        now=NOW,
    )
    grade, text = risk_for([child.pk])[child.pk]
    assert grade == "medium" and "监护不足" in text


def test_risk_for_computes_an_ungraded_child_without_storing_it(children):
    child = children["neighbour_village"]
    ChildGroup.objects.create(
        child=child,
        code="orphan",
        explanation="父母双亡",
        rule_id="orphan",
        rule_version=1,
        source="x",
        derived_on=TODAY,
    )
    assert risk_for([child.pk])[child.pk][0] == "medium"
    assert not ChildRisk.objects.filter(child=child).exists()
    assert sorted(["low", "high", "medium"], key=lambda g: -risk_rank(g)) == ["high", "medium", "low"]


def test_the_daily_pass_picks_up_a_problem_turning_overdue(pcast, children):
    child = children["village"]
    problem_open(
        actor=pcast["alice"], child=child, data=ProblemData("safety", "河边无护栏", due_date=TODAY), today=TODAY
    )
    svc.risk_refresh(child_ids=[child.pk], today=TODAY)
    assert ChildRisk.objects.get(child=child).grade == "low"
    svc.risk_refresh_due(today=TODAY + dt.timedelta(days=1))
    assert ChildRisk.objects.get(child=child).grade == "medium"
