"""Reads of accounts, limited to what the reader may manage."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from guanai.accounts.models import User
from guanai.accounts.scope import in_prefix, region_prefix


def users_for(actor: User, *, q: str = "", role: str = "", active: str = "") -> QuerySet[User]:
    """Accounts inside the actor's jurisdiction (and accounts without a region, which only a manager can fix),
    for a user who may manage accounts; nothing otherwise."""
    prefix_value = region_prefix(actor)
    if prefix_value is None or not actor.can("user.manage"):
        return User.objects.none()
    qs = User.objects.select_related("region").filter(in_prefix("region_id", prefix_value) | Q(region__isnull=True))
    if q:
        qs = qs.filter(Q(username__icontains=q) | Q(display_name__icontains=q) | Q(organisation__icontains=q))
    if role:
        qs = qs.filter(role=role)
    if active in ("1", "0"):
        qs = qs.filter(is_active=active == "1")
    return qs.order_by("region_id", "role", "username")
