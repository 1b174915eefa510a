"""Entrusted care (委托照护): the carer's capacity check and what is done when it fails."""

from __future__ import annotations

import datetime as dt

import pytest

from guanai.lib.errors import DomainError
from guanai.protection import services as svc
from guanai.protection.selectors import carer_checklist
from guanai.protection.tests.conftest import NOW
from guanai.registry.models import TimelineEvent

TODAY = dt.date(2026, 3, 2)


def all_yes(**changes):
    answers = {i["id"]: True for i in carer_checklist()}
    answers.update(changes)
    return answers


def test_a_capable_carer_passes(pcast, children):
    check = svc.carer_check_record(
        actor=pcast["alice"],
        child_pk=children["village"].pk,
        carer_name="王奶奶",
        answers=all_yes(),
        checked_on=TODAY,
        now=NOW,
    )
    assert check.passed and check.follow_up_due is None and not check.actions.exists()


def test_an_optional_item_failing_does_not_fail_the_check(pcast, children):
    check = svc.carer_check_record(
        actor=pcast["alice"],
        child_pk=children["village"].pk,
        carer_name="王奶奶",
        answers=all_yes(schooling_support=False),
        checked_on=TODAY,
        now=NOW,
    )
    assert check.passed and check.failed_items == ["schooling_support"]


def test_a_failed_check_needs_an_action_recorded_with_its_date(pcast, children):
    child = children["village"]
    with pytest.raises(DomainError) as exc:
        svc.carer_check_record(
            actor=pcast["alice"],
            child_pk=child.pk,
            carer_name="王爷爷",
            answers=all_yes(adult_health=False),
            checked_on=TODAY,
            now=NOW,
        )
    assert "action" in exc.value.detail

    check = svc.carer_check_record(
        actor=pcast["alice"],
        child_pk=child.pk,
        carer_name="王爷爷",
        answers=all_yes(adult_health=False),
        checked_on=TODAY,
        now=NOW,
        action="inform_parents",
        action_note="电话告知在广东务工的父亲",
    )
    svc.carer_action_add(
        actor=pcast["alice"],
        check_pk=check.pk,
        kind="help_carer",
        on=TODAY + dt.timedelta(days=3),
        note="联系村医定期上门",
        now=NOW + dt.timedelta(days=3),
    )

    assert not check.passed and check.follow_up_due == TODAY + dt.timedelta(days=30)
    assert [(a.kind, a.on) for a in check.actions.all()] == [
        ("inform_parents", TODAY),
        ("help_carer", TODAY + dt.timedelta(days=3)),
    ]
    lines = list(TimelineEvent.objects.filter(child=child, kind="assessment.carer").values_list("summary", flat=True))
    assert any("不具备照护能力" in s and "告知父母重新选择受委托人" in s for s in lines)


def test_every_item_must_be_checked(pcast, children):
    answers = all_yes()
    answers.pop("willing")
    with pytest.raises(DomainError):
        svc.carer_check_record(
            actor=pcast["alice"],
            child_pk=children["village"].pk,
            carer_name="王奶奶",
            answers=answers,
            checked_on=TODAY,
            now=NOW,
        )
