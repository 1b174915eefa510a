"""The registry's facts: children, households, the people around a child and their statuses over time.

Groups (留守, 困境, 孤儿…) are not stored as typed-in labels: they are derived from these facts by the
rule set (registry issue). ID numbers and phones are stored encrypted with a blind index and a mask.
"""

from __future__ import annotations

from django.db import models


class HukouType(models.TextChoices):
    AGRICULTURAL = "agricultural", "农业"
    NON_AGRICULTURAL = "non_agricultural", "非农业"
    RESIDENT = "resident", "居民"


class Sex(models.TextChoices):
    MALE = "M", "男"
    FEMALE = "F", "女"


class Household(models.Model):
    household_no = models.CharField("户号", max_length=30, blank=True, db_index=True)
    hukou_type = models.CharField("户籍性质", max_length=20, choices=HukouType.choices)
    village = models.ForeignKey("regions.Region", verbose_name="户籍村社区", on_delete=models.PROTECT, related_name="+")
    address = models.CharField("户籍地址", max_length=200, blank=True)
    is_demo = models.BooleanField("演示数据", default=False)

    class Meta:
        verbose_name = verbose_name_plural = "家庭户"

    def __str__(self) -> str:
        return f"家庭户{self.household_no or self.pk}"


class Person(models.Model):
    """A parent, guardian or entrusted carer. Personal identifiers are encrypted; masks are for display."""

    name = models.CharField("姓名", max_length=50)
    sex = models.CharField("性别", max_length=1, choices=Sex.choices, blank=True)
    birth_date = models.DateField("出生日期", null=True, blank=True)
    id_number_enc = models.TextField("身份证号（加密）", blank=True)
    id_number_bidx = models.CharField("身份证号盲索引", max_length=64, blank=True, db_index=True)
    id_number_mask = models.CharField("身份证号", max_length=18, blank=True)
    phone_enc = models.TextField("电话（加密）", blank=True)
    phone_mask = models.CharField("电话", max_length=20, blank=True)
    household = models.ForeignKey(Household, null=True, blank=True, on_delete=models.SET_NULL, related_name="people")
    is_demo = models.BooleanField("演示数据", default=False)

    class Meta:
        verbose_name = verbose_name_plural = "家庭成员"

    def __str__(self) -> str:
        return self.name


class PersonStatus(models.Model):
    """A parent's or carer's situation over a period (外出务工 since…, 服刑在押 until…, 失联 since…)."""

    class Kind(models.TextChoices):
        AT_HOME = "at_home", "在家"
        WORKING_AWAY = "working_away", "外出务工"
        DECEASED = "deceased", "死亡"
        MISSING = "missing", "失踪"
        SEVERE_DISABILITY = "severe_disability", "重残"
        SERIOUS_ILLNESS = "serious_illness", "重病"
        IMPRISONED = "imprisoned", "服刑在押"
        COMPULSORY_REHAB = "compulsory_rehab", "强制隔离戒毒"
        LOST_CONTACT = "lost_contact", "失联"
        GUARDIANSHIP_REVOKED = "guardianship_revoked", "被撤销监护资格"
        DEPORTED = "deported", "被遣送出境"
        INCAPABLE = "incapable", "无监护能力"
        DIVORCED_ABSENT = "divorced_absent", "离异/不在家"

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="statuses")
    kind = models.CharField("状况", max_length=30, choices=Kind.choices)
    since = models.DateField("起始日期", null=True, blank=True)
    until = models.DateField("截止日期", null=True, blank=True)
    work_place = models.CharField("外出地点", max_length=100, blank=True)
    cross_county = models.BooleanField("跨县", null=True, blank=True)
    disability_type = models.CharField("残疾类别", max_length=20, blank=True)
    disability_grade = models.PositiveSmallIntegerField("残疾等级", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "成员状况"
        indexes = [models.Index(fields=["person", "kind"], name="status_person_kind")]

    def __str__(self) -> str:
        return self.get_kind_display()


class Child(models.Model):
    """One child of the registry; the one-person-one-file archive (一人一档, §8) hangs off this row."""

    class Status(models.TextChoices):
        REGISTERED = "registered", "登记"
        ACTIVE = "active", "在册"
        EXITED = "exited", "退出"

    child_no = models.CharField("儿童编号", max_length=20, unique=True)
    name = models.CharField("姓名", max_length=50)
    name_pinyin = models.CharField("姓名全拼", max_length=120, blank=True, db_index=True)
    name_initials = models.CharField("姓名首字母", max_length=20, blank=True, db_index=True)
    sex = models.CharField("性别", max_length=1, choices=Sex.choices)
    birth_date = models.DateField("出生日期")
    ethnicity = models.CharField("民族", max_length=20, blank=True, default="汉族")
    id_number_enc = models.TextField("身份证号（加密）", blank=True)
    id_number_bidx = models.CharField("身份证号盲索引", max_length=64, blank=True, db_index=True)
    id_number_mask = models.CharField("身份证号", max_length=18, blank=True)
    village = models.ForeignKey("regions.Region", verbose_name="所在村社区", on_delete=models.PROTECT, related_name="+")
    household = models.ForeignKey(Household, null=True, blank=True, on_delete=models.SET_NULL, related_name="children")
    hukou_type = models.CharField("户籍性质", max_length=20, choices=HukouType.choices)
    hukou_address = models.CharField("户籍地址", max_length=200, blank=True)
    current_address = models.CharField("现住址", max_length=200, blank=True)
    health_status = models.CharField("健康状况", max_length=40, blank=True, default="健康")
    disability_type = models.CharField("残疾类别", max_length=20, blank=True)
    disability_grade = models.PositiveSmallIntegerField("残疾等级", null=True, blank=True)
    serious_illness = models.CharField("重病", max_length=60, blank=True)
    schooling = models.CharField("就学情况", max_length=20, blank=True)
    school_name = models.CharField("学校名称", max_length=100, blank=True)
    grade = models.CharField("年级", max_length=20, blank=True)
    boarding = models.BooleanField("寄宿", default=False)
    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.REGISTERED)
    exit_reason = models.CharField("退出原因", max_length=40, blank=True)
    exit_date = models.DateField("退出日期", null=True, blank=True)
    exit_proposal = models.CharField("建议退出", max_length=200, blank=True, db_default="")
    version = models.PositiveIntegerField("版本", default=1)
    is_demo = models.BooleanField("演示数据", default=False)
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "儿童"
        indexes = [
            # Jurisdiction scoping is a range on village_id; status and name narrow a roster within it.
            models.Index(fields=["village", "status"], name="child_village_status"),
            models.Index(fields=["village", "name"], name="child_village_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.child_no}）"


class ChildRelation(models.Model):
    class Relation(models.TextChoices):
        FATHER = "father", "父亲"
        MOTHER = "mother", "母亲"
        GRANDPARENT = "grandparent", "祖父母/外祖父母"
        SIBLING = "sibling", "兄弟姐妹"
        OTHER_RELATIVE = "relative", "其他亲属"
        OTHER = "other", "其他"

    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="relations")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="relations")
    relation = models.CharField("关系", max_length=20, choices=Relation.choices)
    is_guardian = models.BooleanField("监护人", default=False)
    is_entrusted_carer = models.BooleanField("委托照料人", default=False)

    class Meta:
        verbose_name = verbose_name_plural = "儿童关系人"
        constraints = [models.UniqueConstraint(fields=["child", "person"], name="child_person_once")]

    def __str__(self) -> str:
        return self.get_relation_display()


class BenefitEnrolment(models.Model):
    """Enrolment in a benefit (低保, 特困, 孤儿基本生活费…) of a child or the child's household."""

    class Kind(models.TextChoices):
        URBAN_DIBAO = "urban_dibao", "城市低保"
        RURAL_DIBAO = "rural_dibao", "农村低保"
        TEKUN = "tekun", "特困供养"
        ORPHAN = "orphan_allowance", "孤儿基本生活费"
        UNSUPPORTED = "unsupported_allowance", "事实无人抚养基本生活补贴"
        TEMPORARY = "temporary", "临时救助"
        # Added by the support app (issue #7): §9 rehabilitation and medical assistance, §10 education aid.
        DISABILITY_REHAB = "disability_rehab", "残疾儿童康复救助"
        MEDICAL_AID = "medical_aid", "医疗救助"
        EDUCATION_AID = "education_aid", "教育资助"

    household = models.ForeignKey(Household, null=True, blank=True, on_delete=models.CASCADE, related_name="benefits")
    child = models.ForeignKey(Child, null=True, blank=True, on_delete=models.CASCADE, related_name="benefits")
    kind = models.CharField("救助类型", max_length=30, choices=Kind.choices)
    start = models.DateField("起始日期")
    end = models.DateField("终止日期", null=True, blank=True)
    monthly_amount = models.DecimalField("月标准（元）", max_digits=8, decimal_places=2, null=True, blank=True)
    # One-off payments (临时救助, 康复救助, 教育资助) have an amount rather than a monthly standard.
    lump_sum = models.DecimalField("一次性金额（元）", max_digits=10, decimal_places=2, null=True, blank=True)
    note = models.CharField("备注", max_length=200, blank=True, db_default="")

    class Meta:
        verbose_name = verbose_name_plural = "救助保障"
        # Eligibility and gap checks look for enrolments of some kinds active on a day.
        indexes = [models.Index(fields=["kind", "start"], name="benefit_kind_start")]

    def __str__(self) -> str:
        return self.get_kind_display()


class ChildGroup(models.Model):
    """A group the rule set derived for a child on a date, with the Chinese explanation of why."""

    class Code(models.TextChoices):
        RURAL_LEFT_BEHIND = "rural_left_behind", "农村留守儿童"
        URBAN_LEFT_BEHIND = "urban_left_behind", "城镇留守儿童"
        ORPHAN = "orphan", "孤儿"
        UNSUPPORTED = "unsupported", "事实无人抚养儿童"
        DIFFICULTY_LIVING = "difficulty_living", "困境儿童（生活困境）"
        DIFFICULTY_HEALTH = "difficulty_health", "困境儿童（身心困境）"
        DIFFICULTY_GUARDIANSHIP = "difficulty_guardianship", "困境儿童（监护困境）"
        RURAL_SINGLE_PARENT = "rural_single_parent", "农村单亲家庭儿童"

    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="groups")
    code = models.CharField("类别", max_length=30, choices=Code.choices)
    explanation = models.CharField("认定依据", max_length=500)
    rule_id = models.CharField("规则", max_length=60)
    rule_version = models.PositiveIntegerField("规则版本")
    source = models.CharField("政策依据", max_length=200)
    derived_on = models.DateField("认定日期")

    class Meta:
        verbose_name = verbose_name_plural = "儿童类别"
        constraints = [models.UniqueConstraint(fields=["child", "code"], name="child_group_once")]
        indexes = [models.Index(fields=["code", "child"], name="group_code_child")]

    def __str__(self) -> str:
        return self.get_code_display()


class TimelineEvent(models.Model):
    """One line of a child's archive timeline. Every part of the system writes here through
    ``registry.timeline.timeline_add``; the archive page and its exports read it."""

    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="timeline")
    at = models.DateTimeField("时间")
    kind = models.CharField("类型", max_length=40)
    summary = models.CharField("内容", max_length=500)
    actor_username = models.CharField("操作人", max_length=150, blank=True)
    source_type = models.CharField("来源", max_length=40, blank=True)
    source_id = models.CharField("来源ID", max_length=64, blank=True)
    detail = models.JSONField("详情", null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = verbose_name_plural = "档案记录"
        indexes = [models.Index(fields=["child", "-at"], name="timeline_child_at")]

    def __str__(self) -> str:
        return self.summary
