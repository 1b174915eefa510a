"""Scoped reads for oversight: dashboards read only KPI snapshots (a handful of indexed queries whatever the
number of children), spot checks, tasks and milestones within the user's jurisdiction."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.db.models import QuerySet

from guanai.accounts.models import User
from guanai.accounts.scope import covers, in_prefix, region_prefix, scoped
from guanai.lib import regioncode
from guanai.lib.errors import NotFound, PermissionRefused
from guanai.oversight import suppression
from guanai.oversight.kpis import LEVELS, Kpi, kpis, recent_windows, window
from guanai.oversight.models import (
    AnnualReport,
    ExemplaryCase,
    KpiSnapshot,
    MilestoneProgress,
    RectificationTask,
    SpotCheck,
    SpotCheckItem,
)
from guanai.regions.models import Region

TREND_LENGTH = {"month": 12, "quarter": 8, "year": 3}


def child_level(level: int) -> int | None:
    """The next snapshot level below ``level`` (city → districts → townships → villages)."""
    deeper = [x for x in LEVELS if x > level]
    return deeper[0] if deeper else None


def snapshot_level(level: int) -> int:
    """Snapshots are kept at LEVELS; a region of another level (a level-2 grouping) reads the city's."""
    return level if level in LEVELS else max(x for x in LEVELS if x <= level)


def dashboard_region(user: User, code: str = "") -> Region:
    """The region a dashboard shows: ``code`` if inside the user's jurisdiction, else the user's own."""
    if not user.can("stats.view") or region_prefix(user) is None:
        raise PermissionRefused("您的角色无权查看统计数据")
    if not code:
        assert user.region is not None
        return user.region
    try:
        code = regioncode.normalise(code)
    except regioncode.RegionCodeError:
        raise NotFound() from None
    region = Region.objects.filter(code=code).first()
    if region is None or not covers(user, code):
        raise NotFound()
    return region


def region_path(region: Region, user: User) -> list[Region]:
    """From the user's own region down to ``region`` (the breadcrumb of a drill-down)."""
    codes = []
    code = region.code
    for level in LEVELS:
        n = regioncode.LEVEL_PREFIX_LENGTH[level]
        if n <= len(region.prefix):
            codes.append(code[:n].ljust(12, "0"))
    names = {r.code: r for r in Region.objects.filter(code__in=codes)}
    own = user.region.level if user.region is not None else 1
    return [names[c] for c in codes if c in names and names[c].level >= own]


def _value(row: KpiSnapshot | None, kpi: Kpi, shared: bool) -> dict[str, Any]:
    if row is None:
        return {"numerator": None, "denominator": None, "value": None, "unit": kpi.unit, "subject": kpi.subject}
    data = {
        "numerator": row.numerator,
        "denominator": row.denominator,
        "value": row.value,
        "unit": kpi.unit,
        "subject": kpi.subject,
        "as_of": row.as_of.isoformat(),
        "computed_at": row.computed_at.isoformat(),
    }
    return suppression.snapshot_row(data, shared=shared)


def _numeric(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _meets(kpi: Kpi, value: Any) -> bool | None:
    v = _numeric(value)
    if v is None:
        return None
    return v >= kpi.target if kpi.better == "high" else v <= kpi.target


def dashboard(user: User, *, region_code: str = "", day: dt.date, today: dt.date, kpi_id: str = "") -> dict[str, Any]:
    """Everything a dashboard shows for one region: each KPI's current value and trend, and the sub-areas worst
    first on the selected KPI, with all KPIs per sub-area. Reads snapshots only."""
    region = dashboard_region(user, region_code)
    shared = suppression.is_shared(user)
    level = snapshot_level(region.level)
    # Indicators counted for the city only (demonstration trainings) or per district are not shown below that.
    defs = [
        k for k in kpis().values() if not (k.per == "city" and level > 1) and not (k.per == "district" and level > 3)
    ]
    defs.sort(key=lambda k: not k.active)
    active = [k for k in defs if k.active]
    selected = next((k for k in active if k.id == kpi_id), active[0])
    code = region.code if region.level in LEVELS else Region.objects.get(level=1).code
    windows = {k.id: window(k.period, day, today) for k in active}

    # 1. trends of every KPI of this region: one query on (region_code, kpi, period_start)
    oldest = min(recent_windows(k.period, day, TREND_LENGTH[k.period])[0].start for k in active)
    trend_rows: dict[str, list[KpiSnapshot]] = defaultdict(list)
    for row in KpiSnapshot.objects.filter(region_code=code, period_start__gte=oldest, period_start__lte=day).order_by(
        "period_start"
    ):
        trend_rows[row.kpi].append(row)
    cards = []
    for k in defs:
        w = windows.get(k.id) or window(k.period, day, today)
        if not k.active:
            cards.append({"kpi": k, "window": w, "pending": True, "current": _value(None, k, shared), "trend": []})
            continue
        rows = [
            r
            for r in trend_rows.get(k.id, [])
            if r.period_start >= recent_windows(k.period, day, TREND_LENGTH[k.period])[0].start
        ]
        current = next((r for r in rows if r.period == w.code), None)
        shown = _value(current, k, shared)
        cards.append(
            {
                "kpi": k,
                "window": w,
                "pending": False,
                "current": shown,
                "meets": _meets(k, shown["value"]),
                "trend": [{"period": r.period, **_value(r, k, shared)} for r in rows],
            }
        )

    # 2. sub-areas: one query on (period, level, region_code) per distinct period
    areas: list[dict[str, Any]] = []
    below = child_level(level)
    if below is not None:
        low, high = regioncode.prefix_range(region.prefix if region.level in LEVELS else "50")
        periods = {w.code for w in windows.values()}
        by_area: dict[str, dict[str, Any]] = defaultdict(dict)
        for row in KpiSnapshot.objects.filter(
            period__in=periods, level=below, region_code__gte=low, region_code__lte=high
        ):
            spec = kpis().get(row.kpi)
            if spec is None or not spec.active or windows[spec.id].code != row.period:
                continue
            by_area[row.region_code][row.kpi] = _value(row, spec, shared)
        names = dict(Region.objects.filter(code__in=list(by_area)).values_list("code", "name"))
        for area_code, values in by_area.items():
            areas.append({"code": area_code, "name": names.get(area_code, area_code), "values": values})
        sign = 1 if selected.better == "high" else -1

        def worst_first(a: dict[str, Any]) -> tuple[int, float, str]:
            v = _numeric(a["values"].get(selected.id, {}).get("value"))
            return (v is None, sign * (v if v is not None else 0.0), a["code"])

        areas.sort(key=worst_first)
    return {
        "region": region,
        "level": level,
        "child_level": below,
        "shared": shared,
        "selected": selected,
        "cards": cards,
        "areas": areas,
        "windows": windows,
        "day": day,
    }


def dashboard_json(data: dict[str, Any]) -> dict[str, Any]:
    """The dashboard as plain JSON (the API and the charts' data)."""
    return {
        "region": {"code": data["region"].code, "name": data["region"].name, "level": data["region"].level},
        "suppressed": data["shared"],
        "selected": data["selected"].id,
        "kpis": [
            {
                "id": c["kpi"].id,
                "label": c["kpi"].label,
                "unit": c["kpi"].unit,
                "better": c["kpi"].better,
                "target": c["kpi"].target,
                "period": c["window"].code,
                "source": c["kpi"].source,
                "status": c["kpi"].status,
                "pending_reason": c["kpi"].pending_reason,
                "current": c["current"],
                "trend": c["trend"],
            }
            for c in data["cards"]
        ],
        "areas": [{"code": a["code"], "name": a["name"], "values": a["values"]} for a in data["areas"]],
    }


# --- spot checks, tasks, milestones, reports -----------------------------------------------------------------


def spotchecks_for(user: User) -> QuerySet[SpotCheck]:
    return scoped(SpotCheck.objects.all(), user, field="district_id", permission="oversight.manage")


def spotcheck_get(user: User, pk: int | str) -> SpotCheck:
    try:
        return spotchecks_for(user).select_related("district").get(pk=int(pk))
    except (SpotCheck.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def spotcheck_item_get(user: User, pk: int | str) -> SpotCheckItem:
    try:
        return SpotCheckItem.objects.select_related("spot_check", "child").get(
            pk=int(pk), spot_check__in=spotchecks_for(user)
        )
    except (SpotCheckItem.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def tasks_for(user: User) -> QuerySet[RectificationTask]:
    """Rectification tasks the user must do, or oversees in the jurisdiction."""
    mine = RectificationTask.objects.filter(assignee=user)
    if user.can("oversight.manage") and region_prefix(user):
        mine = mine | RectificationTask.objects.filter(in_prefix("item__village_code", region_prefix(user) or ""))
    return mine.select_related("item", "item__child", "assignee").distinct()


def task_get(user: User, pk: int | str) -> RectificationTask:
    try:
        return tasks_for(user).get(pk=int(pk))
    except (RectificationTask.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def districts_for(user: User) -> list[Region]:
    prefix = region_prefix(user)
    if prefix is None:
        return []
    return list(Region.objects.filter(in_prefix("code", prefix), level=Region.Level.COUNTY, is_active=True))


def milestones_for(user: User) -> dict[str, dict[str, MilestoneProgress]]:
    """district code → milestone id → progress, for the districts in scope."""
    if not user.can("stats.view"):
        raise PermissionRefused("您的角色无权查看工作节点")
    prefix = region_prefix(user) or ""
    out: dict[str, dict[str, MilestoneProgress]] = defaultdict(dict)
    for row in MilestoneProgress.objects.filter(in_prefix("district_id", prefix)):
        out[row.district_id][row.milestone] = row
    return out


def annual_report_get(region: Region, year: int) -> AnnualReport | None:
    return AnnualReport.objects.filter(region=region, year=year).select_related("submitted_by").first()


def exemplary_cases(region: Region, year: int) -> list[ExemplaryCase]:
    low, high = regioncode.prefix_range(region.prefix)
    return list(ExemplaryCase.objects.filter(region_id__gte=low, region_id__lte=high, year=year))
