"""The director's daily work (§8): visits, problems followed until solved, work log, cadence, notifications."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class VisitSettings(models.Model):
    """Administrator overrides of the defaults in rules/visits.yaml (one row)."""

    raised_home_visit_months = models.PositiveSmallIntegerField("加大频次后的入户走访周期（月）", default=1)
    due_soon_days = models.PositiveSmallIntegerField("即将到期提醒（天）", default=7)
    late_entry_days = models.PositiveSmallIntegerField("允许补录（天）", default=7)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "走访设置"

    def __str__(self) -> str:
        return "走访设置"


class CadencePeriod(models.Model):
    """A period during which a child's home visits are due more often (§8 加大走访频次), with the reasons."""

    child = models.ForeignKey("registry.Child", on_delete=models.CASCADE, related_name="cadence_periods")
    since = models.DateField("起始日期")
    until = models.DateField("结束日期", null=True, blank=True)
    reasons = models.JSONField("原因", default=list)

    class Meta:
        verbose_name = verbose_name_plural = "加密走访期间"
        indexes = [models.Index(fields=["child", "until"], name="cadence_child_until")]

    def __str__(self) -> str:
        return f"{self.since}–{self.until or ''}"


class ChildFlag(models.Model):
    """A fact found on visits that is not in the registry: psychological or behavioural abnormality."""

    child = models.ForeignKey("registry.Child", on_delete=models.CASCADE, related_name="flags")
    kind = models.CharField("标记", max_length=40)
    since = models.DateField("起始日期")
    until = models.DateField("结束日期", null=True, blank=True)
    note = models.CharField("说明", max_length=300, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "儿童标记"
        indexes = [models.Index(fields=["child", "kind", "until"], name="flag_child_kind")]

    def __str__(self) -> str:
        return self.kind


class Visit(models.Model):
    class Mode(models.TextChoices):
        PHONE = "phone", "电话"
        VIDEO = "video", "视频"
        HOME = "home", "入户走访"
        SCHOOL = "school", "在校走访"
        OTHER = "other", "其他"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client_key = models.CharField("提交标识", max_length=64, null=True, blank=True, unique=True)
    child = models.ForeignKey("registry.Child", on_delete=models.PROTECT, related_name="visits")
    visited_at = models.DateTimeField("走访时间")
    visited_on = models.DateField("走访日期")
    mode = models.CharField("方式", max_length=10, choices=Mode.choices)
    visitor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    visitor_name = models.CharField("走访人", max_length=50)
    met = models.CharField("见到的人", max_length=200, blank=True)
    checklist = models.JSONField("走访清单", default=dict)
    notes = models.TextField("情况记录", blank=True)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    late_reason = models.CharField("补录原因", max_length=200, blank=True)
    recorded_at = models.DateTimeField("录入时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "走访记录"
        indexes = [
            models.Index(fields=["child", "visited_on"], name="visit_child_day"),
            models.Index(fields=["visitor", "visited_on"], name="visit_visitor_day"),
            models.Index(fields=["visited_on", "mode"], name="visit_day_mode"),
        ]

    def __str__(self) -> str:
        return f"{self.get_mode_display()} {self.visited_on}"


# The modes a visit can have, each with its column on ChildVisitState (``last_<mode>_on``).
VISIT_MODES = ("phone", "video", "home", "school", "other")


class ChildVisitState(models.Model):
    """Per child: the village, whether on the roll, and the date of the latest visit of each mode.

    A maintained summary (docs/visits.md "Summary for worklists and completion"): database triggers keep it
    in step with ``registry_child`` (insert, village or status change) and ``visits_visit`` (insert, update,
    delete) in the same transaction, on PostgreSQL and SQLite, whatever path wrote the rows. It holds facts
    only — which visits satisfy which obligation stays in rules/visits.yaml and is applied when reading.
    """

    child = models.OneToOneField(
        "registry.Child", primary_key=True, on_delete=models.CASCADE, related_name="visit_state"
    )
    village_code = models.CharField(max_length=12)
    on_roll = models.BooleanField(default=True)
    last_phone_on = models.DateField(null=True)
    last_video_on = models.DateField(null=True)
    last_home_on = models.DateField(null=True)
    last_school_on = models.DateField(null=True)
    last_other_on = models.DateField(null=True)

    class Meta:
        verbose_name = verbose_name_plural = "走访汇总"
        indexes = [
            models.Index(
                fields=["village_code"],
                name="visitstate_village",
                include=[f"last_{m}_on" for m in VISIT_MODES],
                condition=models.Q(on_roll=True),
            )
        ]

    def __str__(self) -> str:
        return self.village_code

    def last_visits(self) -> list[tuple[object, str]]:
        return [(getattr(self, f"last_{m}_on"), m) for m in VISIT_MODES if getattr(self, f"last_{m}_on")]


class VisitPhoto(models.Model):
    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="photos")
    file = models.FileField(upload_to="visits/%Y/%m/")
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()

    class Meta:
        verbose_name = verbose_name_plural = "走访照片"

    def __str__(self) -> str:
        return self.file.name or ""


class Problem(models.Model):
    """A problem found (发现问题, §8), followed until solved or referred; escalates when overdue."""

    class Status(models.TextChoices):
        OPEN = "open", "待处理"
        IN_PROGRESS = "in_progress", "处理中"
        SOLVED = "solved", "已解决"
        REFERRED = "referred", "已转介"

    class Level(models.IntegerChoices):
        VILLAGE = 0, "村（社区）"
        TOWNSHIP = 1, "乡镇（街道）"
        DISTRICT = 2, "区县"

    child = models.ForeignKey("registry.Child", on_delete=models.PROTECT, related_name="problems")
    visit = models.ForeignKey(Visit, null=True, blank=True, on_delete=models.SET_NULL, related_name="problems")
    category = models.CharField("类别", max_length=20)
    description = models.TextField("问题描述")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="负责人",
    )
    due_date = models.DateField("期限")
    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.OPEN)
    level = models.PositiveSmallIntegerField("督办层级", choices=Level.choices, default=Level.VILLAGE)
    escalated_on = models.DateField("升级日期", null=True, blank=True)
    solution = models.TextField("解决方案", blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("发现时间", auto_now_add=True)
    closed_at = models.DateTimeField("办结时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "发现问题"
        indexes = [
            models.Index(fields=["status", "due_date"], name="problem_status_due"),
            models.Index(fields=["child", "status"], name="problem_child_status"),
        ]

    def __str__(self) -> str:
        return self.description[:30]

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.OPEN, self.Status.IN_PROGRESS)


class ProblemUpdate(models.Model):
    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="updates")
    at = models.DateTimeField(auto_now_add=True)
    actor_username = models.CharField(max_length=150)
    status = models.CharField(max_length=20, choices=Problem.Status.choices)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = verbose_name_plural = "问题处理记录"

    def __str__(self) -> str:
        return self.note[:30]


class WorkLogEntry(models.Model):
    """工作日志: what a director or supervisor did on a day, optionally about one child."""

    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    day = models.DateField("日期")
    content = models.TextField("工作内容")
    child = models.ForeignKey("registry.Child", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-day", "-id"]
        verbose_name = verbose_name_plural = "工作日志"
        indexes = [models.Index(fields=["author", "day"], name="worklog_author_day")]

    def __str__(self) -> str:
        return self.content[:30]


class Notification(models.Model):
    """An in-app notice (reminder, escalation). ``dedupe_key`` makes the reminder job idempotent."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=40)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=200, blank=True)
    dedupe_key = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = verbose_name_plural = "通知"
        indexes = [models.Index(fields=["user", "read_at"], name="notice_user_unread")]

    def __str__(self) -> str:
        return self.title
