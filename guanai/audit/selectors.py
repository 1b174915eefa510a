"""Reads of the audit log, for auditors only."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet

from guanai.accounts.models import User
from guanai.audit.models import AccessEvent, AuditEvent
from guanai.lib.errors import PermissionRefused


def _filter(
    qs: QuerySet,
    *,
    actor: str = "",
    action: str = "",
    object_type: str = "",
    object_id: str = "",
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> QuerySet:
    if actor:
        qs = qs.filter(actor_username=actor)
    if action:
        qs = qs.filter(action__startswith=action)
    if object_type:
        qs = qs.filter(object_type=object_type)
    if object_id:
        qs = qs.filter(object_id=object_id)
    if since:
        qs = qs.filter(at__date__gte=since)
    if until:
        qs = qs.filter(at__date__lte=until)
    return qs


def audit_events_for(user: User, **filters: object) -> QuerySet[AuditEvent]:
    if not user.can("audit.view"):
        raise PermissionRefused("只有审计员可以查询审计日志")
    return _filter(AuditEvent.objects.all(), **filters)  # type: ignore[arg-type]


def access_events_for(user: User, **filters: object) -> QuerySet[AccessEvent]:
    if not user.can("audit.view"):
        raise PermissionRefused("只有审计员可以查询访问记录")
    return _filter(AccessEvent.objects.all(), **filters)  # type: ignore[arg-type]
