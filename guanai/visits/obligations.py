"""Visit obligations on a date (§8): which windows apply to a child, their due dates and states.

Pure Python over plain data, so every boundary is testable. Conventions (docs/visits.md):
- periods are calendar months and calendar quarters (a period of N months starts in a month m with
  (m - 1) % N == 0), so everyone in a district shares the same deadlines;
- a child's first window starts on the day the child came on the roll; a raised cadence starts on the day its
  trigger was found;
- the state describes the current window: 已完成 when a qualifying visit falls in it; otherwise 已逾期 when the
  previous window of the same cadence was missed (the child is behind), 即将到期 when the window closes within
  ``due_soon_days``, else 待完成. A cadence change between the two windows starts afresh (no carried overdue).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from guanai import rules
from guanai.lib.dates import add_months, month_end

DONE, OVERDUE, DUE_SOON, PENDING = "已完成", "已逾期", "即将到期", "待完成"
STATE_ORDER = {OVERDUE: 0, DUE_SOON: 1, PENDING: 2, DONE: 3}


@dataclass(frozen=True)
class Schedule:
    on_roll_since: dt.date
    raised: tuple[tuple[dt.date, dt.date | None], ...] = ()  # [since, until) periods of raised cadence
    reasons: tuple[str, ...] = ()

    def raised_on(self, day: dt.date) -> bool:
        return any(since <= day and (until is None or day < until) for since, until in self.raised)

    def raised_since(self, day: dt.date) -> dt.date | None:
        for since, until in self.raised:
            if since <= day and (until is None or day < until):
                return since
        return None


@dataclass(frozen=True)
class Obligation:
    kind: str
    label: str
    window_start: dt.date
    window_end: dt.date
    due: dt.date
    state: str
    done_on: dt.date | None = None
    overdue_since: dt.date | None = None
    raised: bool = False


@dataclass(frozen=True)
class Rules:
    version: int
    settings: dict[str, int]
    obligations: tuple[dict[str, Any], ...]
    triggers: tuple[dict[str, Any], ...]


@cache
def visit_rules() -> Rules:
    data = rules.load("visits")
    return Rules(int(data["version"]), dict(data["settings"]), tuple(data["obligations"]), tuple(data["triggers"]))


@lru_cache(maxsize=4096)
def period(day: dt.date, months: int) -> tuple[dt.date, dt.date]:
    """The calendar period of ``months`` months containing ``day`` (month, quarter, half-year, year)."""
    if months not in (1, 2, 3, 4, 6, 12):
        raise ValueError(f"a visit period must divide the year, got {months} months")
    start = dt.date(day.year, (day.month - 1) // months * months + 1, 1)
    return start, month_end(add_months(start, months - 1))


def _months_for(rule: dict[str, Any], schedule: Schedule, day: dt.date, settings: dict[str, int]) -> int:
    if rule.get("raised") and schedule.raised_on(day):
        return int(settings["raised_home_visit_months"])
    return int(rule["period_months"])


def _window(
    rule: dict[str, Any], schedule: Schedule, day: dt.date, settings: dict[str, int]
) -> tuple[dt.date, dt.date]:
    months = _months_for(rule, schedule, day, settings)
    start, end = period(day, months)
    start = max(start, schedule.on_roll_since)
    if rule.get("raised") and months != int(rule["period_months"]):
        start = max(start, schedule.raised_since(day) or start)
    return start, end


def _done(visits: list[tuple[dt.date, str]], modes: set[str], start: dt.date, end: dt.date) -> dt.date | None:
    hits = [d for d, mode in visits if mode in modes and start <= d <= end]
    return max(hits) if hits else None


def obligations_on(
    schedule: Schedule,
    visits: list[tuple[dt.date, str]],
    day: dt.date,
    settings: dict[str, int] | None = None,
) -> list[Obligation]:
    """Each obligation of a child on ``day``: its current window, due date and state."""
    r = visit_rules()
    cfg = {**r.settings, **(settings or {})}
    if day < schedule.on_roll_since:
        return []
    result: list[Obligation] = []
    for rule in r.obligations:
        modes = set(rule["satisfied_by"])
        start, end = _window(rule, schedule, day, cfg)
        done_on = _done(visits, modes, start, min(day, end))
        overdue_since = None
        if done_on is None and start > schedule.on_roll_since:
            prev_day = start - dt.timedelta(days=1)
            same_cadence = _months_for(rule, schedule, prev_day, cfg) == _months_for(rule, schedule, day, cfg)
            if same_cadence:
                prev_start, prev_end = _window(rule, schedule, prev_day, cfg)
                if _done(visits, modes, prev_start, prev_end) is None:
                    overdue_since = prev_end
        if done_on is not None:
            state = DONE
        elif overdue_since is not None:
            state = OVERDUE
        elif (end - day).days < int(cfg["due_soon_days"]):
            state = DUE_SOON
        else:
            state = PENDING
        result.append(
            Obligation(
                kind=rule["id"],
                label=rule["label"],
                window_start=start,
                window_end=end,
                due=end,
                state=state,
                done_on=done_on,
                overdue_since=overdue_since,
                raised=bool(rule.get("raised")) and schedule.raised_on(day),
            )
        )
    return result


def earliest_needed(day: dt.date) -> dt.date:
    """The earliest visit date any obligation on ``day`` can look at (the previous quarter's start)."""
    quarter_start, _ = period(day, 3)
    return add_months(quarter_start, -3)
