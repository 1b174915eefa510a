from __future__ import annotations

import datetime as dt

import pytest

from conftest import VILLAGE
from guanai.audit.models import AuditEvent
from guanai.discovery.engine import discovery_run
from guanai.discovery.models import Finding, Link
from guanai.discovery.selectors import findings_for
from guanai.discovery.services import confirmation_rates, finding_confirm, finding_reject
from guanai.discovery.tests.conftest import ON
from guanai.lib.errors import DomainError, NotFound
from guanai.registry.models import Child, PersonStatus, TimelineEvent


@pytest.fixture
def found(villages, roster, left_behind_household):
    _ids, household, migrant = left_behind_household
    roster("household", household)
    roster("migrant", migrant)
    discovery_run(on=ON)
    return Finding.objects.get(rule="UNREGISTERED_LEFT_BEHIND")


def test_the_district_sees_it_and_the_village_director_does_not(found, cast):
    assert list(findings_for(cast["charlie"])) == [found]
    assert list(findings_for(cast["alice"])) == []


def test_confirming_registers_the_child_from_the_roster_rows(found, cast):
    finding = finding_confirm(actor=cast["charlie"], pk=found.pk, outcome="registration", today=ON)
    child = Child.objects.get()
    assert finding.status == "confirmed" and finding.registered_child == child
    assert (child.name, child.village_id, child.birth_date) == ("张小山", VILLAGE, dt.date(2016, 5, 20))
    kinds = sorted(PersonStatus.objects.values_list("kind", flat=True))
    assert kinds == ["working_away", "working_away"]
    assert child.groups.filter(code="rural_left_behind").exists()
    assert TimelineEvent.objects.filter(child=child, kind="child.register").exists()
    assert TimelineEvent.objects.filter(child=child, kind="discovery.confirm").exists()
    assert AuditEvent.objects.filter(action="finding.confirm").exists()
    # The next run links the household row to the new child and does not find it again.
    discovery_run(on=ON)
    assert Link.objects.filter(child=child, state="accepted").exists()
    assert Finding.objects.filter(rule="UNREGISTERED_LEFT_BEHIND").count() == 1


def test_rejecting_needs_a_reason_and_stays_closed(found, cast):
    with pytest.raises(DomainError, match="排除理由"):
        finding_reject(actor=cast["charlie"], pk=found.pk, reason=" ")
    finding_reject(actor=cast["charlie"], pk=found.pk, reason="父母已返乡")
    discovery_run(on=ON)
    assert Finding.objects.get().status == "rejected"
    with pytest.raises(DomainError, match="已处理"):
        finding_confirm(actor=cast["charlie"], pk=found.pk, outcome="registration", today=ON)


def test_an_outsider_cannot_touch_it(found, cast):
    from conftest import OTHER_DISTRICT, make_user

    with pytest.raises(NotFound):
        finding_reject(actor=make_user("district_officer", OTHER_DISTRICT), pk=found.pk, reason="x")


def test_confirmation_rates_per_rule(found, cast):
    finding_reject(actor=cast["charlie"], pk=found.pk, reason="父母已返乡")
    rates = {r["rule"]: r for r in confirmation_rates(Finding.objects.all())}
    assert rates["UNREGISTERED_LEFT_BEHIND"]["rate"] == 0.0 and rates["DROPOUT"]["rate"] is None
