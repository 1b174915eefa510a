"""Benefit enrolments (overlap, effective-dated standards), care plans and activities."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from conftest import TOWNSHIP, VILLAGE, make_user
from guanai.audit.models import AuditEvent
from guanai.lib.errors import DomainError, PermissionRefused
from guanai.registry.models import (
    BenefitEnrolment,
    ChildGroup,
    ChildRelation,
    Household,
    Person,
    PersonStatus,
    TimelineEvent,
)
from guanai.support.eligibility import benefit_gaps
from guanai.support.models import BenefitStandard, CarePlan, Need, PlanAction
from guanai.support.services import (
    activity_attendance,
    activity_create,
    activity_invite,
    benefit_end,
    benefit_enrol,
    plan_action_add,
    plan_action_update,
    plan_activate,
    plan_draft,
    plan_progress,
    plan_review,
    plans_draft_batch,
    referral_deliver,
    referral_respond,
    standard_on,
    standard_set,
)
from guanai.support.tests.factories import make_need, make_provider, make_provider_user, make_service

ON = dt.date(2026, 3, 10)


@pytest.fixture
def standards(db):
    # Transactional tests flush the rows the data migration loaded; put them back.
    if not BenefitStandard.objects.exists():
        from importlib import import_module

        from django.apps import apps

        import_module("guanai.support.migrations.0002_benefit_standards").load(apps, None)


@pytest.fixture
def household_child(children):
    child = children["village"]
    child.household = Household.objects.create(hukou_type="agricultural", village_id=VILLAGE)
    child.save()
    return child


# --- standards ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("item", "day", "amount"),
    [
        ("rural_dibao", dt.date(2024, 7, 31), None),
        ("rural_dibao", dt.date(2024, 8, 1), "610"),
        ("rural_dibao", dt.date(2025, 6, 30), "610"),
        ("rural_dibao", dt.date(2025, 7, 1), "630"),
        ("rural_dibao", dt.date(2026, 6, 1), "630"),  # no 2026 value found: the last one carries
        ("orphan_institution", dt.date(2025, 12, 31), "1851"),
        ("orphan_institution", dt.date(2026, 1, 1), "2000"),
        ("orphan_community", dt.date(2026, 1, 1), "1651"),
    ],
)
def test_the_standard_in_force_is_the_latest_before_the_day(standards, item, day, amount):
    std = standard_on(item, day)
    assert (std.monthly_amount if std else None) == (Decimal(amount) if amount else None)


def test_only_an_administrator_sets_a_standard_and_it_is_audited(standards, cast):
    with pytest.raises(PermissionRefused):
        standard_set(
            actor=cast["charlie"],
            item="rural_dibao",
            effective_from=dt.date(2026, 7, 1),
            monthly_amount="650",
            source="x",
        )
    standard_set(
        actor=cast["frank"],
        item="rural_dibao",
        effective_from=dt.date(2026, 7, 1),
        monthly_amount="650",
        source="渝民规〔2026〕1号",
    )
    assert standard_on("rural_dibao", dt.date(2026, 7, 1)).monthly_amount == Decimal("650.00")
    assert standard_on("rural_dibao", dt.date(2026, 6, 30)).monthly_amount == Decimal("630.00")
    assert AuditEvent.objects.filter(action="benefit_standard.set").count() == 1
    with pytest.raises(DomainError, match="大于0"):
        standard_set(
            actor=cast["frank"], item="rural_dibao", effective_from=dt.date(2026, 8, 1), monthly_amount="0", source="x"
        )


# --- enrolments -----------------------------------------------------------------------------------------------
def test_an_enrolment_takes_the_standard_of_its_start_date(standards, cast, household_child):
    before = benefit_enrol(
        actor=cast["alice"],
        child_pk=household_child.pk,
        kind="rural_dibao",
        household=True,
        start=dt.date(2025, 6, 1),
        end=dt.date(2025, 6, 30),
        today=ON,
    )
    after = benefit_enrol(
        actor=cast["alice"],
        child_pk=household_child.pk,
        kind="rural_dibao",
        household=True,
        start=dt.date(2025, 7, 1),
        today=ON,
    )
    assert (before.monthly_amount, after.monthly_amount) == (Decimal("610.00"), Decimal("630.00"))
    assert after.household_id == household_child.household_id and after.child_id is None
    assert TimelineEvent.objects.filter(child=household_child, kind="support.benefit").count() == 2
    # The household's 低保 derives the 生活困境 group.
    assert ChildGroup.objects.filter(child=household_child, code="difficulty_living").exists()


@pytest.mark.parametrize(
    ("start", "end", "household"),
    [
        (dt.date(2025, 12, 1), dt.date(2026, 1, 31), False),  # overlaps the start
        (dt.date(2026, 6, 30), None, False),  # open-ended, overlaps the last day
        (dt.date(2026, 3, 1), dt.date(2026, 3, 31), True),  # the household's enrolment overlaps the child's
    ],
)
def test_an_overlapping_enrolment_of_the_same_kind_is_refused(standards, cast, household_child, start, end, household):
    benefit_enrol(
        actor=cast["alice"],
        child_pk=household_child.pk,
        kind="rural_dibao",
        start=dt.date(2026, 1, 1),
        end=dt.date(2026, 6, 30),
        today=ON,
    )
    with pytest.raises(DomainError, match=r"已有农村低保记录（2026-01-01—2026-06-30），与本次录入的期间重叠") as err:
        benefit_enrol(
            actor=cast["alice"],
            child_pk=household_child.pk,
            kind="rural_dibao",
            start=start,
            end=end,
            household=household,
            today=ON,
        )
    assert err.value.code == "benefit_overlap" and err.value.status == 409
    assert BenefitEnrolment.objects.count() == 1


def test_adjacent_periods_and_other_kinds_do_not_overlap(standards, cast, household_child):
    benefit_enrol(
        actor=cast["alice"],
        child_pk=household_child.pk,
        kind="rural_dibao",
        start=dt.date(2026, 1, 1),
        end=dt.date(2026, 6, 30),
        today=ON,
    )
    benefit_enrol(
        actor=cast["alice"], child_pk=household_child.pk, kind="rural_dibao", start=dt.date(2026, 7, 1), today=ON
    )
    benefit_enrol(
        actor=cast["alice"],
        child_pk=household_child.pk,
        kind="temporary",
        start=dt.date(2026, 2, 1),
        end=dt.date(2026, 2, 1),
        lump_sum="2000",
        today=ON,
    )
    assert BenefitEnrolment.objects.count() == 3


def test_ending_an_enrolment_reopens_the_gap_from_the_next_day(standards, cast, household_child):
    for relation in ("father", "mother"):  # an orphan by the registry's facts (enrolling re-derives groups)
        person = Person.objects.create(name="父母")
        ChildRelation.objects.create(child=household_child, person=person, relation=relation)
        PersonStatus.objects.create(person=person, kind="deceased", since=dt.date(2020, 1, 1))
    e = benefit_enrol(
        actor=cast["alice"], child_pk=household_child.pk, kind="orphan_allowance", start=dt.date(2025, 1, 1), today=ON
    )
    assert e.monthly_amount == Decimal("1625.00")
    assert benefit_gaps(on=ON, child_ids=[household_child.pk]) == []
    benefit_end(actor=cast["alice"], pk=e.pk, end=ON, today=ON)
    assert benefit_gaps(on=ON, child_ids=[household_child.pk]) == []
    assert [g.benefit for g in benefit_gaps(on=ON + dt.timedelta(days=1), child_ids=[household_child.pk])] == [
        "orphan_allowance"
    ]


def test_a_partner_department_cannot_record_benefits(standards, cast, household_child):
    with pytest.raises(PermissionRefused):
        benefit_enrol(
            actor=make_user("partner_women"), child_pk=household_child.pk, kind="temporary", start=ON, today=ON
        )


# --- care plans -----------------------------------------------------------------------------------------------
@pytest.fixture
def setting(cast, children):
    provider = make_provider("阳光社工")
    worker = make_provider_user(provider, "shegong")
    service = make_service(provider, "心理辅导", domains=["psychological"], areas=[TOWNSHIP])
    return provider, worker, service


def test_a_draft_plan_has_goals_and_owned_actions_from_needs_and_matches(cast, children, setting):
    _provider, _worker, service = setting
    child = children["village"]
    psych = make_need(child, "psychological", 3, title="情绪低落")
    edu = make_need(child, "education", 2, title="数学跟不上")
    gap = make_need(child, "living", 3, key="benefit:orphan_allowance", title="应享未享：孤儿基本生活费")
    plan = plan_draft(actor=cast["alice"], child_pk=child.pk, on=ON)
    assert [g["domain"] for g in plan.goals] == ["psychological", "living", "education"]
    actions = {a.need_id: a for a in plan.actions.all()}
    assert actions[psych.pk].kind == "referral" and actions[psych.pk].service == service
    assert actions[edu.pk].kind == "pairing"
    assert actions[gap.pk].kind == "benefit" and actions[gap.pk].benefit == "orphan_allowance"
    assert all(a.owner == cast["alice"] for a in plan.actions.all())
    assert plan.actions.filter(kind="visit_cadence").exists()  # severe psychological need
    with pytest.raises(DomainError, match="已有草稿或实施中的帮扶方案"):
        plan_draft(actor=cast["alice"], child_pk=child.pk, on=ON)


def test_an_action_without_owner_is_refused(cast, children):
    child = children["village"]
    make_need(child, "safety", 2)
    plan = plan_draft(actor=cast["alice"], child_pk=child.pk, on=ON)
    with pytest.raises(DomainError, match="每项措施都要指定负责人") as err:
        plan_action_add(actor=cast["alice"], plan_pk=plan.pk, kind="other", title="修围栏", owner_pk=None, due_on=ON)
    assert err.value.code == "owner_required"
    with pytest.raises(DomainError, match="须填写结对的教师或志愿者"):
        plan_action_add(
            actor=cast["alice"], plan_pk=plan.pk, kind="pairing", title="结对", owner_pk=cast["alice"].pk, due_on=ON
        )
    outsider = make_user("director", "500230102201", "zhao")
    with pytest.raises(DomainError, match="负责人应是负责这名儿童的"):
        plan_action_add(actor=cast["alice"], plan_pk=plan.pk, kind="other", title="x", owner_pk=outsider.pk, due_on=ON)
    a = plan_action_add(
        actor=cast["alice"],
        plan_pk=plan.pk,
        kind="pairing",
        title="数学结对",
        owner_pk=cast["bob"].pk,
        due_on=ON,
        partner_name="李老师",
    )
    assert a.owner == cast["bob"] and a.partner_name == "李老师"


def test_progress_follows_referral_delivery(cast, children, setting):
    _provider, worker, _service = setting
    child = children["village"]
    make_need(child, "psychological", 2)
    make_need(child, "recreation", 1)
    plan = plan_draft(actor=cast["alice"], child_pk=child.pk, on=ON)
    plan_activate(actor=cast["alice"], pk=plan.pk, on=ON)
    referral_action = plan.actions.get(kind="referral")
    plan_action_update(actor=cast["alice"], pk=referral_action.pk, status="doing", on=ON)
    referral_action.refresh_from_db()
    assert referral_action.referral is not None and referral_action.referral.status == "sent"
    assert plan_progress(plan) == 0
    referral_respond(actor=worker, pk=referral_action.referral_id, accept=True)
    referral_deliver(actor=worker, pk=referral_action.referral_id, delivered_on=ON, note="完成辅导", today=ON)
    assert PlanAction.objects.get(pk=referral_action.pk).status == "done"
    assert plan_progress(plan) == 50
    review = plan_review(actor=cast["alice"], pk=plan.pk, note="心理辅导已完成", on=ON)
    assert review.progress == 50
    assert TimelineEvent.objects.filter(child=child, kind="support.plan", summary__contains="完成50%").exists()


def test_batch_drafting_covers_children_with_needs_and_skips_those_with_a_plan(cast, children, setting):
    a, b, outside = children["village"], children["neighbour_village"], children["other_district"]
    for child in (a, b, outside):
        make_need(child, "psychological", 3)
    plan_draft(actor=cast["bob"], child_pk=b.pk, on=ON)
    result = plans_draft_batch(actor=cast["charlie"], region_code="500230000000", on=ON)
    assert result["plans"] == 1
    assert set(CarePlan.objects.values_list("child_id", flat=True)) == {a.pk, b.pk}
    plan = CarePlan.objects.get(child=a)
    assert plan.actions.get(kind="referral").service_id == setting[2].pk
    assert Need.objects.filter(child=outside).exists() and not CarePlan.objects.filter(child=outside).exists()


# --- activities -----------------------------------------------------------------------------------------------
@time_machine.travel(dt.datetime(2026, 7, 20, 2, tzinfo=dt.UTC), tick=False)
def test_attendance_goes_to_the_timeline(cast, children):
    activity = activity_create(
        actor=cast["bob"],
        title="七彩假期防溺水课堂",
        kind="safety",
        programme="七彩假期",
        region_code=TOWNSHIP,
        starts_on=dt.date(2026, 7, 20),
        ends_on=dt.date(2026, 7, 20),
    )
    a, b = children["village"], children["neighbour_village"]
    assert activity_invite(actor=cast["bob"], pk=activity.pk, child_ids=[a.pk, b.pk]) == 2
    with pytest.raises(DomainError, match="只能邀请举办地范围内"):
        activity_invite(actor=cast["bob"], pk=activity.pk, child_ids=[children["other_township"].pk])
    activity_attendance(actor=cast["bob"], pk=activity.pk, attended={a.pk: True, b.pk: False})
    assert (
        TimelineEvent.objects.get(child=a, kind="support.activity").summary
        == "参加安全教育“七彩假期防溺水课堂”（2026-07-20）"
    )
    assert not TimelineEvent.objects.filter(child=b, kind="support.activity").exists()


def test_participation_counts_feed_oversight(cast, children):
    from guanai.support.selectors import participation_counts

    a, b = children["village"], children["neighbour_village"]
    activity = activity_create(
        actor=cast["bob"], title="红领巾学堂", kind="programme", region_code=TOWNSHIP, starts_on=ON, ends_on=ON
    )
    activity_invite(actor=cast["bob"], pk=activity.pk, child_ids=[a.pk, b.pk])
    activity_attendance(actor=cast["bob"], pk=activity.pk, attended={a.pk: True, b.pk: False})
    counts = participation_counts(cast["charlie"], start=dt.date(2026, 1, 1), end=dt.date(2026, 12, 31))
    assert counts == {"activities": 1, "invited": 2, "attendances": 1, "children_attended": 1}
    assert participation_counts(cast["alice"], start=ON, end=ON)["invited"] == 1  # her village only
