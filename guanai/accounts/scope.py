"""Jurisdiction: the region-code prefix a user may see, applied as a range on an indexed code column."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet

from guanai.lib import regioncode

if TYPE_CHECKING:
    from guanai.accounts.models import User


def region_prefix(user: User) -> str | None:
    """The user's jurisdiction prefix, or None when the user has no usable jurisdiction."""
    if not user.is_authenticated or user.region_id is None:
        return None
    return regioncode.prefix(user.region_id)


def in_prefix(field: str, prefix_value: str) -> Q:
    low, high = regioncode.prefix_range(prefix_value)
    return Q(**{f"{field}__gte": low, f"{field}__lte": high})


def scoped(qs: QuerySet[Any], user: User, *, field: str, permission: str) -> QuerySet[Any]:
    """``qs`` limited to ``user``'s jurisdiction, or empty when the role lacks ``permission``.

    Every selector of children's data ends here; views never filter children themselves.
    """
    prefix_value = region_prefix(user)
    if prefix_value is None or not user.can(permission):
        return qs.none()
    return qs.filter(in_prefix(field, prefix_value))


def covers(user: User, code: str) -> bool:
    prefix_value = region_prefix(user)
    return prefix_value is not None and regioncode.normalise(code).startswith(prefix_value)
