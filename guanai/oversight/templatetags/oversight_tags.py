from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def dictget(mapping: Any, key: str) -> Any:
    """``{{ row|dictget:key }}`` — a value of a dict by a variable key (None when absent)."""
    return mapping.get(key) if isinstance(mapping, dict) else None


@register.filter
def kpi_fmt(value: Any, unit: str) -> str:
    """A KPI value as shown: 87.5% for a rate, 3 for a count, the suppression marks (<5, —) as they are."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        return value
    if unit == "rate":
        return f"{float(value):.1f}%"
    return f"{float(value):g}"
