"""Scoped reads of the workforce ledger, and the staffing rules (§16) evaluated set-wise.

Which villages have a director (decision, docs/oversight.md): the ledger first — a village is covered on a day by
every serving director profile with an appointment to it open on that day; an active account with the director
role whose region is the village and which has **no** ledger profile yet also counts for that village (so a
district that has created accounts but not yet filled in the ledger is not shown as uncovered). A director with a
profile counts only through her appointments: the ledger, not the account, says where she serves.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.db.models import Count, Q, QuerySet

from guanai import rules
from guanai.accounts.models import User
from guanai.accounts.scope import in_prefix, region_prefix, scoped
from guanai.lib.errors import NotFound
from guanai.regions.models import Region
from guanai.registry.models import Child, ChildGroup
from guanai.workforce.models import (
    Appointment,
    Evaluation,
    SocialOrganisation,
    StaffProfile,
    TrainingAttendance,
    TrainingEvent,
)


@cache
def workforce_rules() -> dict[str, Any]:
    return rules.load("workforce")


def staffing_rule(rule_id: str) -> dict[str, Any]:
    return next(r for r in workforce_rules()["staffing"] if r["id"] == rule_id)


def training_topics() -> dict[str, str]:
    return dict(workforce_rules()["training"]["topics"])


def staff_for(user: User) -> QuerySet[StaffProfile]:
    return scoped(StaffProfile.objects.all(), user, field="home_region_id", permission="workforce.view")


def staff_get(user: User, pk: int | str) -> StaffProfile:
    try:
        return staff_for(user).select_related("user", "home_region").get(pk=int(pk))
    except (StaffProfile.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def trainings_for(user: User) -> QuerySet[TrainingEvent]:
    """Training events organised inside the user's jurisdiction, and the city's demonstration trainings."""
    prefix = region_prefix(user)
    if prefix is None or not user.can("workforce.view"):
        return TrainingEvent.objects.none()
    return TrainingEvent.objects.filter(in_prefix("region_id", prefix) | Q(level=TrainingEvent.Level.CITY))


def organisations_for(user: User) -> QuerySet[SocialOrganisation]:
    return scoped(SocialOrganisation.objects.all(), user, field="district_id", permission="workforce.view")


def active_appointments(on: dt.date) -> QuerySet[Appointment]:
    return Appointment.objects.filter(
        Q(end__isnull=True) | Q(end__gt=on), start__lte=on, profile__status=StaffProfile.Status.SERVING
    )


def directors_by_village(on: dt.date, prefix: str = "") -> dict[str, int]:
    """Village code → number of directors serving it on ``on`` (the rule in this module's docstring)."""
    appointments = active_appointments(on).filter(profile__kind=StaffProfile.Kind.DIRECTOR)
    accounts = User.objects.filter(
        is_active=True, role="director", region__level=Region.Level.VILLAGE, staff_profile__isnull=True
    )
    if prefix:
        appointments = appointments.filter(in_prefix("region_id", prefix))
        accounts = accounts.filter(in_prefix("region_id", prefix))
    counts: dict[str, int] = defaultdict(int)
    for code, n in (
        appointments.values("region_id").annotate(n=Count("profile", distinct=True)).values_list("region_id", "n")
    ):
        counts[code] += n
    for code, n in accounts.values("region_id").annotate(n=Count("id")).values_list("region_id", "n"):
        counts[code] += n
    return dict(counts)


def care_children_by_village(prefix: str = "") -> dict[str, int]:
    """Village code → children on the roll in at least one care group (留守 + 困境 count of §16)."""
    qs = Child.objects.exclude(status=Child.Status.EXITED).filter(pk__in=ChildGroup.objects.values("child_id"))
    if prefix:
        qs = qs.filter(in_prefix("village_id", prefix))
    return dict(qs.values("village_id").annotate(n=Count("id")).values_list("village_id", "n"))


def directors_needed(care_children: int) -> int:
    per = int(staffing_rule("village_extra_director")["children_per_director"])
    minimum = int(staffing_rule("village_has_director")["minimum"])
    return max(minimum, math.ceil(care_children / per))


@dataclass
class StaffingRow:
    code: str
    name: str
    care_children: int
    have: int
    needed: int
    rule_id: str
    explanation: str


def staffing_gaps(user: User, *, on: dt.date) -> list[StaffingRow]:
    """Villages in scope with no director, then villages needing an extra one (§16), worst first."""
    prefix = region_prefix(user)
    if prefix is None or not user.can("workforce.view"):
        return []
    villages = Region.objects.filter(in_prefix("code", prefix), level=Region.Level.VILLAGE, is_active=True)
    have = directors_by_village(on, prefix)
    care = care_children_by_village(prefix)
    none_rule, extra_rule = staffing_rule("village_has_director"), staffing_rule("village_extra_director")
    per = int(extra_rule["children_per_director"])
    rows = []
    for code, name in villages.values_list("code", "name"):
        n, count = have.get(code, 0), care.get(code, 0)
        needed = directors_needed(count)
        if n == 0:
            rows.append(
                StaffingRow(code, name, count, 0, needed, none_rule["id"], none_rule["explain"].format(village=name))
            )
        elif n < needed:
            text = extra_rule["explain"].format(village=name, count=count, per=per, needed=needed, have=n)
            rows.append(StaffingRow(code, name, count, n, needed, extra_rule["id"], text))
    rows.sort(key=lambda r: (r.have > 0, r.have - r.needed, r.code))
    return rows


def training_archive(profile: StaffProfile) -> list[TrainingAttendance]:
    return list(profile.trainings.select_related("event").order_by("-event__held_on"))


def evaluations_of(profile: StaffProfile) -> list[Evaluation]:
    return list(profile.evaluations.order_by("-year"))


def responsible_director(village_code: str, on: dt.date) -> User | None:
    """The account to assign a village's rectification task to: a serving appointed director with an account,
    else an active director account of the village."""
    appointment = (
        active_appointments(on)
        .filter(region_id=village_code, profile__kind=StaffProfile.Kind.DIRECTOR, profile__user__is_active=True)
        .select_related("profile__user")
        .order_by("start", "id")
        .first()
    )
    if appointment is not None and appointment.profile.user is not None:
        return appointment.profile.user
    return User.objects.filter(is_active=True, role="director", region_id=village_code).order_by("id").first()


def children_covered(profile: StaffProfile, on: dt.date) -> int:
    codes = list(active_appointments(on).filter(profile=profile).values_list("region_id", flat=True))
    if not codes:
        return 0
    return Child.objects.exclude(status=Child.Status.EXITED).filter(village_id__in=codes).count()
