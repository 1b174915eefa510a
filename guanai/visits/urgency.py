"""Each child's visit states on a day, in SQL, so that a worklist is ordered and paged in the database.

``obligations.obligations_on`` stays the definition; this module states the same decisions as ORM expressions
(CASE WHEN), generated from rules/visits.yaml (each obligation's ``satisfied_by``, ``period_months`` and
``raised``) and the settings (``raised_home_visit_months``, ``due_soon_days``), over:

- visits.ChildVisitState: the latest day of each visit mode (kept by triggers);
- the child's on-roll date (``created_at`` in the local time zone, compared with local midnights);
- the child's raised-cadence periods (visits.CadencePeriod): the one containing ``today`` joined, the others
  (containing the day before a window, or before the raised period's start) as correlated subqueries.

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

from django.db.models import (
    BooleanField,
    Case,
    DateField,
    F,
    FilteredRelation,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest, Least, TruncDate
from django.utils import timezone

from guanai.visits.models import VISIT_MODES, CadencePeriod
from guanai.visits.obligations import DONE, DUE_SOON, OVERDUE, PENDING, STATE_ORDER, period, visit_rules

ONROLL, RAISED_SINCE, RAISED_BEFORE, LATER, URGENCY = "wl_onroll", "wl_rs", "wl_rs_prev", "wl_later", "wl_urgency"


def state_field(kind: str) -> str:
    """The annotation holding the STATE_ORDER of obligation ``kind``."""
    return f"wl_state_{kind}"


def _last(mode: str) -> str:
    return f"visit_state__last_{mode}_on"


def _containing(day: dt.date) -> Q:
    """A FilteredRelation condition: the child's raised period that contains ``day``."""
    return Q(cadence_periods__since__lte=day) & (
        Q(cadence_periods__until__isnull=True) | Q(cadence_periods__until__gt=day)
    )


def _raised_since(day: dt.date) -> Subquery:
    """The start of the child's raised period that contains ``day`` (Schedule.raised_since); NULL when none
    does. A subquery: it is looked at only on some branches of the CASE."""
    containing = Q(since__lte=day) & (Q(until__isnull=True) | Q(until__gt=day))
    rows = CadencePeriod.objects.filter(containing, child_id=OuterRef("pk")).order_by("since").values("since")
    return Subquery(rows[:1])


def _raised_before(field: str) -> Subquery:
    """The start of the child's raised period that contains the day before the date in annotation ``field``
    (Schedule.raised_since of that day); NULL when none does."""
    containing = Q(since__lt=OuterRef(field)) & (Q(until__isnull=True) | Q(until__gte=OuterRef(field)))
    rows = CadencePeriod.objects.filter(containing, child_id=OuterRef("pk")).order_by("since").values("since")
    return Subquery(rows[:1])


def done_field(kind: str) -> str:
    """The annotation telling whether obligation ``kind`` is done (已完成) in its current window."""
    return f"wl_done_{kind}"


def _latest_field(kind: str) -> str:
    return f"wl_latest_{kind}"


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


def _midnight(day: dt.date) -> dt.datetime:
    """The start of ``day`` in the local time zone: ``created_at`` before it ⇔ on the roll before ``day``."""
    return dt.datetime.combine(day, dt.time(), tzinfo=timezone.get_current_timezone())


def _on_roll_before(day: dt.date) -> Q:
    # A comparison of the stored timestamp with a constant: no time-zone conversion per row.
    return Q(created_at__lt=_midnight(day))


def _latest(modes: list[str]) -> Any:
    """The latest visit day of any of ``modes`` (a date before any visit when there is none)."""
    if len(modes) == 1:
        return F(_last(modes[0]))
    return Greatest(*(Coalesce(_last(m), Value(dt.date.min)) for m in modes), output_field=DateField())


def _visited(latest: str, low: dt.date, raised_since: str | None) -> Q:
    """A visit in the window starting at ``low`` (clamped to the on-roll date, and to the raised period's start on
    the raised cadence), by the latest visit day of the obligation's modes.

    The windows' upper bounds need no test: no visit lies after ``today`` (``later``, else the caller falls back),
    and the previous window is only looked at when no visit lies in the current one — then the latest day is before
    the current window, and any visit of the previous window shows as a latest day on or after its start. Most
    children came on the roll before ``low``; only the others compare with their on-roll date."""
    q = Q(**{f"{latest}__gte": low}) & (_on_roll_before(low) | Q(**{f"{latest}__gte": F(ONROLL)}))
    return q & Q(**{f"{latest}__gte": F(raised_since)}) if raised_since else q


def _done(latest: str, c: _Cadence) -> Q:
    return _visited(latest, c.start, RAISED_SINCE if c.clamp else None)


def _state(latest: str, c: _Cadence, today: dt.date, same: Q, due_soon_days: int) -> Case:
    """The obligation's state (STATE_ORDER) for children on cadence ``c``. ``same``: the previous day had the
    same cadence (no carried overdue across a change of cadence)."""
    open_state = STATE_ORDER[DUE_SOON] if (c.end - today).days < due_soon_days else STATE_ORDER[PENDING]
    done = _done(latest, c)
    # The window starts at the period's start (after the on-roll date): the previous window is the period before.
    after_period = _on_roll_before(c.start) & same
    if c.clamp:
        after_period &= Q(**{f"{RAISED_SINCE}__lte": c.start})
    prev_done = _visited(latest, c.prev_start, _rs_on(c.prev_day) if c.clamp else None)
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
            When(after_raise & _visited(latest, c.start, RAISED_BEFORE), then=Value(open_state)),
            When(after_raise, then=Value(STATE_ORDER[OVERDUE])),
        ]
    return Case(*whens, default=Value(open_state), output_field=IntegerField())


def annotate_states(qs: QuerySet[Any], *, today: dt.date, cfg: dict[str, int]) -> QuerySet[Any]:
    """``qs`` (children) limited to those on the roll by ``today``, annotated with each obligation's state
    (``state_field(kind)``), the urgency (their minimum) and ``later`` (a visit after ``today`` exists)."""
    r = visit_rules()
    raised_months, due_soon_days = int(cfg["raised_home_visit_months"]), int(cfg["due_soon_days"])
    qs = qs.annotate(**{ONROLL: TruncDate("created_at", tzinfo=timezone.get_current_timezone())}).filter(
        _on_roll_before(today + dt.timedelta(days=1))
    )
    cadences = {}
    for rule in r.obligations:
        months = int(rule["period_months"])
        raised = bool(rule.get("raised")) and raised_months != months
        normal = _cadence(months, today, clamp=False)
        cadences[rule["id"]] = (normal, _cadence(raised_months, today, clamp=True) if raised else None)
    if any(up for _, up in cadences.values()):
        # The period containing today, joined (a child's periods do not overlap: cadence_refresh opens one only
        # when none is open, and a period closed on a day does not contain it); the others, looked at only on
        # some branches, as subqueries.
        qs = qs.annotate(wl_raised=FilteredRelation("cadence_periods", condition=_containing(today))).annotate(
            **{RAISED_SINCE: F("wl_raised__since")}
        )
        days = {c.prev_day for normal, up in cadences.values() if up for c in (normal, up)}
        qs = qs.annotate(**{_rs_on(d): _raised_since(d) for d in days})
        qs = qs.annotate(**{RAISED_BEFORE: _raised_before(RAISED_SINCE)})
    qs = qs.annotate(**{_latest_field(rule["id"]): _latest(list(rule["satisfied_by"])) for rule in r.obligations})
    states, done = {}, {}
    for rule in r.obligations:
        latest = _latest_field(rule["id"])
        normal, up = cadences[rule["id"]]
        if up is None:
            states[state_field(rule["id"])] = _state(latest, normal, today, Q(), due_soon_days)
            done[done_field(rule["id"])] = _done(latest, normal)
        else:
            # Raised on today: the raised cadence, the same as the day before when that day was raised too.
            on_raised = Q(**{f"{RAISED_SINCE}__isnull": False})
            states[state_field(rule["id"])] = Case(
                When(
                    on_raised,
                    then=_state(latest, up, today, Q(**{f"{_rs_on(up.prev_day)}__isnull": False}), due_soon_days),
                ),
                default=_state(latest, normal, today, Q(**{f"{_rs_on(normal.prev_day)}__isnull": True}), due_soon_days),
                output_field=IntegerField(),
            )
            done[done_field(rule["id"])] = (on_raised & _done(latest, up)) | (
                Q(**{f"{RAISED_SINCE}__isnull": True}) & _done(latest, normal)
            )
    fields = [F(name) for name in states]
    later = reduce(or_, (Q(**{f"{_last(m)}__gt": today}) for m in VISIT_MODES))
    return qs.annotate(**states).annotate(
        **{
            URGENCY: Least(*fields) if len(fields) > 1 else fields[0],
            LATER: _flag(later),
            **{name: _flag(q) for name, q in done.items()},
        }
    )


def _flag(q: Q) -> Case:
    return Case(When(q, then=Value(True)), default=Value(False), output_field=BooleanField())
