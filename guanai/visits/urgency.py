"""Each child's visit states on a day, in SQL, so that a worklist is ordered and paged in the database.

``obligations.obligations_on`` stays the definition; this module states the same decisions as ORM expressions
(CASE WHEN), generated from rules/visits.yaml (each obligation's ``satisfied_by``, ``period_months`` and
``raised``) and the settings (``raised_home_visit_months``, ``due_soon_days``), over:

- visits.ChildVisitState: the latest day of each visit mode (kept by triggers);
- the child's on-roll date (``created_at`` in the local time zone);
- the child's raised-cadence periods (visits.CadencePeriod), as correlated subqueries.

Every window's dates are the same for everyone with the same cadence, so they are computed here in Python for
``today`` and passed as parameters; per child there are only comparisons with the on-roll date and the raised
period (docs/visits.md "Worklist in SQL"). The latest day per mode decides exactly as the full list of visits
would as long as no visit lies after ``today``: ``later`` marks the children for whom that does not hold (a
worklist asked for a past day), and the caller then falls back to the Python path.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import reduce
from operator import or_
from typing import Any

from django.db.models import BooleanField, Case, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Least, TruncDate
from django.utils import timezone

from guanai.visits.models import VISIT_MODES, CadencePeriod
from guanai.visits.obligations import DONE, DUE_SOON, OVERDUE, PENDING, STATE_ORDER, period, visit_rules

ONROLL, RAISED_SINCE, RAISED_BEFORE, LATER, URGENCY = "wl_onroll", "wl_rs", "wl_rs_prev", "wl_later", "wl_urgency"


def state_field(kind: str) -> str:
    """The annotation holding the STATE_ORDER of obligation ``kind``."""
    return f"wl_state_{kind}"


def _last(mode: str) -> str:
    return f"visit_state__last_{mode}_on"


def _raised_since(containing: Q) -> Subquery:
    """The start of the child's first raised period (by ``since``) that satisfies ``containing``; NULL when
    none does (Schedule.raised_since)."""
    rows = CadencePeriod.objects.filter(containing, child_id=OuterRef("pk")).order_by("since").values("since")
    return Subquery(rows[:1])


def _containing(day: dt.date) -> Q:
    return Q(since__lte=day) & (Q(until__isnull=True) | Q(until__gt=day))


def _containing_day_before(field: str) -> Q:
    """Periods that contain the day before the date in annotation ``field``."""
    return Q(since__lt=OuterRef(field)) & (Q(until__isnull=True) | Q(until__gte=OuterRef(field)))


def _rs_on(day: dt.date) -> str:
    return f"wl_rs_{day:%Y%m%d}"


@dataclass(frozen=True)
class _Cadence:
    """One cadence of one obligation on ``today``: its current period and the one before it."""

    months: int
    clamp: bool  # the raised cadence: the window starts no earlier than the raised period
    start: dt.date
    end: dt.date
    prev_day: dt.date  # the day before the period (the previous window's last day)
    prev_start: dt.date


def _cadence(months: int, today: dt.date, *, clamp: bool) -> _Cadence:
    start, end = period(today, months)
    prev_day = start - dt.timedelta(days=1)
    return _Cadence(months, clamp, start, end, prev_day, period(prev_day, months)[0])


def _visited(modes: list[str], low: dt.date, high: dt.date, raised_since: str | None) -> Q:
    """A visit of one of ``modes`` on a day in [low, high], on or after the on-roll date (and the raised period's
    start when the window is clamped to it), by the latest day of each mode."""
    return reduce(
        or_,
        (
            Q(**{f"{_last(m)}__gte": low, f"{_last(m)}__lte": high})
            & Q(**{f"{_last(m)}__gte": F(ONROLL)})
            & (Q(**{f"{_last(m)}__gte": F(raised_since)}) if raised_since else Q())
            for m in modes
        ),
    )


def _state(modes: list[str], c: _Cadence, today: dt.date, same: Q, due_soon_days: int) -> Case:
    """The obligation's state (STATE_ORDER) for children on cadence ``c``. ``same``: the previous day had the
    same cadence (no carried overdue across a change of cadence)."""
    open_state = STATE_ORDER[DUE_SOON] if (c.end - today).days < due_soon_days else STATE_ORDER[PENDING]
    done = _visited(modes, c.start, today, RAISED_SINCE if c.clamp else None)
    # The window starts at the period's start (after the on-roll date): the previous window is the period before.
    after_period = Q(**{f"{ONROLL}__lt": c.start}) & same
    if c.clamp:
        after_period &= Q(**{f"{RAISED_SINCE}__lte": c.start})
    prev_done = _visited(modes, c.prev_start, c.prev_day, _rs_on(c.prev_day) if c.clamp else None)
    whens = [
        When(done, then=Value(STATE_ORDER[DONE])),
        When(after_period & prev_done, then=Value(open_state)),
        When(after_period, then=Value(STATE_ORDER[OVERDUE])),
    ]
    if c.clamp:
        # The window starts at the raised period's start (inside the period, after the on-roll date): the
        # previous window runs up to the day before it when another raised period covered that day.
        after_raise = (
            Q(**{f"{RAISED_SINCE}__gt": c.start})
            & Q(**{f"{RAISED_SINCE}__gt": F(ONROLL)})
            & Q(**{f"{RAISED_BEFORE}__isnull": False})
        )
        whens += [
            When(after_raise & _visited(modes, c.start, c.end, RAISED_BEFORE), then=Value(open_state)),
            When(after_raise, then=Value(STATE_ORDER[OVERDUE])),
        ]
    return Case(*whens, default=Value(open_state), output_field=IntegerField())


def annotate_states(qs: QuerySet[Any], *, today: dt.date, cfg: dict[str, int]) -> QuerySet[Any]:
    """``qs`` (children) limited to those on the roll by ``today``, annotated with each obligation's state
    (``state_field(kind)``), the urgency (their minimum) and ``later`` (a visit after ``today`` exists)."""
    r = visit_rules()
    raised_months, due_soon_days = int(cfg["raised_home_visit_months"]), int(cfg["due_soon_days"])
    qs = qs.annotate(**{ONROLL: TruncDate("created_at", tzinfo=timezone.get_current_timezone())}).filter(
        **{f"{ONROLL}__lte": today}
    )
    cadences = {}
    for rule in r.obligations:
        months = int(rule["period_months"])
        raised = bool(rule.get("raised")) and raised_months != months
        normal = _cadence(months, today, clamp=False)
        cadences[rule["id"]] = (normal, _cadence(raised_months, today, clamp=True) if raised else None)
    if any(up for _, up in cadences.values()):
        subqueries: dict[str, Any] = {RAISED_SINCE: _raised_since(_containing(today))}
        for normal, up in cadences.values():
            for c in (normal, up) if up else ():
                subqueries[_rs_on(c.prev_day)] = _raised_since(_containing(c.prev_day))
        qs = qs.annotate(**subqueries).annotate(**{RAISED_BEFORE: _raised_since(_containing_day_before(RAISED_SINCE))})
    states = {}
    for rule in r.obligations:
        modes = list(rule["satisfied_by"])
        normal, up = cadences[rule["id"]]
        if up is None:
            states[state_field(rule["id"])] = _state(modes, normal, today, Q(), due_soon_days)
        else:
            # Raised on today: the raised cadence, the same as the day before when that day was raised too.
            states[state_field(rule["id"])] = Case(
                When(
                    Q(**{f"{RAISED_SINCE}__isnull": False}),
                    then=_state(modes, up, today, Q(**{f"{_rs_on(up.prev_day)}__isnull": False}), due_soon_days),
                ),
                default=_state(modes, normal, today, Q(**{f"{_rs_on(normal.prev_day)}__isnull": True}), due_soon_days),
                output_field=IntegerField(),
            )
    fields = [F(name) for name in states]
    later = reduce(or_, (Q(**{f"{_last(m)}__gt": today}) for m in VISIT_MODES))
    return qs.annotate(**states).annotate(
        **{
            URGENCY: Least(*fields) if len(fields) > 1 else fields[0],
            LATER: Case(When(later, then=Value(True)), default=Value(False), output_field=BooleanField()),
        }
    )
