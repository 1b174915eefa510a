"""Append-only audit of changes and of views of sensitive data.

Rows are written in the same transaction as the change they describe. The app cannot edit or delete them:
``save`` refuses an update, ``delete`` refuses, the queryset refuses bulk update/delete, and database
triggers (see migration 0002) refuse UPDATE on both engines and DELETE on PostgreSQL.
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.db import models


class AppendOnlyError(RuntimeError):
    pass


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("audit rows cannot be changed")

    def delete(self) -> NoReturn:
        raise AppendOnlyError("audit rows cannot be deleted")


class AppendOnlyModel(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("audit rows cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("audit rows cannot be deleted")


class AuditEvent(AppendOnlyModel):
    """A change made through a service: who, what, which object, before/after, when, in which request."""

    at = models.DateTimeField("时间", auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_username = models.CharField("操作人", max_length=150, blank=True)
    action = models.CharField("操作", max_length=60, db_index=True)
    object_type = models.CharField("对象类型", max_length=60)
    object_id = models.CharField("对象ID", max_length=64, blank=True)
    summary = models.CharField("摘要", max_length=300, blank=True)
    before = models.JSONField("变更前", null=True, blank=True)
    after = models.JSONField("变更后", null=True, blank=True)
    request_id = models.CharField("请求ID", max_length=64, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = verbose_name_plural = "审计事件"
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_username} {self.action} {self.object_type}#{self.object_id}"


class AccessEvent(AppendOnlyModel):
    """A read of sensitive data: opening a child's full file, revealing a masked field, an export."""

    at = models.DateTimeField("时间", auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_username = models.CharField("访问人", max_length=150, blank=True)
    action = models.CharField("访问类型", max_length=40, db_index=True)
    object_type = models.CharField("对象类型", max_length=60)
    object_id = models.CharField("对象ID", max_length=64, blank=True)
    field = models.CharField("字段", max_length=60, blank=True)
    request_id = models.CharField("请求ID", max_length=64, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = verbose_name_plural = "访问记录"
        indexes = [models.Index(fields=["object_type", "object_id"], name="access_object")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_username} {self.action} {self.object_type}#{self.object_id}"
