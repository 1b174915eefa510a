"""Oversight (四(二)): KPI snapshots, the district's annual progress report, archive spot checks with their
rectification tasks, the plan's milestones per district and exemplary cases."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class KpiSnapshot(models.Model):
    """One indicator for one region and one period, computed set-wise by ``kpi_refresh``. Dashboards read
    only these rows. ``region_code`` is the 12-digit code of the area (city, district, township, village)."""

    kpi = models.CharField("指标", max_length=40)
    region_code = models.CharField("区域", max_length=12)
    level = models.PositiveSmallIntegerField("级别")
    period = models.CharField("期间", max_length=10)  # 2026-11, 2026-Q4, 2026
    period_start = models.DateField("期间开始")
    period_end = models.DateField("期间结束")
    as_of = models.DateField("统计截至")
    numerator = models.IntegerField("分子")
    denominator = models.IntegerField("分母", null=True, blank=True)
    value = models.FloatField("指标值", null=True, blank=True)
    rule_version = models.PositiveIntegerField("规则版本")
    computed_at = models.DateTimeField("计算时间")

    class Meta:
        verbose_name = verbose_name_plural = "指标快照"
        constraints = [
            models.UniqueConstraint(fields=["kpi", "period", "region_code"], name="kpi_snapshot_once"),
        ]
        indexes = [
            models.Index(fields=["period", "level", "region_code"], name="kpi_period_level_region"),
            models.Index(fields=["region_code", "kpi", "period_start"], name="kpi_region_trend"),
        ]

    def __str__(self) -> str:
        return f"{self.kpi} {self.region_code} {self.period}"


class AnnualReport(models.Model):
    """The district's (or the city's) yearly progress report to the city (四(二), due 1 December): the
    narrative parts written by the officer; the figures are generated from the snapshots."""

    region = models.ForeignKey("regions.Region", verbose_name="区域", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField("年度")
    inspection = models.TextField("年度检查开展情况", blank=True)
    highlights = models.TextField("主要做法和成效", blank=True)
    problems = models.TextField("存在问题", blank=True)
    measures = models.TextField("下一步措施", blank=True)
    submitted_at = models.DateTimeField("报送时间", null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "年度进展报告"
        constraints = [models.UniqueConstraint(fields=["region", "year"], name="annual_report_once")]

    def __str__(self) -> str:
        return f"{self.region_id} {self.year}"


class ExemplaryCase(models.Model):
    """优秀案例: written without children's personal information; the city selects from the districts'."""

    region = models.ForeignKey("regions.Region", verbose_name="区县", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField("年度")
    title = models.CharField("标题", max_length=120)
    summary = models.TextField("案例摘要")
    selected_by_city = models.BooleanField("市级入选", default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-year", "-id"]
        verbose_name = verbose_name_plural = "优秀案例"

    def __str__(self) -> str:
        return self.title


class SpotCheck(models.Model):
    """年度档案抽查 (§8): a reproducible stratified sample of a district's archives, reviewed by an inspector."""

    class Status(models.TextChoices):
        OPEN = "open", "抽查中"
        CLOSED = "closed", "已出结论"

    district = models.ForeignKey("regions.Region", verbose_name="区县", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField("年度")
    seed = models.BigIntegerField("随机种子")
    size = models.PositiveIntegerField("样本量")
    population = models.PositiveIntegerField("在册档案数")
    drawn_on = models.DateField("抽取日期")
    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.OPEN)
    summary = models.TextField("抽查结论", blank=True)
    rule_version = models.PositiveIntegerField("规则版本")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField("结论时间", null=True, blank=True)

    class Meta:
        ordering = ["-year", "-id"]
        verbose_name = verbose_name_plural = "档案抽查"
        indexes = [models.Index(fields=["district", "year"], name="spotcheck_district_year")]

    def __str__(self) -> str:
        return f"{self.district_id} {self.year}"


class SpotCheckItem(models.Model):
    class Result(models.TextChoices):
        PENDING = "pending", "待检查"
        PASSED = "passed", "合格"
        FAILED = "failed", "不合格"

    spot_check = models.ForeignKey(SpotCheck, on_delete=models.CASCADE, related_name="items")
    child = models.ForeignKey("registry.Child", on_delete=models.PROTECT, related_name="+")
    township_code = models.CharField("乡镇", max_length=12)
    village_code = models.CharField("村社区", max_length=12)
    answers = models.JSONField("检查清单", default=dict)
    notes = models.TextField("检查意见", blank=True)
    result = models.CharField("结论", max_length=20, choices=Result.choices, default=Result.PENDING)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField("检查时间", null=True, blank=True)

    class Meta:
        ordering = ["township_code", "village_code", "id"]
        verbose_name = verbose_name_plural = "抽查档案"
        constraints = [models.UniqueConstraint(fields=["spot_check", "child"], name="spotcheck_child_once")]

    def __str__(self) -> str:
        return f"{self.spot_check_id}:{self.child_id}"


class RectificationTask(models.Model):
    """整改任务: a finding of a spot check assigned to the responsible director with a deadline."""

    class Status(models.TextChoices):
        OPEN = "open", "待整改"
        DONE = "done", "已整改"

    item = models.ForeignKey(SpotCheckItem, on_delete=models.CASCADE, related_name="tasks")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="责任人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    description = models.TextField("整改要求")
    due_date = models.DateField("整改期限")
    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.OPEN)
    response = models.TextField("整改情况", blank=True)
    done_at = models.DateTimeField("完成时间", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["status", "due_date", "id"]
        verbose_name = verbose_name_plural = "整改任务"
        indexes = [models.Index(fields=["assignee", "status"], name="rectify_assignee_status")]

    def __str__(self) -> str:
        return self.description[:30]


class MilestoneProgress(models.Model):
    """A district's progress on one milestone of the plan (rules/milestones.yaml), with evidence."""

    milestone = models.CharField("节点", max_length=40)
    district = models.ForeignKey("regions.Region", verbose_name="区县", on_delete=models.PROTECT, related_name="+")
    done_on = models.DateField("完成日期", null=True, blank=True)
    note = models.TextField("说明", blank=True)
    evidence = models.FileField("佐证材料", upload_to="milestones/%Y/", blank=True)
    evidence_name = models.CharField("材料名称", max_length=200, blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "工作节点进展"
        constraints = [models.UniqueConstraint(fields=["milestone", "district"], name="milestone_once")]

    def __str__(self) -> str:
        return f"{self.district_id} {self.milestone}"
