"""Department rosters as imported, links between their rows and the registry, review decisions, discovery runs
and the findings they produce (§8, §10, §9, §18: compare data with education and police, find children who need
help before anyone reports them).

No plaintext ID number is stored here: roster ID numbers are encrypted, matched through the same HMAC blind index
as the registry's, and shown masked.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Source(models.TextChoices):
    EDUCATION = "education", "学籍（教育）"
    HOUSEHOLD = "household", "户籍（公安）"
    MIGRANT = "migrant", "外出务工"
    DISABILITY = "disability", "残疾人证（残联）"
    ASSISTANCE = "assistance", "救助（民政）"


class RosterBatch(models.Model):
    """One imported file. The same file (same source, same SHA-256) is imported once: a re-import is a no-op."""

    source = models.CharField("来源", max_length=20, choices=Source.choices)
    file_name = models.CharField("文件名", max_length=200)
    file_sha256 = models.CharField("文件摘要", max_length=64)
    rows_total = models.PositiveIntegerField("数据行数", default=0)
    rows_kept = models.PositiveIntegerField("导入行数", default=0)
    rows_rejected = models.PositiveIntegerField("未导入行数", default=0)
    issues = models.JSONField("问题清单", default=list, blank=True)  # [[行号, 列, 原因, 未导入?], …]
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    imported_at = models.DateTimeField("导入时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "名册导入批次"
        constraints = [models.UniqueConstraint(fields=["source", "file_sha256"], name="roster_file_once")]

    def __str__(self) -> str:
        return f"{self.get_source_display()} {self.file_name}"


class RosterRow(models.Model):
    """One data row of a roster, kept as imported (``raw``, ID number encrypted apart) and normalised beside it.

    Columns shared by the five sources; which template column fills which field is in docs/rosters.md.
    """

    batch = models.ForeignKey(RosterBatch, on_delete=models.CASCADE, related_name="rows")
    source = models.CharField("来源", max_length=20, choices=Source.choices)
    row_no = models.PositiveIntegerField("来源行号")  # 1-based data row of the file, header excluded
    raw = models.JSONField("原始数据（不含身份证号）")
    raw_id_enc = models.TextField("原始身份证号（加密）", blank=True)
    name = models.CharField("姓名", max_length=50)
    name_pinyin = models.CharField("姓名拼音", max_length=120, blank=True)
    name_dialect = models.CharField("方言键", max_length=120, blank=True)
    sex = models.CharField("性别", max_length=1, blank=True)
    birth_date = models.DateField("出生日期", null=True, blank=True)
    id_state = models.CharField("身份证号状态", max_length=10)  # valid, legacy15, invalid, missing
    id_number_enc = models.TextField("身份证号（加密）", blank=True)
    id_number_bidx = models.CharField("身份证号盲索引", max_length=64, blank=True, db_index=True)
    id_number_mask = models.CharField("身份证号", max_length=18, blank=True)
    region_code = models.CharField("区划代码", max_length=12, blank=True, db_index=True)
    address = models.CharField("地址", max_length=200, blank=True)
    household_no = models.CharField("户号", max_length=40, blank=True)
    relation = models.CharField("与户主关系", max_length=20, blank=True)
    status = models.CharField("状态", max_length=20, blank=True)
    status_date = models.DateField("状态日期", null=True, blank=True)
    org_name = models.CharField("学校/外出地点", max_length=200, blank=True)
    grade = models.CharField("年级/等级", max_length=20, blank=True)
    cross_county = models.BooleanField("跨县", null=True, blank=True)
    category = models.CharField("类别", max_length=40, blank=True)
    start_date = models.DateField("起始日期", null=True, blank=True)
    end_date = models.DateField("终止日期", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "名册行"
        constraints = [models.UniqueConstraint(fields=["batch", "row_no"], name="roster_row_once")]
        indexes = [
            models.Index(fields=["source", "id_number_bidx"], name="roster_source_bidx"),
            models.Index(fields=["source", "household_no"], name="roster_source_household"),
        ]

    def __str__(self) -> str:
        return f"{self.source}#{self.row_no}"


class LinkModel(models.Model):
    """A trained Splink model per source type (its settings JSON with m and u probabilities), reused by later
    runs; retrain by deleting it (``guanai discover run --retrain``)."""

    source = models.CharField("来源", max_length=20, choices=Source.choices, unique=True)
    settings_json = models.JSONField("模型")
    trained_at = models.DateTimeField("训练时间", auto_now=True)
    labelled_pairs = models.PositiveIntegerField("训练样本对", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "比对模型"

    def __str__(self) -> str:
        return self.source


class Link(models.Model):
    """A roster row linked to a registry child (``child``) or to another roster row (``target``: a parent's
    migrant row to the parent's household row). ``state`` pending = in the review queue."""

    class Method(models.TextChoices):
        EXACT = "exact", "身份证号一致"
        PROBABILISTIC = "probabilistic", "概率匹配"
        REVIEWED = "reviewed", "人工确认"

    class State(models.TextChoices):
        ACCEPTED = "accepted", "已匹配"
        PENDING = "pending", "待审核"
        REJECTED = "rejected", "已否定"

    row = models.ForeignKey(RosterRow, on_delete=models.CASCADE, related_name="links")
    child = models.ForeignKey("registry.Child", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    target = models.ForeignKey(RosterRow, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    method = models.CharField("匹配方式", max_length=20, choices=Method.choices)
    probability = models.FloatField("匹配概率")
    explanation = models.JSONField("逐项说明", default=list, blank=True)
    state = models.CharField("状态", max_length=10, choices=State.choices)
    region_code = models.CharField("区划代码", max_length=12, blank=True)  # for scoping the review queue
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "比对结果"
        indexes = [
            models.Index(fields=["state", "region_code"], name="link_state_region"),
            models.Index(fields=["child"], name="link_child"),
            models.Index(fields=["target"], name="link_target"),
        ]

    def __str__(self) -> str:
        return f"{self.row_id}→{self.child_id or self.target_id}"


class LinkDecision(models.Model):
    """A district officer's decision on a candidate pair. Later runs respect the latest decision that is not
    revoked; revoking one (reversible) returns the pair to the machine's judgement."""

    class Decision(models.TextChoices):
        ACCEPT = "accept", "确认是同一人"
        REJECT = "reject", "不是同一人"

    row = models.ForeignKey(RosterRow, on_delete=models.CASCADE, related_name="decisions")
    child = models.ForeignKey("registry.Child", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    target = models.ForeignKey(RosterRow, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    decision = models.CharField("决定", max_length=10, choices=Decision.choices)
    note = models.CharField("说明", max_length=200, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField("撤销时间", null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = verbose_name_plural = "比对审核决定"

    def __str__(self) -> str:
        return self.get_decision_display()


class DiscoveryRun(models.Model):
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    on = models.DateField("比对日期")
    region = models.CharField("区划", max_length=12, blank=True)
    stats = models.JSONField("统计", default=dict, blank=True)
    timings = models.JSONField("用时（秒）", default=dict, blank=True)
    rules_version = models.PositiveIntegerField("规则版本", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "比对运行"

    def __str__(self) -> str:
        return f"run {self.pk} on {self.on}"


class Finding(models.Model):
    """A child the rules found, with evidence and a responsible user, deduplicated across runs by ``key``."""

    class Status(models.TextChoices):
        OPEN = "open", "待核实"
        CONFIRMED = "confirmed", "已确认"
        REJECTED = "rejected", "已排除"

    class Outcome(models.TextChoices):
        REGISTRATION = "registration", "登记建档"
        ASSISTANCE = "assistance", "纳入救助"
        CASE = "case", "转个案"
        SCHOOL_RETURN = "school_return", "劝返复学"
        EXIT = "exit", "退出管理"
        UPDATE = "update", "更新档案"

    key = models.CharField("去重键", max_length=64, unique=True)
    rule = models.CharField("规则", max_length=40, db_index=True)
    rule_version = models.PositiveIntegerField("规则版本")
    source_clause = models.CharField("政策依据", max_length=200)
    child = models.ForeignKey("registry.Child", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    subject_row = models.ForeignKey(RosterRow, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    subject_bidx = models.CharField("身份证号盲索引", max_length=64, blank=True)
    name = models.CharField("姓名", max_length=50)
    region_code = models.CharField("区划代码", max_length=12, db_index=True)
    explanation = models.CharField("说明", max_length=500)
    evidence = models.JSONField("证据", default=list)
    responsible_role = models.CharField("负责角色", max_length=30)
    responsible_region = models.CharField("负责区划", max_length=12, db_index=True)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.OPEN)
    outcome = models.CharField("处理结果", max_length=20, choices=Outcome.choices, blank=True)
    reason = models.CharField("理由", max_length=300, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    registered_child = models.ForeignKey(
        "registry.Child", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    first_run = models.ForeignKey(DiscoveryRun, null=True, on_delete=models.SET_NULL, related_name="+")
    last_run = models.ForeignKey(DiscoveryRun, null=True, on_delete=models.SET_NULL, related_name="+")
    first_seen = models.DateField("首次发现")
    last_seen = models.DateField("最近发现")

    class Meta:
        verbose_name = verbose_name_plural = "发现线索"
        indexes = [models.Index(fields=["status", "responsible_region"], name="finding_status_region")]

    def __str__(self) -> str:
        return f"{self.rule} {self.name}"
