"""Child protection (§4–§7): mandatory reports and their routing, cases, guardianship assessments, entrusted-care
checks, temporary guardianship placements, court and procuratorate actions, and each child's risk grade.

A report's reporter is kept confidential: the unit and contact are stored encrypted in one field and shown only to
the departments handling a routing of that report (see ``selectors.report_access``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Department(models.TextChoices):
    """Departments a report is routed to, or that lead a case (牵头部门)."""

    POLICE = "police", "公安机关"
    CIVIL_AFFAIRS = "civil_affairs", "民政部门"
    EDUCATION = "education", "教育行政部门"
    HEALTH = "health", "卫生健康部门"
    WOMEN = "women", "妇联"
    COURT = "court", "人民法院"
    PROCURATORATE = "procuratorate", "人民检察院"


class Report(models.Model):
    """强制报告: a report of harm, or suspected harm, to a minor (§6)."""

    class Status(models.TextChoices):
        ROUTED = "routed", "待受理"
        ACCEPTED = "accepted", "已受理"
        CONCLUDED = "concluded", "已办结"

    class Sex(models.TextChoices):
        MALE = "M", "男"
        FEMALE = "F", "女"
        UNKNOWN = "", "不详"

    client_key = models.CharField("提交标识", max_length=64, null=True, blank=True, unique=True)
    situations = models.JSONField("情形", default=list)
    description = models.TextField("情况描述")
    occurred_at = models.DateTimeField("发现时间", null=True, blank=True)
    occurred_place = models.CharField("发现地点", max_length=200, blank=True)
    # Where the child is: the registry child's village, or the place the reporter named. Routing follows it.
    region = models.ForeignKey("regions.Region", verbose_name="儿童所在地", on_delete=models.PROTECT, related_name="+")
    child = models.ForeignKey(
        "registry.Child", verbose_name="儿童", null=True, blank=True, on_delete=models.PROTECT, related_name="reports"
    )
    child_name = models.CharField("儿童姓名", max_length=50, blank=True)
    child_sex = models.CharField("儿童性别", max_length=1, choices=Sex.choices, blank=True)
    child_age = models.PositiveSmallIntegerField("儿童大致年龄", null=True, blank=True)
    child_location = models.CharField("儿童所在位置", max_length=200, blank=True)
    school_involved = models.BooleanField("涉及学校", default=False)
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reporter_kind = models.CharField("报告单位类型", max_length=20)
    reporter_identity_enc = models.TextField("报告人信息（加密）")
    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.ROUTED)
    filed_at = models.DateTimeField("报告时间")
    concluded_at = models.DateTimeField("办结时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "强制报告"
        indexes = [
            models.Index(fields=["region", "status"], name="report_region_status"),
            models.Index(fields=["reporter", "-filed_at"], name="report_reporter_filed"),
            models.Index(fields=["child", "status"], name="report_child_status"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def number(self) -> str:
        return f"BG{self.pk:08d}" if self.pk else "BG（未保存）"

    @property
    def child_label(self) -> str:
        if self.child is not None:
            return self.child.name
        return self.child_name or "身份不明的儿童"


class ReportRouting(models.Model):
    """One receiving department of one jurisdiction for a report, with its deadlines (受理、首次处理结果)."""

    class Status(models.TextChoices):
        PENDING = "pending", "待受理"
        ACCEPTED = "accepted", "已受理"
        TRANSFERRED = "transferred", "已转交"
        CONCLUDED = "concluded", "已办结"

    report = models.ForeignKey(Report, on_delete=models.PROTECT, related_name="routings")
    department = models.CharField("接收部门", max_length=20, choices=Department.choices)
    region = models.ForeignKey("regions.Region", verbose_name="管辖区域", on_delete=models.PROTECT, related_name="+")
    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField("接收时间")
    accept_due = models.DateTimeField("受理期限")
    result_due = models.DateTimeField("处理结果期限")
    accepted_at = models.DateTimeField("受理时间", null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    first_result_at = models.DateTimeField("首次反馈时间", null=True, blank=True)
    concluded_at = models.DateTimeField("办结时间", null=True, blank=True)
    transferred_at = models.DateTimeField("转交时间", null=True, blank=True)
    transferred_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    transfer_reason = models.CharField("转交理由", max_length=300, blank=True)
    transferred_to = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="transferred_from"
    )
    accept_escalated_at = models.DateTimeField("受理超期上报时间", null=True, blank=True)
    result_escalated_at = models.DateTimeField("处理超期上报时间", null=True, blank=True)
    # Null until the receiving accounts have been notified; the deadline job retries until it is set.
    notified_at = models.DateTimeField("通知送达时间", null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = verbose_name_plural = "报告分送"
        indexes = [
            models.Index(fields=["department", "region", "status"], name="routing_dept_region"),
            models.Index(fields=["status", "accept_due"], name="routing_status_accept_due"),
            models.Index(fields=["status", "result_due"], name="routing_status_result_due"),
            models.Index(fields=["notified_at"], name="routing_notified"),
        ]

    def __str__(self) -> str:
        return f"{self.report.number} → {self.get_department_display()}"

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.PENDING, self.Status.ACCEPTED)


class ReportFeedback(models.Model):
    """处理结果反馈: what a receiving department tells the reporter about the outcome."""

    report = models.ForeignKey(Report, on_delete=models.PROTECT, related_name="feedback")
    routing = models.ForeignKey(ReportRouting, on_delete=models.PROTECT, related_name="feedback")
    text = models.TextField("处理结果")
    concludes = models.BooleanField("办结", default=False)
    at = models.DateTimeField("反馈时间")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["at", "id"]
        verbose_name = verbose_name_plural = "处理结果反馈"

    def __str__(self) -> str:
        return self.text[:30]


class Case(models.Model):
    """个案: the protection work for one child, from 受理 to 结案 (§5–§6)."""

    class Stage(models.TextChoices):
        ACCEPTED = "accepted", "受理"
        VERIFYING = "verifying", "核查评估"
        PLANNING = "planning", "制定计划"
        INTERVENING = "intervening", "实施干预"
        CLOSED = "closed", "结案"

    class Source(models.TextChoices):
        REPORT = "report", "强制报告"
        PROBLEM = "problem", "走访发现问题"
        ASSESSMENT = "assessment", "监护能力评估"
        MANUAL = "manual", "手动立案"
        DISCOVERY = "discovery", "主动发现"

    child = models.ForeignKey(
        "registry.Child", verbose_name="儿童", null=True, blank=True, on_delete=models.PROTECT, related_name="cases"
    )
    subject = models.CharField("儿童（未登记）", max_length=200, blank=True)
    region = models.ForeignKey("regions.Region", verbose_name="所在地", on_delete=models.PROTECT, related_name="+")
    title = models.CharField("案由", max_length=200)
    source = models.CharField("来源", max_length=20, choices=Source.choices)
    report = models.ForeignKey(Report, null=True, blank=True, on_delete=models.PROTECT, related_name="cases")
    problem = models.ForeignKey(
        "visits.Problem", null=True, blank=True, on_delete=models.PROTECT, related_name="protection_cases"
    )
    assessment = models.ForeignKey(
        "protection.Assessment", null=True, blank=True, on_delete=models.PROTECT, related_name="cases"
    )
    stage = models.CharField("阶段", max_length=20, choices=Stage.choices, default=Stage.ACCEPTED)
    department = models.CharField("牵头部门", max_length=20, choices=Department.choices, default="civil_affairs")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="承办人",
    )
    close_reason = models.CharField("结案理由", max_length=300, blank=True)
    close_requested_at = models.DateTimeField("申请结案时间", null=True, blank=True)
    close_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField("结案时间", null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("立案时间")

    class Meta:
        verbose_name = verbose_name_plural = "个案"
        indexes = [
            models.Index(fields=["region", "stage"], name="case_region_stage"),
            models.Index(fields=["child", "stage"], name="case_child_stage"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def number(self) -> str:
        return f"GA{self.pk:08d}" if self.pk else "GA（未保存）"

    @property
    def child_label(self) -> str:
        return self.child.name if self.child is not None else (self.subject or "身份不明的儿童")

    @property
    def is_open(self) -> bool:
        return self.stage != self.Stage.CLOSED


class CaseNote(models.Model):
    """A line of a case's record: a note, a stage change, a transfer, a close request or approval."""

    class Kind(models.TextChoices):
        NOTE = "note", "记录"
        STAGE = "stage", "阶段"
        TRANSFER = "transfer", "转交"
        CLOSE = "close", "结案"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notes")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.NOTE)
    text = models.TextField("内容")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField("时间")

    class Meta:
        ordering = ["at", "id"]
        verbose_name = verbose_name_plural = "个案记录"

    def __str__(self) -> str:
        return self.text[:30]


class CaseTask(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "待完成"
        DONE = "done", "已完成"
        CANCELLED = "cancelled", "已取消"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="tasks")
    title = models.CharField("任务", max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="负责人"
    )
    due_date = models.DateField("期限")
    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.OPEN)
    done_at = models.DateTimeField("完成时间", null=True, blank=True)
    result = models.CharField("完成情况", max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("创建时间")

    class Meta:
        ordering = ["status", "due_date", "id"]
        verbose_name = verbose_name_plural = "个案任务"
        indexes = [models.Index(fields=["owner", "status", "due_date"], name="casetask_owner_status")]

    def __str__(self) -> str:
        return self.title


class Placement(models.Model):
    """临时监护安置 by civil affairs (§6)."""

    class Kind(models.TextChoices):
        RELATIVE = "relative", "委托亲属抚养"
        FOSTER = "foster", "家庭寄养"
        PROTECTION_CENTRE = "protection_centre", "未成年人救助保护机构"
        WELFARE_INSTITUTION = "welfare_institution", "儿童福利机构"

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="placements")
    kind = models.CharField("安置方式", max_length=30, choices=Kind.choices)
    start = models.DateField("开始日期")
    end = models.DateField("结束日期", null=True, blank=True)
    responsible_body = models.CharField("负责单位", max_length=200)
    note = models.CharField("说明", max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("记录时间")

    class Meta:
        ordering = ["-start", "-id"]
        verbose_name = verbose_name_plural = "临时监护安置"

    def __str__(self) -> str:
        return self.get_kind_display()


class LegalAction(models.Model):
    """A court or procuratorate action (§6) with its document."""

    class Kind(models.TextChoices):
        PROTECTION_ORDER = "protection_order", "人身安全保护令"
        REVOKE_GUARDIANSHIP = "revoke_guardianship", "撤销监护人资格"
        FAMILY_EDUCATION_ORDER = "family_education_order", "责令接受家庭教育指导"
        SUPPORT_SUIT = "support_suit", "督促/支持起诉"
        PUBLIC_INTEREST = "public_interest", "公益诉讼"
        SUGGESTION = "suggestion", "司法建议/检察建议"

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="legal_actions")
    kind = models.CharField("措施", max_length=30, choices=Kind.choices)
    body = models.CharField("作出机关", max_length=200)
    filed_on = models.DateField("申请/提出日期")
    decided_on = models.DateField("决定日期", null=True, blank=True)
    result = models.CharField("结果", max_length=300, blank=True)
    person = models.ForeignKey(
        "registry.Person",
        verbose_name="涉及的监护人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    effective_on = models.DateField("生效日期", null=True, blank=True)
    document = models.FileField("文书", upload_to="protection/%Y/%m/", blank=True)
    document_name = models.CharField("文书名称", max_length=200, blank=True)
    document_type = models.CharField(max_length=40, blank=True)
    document_size = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("记录时间")

    class Meta:
        ordering = ["-filed_on", "-id"]
        verbose_name = verbose_name_plural = "司法措施"

    def __str__(self) -> str:
        return self.get_kind_display()


class Instrument(models.Model):
    """An assessment instrument (评估工具); its items live in versions."""

    code = models.CharField("代码", max_length=40, unique=True)
    name = models.CharField("名称", max_length=100)

    class Meta:
        verbose_name = verbose_name_plural = "评估工具"

    def __str__(self) -> str:
        return self.name


class InstrumentVersion(models.Model):
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField("版本")
    definition = models.JSONField("指标和题目")
    source = models.CharField("依据", max_length=300, blank=True)
    published_at = models.DateTimeField("发布时间")
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["instrument", "-version"]
        verbose_name = verbose_name_plural = "评估工具版本"
        constraints = [models.UniqueConstraint(fields=["instrument", "version"], name="instrument_version_once")]

    def __str__(self) -> str:
        return f"{self.instrument.name} 第{self.version}版"


class Assessment(models.Model):
    """家庭监护能力评估 (§5): answers scored with the version in force; the version and score are never rewritten."""

    child = models.ForeignKey("registry.Child", on_delete=models.PROTECT, related_name="assessments")
    version = models.ForeignKey(InstrumentVersion, on_delete=models.PROTECT, related_name="assessments")
    answers = models.JSONField("答案")
    total = models.PositiveIntegerField("得分")
    max_total = models.PositiveIntegerField("满分")
    percent = models.PositiveSmallIntegerField("得分率")
    result = models.CharField("评估结果", max_length=20)
    result_label = models.CharField("评估结果", max_length=20)
    explanation = models.CharField("说明", max_length=500)
    vetoes = models.JSONField("一票否决项", default=list)
    breakdown = models.JSONField("分项得分", default=list)
    note = models.TextField("评估意见", blank=True)
    assessed_on = models.DateField("评估日期")
    assessor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reassess_due = models.DateField("复评期限", null=True, blank=True)
    support_problem = models.ForeignKey(
        "visits.Problem", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("录入时间")

    class Meta:
        ordering = ["-assessed_on", "-id"]
        verbose_name = verbose_name_plural = "家庭监护能力评估"
        indexes = [
            models.Index(fields=["child", "-assessed_on", "-id"], name="assessment_child_latest"),
            models.Index(fields=["reassess_due"], name="assessment_reassess_due"),
        ]

    def __str__(self) -> str:
        return f"{self.assessed_on} {self.result_label}"


class CarerCheck(models.Model):
    """委托照护: whether the entrusted carer is able and willing to care for the child (§5)."""

    child = models.ForeignKey("registry.Child", on_delete=models.PROTECT, related_name="carer_checks")
    carer = models.ForeignKey(
        "registry.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="受委托人"
    )
    carer_name = models.CharField("受委托人", max_length=50)
    answers = models.JSONField("核查项")
    passed = models.BooleanField("具备照护能力")
    failed_items = models.JSONField("不符合项", default=list)
    checked_on = models.DateField("核查日期")
    follow_up_due = models.DateField("跟进期限", null=True, blank=True)
    note = models.CharField("说明", max_length=300, blank=True)
    checker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("录入时间")

    class Meta:
        ordering = ["-checked_on", "-id"]
        verbose_name = verbose_name_plural = "委托照护核查"

    def __str__(self) -> str:
        return f"{self.carer_name} {self.checked_on}"


class CarerAction(models.Model):
    """What was done after a failed check: parents told to choose again, the carer helped or urged (§5)."""

    check_row = models.ForeignKey(CarerCheck, on_delete=models.CASCADE, related_name="actions")
    kind = models.CharField("措施", max_length=30)
    on = models.DateField("日期")
    note = models.CharField("说明", max_length=300, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("录入时间")

    class Meta:
        ordering = ["on", "id"]
        verbose_name = verbose_name_plural = "委托照护跟进措施"

    def __str__(self) -> str:
        return self.kind


class ChildRisk(models.Model):
    """A child's current risk grade, recomputed from facts by rules/risk.yaml."""

    class Grade(models.TextChoices):
        HIGH = "high", "高"
        MEDIUM = "medium", "中"
        LOW = "low", "低"

    child = models.OneToOneField("registry.Child", on_delete=models.CASCADE, related_name="risk")
    grade = models.CharField("风险等级", max_length=10, choices=Grade.choices)
    explanation = models.CharField("说明", max_length=500)
    rule_ids = models.JSONField("命中规则", default=list)
    computed_at = models.DateTimeField("计算时间")
    rule_version = models.PositiveIntegerField("规则版本")

    class Meta:
        verbose_name = verbose_name_plural = "儿童风险等级"
        indexes = [models.Index(fields=["grade", "child"], name="risk_grade_child")]

    def __str__(self) -> str:
        return self.get_grade_display()
