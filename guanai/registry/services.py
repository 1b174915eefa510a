"""Registry services (§8 一人一档, dynamic management): registering children and their families, edits with
optimistic concurrency, lifecycle, and reveals. Every change is audited, shown in the timeline, and followed
by a re-derivation of the child's groups."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from django.db import transaction

from guanai import privacy
from guanai.accounts.models import User
from guanai.accounts.scope import covers
from guanai.audit.models import AuditEvent
from guanai.audit.services import access_record, audit_record, changed, snapshot
from guanai.lib import idnumber, pinyin, regioncode
from guanai.lib.errors import DomainError, PermissionRefused
from guanai.regions.models import Region
from guanai.registry.groups import groups_refresh
from guanai.registry.models import Child, ChildRelation, Household, HukouType, Person, PersonStatus, Sex
from guanai.registry.selectors import child_get
from guanai.registry.timeline import timeline_add

REVEALABLE = {"id_number": "身份证号"}
EXIT_REASONS = ["年满16周岁", "年满18周岁", "父母返乡", "迁出本地", "死亡", "其他"]
SCHOOLING = ["学龄前", "在读", "休学", "辍学", "毕业", "未入学"]
DISABILITY_TYPES = ["视力", "听力", "言语", "肢体", "智力", "精神", "多重"]


@dataclass
class ChildData:
    name: str
    sex: str
    birth_date: dt.date
    village_code: str
    hukou_type: str
    id_number: str = ""
    ethnicity: str = "汉族"
    hukou_address: str = ""
    current_address: str = ""
    health_status: str = "健康"
    disability_type: str = ""
    disability_grade: int | None = None
    serious_illness: str = ""
    schooling: str = ""
    school_name: str = ""
    grade: str = ""
    boarding: bool = False


@dataclass
class StatusData:
    kind: str
    since: dt.date | None = None
    until: dt.date | None = None
    work_place: str = ""
    cross_county: bool | None = None
    disability_type: str = ""
    disability_grade: int | None = None


@dataclass
class PersonData:
    relation: str
    name: str
    id_number: str = ""
    phone: str = ""
    is_guardian: bool = False
    is_entrusted_carer: bool = False
    statuses: list[StatusData] = field(default_factory=list)


# Fields an edit may change: those of ChildData (number, status, version and keys belong to the services).
EDITABLE = [f.name for f in fields(ChildData)]
# ChildData fields stored on the child under the same name (the village and the ID number are stored differently).
_COPIED = [name for name in EDITABLE if name not in ("village_code", "id_number")]


def _invalid(errors: dict[str, str]) -> DomainError:
    return DomainError("invalid", "；".join(errors.values()), detail=errors)


def validate_child(data: ChildData, *, today: dt.date) -> tuple[str, list[str]]:
    """Field checks; returns the cleaned 18-character ID number ("" if none) and warnings."""
    errors: dict[str, str] = {}
    warnings: list[str] = []
    data.name = "".join(data.name.split())
    if not data.name:
        errors["name"] = "姓名不能为空"
    elif len(data.name) > 50:
        errors["name"] = "姓名过长"
    if data.sex not in Sex.values:
        errors["sex"] = "性别应为男或女"
    if data.birth_date > today:
        errors["birth_date"] = "出生日期不能晚于今天"
    elif data.birth_date.year < today.year - 30:
        errors["birth_date"] = "出生日期不合理"
    if data.hukou_type not in HukouType.values:
        errors["hukou_type"] = "户籍性质应为农业、非农业或居民"
    if data.disability_type and data.disability_type not in DISABILITY_TYPES:
        errors["disability_type"] = "残疾类别应为" + "、".join(DISABILITY_TYPES)
    if data.disability_grade is not None and data.disability_grade not in (1, 2, 3, 4):
        errors["disability_grade"] = "残疾等级应为1至4级"
    if bool(data.disability_type) != (data.disability_grade is not None):
        errors.setdefault("disability_grade", "残疾类别和残疾等级应同时填写")
    if data.schooling and data.schooling not in SCHOOLING:
        errors["schooling"] = "就学情况应为" + "、".join(SCHOOLING)
    number = ""
    if data.id_number:
        try:
            parsed = idnumber.parse(data.id_number)
        except idnumber.IdNumberError as exc:
            errors["id_number"] = exc.message
        else:
            number = parsed.value
            warnings += parsed.warnings
            if parsed.birth_date != data.birth_date:
                errors["id_number"] = f"身份证号中的出生日期（{parsed.birth_date}）与填写的出生日期不一致"
            elif parsed.sex != data.sex:
                errors["id_number"] = "身份证号中的性别与填写的性别不一致"
    try:
        data.village_code = regioncode.normalise(data.village_code)
    except regioncode.RegionCodeError as exc:
        errors["village_code"] = exc.message
    else:
        if not Region.objects.filter(code=data.village_code, level=5).exists():
            errors["village_code"] = f"村（社区）代码{data.village_code}不存在"
    if errors:
        raise _invalid(errors)
    return number, warnings


def _check_duplicates(data: ChildData, number: str, *, exclude: int | None, confirm_similar: bool) -> None:
    others = Child.objects.exclude(pk=exclude) if exclude is not None else Child.objects.all()
    if number:
        same = others.filter(id_number_bidx=privacy.id_bidx(number)).first()
        if same is not None:
            raise DomainError(
                "duplicate_id",
                f"该身份证号已登记，儿童编号{same.child_no}",
                detail={"child_no": same.child_no},
                status=409,
            )
    if not confirm_similar:
        township = regioncode.prefix(data.village_code, 4)
        low, high = regioncode.prefix_range(township)
        similar = others.filter(
            name=data.name, birth_date=data.birth_date, village_id__gte=low, village_id__lte=high
        ).first()
        if similar is not None:
            raise DomainError(
                "possible_duplicate",
                f"同一乡镇已有同名同出生日期的儿童（儿童编号{similar.child_no}），请核实；确认不是同一人后再提交",
                detail={"child_no": similar.child_no},
                status=409,
            )


def _apply(child: Child, data: ChildData, number: str) -> None:
    for name in _COPIED:
        setattr(child, name, getattr(data, name))
    child.village_id = data.village_code
    child.name_pinyin = pinyin.full(data.name)
    child.name_initials = pinyin.initials(data.name)
    if number:
        protected = privacy.protect_id_number(number)
        child.id_number_enc, child.id_number_bidx, child.id_number_mask = protected.enc, protected.bidx, protected.mask
    else:
        child.id_number_enc = child.id_number_bidx = child.id_number_mask = ""


def _require_write(actor: User, village_code: str) -> None:
    if not actor.can("child.edit"):
        raise PermissionRefused("您的角色无权登记或修改儿童信息")
    if not covers(actor, village_code):
        raise DomainError("out_of_scope", "该村（社区）不在您的管辖范围内", status=403)


def child_no_for(pk: int) -> str:
    return f"C{pk:011d}"


@transaction.atomic
def child_register(
    *,
    actor: User,
    data: ChildData,
    family: list[PersonData] | None = None,
    today: dt.date,
    confirm_similar: bool = False,
) -> Child:
    """Register a child (登记). Refuses a known ID number; warns on the same name and birth date in the
    township unless confirmed. The child becomes 在册 once the rules find a group."""
    number, _warnings = validate_child(data, today=today)
    _require_write(actor, data.village_code)
    _check_duplicates(data, number, exclude=None, confirm_similar=confirm_similar)
    household = Household.objects.create(
        hukou_type=data.hukou_type, village_id=data.village_code, address=data.hukou_address
    )
    child = Child(child_no="tmp" + uuid.uuid4().hex[:16], status=Child.Status.REGISTERED, household=household)
    _apply(child, data, number)
    child.save()
    child.child_no = child_no_for(child.pk)
    child.save(update_fields=["child_no"])
    for member in family or []:
        _person_add(child, member)
    audit_record(
        actor=actor,
        action="child.register",
        object_type="child",
        object_id=child.pk,
        summary=f"登记儿童 {child.child_no}",
        after=snapshot(child),
    )
    timeline_add(
        child=child, kind="child.register", actor=actor, summary="登记建档", source_type="child", source_id=child.pk
    )
    groups_refresh(child_ids=[child.pk], today=today, actor=actor)
    child.refresh_from_db()
    return child


def _validate_person(member: PersonData) -> tuple[str, str]:
    errors: dict[str, str] = {}
    if member.relation not in ChildRelation.Relation.values:
        errors["relation"] = "关系无效"
    if not member.name.strip():
        errors["name"] = "家庭成员姓名不能为空"
    number = ""
    if member.id_number:
        try:
            number = idnumber.parse(member.id_number).value
        except idnumber.IdNumberError as exc:
            errors["id_number"] = f"{member.name}的{exc.message}"
    phone = idnumber.clean(member.phone) if member.phone else ""
    if phone and not (phone.isdigit() and 7 <= len(phone) <= 12):
        errors["phone"] = f"{member.name}的电话号码格式不正确"
    for status in member.statuses:
        if status.kind not in PersonStatus.Kind.values:
            errors["status"] = "家庭成员状况无效"
        elif status.since and status.until and status.until <= status.since:
            errors["status"] = "状况截止日期应晚于起始日期"
    if errors:
        raise _invalid(errors)
    return number, phone


def _person_add(child: Child, member: PersonData) -> Person:
    number, phone = _validate_person(member)
    person = Person(name=member.name.strip(), household=child.household)
    if number:
        p = privacy.protect_id_number(number)
        person.id_number_enc, person.id_number_bidx, person.id_number_mask = p.enc, p.bidx, p.mask
        person.birth_date = idnumber.parse(number).birth_date
        person.sex = idnumber.parse(number).sex
    if phone:
        ph = privacy.protect_phone(phone)
        person.phone_enc, person.phone_mask = ph.enc, ph.mask
    person.save()
    ChildRelation.objects.create(
        child=child,
        person=person,
        relation=member.relation,
        is_guardian=member.is_guardian,
        is_entrusted_carer=member.is_entrusted_carer,
    )
    PersonStatus.objects.bulk_create([PersonStatus(person=person, **asdict(s)) for s in member.statuses])
    return person


@transaction.atomic
def family_member_add(*, actor: User, child_pk: int, member: PersonData, today: dt.date) -> Person:
    """Add a parent, guardian or entrusted carer to a child's file, then re-derive the child's groups."""
    child = child_get(actor, child_pk)
    _require_write(actor, child.village_id)
    person = _person_add(child, member)
    label = ChildRelation.Relation(member.relation).label
    audit_record(
        actor=actor,
        action="person.add",
        object_type="person",
        object_id=person.pk,
        summary=f"儿童{child.child_no}添加{label}",
        after=snapshot(person),
    )
    timeline_add(child=child, kind="family.add", actor=actor, summary=f"添加家庭成员：{label} {person.name}")
    groups_refresh(child_ids=[child.pk], today=today, actor=actor)
    return person


@transaction.atomic
def person_status_add(
    *, actor: User, child_pk: int, person_pk: int, status: StatusData, today: dt.date
) -> PersonStatus:
    """Record a parent's or carer's new situation (外出务工 since…, 服刑在押 until…); closes the open status
    of the same person and re-derives the groups of every child linked to that person."""
    child = child_get(actor, child_pk)
    _require_write(actor, child.village_id)
    person = Person.objects.filter(pk=person_pk, relations__child=child).first()
    if person is None:
        raise DomainError("not_found", "未找到该家庭成员", status=404)
    _validate_person(PersonData(relation="other", name=person.name, statuses=[status]))
    start = status.since or today
    PersonStatus.objects.filter(person=person, until__isnull=True).exclude(kind="deceased").update(until=start)
    row = PersonStatus.objects.create(person=person, **asdict(status))
    label = PersonStatus.Kind(status.kind).label
    audit_record(
        actor=actor,
        action="person.status",
        object_type="person",
        object_id=person.pk,
        summary=f"{person.name}状况变更为{label}",
        after=snapshot(row),
    )
    linked = list(ChildRelation.objects.filter(person=person).values_list("child_id", flat=True))
    for child_id in linked:
        timeline_add(
            child=child_id,
            kind="family.status",
            actor=actor,
            summary=f"{person.name}状况变更为{label}" + (f"（自{status.since}）" if status.since else ""),
        )
    groups_refresh(child_ids=linked, today=today, actor=actor)
    return row


def _changes_since(child: Child, version: int) -> list[str]:
    """Names of the fields others changed after ``version`` (from the audit log), to show a stale editor."""
    fields: set[str] = set()
    for after in AuditEvent.objects.filter(
        object_type="child", object_id=str(child.pk), action="child.update"
    ).values_list("after", flat=True):
        if after and int(after.get("version", 0)) > version:
            fields.update(k for k in after if k != "version")
    labels = {f.attname: str(f.verbose_name) for f in Child._meta.concrete_fields}
    return sorted(labels.get(f, f) for f in fields)


@transaction.atomic
def child_update(*, actor: User, pk: int, expected_version: int, changes: dict[str, Any], today: dt.date) -> Child:
    """Edit a child's basic information. A save based on an old version is refused, naming what changed."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise DomainError("bad_field", "不能修改这些字段：" + "、".join(sorted(unknown)))
    # Two officers may edit one file at once (or a phone syncs an offline edit): lock the row and compare
    # versions, so the second save cannot silently overwrite the first.
    child = child_get(actor, pk)
    child = Child.objects.select_for_update().get(pk=child.pk)
    _require_write(actor, child.village_id)
    if child.version != expected_version:
        what = _changes_since(child, expected_version)
        raise DomainError(
            "stale",
            "该档案已被他人修改，请刷新后重新编辑" + (f"（已修改：{'、'.join(what)}）" if what else ""),
            detail={"current_version": child.version, "changed": what},
            status=409,
        )
    before = snapshot(child)
    data = ChildData(
        **{name: getattr(child, name) for name in _COPIED},
        village_code=child.village_id,
        id_number=privacy.reveal(child.id_number_enc),
    )
    for key, value in changes.items():
        setattr(data, key, value)
    number, _ = validate_child(data, today=today)
    _require_write(actor, data.village_code)
    _check_duplicates(data, number, exclude=child.pk, confirm_similar=True)
    _apply(child, data, number)
    child.version += 1
    child.save()
    old, new = changed(before, snapshot(child))
    new.pop("updated_at", None)
    old.pop("updated_at", None)
    audit_record(
        actor=actor,
        action="child.update",
        object_type="child",
        object_id=child.pk,
        summary=f"修改儿童 {child.child_no}",
        before=old,
        after=new,
    )
    labels = {f.attname: str(f.verbose_name) for f in Child._meta.concrete_fields}
    shown = [k for k in new if k not in ("version", "name_pinyin", "name_initials", "id_number_bidx", "id_number_enc")]
    parts = []
    for key in shown:
        if key == "id_number_mask":
            parts.append("身份证号已更正")
        else:
            parts.append(f"{labels.get(key, key)}：{old.get(key) or '空'} → {new.get(key) or '空'}")
    timeline_add(
        child=child,
        kind="child.update",
        actor=actor,
        summary="修改档案：" + "；".join(parts) if parts else "修改档案（无变化）",
        detail={"version": child.version},
    )
    groups_refresh(child_ids=[child.pk], today=today, actor=actor)
    child.refresh_from_db()
    return child


@transaction.atomic
def child_exit(*, actor: User, pk: int, reason: str, on: dt.date, note: str = "") -> Child:
    """Exit a child from the registry (退出) with one of the plan's reasons; history is kept."""
    if reason not in EXIT_REASONS:
        raise DomainError("bad_reason", "退出原因应为" + "、".join(EXIT_REASONS))
    child = Child.objects.select_for_update().get(pk=child_get(actor, pk).pk)
    _require_write(actor, child.village_id)
    if child.status == Child.Status.EXITED:
        raise DomainError("already_exited", "该儿童已退出")
    child.status, child.exit_reason, child.exit_date, child.exit_proposal = Child.Status.EXITED, reason, on, ""
    child.version += 1
    child.save(update_fields=["status", "exit_reason", "exit_date", "exit_proposal", "version", "updated_at"])
    audit_record(
        actor=actor,
        action="child.exit",
        object_type="child",
        object_id=child.pk,
        summary=f"儿童 {child.child_no} 退出：{reason}",
        after={"reason": reason, "on": on, "note": note},
    )
    timeline_add(
        child=child, kind="child.exit", actor=actor, summary=f"退出：{reason}" + (f"（{note}）" if note else "")
    )
    return child


@transaction.atomic
def child_reenter(*, actor: User, pk: int, today: dt.date, note: str = "") -> Child:
    """Bring an exited child back (重新纳入); the earlier history stays in the timeline."""
    child = Child.objects.select_for_update().get(pk=child_get(actor, pk).pk)
    _require_write(actor, child.village_id)
    if child.status != Child.Status.EXITED:
        raise DomainError("not_exited", "该儿童未退出，无需重新纳入")
    child.status, child.exit_reason, child.exit_date = Child.Status.REGISTERED, "", None
    child.version += 1
    child.save(update_fields=["status", "exit_reason", "exit_date", "version", "updated_at"])
    audit_record(
        actor=actor,
        action="child.reenter",
        object_type="child",
        object_id=child.pk,
        summary=f"儿童 {child.child_no} 重新纳入",
        after={"note": note},
    )
    timeline_add(child=child, kind="child.reenter", actor=actor, summary="重新纳入" + (f"：{note}" if note else ""))
    groups_refresh(child_ids=[child.pk], today=today, actor=actor)
    child.refresh_from_db()
    return child


def child_view(*, user: User, pk: int | str) -> Child:
    """Open a child's full file; the view itself is recorded (PIPL: access to minors' data is logged)."""
    child = child_get(user, pk)
    access_record(actor=user, action="child.view", object_type="child", object_id=child.pk)
    return child


def child_reveal(*, user: User, pk: int | str, field: str) -> str:
    """Show a masked identifier of a child in scope in clear, if the role may; each reveal is recorded."""
    child = child_get(user, pk)
    if field not in REVEALABLE:
        raise DomainError("bad_field", f"无法显示该字段：{field}")
    if not user.can("child.reveal"):
        raise PermissionRefused("您的角色无权查看完整身份证号")
    access_record(actor=user, action="child.reveal", object_type="child", object_id=child.pk, field=field)
    return privacy.reveal(child.id_number_enc)


def person_reveal(*, user: User, child_pk: int | str, person_pk: int | str, field: str) -> str:
    """Reveal a parent's or carer's ID number or phone, reachable only through a child in scope."""
    child = child_get(user, child_pk)
    if not user.can("child.reveal"):
        raise PermissionRefused("您的角色无权查看完整身份证号和电话")
    person = Person.objects.filter(pk=person_pk, relations__child=child).first()
    if person is None:
        raise DomainError("not_found", "未找到该家庭成员", status=404)
    token = {"id_number": person.id_number_enc, "phone": person.phone_enc}.get(field)
    if token is None:
        raise DomainError("bad_field", f"无法显示该字段：{field}")
    access_record(actor=user, action="person.reveal", object_type="person", object_id=person.pk, field=field)
    return privacy.reveal(token)
