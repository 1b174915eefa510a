"""Changes to the workforce ledger (§16–§17). Each service checks the actor's permission and jurisdiction and
writes its audit event in the same transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction

from guanai import privacy
from guanai.accounts.models import User
from guanai.accounts.scope import covers
from guanai.audit.services import audit_record
from guanai.lib.errors import DomainError, PermissionRefused
from guanai.regions.models import Region
from guanai.workforce.models import (
    Appointment,
    Employment,
    Evaluation,
    OrgProject,
    SocialOrganisation,
    StaffProfile,
    TrainingAttendance,
    TrainingEvent,
    Volunteer,
)
from guanai.workforce.selectors import training_topics, workforce_rules


def _require(actor: User, region_code: str) -> None:
    if not actor.can("workforce.manage"):
        raise PermissionRefused("您的角色无权管理儿童主任队伍和社会组织")
    if not covers(actor, region_code):
        raise PermissionRefused("该区域不在您的管辖范围内")


def _region(code: str, *, levels: Sequence[int], what: str) -> Region:
    region = Region.objects.filter(code=str(code).strip()).first()
    if region is None:
        raise DomainError("unknown_region", f"区划代码{code}不存在")
    if region.level not in levels:
        raise DomainError("wrong_region_level", f"{what}应为{'或'.join(Region.Level(x).label for x in levels)}")
    return region


def _district_of(code: str) -> str:
    return code[:6].ljust(12, "0")


def _money(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise DomainError("bad_amount", f"工作补助应为金额数字：{value}") from None
    if amount < 0:
        raise DomainError("bad_amount", "工作补助不能为负数")
    return amount


@transaction.atomic
def staff_register(
    *,
    actor: User,
    kind: str,
    name: str,
    region: str,
    start: dt.date,
    user: User | None = None,
    sex: str = "",
    birth_year: int | None = None,
    phone: str = "",
    education: str = "",
    political_status: str = "",
    position: str = "",
    employment: str = Employment.PART_TIME,
    monthly_allowance: Any = None,
    badge_no: str = "",
    certificates: Sequence[str] = (),
    duties: Sequence[str] = (),
    services: Sequence[str] = (),
    is_demo: bool = False,
) -> StaffProfile:
    """Put a director (to a village) or a supervisor (to a township) on the real-name ledger (§16 信息台账)
    and open the first appointment."""
    if kind not in StaffProfile.Kind.values:
        raise DomainError("bad_kind", "类别应为儿童主任或儿童督导员")
    name = name.strip()
    if not name:
        raise DomainError("name_required", "请填写姓名")
    level = Region.Level.VILLAGE if kind == StaffProfile.Kind.DIRECTOR else Region.Level.TOWNSHIP
    place = _region(region, levels=[level], what="儿童主任的负责区域" if level == 5 else "儿童督导员的负责区域")
    _require(actor, place.code)
    if employment not in Employment.values:
        raise DomainError("bad_employment", "专兼职应为专职或兼职")
    if user is not None and StaffProfile.objects.filter(user=user).exists():
        raise DomainError("profile_exists", f"账号{user.username}已建立台账")
    protected = privacy.protect_phone(phone) if phone.strip() else None
    profile = StaffProfile.objects.create(
        kind=kind,
        user=user,
        name=name,
        sex=sex,
        birth_year=birth_year,
        phone_enc=protected.enc if protected else "",
        phone_mask=protected.mask if protected else "",
        education=education,
        political_status=political_status,
        position=position,
        employment=employment,
        monthly_allowance=_money(monthly_allowance),
        badge_no=badge_no,
        certificates=list(certificates),
        duties=list(duties),
        services=list(services),
        home_region_id=_district_of(place.code),
        is_demo=is_demo,
    )
    Appointment.objects.create(profile=profile, region=place, start=start, created_by=actor if actor.pk else None)
    audit_record(
        actor=actor,
        action="staff.register",
        object_type="staff_profile",
        object_id=profile.pk,
        summary=f"{profile.get_kind_display()}建档并任职于{place.name}",
        after={"kind": kind, "region": place.code, "start": start.isoformat(), "employment": employment},
    )
    return profile


@transaction.atomic
def appointment_start(*, actor: User, profile: StaffProfile, region: str, start: dt.date) -> Appointment:
    """A person starts covering one more village (or another township)."""
    level = Region.Level.VILLAGE if profile.kind == StaffProfile.Kind.DIRECTOR else Region.Level.TOWNSHIP
    place = _region(region, levels=[level], what="负责区域")
    _require(actor, place.code)
    profile = StaffProfile.objects.select_for_update().get(pk=profile.pk)
    if profile.appointments.filter(region=place, end__isnull=True).exists():
        raise DomainError("already_appointed", f"{profile.name}已在{place.name}任职")
    appointment = Appointment.objects.create(
        profile=profile, region=place, start=start, created_by=actor if actor.pk else None
    )
    if profile.status != StaffProfile.Status.SERVING:
        profile.status = StaffProfile.Status.SERVING
        profile.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=actor,
        action="staff.appoint",
        object_type="staff_profile",
        object_id=profile.pk,
        summary=f"任职于{place.name}",
        after={"region": place.code, "start": start.isoformat()},
    )
    return appointment


@transaction.atomic
def appointment_end(*, actor: User, appointment: Appointment, end: dt.date, reason: str) -> Appointment:
    """Close an appointment; when the person has no open appointment left, the profile becomes 离任."""
    appointment = Appointment.objects.select_for_update().select_related("profile").get(pk=appointment.pk)
    _require(actor, appointment.region_id)
    if appointment.end is not None:
        raise DomainError("already_ended", "该任职已结束")
    if end < appointment.start:
        raise DomainError("end_before_start", "离任日期不能早于任职日期")
    if not reason.strip():
        raise DomainError("reason_required", "请填写离任原因")
    appointment.end, appointment.end_reason = end, reason.strip()
    appointment.save(update_fields=["end", "end_reason"])
    profile = appointment.profile
    if not profile.appointments.filter(end__isnull=True).exists():
        profile.status = StaffProfile.Status.LEFT
        profile.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=actor,
        action="staff.unappoint",
        object_type="staff_profile",
        object_id=profile.pk,
        summary=f"离任{appointment.region_id}：{reason.strip()}",
        after={"region": appointment.region_id, "end": end.isoformat()},
    )
    return appointment


@transaction.atomic
def training_record(
    *,
    actor: User,
    title: str,
    level: str,
    region: str,
    held_on: dt.date,
    topics: Sequence[str],
    attendees: Sequence[StaffProfile],
    hours: Any = 0,
    place: str = "",
    is_demo: bool = False,
) -> TrainingEvent:
    """Record a training and add it to each attendee's training archive (§16 培训档案)."""
    if level not in TrainingEvent.Level.values:
        raise DomainError("bad_level", "培训层级应为市级示范培训、区县级培训或乡镇级培训")
    levels = {"city": [1, 2], "district": [3], "township": [4]}[level]
    organiser = _region(region, levels=levels, what="组织单位所在区域")
    _require(actor, organiser.code)
    if not title.strip():
        raise DomainError("title_required", "请填写培训名称")
    known = training_topics()
    unknown = [t for t in topics if t not in known]
    if unknown or not topics:
        raise DomainError("bad_topics", "请选择培训内容" if not topics else f"未知的培训内容：{'、'.join(unknown)}")
    outside = [p.name for p in attendees if level != "city" and not p.home_region_id.startswith(organiser.prefix)]
    if outside:
        raise DomainError("attendee_outside", f"参训人员不在组织单位辖区内：{'、'.join(outside[:5])}")
    event = TrainingEvent.objects.create(
        title=title.strip(),
        level=level,
        region=organiser,
        held_on=held_on,
        topics=list(topics),
        hours=_money(hours) or 0,
        place=place,
        created_by=actor if actor.pk else None,
        is_demo=is_demo,
    )
    TrainingAttendance.objects.bulk_create(
        [TrainingAttendance(event=event, profile=p) for p in {p.pk: p for p in attendees}.values()]
    )
    audit_record(
        actor=actor,
        action="training.record",
        object_type="training",
        object_id=event.pk,
        summary=f"{event.get_level_display()}「{event.title}」{len(attendees)}人参训",
        after={"held_on": held_on.isoformat(), "topics": list(topics), "attendees": len(attendees)},
    )
    return event


@transaction.atomic
def evaluation_record(
    *,
    actor: User,
    profile: StaffProfile,
    year: int,
    grade: str,
    score: Any = None,
    comments: str = "",
    exemplary: bool = False,
) -> Evaluation:
    """The yearly evaluation of a director or supervisor (one per year; a second call corrects it)."""
    _require(actor, profile.home_region_id)
    if grade not in workforce_rules()["evaluation"]["grades"]:
        raise DomainError("bad_grade", "考核等次应为优秀、称职、基本称职或不称职")
    evaluation, created = Evaluation.objects.update_or_create(
        profile=profile,
        year=year,
        defaults={
            "grade": grade,
            "score": _money(score),
            "comments": comments,
            "exemplary": exemplary,
            "evaluator": actor,
        },
    )
    audit_record(
        actor=actor,
        action="staff.evaluate" if created else "staff.evaluate.correct",
        object_type="staff_profile",
        object_id=profile.pk,
        summary=f"{year}年度考核：{evaluation.get_grade_display()}",
        after={"year": year, "grade": grade, "exemplary": exemplary},
    )
    return evaluation


@transaction.atomic
def organisation_register(
    *,
    actor: User,
    name: str,
    district: str,
    cultivated_year: int | None,
    mode: str = "",
    services: Sequence[str] = (),
    in_alliance: bool = False,
    credit_code: str = "",
    contact_name: str = "",
    is_demo: bool = False,
) -> SocialOrganisation:
    """Register a child-welfare social organisation cultivated by a district (§17)."""
    region = _region(district, levels=[3], what="培育区县")
    _require(actor, region.code)
    if not name.strip():
        raise DomainError("name_required", "请填写社会组织名称")
    if mode and mode not in SocialOrganisation.Mode.values:
        raise DomainError("bad_mode", "培育方式应为政府委托、项目合作、重点推介或孵化扶持")
    if credit_code and len(credit_code.strip()) != 18:
        raise DomainError("bad_credit_code", "统一社会信用代码应为18位")
    org = SocialOrganisation.objects.create(
        name=name.strip(),
        district=region,
        cultivated_year=cultivated_year,
        mode=mode,
        services=list(services),
        in_alliance=in_alliance,
        credit_code=credit_code.strip(),
        contact_name=contact_name,
        is_demo=is_demo,
    )
    audit_record(
        actor=actor,
        action="organisation.register",
        object_type="organisation",
        object_id=org.pk,
        summary=f"登记社会组织「{org.name}」",
        after={"district": region.code, "cultivated_year": cultivated_year, "mode": mode},
    )
    return org


@transaction.atomic
def project_add(
    *,
    actor: User,
    organisation: SocialOrganisation,
    name: str,
    region: str,
    start: dt.date,
    end: dt.date | None = None,
    services: Sequence[str] = (),
    children_reached: int = 0,
    families_reached: int = 0,
    volunteers: int = 0,
) -> OrgProject:
    place = _region(region, levels=[3, 4, 5], what="服务区域")
    _require(actor, place.code)
    if end is not None and end < start:
        raise DomainError("end_before_start", "结束日期不能早于开始日期")
    if min(children_reached, families_reached, volunteers) < 0:
        raise DomainError("bad_count", "人数不能为负数")
    project = OrgProject.objects.create(
        organisation=organisation,
        name=name.strip(),
        region=place,
        start=start,
        end=end,
        services=list(services),
        children_reached=children_reached,
        families_reached=families_reached,
        volunteers=volunteers,
    )
    audit_record(
        actor=actor,
        action="organisation.project",
        object_type="organisation",
        object_id=organisation.pk,
        summary=f"服务项目「{project.name}」",
        after={"region": place.code, "children_reached": children_reached},
    )
    return project


@transaction.atomic
def volunteer_register(
    *,
    actor: User,
    name: str,
    district: str,
    registered_on: dt.date,
    organisation: SocialOrganisation | None = None,
    skills: str = "",
    phone: str = "",
) -> Volunteer:
    """A volunteer (§17 社会组织和志愿者), optionally with the organisation they serve with. Only the phone's mask
    is kept: the ledger needs to show a volunteer, not to call them from the system."""
    region = _region(district, levels=[3], what="所在区县")
    _require(actor, region.code)
    if not name.strip():
        raise DomainError("name_required", "请填写志愿者姓名")
    if organisation is not None and organisation.district_id != region.code:
        raise DomainError("org_other_district", "志愿者所在区县与社会组织不一致")
    volunteer = Volunteer.objects.create(
        name=name.strip(),
        district=region,
        organisation=organisation,
        skills=skills.strip(),
        phone_mask=privacy.protect_phone(phone).mask if phone.strip() else "",
        registered_on=registered_on,
    )
    audit_record(
        actor=actor,
        action="volunteer.register",
        object_type="volunteer",
        object_id=volunteer.pk,
        summary=f"登记志愿者{volunteer.name}",
        after={"district": region.code, "organisation": organisation.pk if organisation else None},
    )
    return volunteer
