"""Writing audit and access events. Call inside the transaction of the change being recorded."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from typing import Any

from django.db import models, transaction

from guanai.audit.context import current_request_id
from guanai.audit.models import AccessEvent, AuditEvent

# Field names whose values never enter an audit row in clear: they are replaced by a marker.
SECRET_FIELDS = {"id_number_enc", "phone_enc", "password"}


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def snapshot(instance: models.Model, fields: list[str] | None = None) -> dict[str, Any]:
    """The concrete field values of ``instance``; encrypted and secret fields are marked, never copied."""
    data: dict[str, Any] = {}
    for f in instance._meta.concrete_fields:
        if fields is not None and f.name not in fields:
            continue
        value = getattr(instance, f.attname)
        data[f.attname] = "[已加密]" if f.name in SECRET_FIELDS and value else _jsonable(value)
    return data


def changed(before: dict[str, Any] | None, after: dict[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the keys whose values differ, so an event shows what changed."""
    before, after = before or {}, after or {}
    keys = [k for k in sorted(set(before) | set(after)) if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys if k in before}, {k: after.get(k) for k in keys if k in after}


def _actor_fields(actor: Any) -> dict[str, Any]:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return {"actor": None, "actor_username": "system"}
    return {"actor": actor, "actor_username": actor.get_username()}


def audit_record(
    *,
    actor: Any,
    action: str,
    object_type: str,
    object_id: str | int = "",
    summary: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Record a change. Must run inside the change's transaction so both commit or neither does."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record must be called inside the transaction of the change")
    return AuditEvent.objects.create(
        **_actor_fields(actor),
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        summary=summary[:300],
        before=_jsonable(before),
        after=_jsonable(after),
        request_id=current_request_id(),
    )


def access_record(*, actor: Any, action: str, object_type: str, object_id: str | int = "", field: str = "") -> None:
    """Record a read of sensitive data (a full file opened, a masked field revealed, an export)."""
    AccessEvent.objects.create(
        **_actor_fields(actor),
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        field=field,
        request_id=current_request_id(),
    )
