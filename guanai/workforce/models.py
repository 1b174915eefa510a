"""The workforce (§16–§17): the real-name ledger of child directors (儿童主任) and supervisors (儿童督导员), their
appointments to villages and townships over time, training and its archive, yearly evaluation; social
organisations cultivated by each district, their projects and volunteers.

Accounts stay in ``accounts.User`` (role + region); a ledger profile adds what the policy asks to keep about the
person. Which villages have a director is decided in ``workforce.selectors.covered_villages`` (docs/oversight.md).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Employment(models.TextChoices):
    FULL_TIME = "full_time", "专职"
    PART_TIME = "part_time", "兼职"


class StaffProfile(models.Model):
    """儿童主任/儿童督导员信息台账: one row per person, linked to the account when the person has one."""

    class Kind(models.TextChoices):
        DIRECTOR = "director", "儿童主任"
        SUPERVISOR = "supervisor", "儿童督导员"

    class Status(models.TextChoices):
        SERVING = "serving", "在岗"
        LEFT = "left", "离任"

    kind = models.CharField("类别", max_length=20, choices=Kind.choices)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name="系统账号",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="staff_profile",
    )
    name = models.CharField("姓名", max_length=50)
    sex = models.CharField("性别", max_length=1, choices=[("M", "男"), ("F", "女")], blank=True)
    birth_year = models.PositiveSmallIntegerField("出生年份", null=True, blank=True)
    phone_enc = models.TextField("电话（加密）", blank=True)
    phone_mask = models.CharField("电话", max_length=20, blank=True)
    education = models.CharField("文化程度", max_length=20, blank=True)
    political_status = models.CharField("政治面貌", max_length=20, blank=True)
    position = models.CharField("现任职务", max_length=60, blank=True, help_text="村（居）委委员、社会工作者等")
    employment = models.CharField("专兼职", max_length=20, choices=Employment.choices, default=Employment.PART_TIME)
    monthly_allowance = models.DecimalField("工作补助（元/月）", max_digits=8, decimal_places=2, null=True, blank=True)
    badge_no = models.CharField("标识标牌编号", max_length=30, blank=True)
    certificates = models.JSONField("资格证书", default=list, blank=True)
    duties = models.JSONField("职责清单", default=list, blank=True)
    services = models.JSONField("关爱服务内容清单", default=list, blank=True)
    home_region = models.ForeignKey(
        "regions.Region", verbose_name="所属区县", on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.SERVING)
    is_demo = models.BooleanField("演示数据", default=False)
    created_at = models.DateTimeField("建档时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "儿童主任和督导员台账"
        indexes = [models.Index(fields=["home_region", "kind", "status"], name="staff_region_kind")]

    def __str__(self) -> str:
        return f"{self.name}（{self.get_kind_display()}）"


class Appointment(models.Model):
    """A person covering a village (director) or a township (supervisor) from ``start`` until ``end``
    (exclusive; open while null). The history of appointments is the ledger's 动态管理 (§16)."""

    profile = models.ForeignKey(StaffProfile, on_delete=models.CASCADE, related_name="appointments")
    region = models.ForeignKey("regions.Region", verbose_name="负责区域", on_delete=models.PROTECT, related_name="+")
    start = models.DateField("任职日期")
    end = models.DateField("离任日期", null=True, blank=True)
    end_reason = models.CharField("离任原因", max_length=100, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-start", "-id"]
        verbose_name = verbose_name_plural = "任职记录"
        indexes = [
            models.Index(fields=["region", "end"], name="appointment_region_end"),
            models.Index(fields=["profile", "end"], name="appointment_profile_end"),
        ]

    def __str__(self) -> str:
        return f"{self.region_id} {self.start}–{self.end or ''}"


class TrainingEvent(models.Model):
    """A training session (§16 培训体系): the city's demonstration training, a district's full-coverage training…"""

    class Level(models.TextChoices):
        CITY = "city", "市级示范培训"
        DISTRICT = "district", "区县级培训"
        TOWNSHIP = "township", "乡镇级培训"

    title = models.CharField("培训名称", max_length=120)
    level = models.CharField("层级", max_length=20, choices=Level.choices)
    region = models.ForeignKey(
        "regions.Region", verbose_name="组织单位所在区域", on_delete=models.PROTECT, related_name="+"
    )
    held_on = models.DateField("培训日期")
    hours = models.DecimalField("学时", max_digits=5, decimal_places=1, default=0)
    place = models.CharField("地点", max_length=120, blank=True)
    topics = models.JSONField("培训内容", default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    is_demo = models.BooleanField("演示数据", default=False)

    class Meta:
        ordering = ["-held_on", "-id"]
        verbose_name = verbose_name_plural = "培训"
        indexes = [models.Index(fields=["region", "held_on"], name="training_region_day")]

    def __str__(self) -> str:
        return self.title


class TrainingAttendance(models.Model):
    event = models.ForeignKey(TrainingEvent, on_delete=models.CASCADE, related_name="attendances")
    profile = models.ForeignKey(StaffProfile, on_delete=models.CASCADE, related_name="trainings")
    passed = models.BooleanField("考核合格", default=True)

    class Meta:
        verbose_name = verbose_name_plural = "培训档案"
        constraints = [models.UniqueConstraint(fields=["event", "profile"], name="training_attendance_once")]

    def __str__(self) -> str:
        return f"{self.profile_id}@{self.event_id}"


class Evaluation(models.Model):
    """年度考核评价 (§16 工作考核评价机制)."""

    class Grade(models.TextChoices):
        EXCELLENT = "excellent", "优秀"
        COMPETENT = "competent", "称职"
        BASIC = "basic", "基本称职"
        INCOMPETENT = "incompetent", "不称职"

    profile = models.ForeignKey(StaffProfile, on_delete=models.CASCADE, related_name="evaluations")
    year = models.PositiveSmallIntegerField("年度")
    grade = models.CharField("等次", max_length=20, choices=Grade.choices)
    score = models.DecimalField("得分", max_digits=5, decimal_places=1, null=True, blank=True)
    comments = models.TextField("评语", blank=True)
    exemplary = models.BooleanField("典型选树", default=False)
    evaluator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-year"]
        verbose_name = verbose_name_plural = "年度考核"
        constraints = [models.UniqueConstraint(fields=["profile", "year"], name="evaluation_once_a_year")]

    def __str__(self) -> str:
        return f"{self.year} {self.get_grade_display()}"


class SocialOrganisation(models.Model):
    """A child-welfare social organisation (§17): each district cultivates at least one a year."""

    class Mode(models.TextChoices):
        COMMISSION = "commission", "政府委托"
        PROJECT = "project", "项目合作"
        PROMOTION = "promotion", "重点推介"
        INCUBATION = "incubation", "孵化扶持"

    name = models.CharField("名称", max_length=120)
    credit_code = models.CharField("统一社会信用代码", max_length=18, blank=True)
    district = models.ForeignKey("regions.Region", verbose_name="培育区县", on_delete=models.PROTECT, related_name="+")
    cultivated_year = models.PositiveSmallIntegerField("培育年度", null=True, blank=True)
    mode = models.CharField("培育方式", max_length=20, choices=Mode.choices, blank=True)
    services = models.JSONField("服务内容", default=list, blank=True)
    in_alliance = models.BooleanField("加入儿童福利领域社会组织联盟", default=False)
    contact_name = models.CharField("联系人", max_length=50, blank=True)
    contact_phone_mask = models.CharField("联系电话", max_length=20, blank=True)
    is_active = models.BooleanField("存续", default=True)
    is_demo = models.BooleanField("演示数据", default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["district_id", "name"]
        verbose_name = verbose_name_plural = "社会组织"
        indexes = [models.Index(fields=["district", "cultivated_year"], name="org_district_year")]

    def __str__(self) -> str:
        return self.name


class OrgProject(models.Model):
    """A service project of an organisation and its reach (children and families served, volunteers)."""

    organisation = models.ForeignKey(SocialOrganisation, on_delete=models.CASCADE, related_name="projects")
    name = models.CharField("项目名称", max_length=120)
    region = models.ForeignKey("regions.Region", verbose_name="服务区域", on_delete=models.PROTECT, related_name="+")
    start = models.DateField("开始日期")
    end = models.DateField("结束日期", null=True, blank=True)
    services = models.JSONField("服务内容", default=list, blank=True)
    children_reached = models.PositiveIntegerField("服务儿童人数", default=0)
    families_reached = models.PositiveIntegerField("服务家庭数", default=0)
    volunteers = models.PositiveIntegerField("参与志愿者人数", default=0)

    class Meta:
        ordering = ["-start"]
        verbose_name = verbose_name_plural = "服务项目"

    def __str__(self) -> str:
        return self.name


class Volunteer(models.Model):
    name = models.CharField("姓名", max_length=50)
    organisation = models.ForeignKey(
        SocialOrganisation, null=True, blank=True, on_delete=models.SET_NULL, related_name="volunteer_set"
    )
    district = models.ForeignKey("regions.Region", verbose_name="所在区县", on_delete=models.PROTECT, related_name="+")
    skills = models.CharField("特长", max_length=120, blank=True)
    phone_mask = models.CharField("电话", max_length=20, blank=True)
    registered_on = models.DateField("登记日期")

    class Meta:
        verbose_name = verbose_name_plural = "志愿者"

    def __str__(self) -> str:
        return self.name
