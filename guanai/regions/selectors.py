"""Reads of regions. Regions are public reference data; only lists under a jurisdiction are scoped."""

from __future__ import annotations

from django.db.models import QuerySet

from guanai.accounts.scope import in_prefix
from guanai.lib import regioncode
from guanai.regions.models import Region


def region_get(code: str) -> Region | None:
    try:
        return Region.objects.filter(code=regioncode.normalise(code)).first()
    except regioncode.RegionCodeError:
        return None


def regions_under(prefix_value: str, *, level: int | None = None) -> QuerySet[Region]:
    qs = Region.objects.filter(in_prefix("code", prefix_value))
    if level is not None:
        qs = qs.filter(level=level)
    return qs


def region_path(region: Region) -> list[Region]:
    """The region and its ancestors, from the top."""
    codes = [regioncode.normalise(region.code[:n]) for n in (2, 4, 6, 9, 12) if n <= len(region.prefix)]
    found = {r.code: r for r in Region.objects.filter(code__in=codes)}
    return [found[c] for c in codes if c in found]
