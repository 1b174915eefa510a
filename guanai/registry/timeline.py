"""The one way anything enters a child's archive timeline (一人一档, §8)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from guanai.registry.models import Child, TimelineEvent


def timeline_add(
    *,
    child: Child | int,
    kind: str,
    summary: str,
    actor: Any = None,
    source_type: str = "",
    source_id: str | int = "",
    at: dt.datetime | None = None,
    detail: dict[str, Any] | None = None,
) -> TimelineEvent:
    """Add one line to a child's timeline. Call inside the transaction of the change it reports."""
    return TimelineEvent.objects.create(
        **timeline_row(
            child=child,
            kind=kind,
            summary=summary,
            actor=actor,
            source_type=source_type,
            source_id=source_id,
            at=at,
            detail=detail,
        )
    )


def timeline_row(
    *,
    child: Child | int,
    kind: str,
    summary: str,
    actor: Any = None,
    source_type: str = "",
    source_id: str | int = "",
    at: dt.datetime | None = None,
    detail: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The fields of a timeline row, for bulk writers that create many at once."""
    username = actor.get_username() if actor is not None and getattr(actor, "is_authenticated", False) else "系统"
    return {
        "child_id": child if isinstance(child, int) else child.pk,
        "kind": kind,
        "summary": summary[:500],
        "actor_username": username,
        "source_type": source_type,
        "source_id": str(source_id),
        "at": at or timezone.now(),
        "detail": detail,
    }
