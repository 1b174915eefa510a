"""Small-count suppression (四(三) privacy): counts of 1–4 children are shown as ``<5`` — and rates built on fewer
than 5 as ``—`` — wherever figures leave the jurisdiction's own civil-affairs staff (partner departments, social
organisations, the 对外 edition of exports), so that no individual child can be singled out from a table.
Zero is shown: "no child" identifies nobody. This is the one helper views, the API and exports use."""

from __future__ import annotations

from functools import cache
from typing import Any

from guanai import rules

SUPPRESSED = "<5"
NO_RATE = "—"


@cache
def _config() -> dict[str, Any]:
    return dict(rules.load("oversight")["suppression"])


def threshold() -> int:
    return int(_config()["threshold"])


def is_shared(user: Any) -> bool:
    """Whether figures shown to ``user`` leave the jurisdiction's civil-affairs staff (and must be suppressed)."""
    return getattr(user, "role", "") not in set(_config()["exact_roles"])


def count(value: int | None, *, shared: bool) -> int | str | None:
    """A count as it may be shown: ``<5`` for 1–4 when ``shared``."""
    if value is None or not shared:
        return value
    return SUPPRESSED if 0 < value < threshold() else value


def rate(numerator: int | None, denominator: int | None, *, shared: bool, digits: int = 1) -> float | str | None:
    """A percentage, or ``—`` when shared and the denominator or the numerator's complement is 1–4 (a rate of
    100% over 3 children discloses every child's status as much as the count does)."""
    if numerator is None or not denominator:
        return None
    if shared:
        small = threshold()
        if denominator < small or 0 < numerator < small or 0 < denominator - numerator < small:
            return NO_RATE
    return round(100.0 * numerator / denominator, digits)


def snapshot_row(row: dict[str, Any], *, shared: bool) -> dict[str, Any]:
    """A KPI row (numerator, denominator, value, unit, subject) made fit to show; only counts of children are
    suppressed (a district with 1 social organisation identifies no child)."""
    out = dict(row)
    if not shared or row.get("subject", "children") != "children":
        return out
    if row.get("unit") == "rate":
        out["value"] = rate(row.get("numerator"), row.get("denominator"), shared=True)
    out["numerator"] = count(row.get("numerator"), shared=True)
    out["denominator"] = count(row.get("denominator"), shared=True)
    return out
