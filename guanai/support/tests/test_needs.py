"""Needs: the assessment instrument, needs from visit checklists and from registry facts."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import VILLAGE
from guanai.audit.models import AuditEvent
from guanai.lib.errors import DomainError, NotFound
from guanai.registry.models import BenefitEnrolment, ChildGroup, TimelineEvent
from guanai.support.models import Need, NeedsAssessment
from guanai.support.services import instrument, need_add, needs_assess, needs_derive
from guanai.visits.models import Visit

ON = dt.date(2026, 3, 10)


def _assess(user, child, answers, **kw):
    return needs_assess(actor=user, child_pk=child.pk, answers=answers, on=ON, **kw)


def test_the_instrument_has_the_eight_domains():
    assert [d["label"] for d in instrument()["domains"]] == [
        "生活保障", "医疗康复", "教育学业", "心理健康", "监护照料", "安全防护", "亲情关爱", "文体活动",
    ]  # fmt: skip


def test_it_turns_scored_domains_into_needs_with_the_highest_score_as_severity(cast, children):
    child = children["village"]
    a = _assess(
        cast["alice"],
        child,
        {
            "psy_mood": {"score": 3, "evidence": "经常哭闹，不愿上学"},
            "psy_support": {"score": 1, "evidence": ""},
            "edu_study": {"score": 2, "evidence": "数学不及格"},
            "rec_activity": {"score": 0},
        },
    )
    needs = {n.domain: n for n in Need.objects.filter(child=child)}
    assert set(needs) == {"psychological", "education"}
    assert needs["psychological"].severity == 3 and needs["psychological"].assessment == a
    assert "经常哭闹" in needs["psychological"].evidence
    assert a.domain_scores["psychological"] == 3 and a.instrument_version == 1
    assert TimelineEvent.objects.filter(child=child, kind="support.assessment").get().summary == (
        "需求评估：教育学业（较重）、心理健康（严重）"
    )
    assert AuditEvent.objects.filter(action="needs.assess", object_id=str(a.pk)).exists()


def test_a_reassessment_updates_the_open_need_and_closes_a_domain_scored_zero(cast, children):
    child = children["village"]
    _assess(
        cast["alice"],
        child,
        {"psy_mood": {"score": 3, "evidence": "哭闹"}, "edu_study": {"score": 2, "evidence": "差"}},
    )
    _assess(cast["alice"], child, {"psy_mood": {"score": 1, "evidence": ""}, "edu_study": {"score": 0}})
    psych = Need.objects.get(child=child, domain="psychological")
    edu = Need.objects.get(child=child, domain="education")
    assert psych.severity == 1 and psych.status == "open"
    assert edu.status == "met" and edu.resolution == "复评显示该领域已无需求"


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"psy_mood": {"score": 3, "evidence": ""}}, "须填写依据"),
        ({"psy_mood": {"score": 5, "evidence": "x"}}, "得分应为0至3"),
        ({"height": {"score": 1}}, "没有“height”这一项"),
        ({}, "请至少为一项评分"),
    ],
)
def test_bad_answers_are_refused_and_nothing_is_written(cast, children, answers, message):
    with pytest.raises(DomainError, match=message):
        _assess(cast["alice"], children["village"], answers)
    assert not NeedsAssessment.objects.exists() and not Need.objects.exists()


def test_a_director_cannot_assess_a_child_outside_her_village(cast, children):
    with pytest.raises(NotFound):
        _assess(cast["alice"], children["other_township"], {"psy_mood": {"score": 1}})


def _visit(child, user, checklist, on=ON):
    return Visit.objects.create(
        child=child,
        visited_at=dt.datetime(on.year, on.month, on.day, 10, tzinfo=dt.UTC),
        visited_on=on,
        mode="home",
        visitor=user,
        visitor_name="alice",
        checklist=checklist,
    )


def test_a_visit_checklist_raises_needs_and_the_assessment_can_cite_the_visit(cast, children):
    child = children["village"]
    visit = _visit(
        child,
        cast["alice"],
        {
            "psychological": {"status": "有问题", "note": "情绪低落"},
            "schooling": {"status": "需关注"},
            "safety": {"status": "正常"},
        },
    )
    needs = {n.key: n for n in Need.objects.filter(child=child)}
    assert set(needs) == {"visit:psychological", "visit:schooling"}
    assert needs["visit:psychological"].severity == 3 and needs["visit:psychological"].domain == "psychological"
    assert needs["visit:psychological"].evidence == "2026-03-10走访：情绪低落"
    assert needs["visit:schooling"].severity == 2
    a = _assess(cast["alice"], child, {"psy_mood": {"score": 3, "evidence": "走访发现"}}, visit_id=str(visit.pk))
    assert a.visit == visit


def test_facts_raise_needs_and_close_them_when_the_fact_changes(cast, children):
    child = children["village"]
    child.schooling, child.disability_type, child.disability_grade = "辍学", "肢体", 3
    child.save()
    needs_derive(child_ids=[child.pk], on=ON)
    keys = set(Need.objects.filter(child=child, status="open").values_list("key", flat=True))
    assert keys == {"fact:dropout", "fact:disability_no_rehab"}
    needs_derive(child_ids=[child.pk], on=ON)  # idempotent
    assert Need.objects.filter(child=child).count() == 2
    child.schooling = "在读"
    child.save()
    BenefitEnrolment.objects.create(child=child, kind="disability_rehab", start=dt.date(2026, 1, 1))
    # Back at school with a disability: 教育资助 is now due (rules/benefits.yaml education_aid).
    assert needs_derive(child_ids=[child.pk], on=ON) == {"opened": 1, "closed": 2}
    assert list(Need.objects.filter(child=child, status="open").values_list("key", "domain")) == [
        ("benefit:education_aid", "education")
    ]


def test_a_benefit_gap_becomes_a_living_need_with_the_eligibility_explanation(cast, children):
    child = children["village"]
    ChildGroup.objects.create(
        child=child,
        code="orphan",
        explanation="父亲已死亡；母亲已死亡",
        rule_id="orphan",
        rule_version=1,
        source="s",
        derived_on=ON,
    )
    needs_derive(child_ids=None, on=ON)
    need = Need.objects.get(child=child, key="benefit:orphan_allowance")
    assert need.domain == "living" and need.severity == 3 and need.source == "benefit"
    assert need.title == "应享未享：孤儿基本生活费" and "认定为孤儿" in need.evidence


def test_a_manual_need_needs_a_title(cast, children):
    with pytest.raises(DomainError, match="请填写需求内容"):
        need_add(actor=cast["alice"], child_pk=children["village"].pk, domain="safety", severity=2, title=" ", on=ON)
    need = need_add(
        actor=cast["alice"], child_pk=children["village"].pk, domain="safety", severity=2, title="家门口有堰塘", on=ON
    )
    assert need.source == "manual" and need.child.village_id == VILLAGE
