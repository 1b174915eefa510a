"""Scoped reads of protection work: reports (with who may see what), routings, cases, assessments, risk.

Report confidentiality (强制报告 — the reporter's identity is kept confidential):
- the reporter sees their own reports: status and the outcome fed back to them, nothing else;
- the departments handling a routing of the report (police, civil affairs, education of the child's location,
  or the level above once escalated) see everything, including the reporter's identity;
- the local child-protection workforce of the child's location (the village director, the township supervisor,
  the district civil-affairs officer) see the report's content but never the reporter's identity.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.db.models import Count, Q, QuerySet

from guanai import rules
from guanai.accounts.models import User
from guanai.accounts.scope import covers, in_prefix, region_prefix, scoped
from guanai.bulk import id_array
from guanai.lib import regioncode
from guanai.lib.errors import NotFound
from guanai.protection.models import (
    Assessment,
    CarerCheck,
    Case,
    CaseTask,
    ChildRisk,
    Instrument,
    InstrumentVersion,
    LegalAction,
    Report,
    ReportRouting,
)
from guanai.protection.risk_rules import RiskFacts, RiskGrade, evaluate, validate
from guanai.registry.models import ChildGroup
from guanai.visits.models import Problem

OPEN_REPORT = [Report.Status.ROUTED, Report.Status.ACCEPTED]
ACTIVE_ROUTING = [ReportRouting.Status.PENDING, ReportRouting.Status.ACCEPTED]


# --- rules -------------------------------------------------------------------------------------------------


def protection_rules() -> dict[str, Any]:
    return rules.load("protection")


def situations() -> list[dict[str, str]]:
    return list(protection_rules()["situations"])


def situation_labels(ids: list[str]) -> list[str]:
    labels = {s["id"]: s["label"] for s in situations()}
    return [labels.get(i, i) for i in ids]


def departments() -> dict[str, dict[str, Any]]:
    return dict(protection_rules()["departments"])


def reporter_kinds() -> dict[str, str]:
    return dict(protection_rules()["reporter_kinds"])


def default_reporter_kind_for(user: User) -> str:
    """The reporter kind a role files as by default (a school's account: 学校、幼儿园)."""
    return str(protection_rules()["role_reporter_kind"].get(user.role, "other"))


def carer_checklist() -> list[dict[str, Any]]:
    return list(protection_rules()["entrusted_care"]["checklist"])


def carer_actions() -> dict[str, str]:
    return dict(protection_rules()["entrusted_care"]["actions"])


@cache
def risk_rules() -> dict[str, Any]:
    return validate(rules.load("risk"))


# --- reports -----------------------------------------------------------------------------------------------


def handled_departments(user: User) -> list[str]:
    """The departments whose routings ``user`` handles (by role)."""
    if not user.can("report.handle"):
        return []
    return [code for code, spec in departments().items() if user.role in spec["roles"]]


def routing_can_handle(user: User, routing: ReportRouting) -> bool:
    """A user handles a routing of their own department inside their jurisdiction (the district, or the city
    above it: escalations go up)."""
    return routing.department in handled_departments(user) and covers(user, routing.region_id)


def _local_worker(user: User) -> bool:
    # Directors (child files and report.file), supervisors and district officers (case.manage).
    return user.can("case.manage") or (user.can("child.view") and user.can("report.file"))


@dataclass(frozen=True)
class ReportAccess:
    is_reporter: bool
    content: bool
    identity: bool
    routing_ids: frozenset[int]

    @property
    def any(self) -> bool:
        return self.is_reporter or self.content


def report_access(user: User, report: Report) -> ReportAccess:
    routings = [r for r in report.routings.all() if routing_can_handle(user, r)]
    handling = bool(routings)
    local = _local_worker(user) and covers(user, report.region_id)
    return ReportAccess(
        is_reporter=user.is_authenticated and report.reporter_id == user.pk,
        content=handling or local,
        identity=handling,
        routing_ids=frozenset(r.pk for r in routings),
    )


def reports_filed_by(user: User) -> QuerySet[Report]:
    """A reporter's own reports (still visible if the role later loses report.file: the outcome is theirs)."""
    if not user.is_authenticated:
        return Report.objects.none()
    return Report.objects.filter(reporter=user).order_by("-filed_at", "-id")


def routings_inbox(user: User) -> QuerySet[ReportRouting]:
    """Routings for the user's department inside their jurisdiction."""
    codes = handled_departments(user)
    if not codes:
        return ReportRouting.objects.none()
    return scoped(
        ReportRouting.objects.filter(department__in=codes), user, field="region_id", permission="report.handle"
    ).select_related("report", "region", "report__region")


def reports_for(user: User) -> QuerySet[Report]:
    """Reports whose content ``user`` may read (handling departments and the local workforce)."""
    condition = Q(pk__in=routings_inbox(user).values("report_id"))
    prefix_value = region_prefix(user)
    if _local_worker(user) and prefix_value is not None:
        condition |= in_prefix("region_id", prefix_value)
    return Report.objects.filter(condition).distinct()


def report_get(user: User, pk: int | str) -> tuple[Report, ReportAccess]:
    """A report the user may see in some way (as its reporter or with its content), or NotFound."""
    try:
        report = Report.objects.select_related("region", "child", "child__village").get(pk=int(pk))
    except (Report.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None
    access = report_access(user, report)
    if not access.any:
        raise NotFound()
    return report, access


def routing_get(pk: int | str) -> ReportRouting:
    try:
        return ReportRouting.objects.select_related("report", "region").get(pk=int(pk))
    except (ReportRouting.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def region_recipients(department: str, region_code: str, *, above: bool) -> list[User]:
    """Active accounts of ``department`` for a routing region: at that region, or at the levels above it."""
    roles = departments()[department]["roles"]
    code = regioncode.normalise(region_code)
    if above:
        own = len(regioncode.prefix(code))
        codes = [code[:n].ljust(12, "0") for n in (2, 4, 6, 9) if n < own]
    else:
        codes = [code]
    users = User.objects.filter(is_active=True, role__in=roles, region_id__in=codes).order_by("id")
    return [u for u in users if u.can("report.handle")]


# --- cases -------------------------------------------------------------------------------------------------


def case_can_manage(user: User, case: Case) -> bool:
    return user.can("case.manage") and covers(user, case.region_id)


def cases_for(user: User) -> QuerySet[Case]:
    """Cases in the user's jurisdiction (case managers and directors), and cases where the user owns a task."""
    condition = Q(tasks__owner=user) if user.is_authenticated else Q(pk__in=[])
    prefix_value = region_prefix(user)
    if prefix_value is not None and _local_worker(user):
        condition |= in_prefix("region_id", prefix_value)
    return Case.objects.filter(condition).distinct()


def case_get(user: User, pk: int | str) -> Case:
    try:
        return cases_for(user).select_related("child", "region", "owner", "report").get(pk=int(pk))
    except (Case.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def tasks_for(user: User) -> QuerySet[CaseTask]:
    return CaseTask.objects.filter(owner=user, status=CaseTask.Status.OPEN).select_related("case").order_by("due_date")


def legal_action_get(user: User, pk: int | str) -> LegalAction:
    try:
        action = LegalAction.objects.select_related("case").get(pk=int(pk))
    except (LegalAction.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None
    case_get(user, action.case_id)
    return action


# --- assessments -------------------------------------------------------------------------------------------


def instrument_current(code: str = "guardianship") -> InstrumentVersion:
    version = (
        InstrumentVersion.objects.filter(instrument__code=code)
        .select_related("instrument")
        .order_by("-version")
        .first()
    )
    if version is None:
        raise NotFound("尚未发布该评估工具")
    return version


def instruments() -> QuerySet[Instrument]:
    return Instrument.objects.order_by("code")


def assessments_for(user: User) -> QuerySet[Assessment]:
    return scoped(Assessment.objects.all(), user, field="child__village_id", permission="child.view")


def assessment_get(user: User, pk: int | str) -> Assessment:
    try:
        return assessments_for(user).select_related("child", "version", "version__instrument").get(pk=int(pk))
    except (Assessment.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def carer_checks_for(user: User) -> QuerySet[CarerCheck]:
    return scoped(CarerCheck.objects.all(), user, field="child__village_id", permission="child.view")


def latest_results(child_ids: list[int]) -> dict[int, str]:
    """The result of each child's latest guardianship assessment."""
    found: dict[int, str] = {}
    rows = (
        Assessment.objects.filter(child_id__in=id_array(child_ids))
        .order_by("child_id", "-assessed_on", "-id")
        .values_list("child_id", "result")
    )
    for child_id, result in rows:
        found.setdefault(child_id, result)
    return found


def children_with_poor_guardianship(child_ids: list[int], today: dt.date) -> set[int]:
    """Children whose latest guardianship assessment (on or before ``today``) is poor (rules/protection.yaml
    ``assessment.poor_results``): the visits app raises their home-visit cadence."""
    poor = set(protection_rules()["assessment"]["poor_results"])
    found: dict[int, str] = {}
    for child_id, result in (
        Assessment.objects.filter(child_id__in=id_array(child_ids), assessed_on__lte=today)
        .order_by("child_id", "-assessed_on", "-id")
        .values_list("child_id", "result")
    ):
        found.setdefault(child_id, result)
    return {pk for pk, result in found.items() if result in poor}


# --- risk --------------------------------------------------------------------------------------------------


def risk_facts(child_ids: list[int], today: dt.date) -> dict[int, RiskFacts]:
    """The facts the risk rules read, for many children in six queries."""
    reports = dict(
        Report.objects.filter(child_id__in=id_array(child_ids), status__in=OPEN_REPORT)
        .values("child_id")
        .annotate(n=Count("id"))
        .values_list("child_id", "n")
    )
    groups: dict[int, set[str]] = defaultdict(set)
    for child_id, code in ChildGroup.objects.filter(child_id__in=id_array(child_ids)).values_list("child_id", "code"):
        groups[child_id].add(code)
    problems: dict[int, tuple[int, int]] = {
        row["child_id"]: (row["n"], row["late"])
        for row in Problem.objects.filter(child_id__in=id_array(child_ids), status__in=["open", "in_progress"])
        .values("child_id")
        .annotate(n=Count("id"), late=Count("id", filter=Q(due_date__lt=today)))
    }
    cases = dict(
        Case.objects.filter(child_id__in=id_array(child_ids))
        .exclude(stage=Case.Stage.CLOSED)
        .values("child_id")
        .annotate(n=Count("id"))
        .values_list("child_id", "n")
    )
    results = latest_results(child_ids)
    return {
        pk: RiskFacts(
            open_reports=reports.get(pk, 0),
            assessment_result=results.get(pk, ""),
            groups=frozenset(groups.get(pk, ())),
            open_problems=problems.get(pk, (0, 0))[0],
            overdue_problems=problems.get(pk, (0, 0))[1],
            open_cases=cases.get(pk, 0),
        )
        for pk in child_ids
    }


def risk_compute(child_ids: list[int], today: dt.date) -> dict[int, RiskGrade]:
    rules_data = risk_rules()
    # The grade is a function of the (hashable) facts alone, and most children share the same few facts (no
    # report, no case, one or two groups): each distinct set of facts is graded once.
    graded: dict[RiskFacts, RiskGrade] = {}
    result: dict[int, RiskGrade] = {}
    for pk, facts in risk_facts(child_ids, today).items():
        grade = graded.get(facts)
        if grade is None:
            grade = graded[facts] = evaluate(rules_data, facts)
        result[pk] = grade
    return result


def risk_for(child_ids: list[int], today: dt.date | None = None) -> dict[int, tuple[str, str]]:
    """Each child's risk grade (high/medium/low) and its Chinese explanation, for ordering worklists.

    Reads the stored grades; a child never graded yet is computed on the fly (not stored: this is a read).
    The caller passes ids it already read through a scoped selector.
    """
    from django.utils import timezone

    stored = {
        row[0]: (row[1], row[2])
        for row in ChildRisk.objects.filter(child_id__in=id_array(child_ids)).values_list(
            "child_id", "grade", "explanation"
        )
    }
    missing = [pk for pk in child_ids if pk not in stored]
    if missing:
        for pk, grade in risk_compute(missing, today or timezone.localdate()).items():
            stored[pk] = (grade.grade, grade.explanation)
    return stored


def risk_rank(grade: str) -> int:
    """3 for high, 2 for medium, 1 for low: sort worklists with ``-risk_rank(grade)``."""
    return int(risk_rules()["grades"].get(grade, {}).get("rank", 0))


def risk_colour(grade: str) -> str:
    return str(risk_rules()["grades"].get(grade, {}).get("colour", ""))


def risk_rows_for(user: User, *, grades: list[str]) -> QuerySet[ChildRisk]:
    """Stored risk grades of the children in the user's jurisdiction."""
    return scoped(
        ChildRisk.objects.filter(grade__in=grades), user, field="child__village_id", permission="child.view"
    ).select_related("child", "child__village")


# --- choices for forms ---------------------------------------------------------------------------------------


def task_owner_choices(case: Case) -> list[User]:
    """People who can own a task of ``case``: directors, supervisors and district officers whose region lies on
    the path to the child's place (the village's director, the township's supervisor, the district's officers)."""
    code = regioncode.normalise(case.region_id)
    path = {code[:n].ljust(12, "0") for n in (6, 9, 12) if n <= len(regioncode.prefix(code))}
    low, high = regioncode.prefix_range(regioncode.prefix(code))
    return list(
        User.objects.filter(is_active=True, role__in=["director", "supervisor", "district_officer"])
        .filter(Q(region_id__in=path) | Q(region_id__gte=low, region_id__lte=high))
        .order_by("role", "username")[:200]
    )


def region_options(parent_code: str) -> list[tuple[str, str]]:
    """Active sub-regions of a region, for the place pickers (district → townships → villages)."""
    from guanai.regions.models import Region

    try:
        code = regioncode.normalise(parent_code)
    except regioncode.RegionCodeError:
        return []
    return list(Region.objects.filter(parent_id=code, is_active=True).order_by("code").values_list("code", "name"))


def districts() -> list[tuple[str, str]]:
    """Chongqing's districts and counties, for the place picker of a report."""
    from guanai.regions.models import Region

    return list(Region.objects.filter(level=3, is_active=True).order_by("code").values_list("code", "name"))
