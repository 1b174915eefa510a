"""Template helpers for the protection pages."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def can(user: Any, permission: str) -> bool:
    """``{% if user|can:"report.file" %}`` — whether the user's role grants the permission."""
    return bool(getattr(user, "is_authenticated", False) and user.can(permission))


@register.filter
def get(mapping: Any, key: Any) -> Any:
    """``{{ values|get:item.id }}`` — a mapping's value for a computed key."""
    try:
        return mapping.get(key)
    except AttributeError:
        return None
