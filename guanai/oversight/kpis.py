"""KPI definitions (rules/kpis.yaml) and their periods: a month ``2026-11``, a quarter ``2026-Q4``, a year ``2026``."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from guanai import rules
from guanai.lib.dates import add_months, month_end, quarter_end, quarter_start

# The region levels snapshots are stored at: the city (1), districts (3), townships (4), villages (5).
LEVELS = (1, 3, 4, 5)
CITY_CODE = "500000000000"
KINDS = ("month", "quarter", "year")


@dataclass(frozen=True)
class Kpi:
    id: str
    label: str
    period: str
    unit: str
    better: str
    target: float
    numerator: str
    denominator: str
    source: str
    status: str
    pending_reason: str
    per: str
    subject: str

    @property
    def active(self) -> bool:
        return self.status == "active"

    @property
    def is_rate(self) -> bool:
        return self.unit == "rate"


@cache
def kpi_rules() -> dict[str, Any]:
    data = rules.load("kpis")
    for spec in data["kpis"]:
        if (
            spec["period"] not in KINDS
            or spec["unit"] not in ("rate", "count")
            or spec["better"] not in ("high", "low")
        ):
            raise ValueError(f"rules/kpis.yaml: bad period/unit/better in {spec['id']!r}")
    return data


@cache
def kpis() -> dict[str, Kpi]:
    return {
        spec["id"]: Kpi(
            id=spec["id"],
            label=spec["label"],
            period=spec["period"],
            unit=spec["unit"],
            better=spec["better"],
            target=float(spec.get("target", 0)),
            numerator=spec["numerator"],
            denominator=spec.get("denominator", ""),
            source=spec["source"],
            status=spec.get("status", "active"),
            pending_reason=spec.get("pending_reason", ""),
            per=spec.get("per", ""),
            subject=spec.get("subject", "children"),
        )
        for spec in kpi_rules()["kpis"]
    }


def rule_version() -> int:
    return int(kpi_rules()["version"])


@dataclass(frozen=True)
class Window:
    """A KPI period: counted from ``start`` to ``as_of`` (its end, or today while it is running)."""

    code: str
    kind: str
    start: dt.date
    end: dt.date
    as_of: dt.date

    @property
    def label(self) -> str:
        if self.kind == "month":
            return f"{self.start.year}年{self.start.month}月"
        if self.kind == "quarter":
            return f"{self.start.year}年第{(self.start.month - 1) // 3 + 1}季度"
        return f"{self.start.year}年"


def window(kind: str, day: dt.date, today: dt.date | None = None) -> Window:
    """The period of ``kind`` containing ``day``; ``as_of`` is capped at ``today``."""
    if kind == "month":
        start, end = day.replace(day=1), month_end(day)
        code = f"{day:%Y-%m}"
    elif kind == "quarter":
        start, end = quarter_start(day), quarter_end(day)
        code = f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    elif kind == "year":
        start, end = dt.date(day.year, 1, 1), dt.date(day.year, 12, 31)
        code = str(day.year)
    else:
        raise ValueError(kind)
    as_of = min(end, today) if today is not None else end
    return Window(code, kind, start, end, max(as_of, start))


PERIOD_RE = re.compile(r"^(\d{4})(?:-(\d{2})|-Q([1-4]))?$")


def parse_period(text: str) -> tuple[str, dt.date]:
    """``2026-11`` → (month, 2026-11-01); ``2026-Q4`` → (quarter, 2026-10-01); ``2026`` → (year, 2026-01-01)."""
    m = PERIOD_RE.match(text.strip())
    if not m:
        raise ValueError(f"期间格式应为 YYYY、YYYY-MM 或 YYYY-Qn：{text}")
    year = int(m.group(1))
    if m.group(2):
        month = int(m.group(2))
        if not 1 <= month <= 12:
            raise ValueError(f"月份不正确：{text}")
        return "month", dt.date(year, month, 1)
    if m.group(3):
        return "quarter", dt.date(year, 3 * int(m.group(3)) - 2, 1)
    return "year", dt.date(year, 1, 1)


def recent_windows(kind: str, today: dt.date, n: int) -> list[Window]:
    """The last ``n`` periods of ``kind`` up to the one containing ``today``, oldest first."""
    step = {"month": 1, "quarter": 3, "year": 12}[kind]
    return [window(kind, add_months(today, -step * i), today) for i in range(n - 1, -1, -1)]


def area_code(prefix: str) -> str:
    return prefix.ljust(12, "0")
