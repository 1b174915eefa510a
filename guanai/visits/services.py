"""Visit services (§8): recording contacts and home visits, problems followed until solved, escalation,
the work log, reminders. Every change is audited and shown in the child's timeline."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from guanai.accounts.models import User
from guanai.accounts.scope import covers
from guanai.audit.services import audit_record, snapshot
from guanai.lib.errors import DomainError, NotFound, PermissionRefused
from guanai.registry.models import Child
from guanai.registry.selectors import child_get, children_for
from guanai.registry.timeline import timeline_add
from guanai.visits.cadence import PSYCH, cadence_refresh
from guanai.visits.models import (
    ChildFlag,
    Notification,
    Problem,
    ProblemUpdate,
    Visit,
    VisitPhoto,
    VisitSettings,
    WorkLogEntry,
)
from guanai.visits.selectors import effective_settings

MAX_PHOTOS = 6
MAX_PHOTO_BYTES = 10 * 1024 * 1024
# Photos are checked by their first bytes, not their names.
IMAGE_SIGNATURES = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png"}


@dataclass
class ProblemData:
    category: str
    description: str
    due_date: dt.date | None = None


@dataclass
class VisitData:
    mode: str
    visited_at: dt.datetime
    met: str = ""
    checklist: dict[str, dict[str, str]] = field(default_factory=dict)
    notes: str = ""
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    late_reason: str = ""


def _image_type(upload: UploadedFile) -> str | None:
    head = upload.read(16)
    upload.seek(0)
    for signature, kind in IMAGE_SIGNATURES.items():
        if head.startswith(signature):
            return kind
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1"):
        return "image/heic"
    return None


def _check_photos(photos: list[UploadedFile]) -> list[str]:
    if len(photos) > MAX_PHOTOS:
        raise DomainError("too_many_photos", f"每次走访最多上传{MAX_PHOTOS}张照片")
    kinds = []
    for photo in photos:
        if photo.size is not None and photo.size > MAX_PHOTO_BYTES:
            raise DomainError("photo_too_large", f"照片“{photo.name}”超过10MB，请压缩后再上传")
        kind = _image_type(photo)
        if kind is None:
            raise DomainError("photo_type", f"“{photo.name}”不是图片（支持JPEG、PNG、WebP、HEIC）")
        kinds.append(kind)
    return kinds


def _check_checklist(checklist: dict[str, dict[str, str]]) -> None:
    items = {i["id"] for i in _checklist_items()}
    answers = set(_raw_rules()["checklist_answers"])
    for key, answer in checklist.items():
        if key not in items:
            raise DomainError("bad_checklist", f"走访清单中没有“{key}”这一项")
        if answer.get("status") not in answers:
            raise DomainError("bad_checklist", "走访清单每项应为" + "、".join(sorted(answers)))


def _raw_rules() -> dict[str, Any]:
    from guanai import rules

    return rules.load("visits")


def _checklist_items() -> list[dict[str, Any]]:
    return list(_raw_rules()["checklist"])


def problem_categories() -> dict[str, str]:
    return dict(_raw_rules()["problems"]["categories"])


def visit_record(
    *,
    actor: User,
    child_pk: int,
    data: VisitData,
    now: dt.datetime,
    client_key: str = "",
    photos: list[UploadedFile] | None = None,
    problems: list[ProblemData] | None = None,
) -> Visit:
    """Record a contact or visit. Idempotent on ``client_key`` (a phone resubmitting after a dropped
    connection gets the first visit back, not a second one)."""
    return visit_record_or_existing(
        actor=actor,
        child_pk=child_pk,
        data=data,
        now=now,
        client_key=client_key,
        photos=photos,
        problems=problems,
    )[0]


def visit_record_or_existing(
    *,
    actor: User,
    child_pk: int,
    data: VisitData,
    now: dt.datetime,
    client_key: str = "",
    photos: list[UploadedFile] | None = None,
    problems: list[ProblemData] | None = None,
) -> tuple[Visit, bool]:
    """``visit_record``, also saying whether the visit is new (False: the key's first visit came back)."""
    if client_key:
        existing = Visit.objects.filter(client_key=client_key, visitor=actor).first()
        if existing is not None:
            return existing, False
    try:
        visit = _visit_record(
            actor=actor,
            child_pk=child_pk,
            data=data,
            now=now,
            client_key=client_key,
            photos=photos or [],
            problems=problems or [],
        )
    except IntegrityError:
        # Two submissions with the same key raced; the other one won and holds the visit.
        existing = Visit.objects.filter(client_key=client_key, visitor=actor).first() if client_key else None
        if existing is None:
            raise
        return existing, False
    return visit, True


def _child_for_visit(actor: User, child_pk: int) -> Child:
    """The child in the actor's scope, with only what recording a visit reads (as ``child_get``: NotFound
    whether it does not exist or is out of scope)."""
    try:
        return children_for(actor).only("id", "child_no", "name", "village_id", "status").get(pk=int(child_pk))
    except (Child.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


@transaction.atomic
def _visit_record(
    *,
    actor: User,
    child_pk: int,
    data: VisitData,
    now: dt.datetime,
    client_key: str,
    photos: list[UploadedFile],
    problems: list[ProblemData],
) -> Visit:
    if not actor.can("visit.record"):
        raise PermissionRefused("您的角色无权记录走访")
    child = _child_for_visit(actor, child_pk)
    if not covers(actor, child.village_id):
        raise DomainError("out_of_scope", "该儿童不在您负责的村（社区）", status=403)
    if child.status == Child.Status.EXITED:
        raise DomainError("exited", "该儿童已退出关爱名册，不能记录走访")
    if data.mode not in Visit.Mode.values:
        raise DomainError("bad_mode", "走访方式应为电话、视频、入户走访、在校走访或其他")
    if timezone.is_naive(data.visited_at):
        data.visited_at = timezone.make_aware(data.visited_at)
    if data.visited_at > now + dt.timedelta(minutes=5):
        raise DomainError("future", "走访时间不能晚于现在")
    visited_on = timezone.localdate(data.visited_at)
    today = timezone.localdate(now)
    cfg = effective_settings()
    days_late = (today - visited_on).days
    if days_late > cfg["late_entry_days"]:
        raise DomainError("too_late", f"只能补录{cfg['late_entry_days']}天内的走访，请如实记录在工作日志中")
    if days_late > 1 and not data.late_reason.strip():
        raise DomainError("late_reason", "补录一天以前的走访，请填写补录原因", detail={"late_reason": "请填写补录原因"})
    _check_checklist(data.checklist)
    kinds = _check_photos(photos)
    visit = Visit.objects.create(
        client_key=client_key or None,
        child=child,
        visited_at=data.visited_at,
        visited_on=visited_on,
        mode=data.mode,
        visitor=actor,
        visitor_name=actor.shown_name,
        met=data.met[:200],
        checklist=data.checklist,
        notes=data.notes,
        latitude=data.latitude,
        longitude=data.longitude,
        late_reason=data.late_reason[:200],
    )
    for upload, kind in zip(photos, kinds, strict=True):
        VisitPhoto.objects.create(visit=visit, file=upload, content_type=kind, size=upload.size or 0)
    audit_record(
        actor=actor,
        action="visit.record",
        object_type="visit",
        object_id=str(visit.pk),
        summary=f"{visit.get_mode_display()} 儿童{child.child_no}",
        after=snapshot(visit, ["child", "visited_at", "mode", "met", "late_reason"]),
    )
    concerns = [
        i["label"] for i in _checklist_items() if data.checklist.get(i["id"], {}).get("status") not in (None, "正常")
    ]
    summary = f"{visit.get_mode_display()}（{actor.shown_name}）" + (
        f"，关注：{'、'.join(concerns)}" if concerns else ""
    )
    timeline_add(
        child=child,
        kind=f"visit.{data.mode}",
        actor=actor,
        summary=summary,
        source_type="visit",
        source_id=str(visit.pk),
        at=data.visited_at,
    )
    _update_psych_flag(child, data.checklist, visited_on)
    for p in problems:
        problem_open(actor=actor, child=child, data=p, visit=visit, today=today)
    return visit


def _update_psych_flag(child: Child, checklist: dict[str, dict[str, str]], day: dt.date) -> None:
    """A psychological finding on a visit raises the cadence (§8); a later normal finding ends it."""
    answer = checklist.get("psychological", {}).get("status")
    if answer is None:
        return
    open_flag = ChildFlag.objects.filter(child=child, kind=PSYCH, until__isnull=True).first()
    if answer != "正常" and open_flag is None:
        ChildFlag.objects.create(
            child=child, kind=PSYCH, since=day, note=checklist["psychological"].get("note", "")[:300]
        )
        timeline_add(child=child, kind="visit.flag", summary="走访发现心理或行为异常，加大走访频次")
    elif answer == "正常" and open_flag is not None:
        open_flag.until = day
        open_flag.save(update_fields=["until"])
        timeline_add(child=child, kind="visit.flag", summary="心理状况恢复正常，走访频次恢复")
    else:
        return
    cadence_refresh([child.pk], day)


def problem_open(
    *, actor: User, child: Child, data: ProblemData, today: dt.date, visit: Visit | None = None
) -> Problem:
    """A problem found becomes a follow-up item owned by the one who found it (§8 发现问题及时报告)."""
    categories = problem_categories()
    if data.category not in categories:
        raise DomainError("bad_category", "问题类别应为" + "、".join(categories.values()))
    if not data.description.strip():
        raise DomainError("invalid", "请描述发现的问题", detail={"description": "请描述发现的问题"})
    due = data.due_date or today + dt.timedelta(days=int(_raw_rules()["problems"]["default_due_days"]))
    if due < today:
        raise DomainError("invalid", "处理期限不能早于今天", detail={"due_date": "处理期限不能早于今天"})
    problem = Problem.objects.create(
        child=child,
        visit=visit,
        category=data.category,
        description=data.description.strip(),
        owner=actor,
        due_date=due,
        created_by=actor,
    )
    ProblemUpdate.objects.create(
        problem=problem, actor_username=actor.get_username(), status=problem.status, note="发现问题"
    )
    audit_record(
        actor=actor,
        action="problem.open",
        object_type="problem",
        object_id=problem.pk,
        summary=f"儿童{child.child_no}发现问题（{categories[data.category]}）",
        after=snapshot(problem),
    )
    timeline_add(
        child=child,
        kind="problem.open",
        actor=actor,
        source_type="problem",
        source_id=problem.pk,
        summary=f"发现问题（{categories[data.category]}）：{problem.description}，期限{due}",
    )
    return problem


TRANSITIONS = {
    Problem.Status.OPEN: {Problem.Status.IN_PROGRESS, Problem.Status.SOLVED, Problem.Status.REFERRED},
    Problem.Status.IN_PROGRESS: {Problem.Status.SOLVED, Problem.Status.REFERRED, Problem.Status.IN_PROGRESS},
}


@transaction.atomic
def problem_update(*, actor: User, problem_pk: int, status: str, note: str = "", solution: str = "") -> Problem:
    """Move a problem along 待处理 → 处理中 → 已解决 / 已转介; closing needs the solution (解决方案)."""
    from guanai.visits.selectors import problem_get

    if not actor.can("problem.handle"):
        raise PermissionRefused("您的角色无权处理问题")
    problem = Problem.objects.select_for_update().get(pk=problem_get(actor, problem_pk).pk)
    allowed = TRANSITIONS.get(Problem.Status(problem.status), set())
    if status not in allowed:
        raise DomainError("bad_transition", f"问题当前为“{problem.get_status_display()}”，不能改为该状态")
    if status in (Problem.Status.SOLVED, Problem.Status.REFERRED) and not solution.strip():
        raise DomainError("invalid", "办结问题须填写解决方案或转介去向", detail={"solution": "请填写解决方案"})
    before = snapshot(problem, ["status", "solution"])
    problem.status = status
    if solution:
        problem.solution = solution.strip()
    if status in (Problem.Status.SOLVED, Problem.Status.REFERRED):
        problem.closed_at = timezone.now()
    problem.save()
    ProblemUpdate.objects.create(problem=problem, actor_username=actor.get_username(), status=status, note=note)
    audit_record(
        actor=actor,
        action="problem.update",
        object_type="problem",
        object_id=problem.pk,
        summary=f"问题{problem.pk}：{problem.get_status_display()}",
        before=before,
        after=snapshot(problem, ["status", "solution"]),
    )
    text = f"问题{problem.get_status_display()}：{problem.description[:60]}"
    if problem.solution and status in (Problem.Status.SOLVED, Problem.Status.REFERRED):
        text += f"；解决方案：{problem.solution}"
    elif note:
        text += f"；{note}"
    timeline_add(
        child=problem.child,
        kind=f"problem.{status}",
        actor=actor,
        summary=text,
        source_type="problem",
        source_id=problem.pk,
    )
    return problem


def _notify(user: User, *, kind: str, title: str, body: str, url: str, key: str) -> bool:
    """Create a notification once per ``key``; mail it when e-mail is configured. Returns whether new."""
    _, created = Notification.objects.get_or_create(
        dedupe_key=key, defaults={"user": user, "kind": kind, "title": title, "body": body, "url": url}
    )
    if created and user.email and getattr(settings, "GUANAI_SEND_EMAIL", False):
        send_mail(f"【关爱】{title}", body, None, [user.email], fail_silently=True)
        Notification.objects.filter(dedupe_key=key).update(emailed=True)
    return created


def _supervisors(code: str, level: int) -> list[User]:
    """Active supervisors (level 1) or district officers (level 2) whose region contains the village."""
    role, prefix_len = ("supervisor", 9) if level == 1 else ("district_officer", 6)
    return list(User.objects.filter(is_active=True, role=role, region_id=code[:prefix_len].ljust(12, "0")))


@transaction.atomic
def problems_escalate(*, today: dt.date) -> int:
    """Overdue problems go to the township supervisor, and later to the district (§8 督办). Idempotent."""
    cfg = _raw_rules()["problems"]
    to_district = int(cfg["escalate_to_district_after_days"])
    escalated = 0
    overdue = (
        Problem.objects.select_for_update()
        .filter(status__in=["open", "in_progress"], due_date__lt=today)
        .select_related("child")
    )
    for problem in overdue:
        target = 1 if (today - problem.due_date).days <= to_district else 2
        if problem.level >= target:
            continue
        problem.level, problem.escalated_on = target, today
        problem.save(update_fields=["level", "escalated_on"])
        who = "乡镇（街道）儿童督导员" if target == 1 else "区县民政部门"
        timeline_add(
            child=problem.child,
            kind="problem.escalate",
            source_type="problem",
            source_id=problem.pk,
            summary=f"问题逾期未办结（期限{problem.due_date}），已提交{who}督办",
        )
        for user in _supervisors(problem.child.village_id, target):
            _notify(
                user,
                kind="problem.escalate",
                title=f"逾期问题督办：{problem.child.name}",
                body=f"{problem.description[:100]}（期限{problem.due_date}）",
                url=f"/visits/problems/{problem.pk}/",
                key=f"problem:{problem.pk}:level:{target}",
            )
        escalated += 1
    return escalated


def reminders_run(*, today: dt.date) -> int:
    """Notify each director of this month's overdue and due-soon obligations, once per day and kind."""
    from guanai.visits.selectors import worklist_for

    sent = 0
    for director in User.objects.filter(is_active=True, role="director", region__isnull=False):
        items = worklist_for(director, today=today)
        overdue = [w for w in items if any(o.state == "已逾期" for o in w.obligations)]
        soon = [w for w in items if any(o.state == "即将到期" for o in w.obligations)]
        for kind, rows, label in (("overdue", overdue, "已逾期"), ("due_soon", soon, "即将到期")):
            if rows:
                names = "、".join(w.child.name for w in rows[:10]) + ("等" if len(rows) > 10 else "")
                sent += _notify(
                    director,
                    kind=f"visit.{kind}",
                    title=f"{len(rows)}名儿童的走访{label}",
                    body=names,
                    url="/visits/",
                    key=f"remind:{director.pk}:{kind}:{today}",
                )
    sent += problems_escalate(today=today)
    return sent


@transaction.atomic
def worklog_add(
    *, actor: User, day: dt.date, content: str, child_pk: int | None = None, today: dt.date
) -> WorkLogEntry:
    """工作日志 (§8): directors and supervisors record what they did."""
    if not actor.can("worklog.write"):
        raise PermissionRefused("您的角色无需填写工作日志")
    if not content.strip():
        raise DomainError("invalid", "请填写工作内容", detail={"content": "请填写工作内容"})
    if day > today:
        raise DomainError("invalid", "日期不能晚于今天", detail={"day": "日期不能晚于今天"})
    child = child_get(actor, child_pk) if child_pk else None
    entry = WorkLogEntry.objects.create(author=actor, day=day, content=content.strip(), child=child)
    audit_record(
        actor=actor,
        action="worklog.add",
        object_type="worklog",
        object_id=entry.pk,
        summary=f"工作日志 {day}",
        after=snapshot(entry),
    )
    if child is not None:
        timeline_add(
            child=child,
            kind="worklog",
            actor=actor,
            summary=f"工作日志：{entry.content[:200]}",
            source_type="worklog",
            source_id=entry.pk,
        )
    return entry


@transaction.atomic
def visit_settings_update(
    *, actor: User, raised_home_visit_months: int, due_soon_days: int, late_entry_days: int
) -> VisitSettings:
    """An administrator changes the raised cadence and windows (§8 '加大走访频次' is configurable)."""
    if not actor.can("settings.manage"):
        raise PermissionRefused("只有系统管理员可以修改走访设置")
    if raised_home_visit_months not in (1, 2, 3):
        raise DomainError("invalid", "加大频次后的入户周期应为1、2或3个月")
    if not (1 <= due_soon_days <= 31) or not (0 <= late_entry_days <= 31):
        raise DomainError("invalid", "天数应在0到31之间")
    row, _ = VisitSettings.objects.select_for_update().get_or_create(pk=1)
    before = snapshot(row, ["raised_home_visit_months", "due_soon_days", "late_entry_days"])
    row.raised_home_visit_months, row.due_soon_days, row.late_entry_days = (
        raised_home_visit_months,
        due_soon_days,
        late_entry_days,
    )
    row.updated_by = actor
    row.save()
    audit_record(
        actor=actor,
        action="visits.settings",
        object_type="visit_settings",
        object_id=1,
        summary="修改走访设置",
        before=before,
        after=snapshot(row, ["raised_home_visit_months", "due_soon_days", "late_entry_days"]),
    )
    return row
