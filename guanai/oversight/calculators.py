"""Each KPI of rules/kpis.yaml computed set-wise for every region at every snapshot level.

Indicators about children are counted once per village with one aggregate query (grouped on ``village_id``) and
then added up the region tree in memory — the village rows number in the thousands whatever the number of
children. Indicators whose unit can span villages (a director covering two villages; reports located at a
township) are grouped on region-code prefixes (``SUBSTR(code, 1, n)``) per level instead.

A calculator returns ``{(level, 12-digit code): (numerator, denominator)}``; the denominator is None for counts.
Only aggregate counts leave this module (it is on the house-rule list of modules that may read children's
tables without a user's scope, because no row of a child is returned).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import Substr, TruncDate
from django.utils import timezone

from guanai.lib.dates import add_months
from guanai.lib.regioncode import LEVEL_PREFIX_LENGTH, level_of
from guanai.oversight.kpis import CITY_CODE, LEVELS, Window
from guanai.regions.models import Region
from guanai.registry.models import Child, ChildRelation

Result = dict[tuple[int, str], tuple[int, int | None]]
Calculator = Callable[[Window], Result]
CALCULATORS: dict[str, Calculator] = {}


def calculator(kpi_id: str) -> Callable[[Calculator], Calculator]:
    def register(fn: Calculator) -> Calculator:
        CALCULATORS[kpi_id] = fn
        return fn

    return register


def _area(code: str, level: int) -> str:
    return code[: LEVEL_PREFIX_LENGTH[level]].ljust(12, "0")


def roll_up(rows: Iterable[tuple[str, int, int | None]], levels: Iterable[int] = LEVELS) -> Result:
    """Village rows (code, numerator, denominator) added up to every level."""
    sums: dict[tuple[int, str], list[Any]] = defaultdict(lambda: [0, None])
    for code, num, den in rows:
        for level in levels:
            cell = sums[(level, _area(code, level))]
            cell[0] += num
            if den is not None:
                cell[1] = (cell[1] or 0) + den
    return {key: (v[0], v[1]) for key, v in sums.items()}


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def on_roll(as_of: dt.date) -> QuerySet[Child]:
    """Children on the roll at the end of ``as_of``: registered by then and not exited by then."""
    return Child.objects.filter(created_at__lt=_day_start(as_of + dt.timedelta(days=1))).filter(
        ~Q(status=Child.Status.EXITED) | Q(exit_date__gt=as_of)
    )


def _by_village(qs: QuerySet[Any], condition: Q) -> Result:
    rows = qs.values("village_id").annotate(den=Count("id"), num=Count("id", filter=condition))
    return roll_up((r["village_id"], r["num"], r["den"]) for r in rows)


@calculator("contact_rate")
def contact_rate(w: Window) -> Result:
    from guanai.visits.models import Visit

    contacted = Visit.objects.filter(child=OuterRef("pk"), visited_on__gte=w.start, visited_on__lte=w.as_of)
    return _by_village(on_roll(w.as_of).annotate(ok=Exists(contacted)), Q(ok=True))


@calculator("home_visit_rate")
def home_visit_rate(w: Window) -> Result:
    from guanai.visits.models import Visit

    home = Visit.objects.filter(child=OuterRef("pk"), mode="home", visited_on__gte=w.start, visited_on__lte=w.as_of)
    return _by_village(on_roll(w.as_of).annotate(ok=Exists(home)), Q(ok=True))


@calculator("archive_completeness")
def archive_completeness(w: Window) -> Result:
    """Complete = ID number, current address, schooling, a guardian on file and a visit in the last 3 months."""
    from guanai.visits.models import Visit

    guardian = ChildRelation.objects.filter(child=OuterRef("pk"), is_guardian=True)
    recent = Visit.objects.filter(child=OuterRef("pk"), visited_on__gt=add_months(w.as_of, -3), visited_on__lte=w.as_of)
    qs = on_roll(w.as_of).annotate(has_guardian=Exists(guardian), visited=Exists(recent))
    complete = Q(has_guardian=True, visited=True) & ~Q(id_number_enc="") & ~Q(current_address="") & ~Q(schooling="")
    return _by_village(qs, complete)


@calculator("problems_closed_in_time")
def problems_closed_in_time(w: Window) -> Result:
    from guanai.visits.models import Problem

    rows = (
        Problem.objects.filter(due_date__gte=w.start, due_date__lte=w.as_of)
        .annotate(closed_on=TruncDate("closed_at"))
        .values(village=F("child__village_id"))
        .annotate(
            den=Count("id"),
            num=Count(
                "id", filter=Q(status__in=["solved", "referred"], closed_on__isnull=False, closed_on__lte=F("due_date"))
            ),
        )
    )
    return roll_up((r["village"], r["num"], r["den"]) for r in rows)


@calculator("reports_timely")
def reports_timely(w: Window) -> Result:
    """Routings received in the window whose result deadline has passed (or that were already fed back),
    transferred ones excluded; timely = accepted by ``accept_due`` and first result by ``result_due``."""
    from guanai.protection.models import ReportRouting

    as_of_end = _day_start(w.as_of + dt.timedelta(days=1))
    base = ReportRouting.objects.filter(
        created_at__gte=_day_start(w.start), created_at__lt=as_of_end, transferred_at__isnull=True
    ).filter(Q(result_due__lt=as_of_end) | Q(first_result_at__lt=as_of_end))
    timely = Q(accepted_at__lte=F("accept_due"), first_result_at__lte=F("result_due"), first_result_at__lt=as_of_end)
    result: Result = {}
    for level in LEVELS:
        n = LEVEL_PREFIX_LENGTH[level]
        rows = (
            base.annotate(area=Substr("report__region_id", 1, n))
            .values("area")
            .annotate(den=Count("id"), num=Count("id", filter=timely))
        )
        for r in rows:
            code = r["area"].ljust(12, "0")
            if level_of(code) < level:
                continue  # a report located at a township belongs to no village
            result[(level, code)] = (r["num"], r["den"])
    return result


@calculator("benefit_coverage")
def benefit_coverage(w: Window) -> Result:
    """应保尽保: of the children the one eligibility implementation (support.eligibility, rules/benefits.yaml)
    finds eligible for at least one benefit on ``as_of``, those with no gap (every benefit they are eligible for
    is received). Eligibility reads today's derived groups; enrolments are taken on ``as_of``."""
    from guanai.support.eligibility import benefit_coverage

    coverage = benefit_coverage(on=w.as_of)
    if not coverage.villages:
        return {}
    missing = {gap.child_id for gap in coverage.gaps}
    per_village: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for pk, village in coverage.villages.items():
        cell = per_village[village]
        cell[1] += 1
        cell[0] += pk not in missing
    return roll_up((code, num, den) for code, (num, den) in per_village.items())


def _villages() -> list[str]:
    return list(Region.objects.filter(level=Region.Level.VILLAGE, is_active=True).values_list("code", flat=True))


@calculator("villages_with_director")
def villages_with_director(w: Window) -> Result:
    from guanai.workforce.selectors import directors_by_village

    have = directors_by_village(w.as_of)
    return roll_up((code, 1 if have.get(code, 0) > 0 else 0, 1) for code in _villages())


@calculator("villages_staffed_enough")
def villages_staffed_enough(w: Window) -> Result:
    """Care-group counts are today's (groups are not kept as history); director counts are those of ``as_of``."""
    from guanai.workforce.selectors import care_children_by_village, directors_by_village, directors_needed

    have = directors_by_village(w.as_of)
    care = care_children_by_village()
    return roll_up(
        (code, 1 if have.get(code, 0) >= directors_needed(care.get(code, 0)) else 0, 1) for code in _villages()
    )


def _directors_at(as_of: dt.date) -> list[tuple[tuple[str, int], str]]:
    """(person key, village) for every director serving on ``as_of``: ledger profiles through their open
    appointments, and director accounts without a profile (which cannot have a training archive)."""
    from guanai.accounts.models import User
    from guanai.workforce.models import StaffProfile
    from guanai.workforce.selectors import active_appointments

    pairs: list[tuple[tuple[str, int], str]] = [
        (("p", pid), code)
        for pid, code in active_appointments(as_of)
        .filter(profile__kind=StaffProfile.Kind.DIRECTOR)
        .values_list("profile_id", "region_id")
    ]
    pairs += [
        (("u", uid), code)
        for uid, code in User.objects.filter(
            is_active=True, role="director", region__level=Region.Level.VILLAGE, staff_profile__isnull=True
        ).values_list("id", "region_id")
    ]
    return pairs


def _trained_share(w: Window, topic: str | None) -> Result:
    from guanai.workforce.models import TrainingAttendance

    attendance = TrainingAttendance.objects.filter(event__held_on__gte=w.start, event__held_on__lte=w.as_of)
    trained = {
        ("p", pid)
        for pid, topics in attendance.values_list("profile_id", "event__topics")
        if topic is None or topic in (topics or [])
    }
    people: dict[tuple[int, str], set[tuple[str, int]]] = defaultdict(set)
    for person, code in _directors_at(w.as_of):
        for level in LEVELS:
            people[(level, _area(code, level))].add(person)
    return {key: (len(members & trained), len(members)) for key, members in people.items()}


@calculator("directors_trained")
def directors_trained(w: Window) -> Result:
    return _trained_share(w, None)


@calculator("directors_trained_single_parent")
def directors_trained_single_parent(w: Window) -> Result:
    from guanai.workforce.selectors import workforce_rules

    return _trained_share(w, str(workforce_rules()["training"]["required_topic"]))


@calculator("city_demo_trainings")
def city_demo_trainings(w: Window) -> Result:
    from guanai.workforce.models import TrainingEvent

    n = TrainingEvent.objects.filter(level=TrainingEvent.Level.CITY, held_on__gte=w.start, held_on__lte=w.as_of).count()
    return {(1, CITY_CODE): (n, None)}


def _per_district(counts: dict[str, int]) -> Result:
    """A count per district, every district listed (a district with none is the one to see first)."""
    districts = Region.objects.filter(level=Region.Level.COUNTY, is_active=True).values_list("code", flat=True)
    result: Result = {(3, code): (counts.get(code, 0), None) for code in districts}
    result[(1, CITY_CODE)] = (sum(counts.values()), None)
    return result


@calculator("orgs_cultivated")
def orgs_cultivated(w: Window) -> Result:
    from guanai.workforce.models import SocialOrganisation

    rows = SocialOrganisation.objects.filter(cultivated_year=w.start.year).values("district_id").annotate(n=Count("id"))
    return _per_district({r["district_id"]: r["n"] for r in rows})


@calculator("dropouts_returned")
def dropouts_returned(w: Window) -> Result:
    """Of the registry children whose 疑似辍学 finding (discovery rule DROPOUT, §10) was confirmed this year up to
    ``as_of``, those confirmed with the outcome 劝返复学. The registry keeps only the current schooling value, so the
    confirmed findings are the dated record of dropping out and returning."""
    from guanai.discovery.models import Finding

    rows = (
        Finding.objects.filter(
            rule="DROPOUT",
            status=Finding.Status.CONFIRMED,
            child__isnull=False,
            closed_at__gte=_day_start(w.start),
            closed_at__lt=_day_start(w.as_of + dt.timedelta(days=1)),
        )
        .values("child__village_id")
        .annotate(
            den=Count("child_id", distinct=True),
            num=Count("child_id", distinct=True, filter=Q(outcome=Finding.Outcome.SCHOOL_RETURN)),
        )
    )
    return roll_up((r["child__village_id"], r["num"], r["den"]) for r in rows)


@calculator("safety_events")
def safety_events(w: Window) -> Result:
    """Safety-education activities (support.Activity of kind 安全教育, §13) held in a village, community, township
    or street of each district between the start of the year and ``as_of``."""
    from guanai.support.models import Activity

    rows = (
        Activity.objects.filter(
            kind=Activity.Kind.SAFETY,
            starts_on__gte=w.start,
            starts_on__lte=w.as_of,
            region__level__gte=Region.Level.TOWNSHIP,
        )
        .annotate(district=Substr("region_id", 1, LEVEL_PREFIX_LENGTH[3]))
        .values("district")
        .annotate(n=Count("id"))
    )
    return _per_district({_area(r["district"], 3): r["n"] for r in rows})


@calculator("spot_checks_done")
def spot_checks_done(w: Window) -> Result:
    from guanai.oversight.models import SpotCheck

    rows = (
        SpotCheck.objects.filter(year=w.start.year, status=SpotCheck.Status.CLOSED)
        .values("district_id")
        .annotate(n=Count("id"))
    )
    return _per_district({r["district_id"]: r["n"] for r in rows})
