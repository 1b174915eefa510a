from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class Job(models.Model):
    """A unit of long work (an import, a discovery run, a report) with its progress and outcome."""

    class Status(models.TextChoices):
        QUEUED = "queued", "排队中"
        RUNNING = "running", "进行中"
        SUCCEEDED = "succeeded", "已完成"
        FAILED = "failed", "失败"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField("任务类型", max_length=60)
    title = models.CharField("任务", max_length=200)
    params = models.JSONField("参数", default=dict)
    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.QUEUED, db_index=True)
    progress = models.PositiveIntegerField("已完成", default=0)
    total = models.PositiveIntegerField("总数", null=True, blank=True)
    message = models.CharField("进度说明", max_length=300, blank=True)
    error = models.TextField("失败原因", blank=True)
    result = models.JSONField("结果", null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    retry_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = verbose_name_plural = "后台任务"
        indexes = [models.Index(fields=["created_by", "-created_at"], name="job_owner_created")]

    def __str__(self) -> str:
        return f"{self.title}（{self.get_status_display()}）"

    @property
    def percent(self) -> int:
        if self.status == self.Status.SUCCEEDED:
            return 100
        if not self.total:
            return 0
        return min(100, int(100 * self.progress / self.total))

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)


class ScheduledRun(models.Model):
    """That a daily job was enqueued for a day (makes the schedule idempotent across processes)."""

    name = models.CharField(max_length=60)
    day = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["name", "day"], name="scheduled_run_once")]

    def __str__(self) -> str:
        return f"{self.name} {self.day}"
