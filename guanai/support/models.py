"""Precise support (精准帮扶, §2-§3, §9-§12, §17-§18): needs and their assessment, benefit standards, the service
catalogue and its providers, referrals, care plans (关爱帮扶方案) and activities.

Benefit enrolments themselves live in the registry (``registry.BenefitEnrolment``); this app keeps the Chongqing
standards table, the overlap check and the eligibility rules (``eligibility.py``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q


class Domain(models.TextChoices):
    """The eight need domains of the needs-assessment instrument (rules/needs_v1.yaml)."""

    LIVING = "living", "生活保障"
    MEDICAL = "medical", "医疗康复"
    EDUCATION = "education", "教育学业"
    PSYCHOLOGICAL = "psychological", "心理健康"
    GUARDIANSHIP = "guardianship", "监护照料"
    SAFETY = "safety", "安全防护"
    AFFECTION = "affection", "亲情关爱"
    RECREATION = "recreation", "文体活动"


def domain_mask(domains: list[str] | tuple[str, ...]) -> int:
    """Bits of ``domains`` in the order of ``Domain``."""
    order = list(Domain.values)
    return sum(1 << order.index(d) for d in set(domains) if d in order)


class Severity(models.IntegerChoices):
    LOW = 1, "一般"
    MEDIUM = 2, "较重"
    HIGH = 3, "严重"


class NeedsAssessment(models.Model):
    """One filled needs assessment (需求评估), on a visit or on its own, scored with the instrument version it used."""

    child = models.ForeignKey("registry.Child", on_delete=models.CASCADE, related_name="needs_assessments")
    visit = models.ForeignKey("visits.Visit", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    instrument_version = models.PositiveIntegerField("评估工具版本")
    answers = models.JSONField("评估内容", default=dict)  # item id -> {"score": 0-3, "evidence": "..."}
    domain_scores = models.JSONField("各领域得分", default=dict)  # domain -> highest item score
    summary = models.CharField("评估小结", max_length=500, blank=True)
    assessed_on = models.DateField("评估日期")
    assessed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "需求评估"
        indexes = [models.Index(fields=["child", "-assessed_on"], name="needs_assess_child")]

    def __str__(self) -> str:
        return f"需求评估{self.assessed_on}"


class Need(models.Model):
    """A need of a child in one domain, with a severity and a status. ``key`` names where it came from, so a
    re-assessment or a re-derivation updates the open need instead of adding a second one."""

    class Status(models.TextChoices):
        OPEN = "open", "待帮扶"
        IN_PROGRESS = "in_progress", "帮扶中"
        MET = "met", "已解决"
        CLOSED = "closed", "已关闭"

    class Source(models.TextChoices):
        ASSESSMENT = "assessment", "需求评估"
        VISIT = "visit", "走访清单"
        FACT = "fact", "档案信息"
        BENEFIT = "benefit", "救助保障比对"
        MANUAL = "manual", "人工录入"

    OPEN_STATUSES = (Status.OPEN, Status.IN_PROGRESS)

    child = models.ForeignKey("registry.Child", on_delete=models.CASCADE, related_name="needs")
    domain = models.CharField("需求领域", max_length=20, choices=Domain.choices)
    severity = models.PositiveSmallIntegerField("程度", choices=Severity.choices)
    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.OPEN)
    source = models.CharField("来源", max_length=20, choices=Source.choices)
    key = models.CharField("来源标识", max_length=80)
    title = models.CharField("需求", max_length=200)
    evidence = models.CharField("依据", max_length=500, blank=True)
    assessment = models.ForeignKey(NeedsAssessment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    posted_at = models.DateTimeField("发布接单时间", null=True, blank=True)
    created_on = models.DateField("发现日期")
    resolved_on = models.DateField("解决日期", null=True, blank=True)
    resolution = models.CharField("解决情况", max_length=300, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "需求"
        constraints = [
            models.UniqueConstraint(
                fields=["child", "key"], condition=Q(status__in=["open", "in_progress"]), name="need_open_once"
            )
        ]
        indexes = [
            models.Index(fields=["child", "status"], name="need_child_status"),
            models.Index(fields=["status", "posted_at"], name="need_posted"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class BenefitStandard(models.Model):
    """Chongqing's monthly standards (元/人/月) with the date each takes effect (DOMAIN.md §4); the value on a day
    is the one with the latest ``effective_from`` on or before it."""

    class Item(models.TextChoices):
        URBAN_DIBAO = "urban_dibao", "城市低保"
        RURAL_DIBAO = "rural_dibao", "农村低保"
        TEKUN = "tekun", "特困人员基本生活"
        ORPHAN_INSTITUTION = "orphan_institution", "孤儿（机构集中养育）"
        ORPHAN_COMMUNITY = "orphan_community", "孤儿/事实无人抚养儿童（社会散居）"

    item = models.CharField("项目", max_length=30, choices=Item.choices)
    effective_from = models.DateField("执行日期")
    monthly_amount = models.DecimalField("标准（元/人/月）", max_digits=8, decimal_places=2)
    source = models.CharField("文件依据", max_length=100)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "救助保障标准"
        constraints = [models.UniqueConstraint(fields=["item", "effective_from"], name="standard_item_date_once")]
        ordering = ["item", "-effective_from"]

    def __str__(self) -> str:
        return f"{self.get_item_display()} {self.effective_from}"


class Provider(models.Model):
    """Who delivers services: a department, a social organisation, a volunteer team or a programme office."""

    class Kind(models.TextChoices):
        DEPARTMENT = "department", "职能部门"
        SOCIAL_ORG = "social_org", "社会组织"
        VOLUNTEER = "volunteer", "志愿服务队"
        PROGRAMME = "programme", "关爱项目"

    name = models.CharField("名称", max_length=100)
    kind = models.CharField("类型", max_length=20, choices=Kind.choices)
    region = models.ForeignKey("regions.Region", verbose_name="所在地", on_delete=models.PROTECT, related_name="+")
    contact_name = models.CharField("联系人", max_length=50, blank=True)
    contact_phone = models.CharField("联系电话", max_length=30, blank=True)
    is_active = models.BooleanField("有效", default=True)
    is_demo = models.BooleanField("演示数据", default=False)

    class Meta:
        verbose_name = verbose_name_plural = "服务提供方"

    def __str__(self) -> str:
        return self.name


class ProviderMember(models.Model):
    """A user working for a provider. A provider user sees only children referred to that provider."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="provider_member")
    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="members")

    class Meta:
        verbose_name = verbose_name_plural = "服务提供方人员"

    def __str__(self) -> str:
        return f"{self.user_id}@{self.provider_id}"


class Service(models.Model):
    """One service in the catalogue: what needs it meets, where, for whom, how many at once."""

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="services")
    name = models.CharField("服务名称", max_length=100)
    programme = models.CharField("所属项目", max_length=40, blank=True)  # 童心港湾, 七彩假期, 爱心妈妈…
    description = models.CharField("服务内容", max_length=500, blank=True)
    domains = models.JSONField("满足的需求领域", default=list)
    # The domains again as bits (Domain order), so matching can filter in SQL on both engines.
    domain_mask = models.PositiveIntegerField("需求领域位图", default=0, db_index=False)
    capacity = models.PositiveIntegerField("服务名额")
    schedule = models.CharField("服务时间", max_length=100, blank=True)
    age_min = models.PositiveSmallIntegerField("最小年龄", default=0)
    age_max = models.PositiveSmallIntegerField("最大年龄", default=17)
    sex = models.CharField("性别要求", max_length=1, blank=True)  # "", "M" or "F"
    groups = models.JSONField("限定儿童类别", default=list, blank=True)  # ChildGroup codes; empty: any child
    for_parents = models.BooleanField("面向父母/监护人", default=False)  # 就业服务 (§12)
    is_active = models.BooleanField("有效", default=True)
    is_demo = models.BooleanField("演示数据", default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "服务项目"

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.domain_mask = domain_mask(self.domains or [])
        super().save(*args, **kwargs)


class ServiceArea(models.Model):
    """A region a service covers, as a region-code prefix (a district, a township or a village)."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="areas")
    prefix = models.CharField("服务区域前缀", max_length=12)
    level = models.PositiveSmallIntegerField("区域层级")

    class Meta:
        verbose_name = verbose_name_plural = "服务区域"
        indexes = [models.Index(fields=["prefix", "service"], name="service_area_prefix")]
        constraints = [models.UniqueConstraint(fields=["service", "prefix"], name="service_area_once")]

    def __str__(self) -> str:
        return self.prefix


class Referral(models.Model):
    """转介: a child sent to a service for a need; the provider accepts or declines, then reports delivery."""

    class Status(models.TextChoices):
        SENT = "sent", "待接收"
        ACCEPTED = "accepted", "已接收"
        DECLINED = "declined", "已拒绝"
        DELIVERED = "delivered", "已完成服务"
        CANCELLED = "cancelled", "已撤回"

    ACTIVE = (Status.SENT, Status.ACCEPTED)  # these take a place of the service's capacity

    child = models.ForeignKey("registry.Child", on_delete=models.CASCADE, related_name="referrals")
    need = models.ForeignKey(Need, null=True, blank=True, on_delete=models.SET_NULL, related_name="referrals")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="referrals")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="referrals")
    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.SENT)
    via_posting = models.BooleanField("接单", default=False)
    reason = models.CharField("转介说明", max_length=500, blank=True)
    match_explanation = models.CharField("匹配理由", max_length=500, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    responded_at = models.DateTimeField("回复时间", null=True, blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decline_reason = models.CharField("拒绝理由", max_length=300, blank=True)
    delivered_on = models.DateField("服务完成日期", null=True, blank=True)
    delivery_note = models.CharField("服务情况", max_length=500, blank=True)
    sessions = models.PositiveSmallIntegerField("服务次数", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "转介"
        indexes = [
            models.Index(fields=["provider", "status"], name="referral_provider_status"),
            models.Index(fields=["service", "status"], name="referral_service_status"),
            models.Index(fields=["child", "status"], name="referral_child_status"),
        ]

    def __str__(self) -> str:
        return f"转介{self.pk}"


class CarePlan(models.Model):
    """关爱帮扶方案 (§18): goals and actions for one child, drafted from needs and matches, then edited."""

    class Status(models.TextChoices):
        DRAFT = "draft", "草稿"
        ACTIVE = "active", "实施中"
        CLOSED = "closed", "已结束"

    child = models.ForeignKey("registry.Child", on_delete=models.CASCADE, related_name="care_plans")
    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.DRAFT)
    goals = models.JSONField("帮扶目标", default=list)  # [{"domain": ..., "text": ...}]
    review_every_months = models.PositiveSmallIntegerField("评估周期（月）", default=3)
    next_review_on = models.DateField("下次评估日期", null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_on = models.DateField("制定日期")
    activated_on = models.DateField("启动日期", null=True, blank=True)
    closed_on = models.DateField("结束日期", null=True, blank=True)
    version = models.PositiveIntegerField("版本", default=1)

    class Meta:
        verbose_name = verbose_name_plural = "关爱帮扶方案"
        constraints = [
            models.UniqueConstraint(
                fields=["child"], condition=Q(status__in=["draft", "active"]), name="care_plan_current_once"
            )
        ]

    def __str__(self) -> str:
        return f"关爱帮扶方案{self.pk}"


class PlanAction(models.Model):
    class Kind(models.TextChoices):
        REFERRAL = "referral", "转介服务"
        BENEFIT = "benefit", "申请救助保障"
        PAIRING = "pairing", "结对帮扶"
        VISIT_CADENCE = "visit_cadence", "调整走访频次"
        ACTIVITY = "activity", "参加活动"
        OTHER = "other", "其他"

    class Status(models.TextChoices):
        TODO = "todo", "未开始"
        DOING = "doing", "进行中"
        DONE = "done", "已完成"
        CANCELLED = "cancelled", "已取消"

    plan = models.ForeignKey(CarePlan, on_delete=models.CASCADE, related_name="actions")
    kind = models.CharField("类型", max_length=20, choices=Kind.choices)
    title = models.CharField("措施", max_length=200)
    need = models.ForeignKey(Need, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    service = models.ForeignKey(Service, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    referral = models.ForeignKey(Referral, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    benefit = models.CharField("救助类型", max_length=30, blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    partner_name = models.CharField("结对人", max_length=50, blank=True)  # the teacher or volunteer of a pairing
    due_on = models.DateField("完成期限")
    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.TODO)
    done_on = models.DateField("完成日期", null=True, blank=True)
    note = models.CharField("情况", max_length=300, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "帮扶措施"
        indexes = [models.Index(fields=["plan", "status"], name="plan_action_status")]

    def __str__(self) -> str:
        return self.title


class PlanReview(models.Model):
    plan = models.ForeignKey(CarePlan, on_delete=models.CASCADE, related_name="reviews")
    reviewed_on = models.DateField("评估日期")
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    progress = models.PositiveSmallIntegerField("完成进度（%）")
    note = models.CharField("评估意见", max_length=500)

    class Meta:
        verbose_name = verbose_name_plural = "方案评估"

    def __str__(self) -> str:
        return f"方案评估{self.reviewed_on}"


class Activity(models.Model):
    """A holiday or programme activity (§11) or a safety-education event (§13) with invited children."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", "节假日关爱活动"
        PROGRAMME = "programme", "关爱项目活动"
        SAFETY = "safety", "安全教育"
        CULTURE = "culture", "文体活动"

    title = models.CharField("活动名称", max_length=100)
    kind = models.CharField("类型", max_length=20, choices=Kind.choices)
    programme = models.CharField("所属项目", max_length=40, blank=True)
    region = models.ForeignKey("regions.Region", verbose_name="举办地", on_delete=models.PROTECT, related_name="+")
    provider = models.ForeignKey(Provider, null=True, blank=True, on_delete=models.SET_NULL, related_name="activities")
    place = models.CharField("地点", max_length=200, blank=True)
    starts_on = models.DateField("开始日期")
    ends_on = models.DateField("结束日期")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    is_demo = models.BooleanField("演示数据", default=False)

    class Meta:
        verbose_name = verbose_name_plural = "关爱活动"
        indexes = [models.Index(fields=["region", "starts_on"], name="activity_region_date")]

    def __str__(self) -> str:
        return self.title


class ActivityInvite(models.Model):
    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="invites")
    child = models.ForeignKey("registry.Child", on_delete=models.CASCADE, related_name="activity_invites")
    attended = models.BooleanField("出席", null=True, blank=True)
    recorded_at = models.DateTimeField("登记时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "活动邀请"
        constraints = [models.UniqueConstraint(fields=["activity", "child"], name="activity_invite_once")]

    def __str__(self) -> str:
        return f"{self.activity_id}:{self.child_id}"
