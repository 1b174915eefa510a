"""Dates: ages on a given day, calendar months and quarters. Every rule that depends on a date uses these."""

from __future__ import annotations

import datetime as dt


def age_on(birth: dt.date, day: dt.date) -> int:
    """Completed years on ``day``; a child born on 29 February has a birthday on 1 March in common years."""
    years = day.year - birth.year
    if (day.month, day.day) < (birth.month, birth.day):
        years -= 1
    return years


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year = day.year + month_index // 12
    month = month_index % 12 + 1
    last = month_end(dt.date(year, month, 1)).day
    return dt.date(year, month, min(day.day, last))


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def month_end(day: dt.date) -> dt.date:
    nxt = dt.date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def quarter_end(day: dt.date) -> dt.date:
    return month_end(add_months(quarter_start(day), 2))
