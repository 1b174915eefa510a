"""Scoped reads of discovery data: the review queue, findings (a worklist per responsible user), batches."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from guanai.accounts.models import User
from guanai.accounts.scope import in_prefix, region_prefix
from guanai.discovery.models import Finding, Link, RosterBatch
from guanai.lib.errors import NotFound


def review_queue(user: User) -> QuerySet[Link]:
    """Uncertain links in the user's jurisdiction, for district officers (discovery.run)."""
    prefix = region_prefix(user)
    if prefix is None or not user.can("discovery.run"):
        return Link.objects.none()
    return (
        Link.objects.filter(state=Link.State.PENDING)
        .filter(in_prefix("region_code", prefix))
        .select_related("row", "child", "target")
        .order_by("-probability", "id")
    )


def link_get(user: User, pk: int | str) -> Link:
    try:
        return (
            review_queue(user)
            .model.objects.select_related("row", "child", "target")
            .get(pk=int(pk), **_scope_kwargs(user))
        )
    except (Link.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def _scope_kwargs(user: User) -> dict[str, str]:
    from guanai.lib import regioncode

    prefix = region_prefix(user)
    if prefix is None or not user.can("discovery.run"):
        raise NotFound()
    low, high = regioncode.prefix_range(prefix)
    return {"region_code__gte": low, "region_code__lte": high}


def findings_for(user: User) -> QuerySet[Finding]:
    """Findings the user is responsible for or that concern a child in the user's jurisdiction: a director sees
    her village's children; a district officer also the district's children not in the registry."""
    prefix = region_prefix(user)
    if prefix is None or not user.can("finding.handle"):
        return Finding.objects.none()
    return Finding.objects.filter(
        in_prefix("responsible_region", prefix) | (in_prefix("region_code", prefix) & Q(child__isnull=False))
    ).order_by("status", "-last_seen", "rule", "id")


def finding_get(user: User, pk: int | str) -> Finding:
    try:
        return findings_for(user).select_related("child", "subject_row").get(pk=int(pk))
    except (Finding.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def batches_for(user: User) -> QuerySet[RosterBatch]:
    if not user.can("discovery.run"):
        return RosterBatch.objects.none()
    return RosterBatch.objects.order_by("-imported_at")
