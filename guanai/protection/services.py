"""Child-protection services (§4–§7): mandatory reports and their routing, cases, guardianship assessments,
entrusted-care checks, placements, court and procuratorate actions, risk grades.

Every change is audited in its own transaction and, where a registry child is known, added to the child's
timeline. A report's reporter never appears in a timeline (lines are written as 系统) so that the child's file
does not reveal who reported.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.utils import timezone

from guanai import privacy
from guanai.accounts.models import User
from guanai.accounts.scope import covers
from guanai.audit.services import access_record, audit_record, snapshot
from guanai.bulk import bulk_insert, bulk_set, id_array
from guanai.lib import idnumber, regioncode
from guanai.lib.errors import DomainError, NotFound, PermissionRefused
from guanai.protection import instrument as instrument_lib
from guanai.protection.models import (
    Assessment,
    CarerAction,
    CarerCheck,
    Case,
    CaseNote,
    CaseTask,
    ChildRisk,
    Department,
    Instrument,
    InstrumentVersion,
    LegalAction,
    Placement,
    Report,
    ReportFeedback,
    ReportRouting,
)
from guanai.protection.selectors import (
    ACTIVE_ROUTING,
    OPEN_REPORT,
    ReportAccess,
    assessment_get,
    carer_actions,
    carer_checklist,
    case_can_manage,
    case_get,
    default_reporter_kind_for,
    departments,
    instrument_current,
    protection_rules,
    region_recipients,
    report_get,
    reporter_kinds,
    risk_compute,
    risk_rules,
    routing_can_handle,
    routing_get,
    situation_labels,
    situations,
)
from guanai.regions.models import Region
from guanai.registry.models import Child
from guanai.registry.selectors import child_get, child_relations
from guanai.registry.timeline import timeline_add
from guanai.visits.models import Notification, Problem

log = logging.getLogger("guanai.protection")

REPORT_SAFE_FIELDS = [
    "situations",
    "region",
    "child",
    "child_sex",
    "child_age",
    "school_involved",
    "reporter_kind",
    "status",
    "filed_at",
]


def _invalid(field_name: str, message: str) -> DomainError:
    return DomainError("invalid", message, detail={field_name: message})


def _region(code: str, *, field_name: str = "region") -> Region:
    try:
        normal = regioncode.normalise(code)
    except regioncode.RegionCodeError as exc:
        raise _invalid(field_name, exc.message) from None
    region = Region.objects.filter(code=normal).first()
    if region is None:
        raise _invalid(field_name, f"区划代码{normal}不存在")
    return region


def _notify(user: User, *, kind: str, title: str, body: str, url: str, key: str) -> bool:
    """An in-app notice, once per ``key`` (reruns of a job or a retry never duplicate it)."""
    _, created = Notification.objects.get_or_create(
        dedupe_key=key[:200], defaults={"user": user, "kind": kind, "title": title[:200], "body": body, "url": url}
    )
    return created


# --- mandatory reports (强制报告) ------------------------------------------------------------------------


@dataclass
class ReportData:
    situations: list[str]
    description: str
    reporter_phone: str
    child_pk: int | None = None
    region_code: str = ""
    child_name: str = ""
    child_sex: str = ""
    child_age: int | None = None
    child_location: str = ""
    occurred_at: dt.datetime | None = None
    occurred_place: str = ""
    school_involved: bool = False
    reporter_kind: str = ""
    reporter_unit: str = ""
    reporter_name: str = ""
    client_key: str = ""


def report_file(*, actor: User, data: ReportData, now: dt.datetime) -> Report:
    """File a mandatory report (§6; 强制报告制度意见 2020): routed at once to the police, civil affairs and — when
    a school is involved or a school reports — education of the **child's** location.

    The report and its routings commit first; notifying the receiving accounts is a separate step after the
    commit, retried by the deadline job until delivered, so a failing notification can never lose a report.
    Idempotent on ``client_key`` (a phone resubmitting after a dropped connection gets the first report back).
    """
    if data.client_key:
        existing = Report.objects.filter(client_key=data.client_key, reporter=actor).first()
        if existing is not None:
            return existing
    try:
        report = _report_create(actor=actor, data=data, now=now)
    except IntegrityError:
        # Two submissions with the same key raced; the other one holds the report.
        existing = (
            Report.objects.filter(client_key=data.client_key, reporter=actor).first() if data.client_key else None
        )
        if existing is None:
            raise
        return existing
    return report


def _check_report(actor: User, data: ReportData, now: dt.datetime) -> tuple[Child | None, Region, str, str]:
    if not actor.can("report.file"):
        raise PermissionRefused("您的角色无权提交强制报告")
    known = {s["id"] for s in situations()}
    ticked = [s for s in dict.fromkeys(data.situations) if s]
    if not ticked:
        raise _invalid("situations", "请至少勾选一种需要报告的情形")
    if set(ticked) - known:
        raise _invalid("situations", "情形无效")
    data.situations = ticked
    if not data.description.strip():
        raise _invalid("description", "请描述发现的情况")
    phone = idnumber.clean(data.reporter_phone)
    if not (phone.isdigit() and 7 <= len(phone) <= 12):
        raise _invalid("reporter_phone", "请填写正确的联系电话，以便接收部门核实情况")
    kind = data.reporter_kind or default_reporter_kind_for(actor)
    if kind not in reporter_kinds():
        raise _invalid("reporter_kind", "报告单位类型无效")
    if data.occurred_at is not None:
        if timezone.is_naive(data.occurred_at):
            data.occurred_at = timezone.make_aware(data.occurred_at)
        if data.occurred_at > now + dt.timedelta(minutes=5):
            raise _invalid("occurred_at", "发现时间不能晚于现在")
    child: Child | None = None
    if data.child_pk:
        # A reporter may pick a registry child only inside their own scope; the routing then follows the
        # child's village, wherever the reporter sits.
        child = child_get(actor, data.child_pk)
        region = Region.objects.get(code=child.village_id)
    else:
        if not data.region_code:
            raise _invalid("region_code", "请选择儿童所在的区县（乡镇、村）")
        region = _region(data.region_code, field_name="region_code")
        if region.level < protection_rules()["routing_level"]:
            raise _invalid("region_code", "请至少选择到区县")
        if not (data.child_name.strip() or data.child_location.strip()):
            raise _invalid("child_location", "请填写儿童姓名（如知道）或儿童所在位置")
        if data.child_sex not in ("", "M", "F"):
            raise _invalid("child_sex", "性别无效")
        if data.child_age is not None and not 0 <= data.child_age <= 17:
            raise _invalid("child_age", "未成年人年龄应在0到17岁之间")
    return child, region, phone, kind


@transaction.atomic
def _report_create(*, actor: User, data: ReportData, now: dt.datetime) -> Report:
    child, region, phone, kind = _check_report(actor, data, now)
    identity = {
        "name": data.reporter_name.strip() or actor.shown_name,
        "unit": data.reporter_unit.strip() or actor.organisation,
        "phone": phone,
        "username": actor.get_username(),
    }
    report = Report.objects.create(
        client_key=data.client_key or None,
        situations=data.situations,
        description=data.description.strip(),
        occurred_at=data.occurred_at,
        occurred_place=data.occurred_place.strip()[:200],
        region=region,
        child=child,
        child_name="" if child else data.child_name.strip()[:50],
        child_sex=child.sex if child else data.child_sex,
        child_age=None if child else data.child_age,
        child_location="" if child else data.child_location.strip()[:200],
        school_involved=data.school_involved or kind == "school",
        reporter=actor,
        reporter_kind=kind,
        reporter_identity_enc=privacy.keyring().encrypt(json.dumps(identity, ensure_ascii=False)),
        filed_at=now,
    )
    district = _routing_region(region)
    routings = [
        _routing_create(report, department=code, region=district, now=now)
        for code, spec in departments().items()
        if spec.get("always") or (code == Department.EDUCATION and report.school_involved)
    ]
    labels = "、".join(situation_labels(report.situations))
    to = "、".join(r.get_department_display() for r in routings)
    audit_record(
        actor=actor,
        action="report.file",
        object_type="report",
        object_id=report.pk,
        summary=f"提交强制报告{report.number}，分送{to}",
        after=snapshot(report, REPORT_SAFE_FIELDS),
    )
    if child is not None:
        # Written as 系统, never as the reporter: the child's file must not reveal who reported.
        timeline_add(
            child=child,
            kind="report.file",
            summary=f"收到强制报告{report.number}（{labels}），已分送{to}",
            source_type="report",
            source_id=report.pk,
            at=now,
        )
        risk_refresh(child_ids=[child.pk], today=timezone.localdate(now))
    ids = [r.pk for r in routings]
    transaction.on_commit(lambda: _deliver_after_commit(ids), robust=True)
    return report


def _routing_region(region: Region) -> Region:
    """The jurisdiction a routing goes to: the district of the child's location (rules: routing_level)."""
    level = int(protection_rules()["routing_level"])
    code = regioncode.prefix(region.code, level).ljust(12, "0") if region.level > level else region.code
    return Region.objects.filter(code=code).first() or region


def _routing_create(report: Report, *, department: str, region: Region, now: dt.datetime) -> ReportRouting:
    deadlines = protection_rules()["deadlines"]
    return ReportRouting.objects.create(
        report=report,
        department=department,
        region=region,
        created_at=now,
        accept_due=now + dt.timedelta(hours=int(deadlines["accept_hours"])),
        result_due=now + dt.timedelta(days=int(deadlines["first_result_days"])),
    )


def _deliver_after_commit(routing_ids: list[int]) -> None:
    try:
        routings_deliver(now=timezone.now(), routing_ids=routing_ids)
    except Exception:  # the report is saved; the deadline job delivers later
        log.exception("report notifications failed; the deadline job will retry")


def routings_deliver(*, now: dt.datetime, routing_ids: list[int] | None = None) -> int:
    """Notify the receiving accounts of routings not yet delivered. Each routing in its own transaction, so one
    failure does not hold back the others; a routing with nobody to receive it stays undelivered and is retried.
    Returns the number of routings delivered."""
    qs = ReportRouting.objects.filter(notified_at__isnull=True, status__in=ACTIVE_ROUTING)
    if routing_ids is not None:
        qs = qs.filter(pk__in=routing_ids)
    delivered = 0
    for pk in qs.order_by("id").values_list("pk", flat=True):
        try:
            delivered += _deliver_one(pk, now)
        except Exception:
            log.exception("delivering report routing %s failed; will retry", pk)
    return delivered


@transaction.atomic
def _deliver_one(pk: int, now: dt.datetime) -> bool:
    routing = ReportRouting.objects.select_for_update().select_related("report").get(pk=pk)
    if routing.notified_at is not None:
        return False
    recipients = region_recipients(routing.department, routing.region_id, above=False)
    if not recipients:
        # No account of that department in the district yet: the level above receives it meanwhile.
        recipients = region_recipients(routing.department, routing.region_id, above=True)
    if not recipients:
        log.warning("report routing %s has no receiving account; will retry", pk)
        return False
    _notify_users(
        recipients,
        kind="report.received",
        title=f"新的强制报告待受理：{routing.report.number}",
        body=_notice_body(routing),
        url=f"/protection/reports/{routing.report_id}/",
        key=f"report-routing:{routing.pk}:received",
    )
    routing.notified_at = now
    routing.save(update_fields=["notified_at"])
    return True


def _notice_body(routing: ReportRouting) -> str:
    # Notices may be mailed: situations, place and deadline only — no child's name, no reporter.
    labels = "、".join(situation_labels(routing.report.situations))
    due = timezone.localtime(routing.accept_due).strftime("%Y-%m-%d %H:%M")
    return f"情形：{labels}。儿童所在地：{routing.report.region.name}。请于{due}前受理。"


def _notify_users(users: list[User], *, kind: str, title: str, body: str, url: str, key: str) -> int:
    return sum(_notify(u, kind=kind, title=title, body=body, url=url, key=f"{key}:{u.pk}") for u in users)


def _handling_routing(actor: User, routing_pk: int | str) -> ReportRouting:
    # Two officers of one department may act at once: lock the routing, then check its state.
    routing = routing_get(routing_pk)
    routing = ReportRouting.objects.select_for_update().select_related("report", "region").get(pk=routing.pk)
    if not routing_can_handle(actor, routing):
        raise PermissionRefused("该报告不在您的管辖区域或不属于您的部门，不能办理")
    return routing


def _report_status_refresh(report: Report, now: dt.datetime) -> None:
    statuses = list(ReportRouting.objects.filter(report=report).values_list("status", flat=True))
    active = [s for s in statuses if s in ACTIVE_ROUTING]
    if not active and ReportRouting.Status.CONCLUDED in statuses:
        status = Report.Status.CONCLUDED
    elif ReportRouting.Status.ACCEPTED in statuses or ReportRouting.Status.CONCLUDED in statuses:
        status = Report.Status.ACCEPTED
    else:
        status = Report.Status.ROUTED
    if status != report.status:
        report.status = status
        report.concluded_at = now if status == Report.Status.CONCLUDED else None
        report.save(update_fields=["status", "concluded_at"])
        if report.child_id is not None:
            risk_refresh(child_ids=[report.child_id], today=timezone.localdate(now))


@transaction.atomic
def report_accept(*, actor: User, routing_pk: int | str, now: dt.datetime) -> ReportRouting:
    """受理: a receiving department of the child's jurisdiction takes the report on."""
    routing = _handling_routing(actor, routing_pk)
    if routing.status != ReportRouting.Status.PENDING:
        raise DomainError("not_pending", f"该报告当前为“{routing.get_status_display()}”，不能受理", status=409)
    routing.status, routing.accepted_at, routing.accepted_by = ReportRouting.Status.ACCEPTED, now, actor
    routing.save(update_fields=["status", "accepted_at", "accepted_by"])
    _report_status_refresh(routing.report, now)
    audit_record(
        actor=actor,
        action="report.accept",
        object_type="report_routing",
        object_id=routing.pk,
        summary=f"{routing.get_department_display()}受理强制报告{routing.report.number}",
        after={"status": routing.status, "accepted_at": now},
    )
    if routing.report.child_id is not None:
        timeline_add(
            child=routing.report.child_id,
            kind="report.accept",
            actor=actor,
            summary=f"{routing.get_department_display()}已受理强制报告{routing.report.number}",
            source_type="report",
            source_id=routing.report_id,
            at=now,
        )
    return routing


@transaction.atomic
def report_transfer(
    *,
    actor: User,
    routing_pk: int | str,
    reason: str,
    now: dt.datetime,
    department: str = "",
    region_code: str = "",
) -> ReportRouting:
    """转交: pass a routing to another jurisdiction or department, with the reason; the new routing gets its own
    deadlines and its own notification."""
    routing = _handling_routing(actor, routing_pk)
    if not routing.is_active:
        raise DomainError("not_active", f"该报告当前为“{routing.get_status_display()}”，不能转交", status=409)
    if not reason.strip():
        raise _invalid("reason", "请填写转交理由")
    department = department or routing.department
    if department not in departments():
        raise _invalid("department", "接收部门无效")
    target = _routing_region(_region(region_code, field_name="region_code")) if region_code else routing.region
    if target.level > int(protection_rules()["routing_level"]):
        raise _invalid("region_code", "请选择区县")
    if department == routing.department and target.code == routing.region_id:
        raise _invalid("region_code", "请选择其他管辖区域或部门")
    if ReportRouting.objects.filter(
        report=routing.report, department=department, region=target, status__in=ACTIVE_ROUTING
    ).exists():
        raise DomainError("duplicate_routing", "该部门已收到此报告，无需转交", status=409)
    new = _routing_create(routing.report, department=department, region=target, now=now)
    routing.status, routing.transferred_at, routing.transferred_by = ReportRouting.Status.TRANSFERRED, now, actor
    routing.transfer_reason, routing.transferred_to = reason.strip()[:300], new
    routing.save(update_fields=["status", "transferred_at", "transferred_by", "transfer_reason", "transferred_to"])
    _report_status_refresh(routing.report, now)
    text = (
        f"{routing.get_department_display()}（{routing.region.name}）"
        f"转交{new.get_department_display()}（{target.name}）"
    )
    audit_record(
        actor=actor,
        action="report.transfer",
        object_type="report_routing",
        object_id=routing.pk,
        summary=f"强制报告{routing.report.number}：{text}",
        after={"to_routing": new.pk, "department": department, "region": target.code, "reason": reason.strip()},
    )
    if routing.report.child_id is not None:
        timeline_add(
            child=routing.report.child_id,
            kind="report.transfer",
            actor=actor,
            summary=f"强制报告{routing.report.number}由{text}：{reason.strip()[:100]}",
            source_type="report",
            source_id=routing.report_id,
            at=now,
        )
    transaction.on_commit(lambda: _deliver_after_commit([new.pk]), robust=True)
    return new


@transaction.atomic
def report_feedback(
    *, actor: User, routing_pk: int | str, text: str, now: dt.datetime, concludes: bool = False
) -> ReportFeedback:
    """处理结果反馈: the receiving department informs the reporter of the outcome; ``concludes`` closes its part."""
    routing = _handling_routing(actor, routing_pk)
    if routing.status != ReportRouting.Status.ACCEPTED:
        raise DomainError("not_accepted", "请先受理该报告，再反馈处理结果", status=409)
    if not text.strip():
        raise _invalid("text", "请填写处理结果")
    feedback = ReportFeedback.objects.create(
        report=routing.report, routing=routing, text=text.strip(), concludes=concludes, at=now, by=actor
    )
    fields = []
    if routing.first_result_at is None:
        routing.first_result_at = now
        fields.append("first_result_at")
    if concludes:
        routing.status, routing.concluded_at = ReportRouting.Status.CONCLUDED, now
        fields += ["status", "concluded_at"]
    if fields:
        routing.save(update_fields=fields)
    _report_status_refresh(routing.report, now)
    audit_record(
        actor=actor,
        action="report.feedback",
        object_type="report_routing",
        object_id=routing.pk,
        summary=f"{routing.get_department_display()}反馈强制报告{routing.report.number}的处理结果"
        + ("（办结）" if concludes else ""),
        after={"feedback": feedback.pk, "concludes": concludes},
    )
    if routing.report.child_id is not None:
        done = "（办结）" if concludes else ""
        timeline_add(
            child=routing.report.child_id,
            kind="report.feedback",
            actor=actor,
            summary=f"{routing.get_department_display()}反馈处理结果{done}：{text.strip()[:120]}",
            source_type="report",
            source_id=routing.report_id,
            at=now,
        )
    reporter, number, report_pk = routing.report.reporter, routing.report.number, routing.report_id
    transaction.on_commit(
        lambda: _notify(
            reporter,
            kind="report.feedback",
            title=f"您提交的强制报告{number}有处理结果",
            body="请登录查看接收部门反馈的处理结果。",
            url=f"/protection/reports/{report_pk}/",
            key=f"report-feedback:{feedback.pk}",
        ),
        robust=True,
    )
    return feedback


@dataclass
class ReportView:
    report: Report
    access: ReportAccess
    identity: dict[str, str] | None
    routings: list[ReportRouting]
    feedback: list[ReportFeedback]
    situation_labels: list[str] = field(default_factory=list)


def report_view(*, user: User, pk: int | str) -> ReportView:
    """Open a report. Every view is recorded; revealing the reporter's identity is recorded separately.

    The reporter gets status and feedback; the local workforce gets the content; only handling departments get
    the reporter's identity.
    """
    report, access = report_get(user, pk)
    access_record(actor=user, action="report.view", object_type="report", object_id=report.pk)
    identity = None
    if access.identity:
        identity = json.loads(privacy.reveal(report.reporter_identity_enc))
        access_record(
            actor=user, action="report.reporter", object_type="report", object_id=report.pk, field="reporter_identity"
        )
    routings = list(report.routings.select_related("region", "accepted_by").order_by("created_at", "id"))
    return ReportView(
        report=report,
        access=access,
        identity=identity,
        routings=routings,
        feedback=list(report.feedback.select_related("routing").order_by("at", "id")),
        situation_labels=situation_labels(report.situations),
    )


def reports_escalate(*, now: dt.datetime) -> dict[str, int]:
    """The deadline run (hourly): deliver notifications still undelivered, then escalate routings that missed a
    deadline — not accepted within 24 hours, no first result within 7 days (rules/protection.yaml) — to the same
    department one level up (district → city), each escalation notified once. Idempotent."""
    delivered = routings_deliver(now=now)
    escalated = 0
    late_accept = ReportRouting.objects.filter(
        status=ReportRouting.Status.PENDING, accept_due__lt=now, accept_escalated_at__isnull=True
    )
    for pk in late_accept.values_list("pk", flat=True):
        escalated += _escalate_safely(pk, "accept", now)
    late_result = ReportRouting.objects.filter(
        status__in=ACTIVE_ROUTING, first_result_at__isnull=True, result_due__lt=now, result_escalated_at__isnull=True
    )
    for pk in late_result.values_list("pk", flat=True):
        escalated += _escalate_safely(pk, "result", now)
    return {"delivered": delivered, "escalated": escalated}


def _escalate_safely(pk: int, which: str, now: dt.datetime) -> bool:
    # One routing's failure must not hold back the others; it is retried on the next run.
    try:
        return _escalate(pk, which, now)
    except Exception:
        log.exception("escalating report routing %s (%s) failed; will retry", pk, which)
        return False


@transaction.atomic
def _escalate(pk: int, which: str, now: dt.datetime) -> bool:
    routing = ReportRouting.objects.select_for_update().select_related("report", "region").get(pk=pk)
    marker = "accept_escalated_at" if which == "accept" else "result_escalated_at"
    if getattr(routing, marker) is not None or not routing.is_active:
        return False
    setattr(routing, marker, now)
    routing.save(update_fields=[marker])
    if which == "accept":
        hours = protection_rules()["deadlines"]["accept_hours"]
        what = f"超过{hours}小时未受理"
    else:
        days = protection_rules()["deadlines"]["first_result_days"]
        what = f"超过{days}天未反馈处理结果"
    dept = routing.get_department_display()
    upper = region_recipients(routing.department, routing.region_id, above=True)
    _notify_users(
        upper,
        kind="report.escalate",
        title=f"强制报告{routing.report.number}{what}（{routing.region.name}{dept}）",
        body=_notice_body(routing),
        url=f"/protection/reports/{routing.report_id}/",
        key=f"report-routing:{routing.pk}:escalate-{which}",
    )
    audit_record(
        actor=None,
        action="report.escalate",
        object_type="report_routing",
        object_id=routing.pk,
        summary=f"强制报告{routing.report.number}{routing.region.name}{dept}{what}，已提交上级督办",
        after={"which": which, "notified": [u.get_username() for u in upper]},
    )
    if routing.report.child_id is not None:
        timeline_add(
            child=routing.report.child_id,
            kind="report.escalate",
            summary=f"强制报告{routing.report.number}：{dept}{what}，已提交上级督办",
            source_type="report",
            source_id=routing.report_id,
            at=now,
        )
    return True


# --- cases (个案) ----------------------------------------------------------------------------------------

OPEN_STAGES = [Case.Stage.ACCEPTED, Case.Stage.VERIFYING, Case.Stage.PLANNING, Case.Stage.INTERVENING]


def _require_manage(actor: User, case: Case) -> None:
    if not case_can_manage(actor, case):
        raise PermissionRefused("您无权办理该个案（需个案管理权限且在管辖范围内）")


def _locked_case(actor: User, pk: int | str) -> Case:
    case = case_get(actor, pk)
    # Two officers may move one case at once: lock it, then check the state.
    # of=self: the child is a nullable join, which PostgreSQL cannot lock.
    return Case.objects.select_for_update(of=("self",)).select_related("child", "region").get(pk=case.pk)


def _case_note(case: Case, actor: User, kind: str, text: str, now: dt.datetime) -> CaseNote:
    return CaseNote.objects.create(case=case, kind=kind, text=text, author=actor, at=now)


def _case_timeline(case: Case, actor: User | None, kind: str, summary: str, now: dt.datetime) -> None:
    if case.child_id is not None:
        timeline_add(
            child=case.child_id,
            kind=f"case.{kind}",
            actor=actor,
            summary=f"个案{case.number}：{summary}",
            source_type="case",
            source_id=case.pk,
            at=now,
        )


def _case_create(
    *,
    actor: User,
    title: str,
    source: str,
    region: Region,
    now: dt.datetime,
    child: Child | None = None,
    subject: str = "",
    report: Report | None = None,
    problem: Problem | None = None,
    assessment: Assessment | None = None,
    department: str = Department.CIVIL_AFFAIRS,
    owner: User | None = None,
) -> Case:
    case = Case.objects.create(
        child=child,
        subject=subject[:200],
        region=region,
        title=title[:200],
        source=source,
        report=report,
        problem=problem,
        assessment=assessment,
        department=department,
        owner=owner,
        created_by=actor,
        created_at=now,
    )
    _case_note(case, actor, CaseNote.Kind.STAGE, f"立案（{case.get_source_display()}）：{case.title}", now)
    audit_record(
        actor=actor,
        action="case.open",
        object_type="case",
        object_id=case.pk,
        summary=f"立案{case.number}（{case.get_source_display()}）",
        after=snapshot(case),
    )
    _case_timeline(case, actor, "open", f"立案（{case.get_source_display()}）：{case.title}", now)
    if child is not None:
        risk_refresh(child_ids=[child.pk], today=timezone.localdate(now))
    return case


@transaction.atomic
def case_open(
    *,
    actor: User,
    now: dt.datetime,
    source: str = Case.Source.MANUAL,
    title: str = "",
    child_pk: int | None = None,
    report_pk: int | None = None,
    problem_pk: int | None = None,
    assessment_pk: int | None = None,
    subject: str = "",
    region_code: str = "",
    department: str = Department.CIVIL_AFFAIRS,
) -> Case:
    """立案 (§5–§6): from a report, a problem found on a visit, an assessment, or by hand (later: discovery)."""
    if not actor.can("case.manage"):
        raise PermissionRefused("您的角色无权立案")
    if source not in Case.Source.values:
        raise _invalid("source", "案件来源无效")
    if department not in Department.values:
        raise _invalid("department", "牵头部门无效")
    child: Child | None = None
    report = problem = assessment = None
    if source == Case.Source.REPORT:
        if not report_pk:
            raise _invalid("report", "请指定强制报告")
        report, access = report_get(actor, report_pk)
        if not access.content:
            raise NotFound()
        if Case.objects.filter(report=report).exclude(stage=Case.Stage.CLOSED).exists():
            raise DomainError("duplicate_case", f"强制报告{report.number}已立案", status=409)
        child, region = report.child, report.region
        subject = (
            "" if child else report.child_label + (f"（{report.child_location}）" if report.child_location else "")
        )
        title = title or "强制报告：" + "、".join(situation_labels(report.situations))
    elif source == Case.Source.PROBLEM:
        from guanai.visits.selectors import problem_get

        if not problem_pk:
            raise _invalid("problem", "请指定走访发现的问题")
        problem = problem_get(actor, problem_pk)
        if Case.objects.filter(problem=problem).exclude(stage=Case.Stage.CLOSED).exists():
            raise DomainError("duplicate_case", "该问题已立案", status=409)
        child = problem.child
        region = Region.objects.get(code=child.village_id)
        title = title or f"走访发现问题：{problem.description[:80]}"
    elif source == Case.Source.ASSESSMENT:
        if not assessment_pk:
            raise _invalid("assessment", "请指定评估")
        assessment = assessment_get(actor, assessment_pk)
        child = assessment.child
        region = Region.objects.get(code=child.village_id)
        title = title or f"家庭监护能力评估：{assessment.result_label}"
    else:
        if child_pk:
            child = child_get(actor, child_pk)
            region = Region.objects.get(code=child.village_id)
        else:
            if not subject.strip():
                raise _invalid("subject", "请选择儿童，或描述未登记的儿童")
            region = _region(region_code, field_name="region_code")
        if not title.strip():
            raise _invalid("title", "请填写案由")
    if not covers(actor, region.code):
        raise DomainError("out_of_scope", "该儿童所在地不在您的管辖范围内", status=403)
    return _case_create(
        actor=actor,
        title=title.strip(),
        source=source,
        region=region,
        now=now,
        child=child,
        subject=subject.strip(),
        report=report,
        problem=problem,
        assessment=assessment,
        department=department,
        owner=actor,
    )


@transaction.atomic
def case_stage_change(*, actor: User, case_pk: int | str, stage: str, now: dt.datetime, note: str = "") -> Case:
    """Move a case along 受理 → 核查评估 → 制定计划 → 实施干预; a step back needs a note. 结案 goes through
    ``case_close_request`` and its approval."""
    case = _locked_case(actor, case_pk)
    _require_manage(actor, case)
    if not case.is_open:
        raise DomainError("closed", "个案已结案", status=409)
    if stage == Case.Stage.CLOSED:
        raise _invalid("stage", "结案请提交结案申请，经审批后结案")
    if stage not in OPEN_STAGES or stage == case.stage:
        raise _invalid("stage", "阶段无效")
    current, target = OPEN_STAGES.index(Case.Stage(case.stage)), OPEN_STAGES.index(Case.Stage(stage))
    if target > current + 1:
        raise _invalid("stage", f"请按顺序推进，下一阶段为“{OPEN_STAGES[current + 1].label}”")
    if target < current and not note.strip():
        raise _invalid("note", "退回上一阶段请说明原因")
    before = case.get_stage_display()
    case.stage = stage
    case.save(update_fields=["stage"])
    text = f"阶段：{before} → {case.get_stage_display()}" + (f"（{note.strip()}）" if note.strip() else "")
    _case_note(case, actor, CaseNote.Kind.STAGE, text, now)
    audit_record(
        actor=actor,
        action="case.stage",
        object_type="case",
        object_id=case.pk,
        summary=f"个案{case.number}{text}",
        before={"stage": OPEN_STAGES[current].value},
        after={"stage": stage},
    )
    _case_timeline(case, actor, "stage", text, now)
    return case


@transaction.atomic
def case_transfer(
    *, actor: User, case_pk: int | str, department: str, reason: str, now: dt.datetime, region_code: str = ""
) -> Case:
    """Transfer a case to another lead department (and, if given, another jurisdiction), with the reason."""
    case = _locked_case(actor, case_pk)
    _require_manage(actor, case)
    if not case.is_open:
        raise DomainError("closed", "个案已结案", status=409)
    if department not in Department.values:
        raise _invalid("department", "牵头部门无效")
    if not reason.strip():
        raise _invalid("reason", "请填写转交理由")
    region = _region(region_code, field_name="region_code") if region_code else case.region
    if case.child_id is not None and region.code != case.region_id:
        raise _invalid("region_code", "已登记儿童的个案随儿童所在村（社区）管辖，请先变更儿童档案")
    if department == case.department and region.code == case.region_id:
        raise _invalid("department", "请选择其他部门或管辖区域")
    before = {"department": case.department, "region": case.region_id}
    case.department, case.region = department, region
    case.save(update_fields=["department", "region"])
    text = f"转交{case.get_department_display()}（{region.name}）：{reason.strip()}"
    _case_note(case, actor, CaseNote.Kind.TRANSFER, text, now)
    audit_record(
        actor=actor,
        action="case.transfer",
        object_type="case",
        object_id=case.pk,
        summary=f"个案{case.number}{text}"[:300],
        before=before,
        after={"department": department, "region": region.code},
    )
    _case_timeline(case, actor, "transfer", text, now)
    return case


@transaction.atomic
def case_note_add(*, actor: User, case_pk: int | str, text: str, now: dt.datetime) -> CaseNote:
    """A case note, by a case manager or by someone who owns a task in the case."""
    case = _locked_case(actor, case_pk)
    if not (case_can_manage(actor, case) or case.tasks.filter(owner=actor).exists()):
        raise PermissionRefused("您无权在该个案中添加记录")
    if not text.strip():
        raise _invalid("text", "请填写记录内容")
    note = _case_note(case, actor, CaseNote.Kind.NOTE, text.strip(), now)
    audit_record(
        actor=actor, action="case.note", object_type="case", object_id=case.pk, summary=f"个案{case.number}添加记录"
    )
    _case_timeline(case, actor, "note", f"记录：{text.strip()[:150]}", now)
    return note


def _owner_fits(owner: User, case: Case) -> bool:
    """A task goes to someone working on the child's place: a director in the village, or a supervisor or
    district officer above it (or, for a case known only at district level, anyone inside the district)."""
    if not owner.is_active or owner.region_id is None:
        return False
    return covers(owner, case.region_id) or owner.region_id.startswith(regioncode.prefix(case.region_id))


@transaction.atomic
def case_task_add(
    *, actor: User, case_pk: int | str, title: str, owner_pk: int, due_date: dt.date, today: dt.date, now: dt.datetime
) -> CaseTask:
    case = _locked_case(actor, case_pk)
    _require_manage(actor, case)
    if not case.is_open or case.close_requested_at is not None:
        raise DomainError("closed", "个案已结案或正在审批结案，不能添加任务", status=409)
    if not title.strip():
        raise _invalid("title", "请填写任务内容")
    if due_date < today:
        raise _invalid("due_date", "期限不能早于今天")
    owner = User.objects.filter(pk=owner_pk).first()
    if owner is None or not _owner_fits(owner, case):
        raise _invalid("owner", "负责人应为该儿童所在地的工作人员")
    task = CaseTask.objects.create(
        case=case, title=title.strip()[:200], owner=owner, due_date=due_date, created_by=actor, created_at=now
    )
    audit_record(
        actor=actor,
        action="case.task",
        object_type="case_task",
        object_id=task.pk,
        summary=f"个案{case.number}新增任务：{task.title}（{owner.shown_name}，{due_date}）",
        after=snapshot(task),
    )
    _case_timeline(case, actor, "task", f"新增任务：{task.title}，负责人{owner.shown_name}，期限{due_date}", now)
    _notify(
        owner,
        kind="case.task",
        title=f"个案任务：{task.title}",
        body=f"个案{case.number}，期限{due_date}",
        url=f"/protection/cases/{case.pk}/",
        key=f"case-task:{task.pk}:assigned",
    )
    return task


@transaction.atomic
def case_task_complete(
    *, actor: User, task_pk: int | str, result: str, now: dt.datetime, cancel: bool = False
) -> CaseTask:
    """Complete (or, for a case manager, cancel) a task, saying what was done."""
    try:
        task = CaseTask.objects.select_for_update().select_related("case").get(pk=int(task_pk))
    except (CaseTask.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None
    case = case_get(actor, task.case_id)
    manager = case_can_manage(actor, case)
    if not (manager or (task.owner_id == actor.pk and not cancel)):
        raise PermissionRefused("只有任务负责人或个案承办人可以办结任务")
    if task.status != CaseTask.Status.OPEN:
        raise DomainError("not_open", "该任务已办结", status=409)
    if not result.strip():
        raise _invalid("result", "请填写完成情况" if not cancel else "请填写取消原因")
    task.status = CaseTask.Status.CANCELLED if cancel else CaseTask.Status.DONE
    task.done_at, task.result = now, result.strip()[:300]
    task.save(update_fields=["status", "done_at", "result"])
    audit_record(
        actor=actor,
        action="case.task_done",
        object_type="case_task",
        object_id=task.pk,
        summary=f"个案{case.number}任务{task.get_status_display()}：{task.title}",
        after={"status": task.status, "result": task.result},
    )
    _case_timeline(case, actor, "task", f"任务{task.get_status_display()}：{task.title}（{task.result}）", now)
    return task


@transaction.atomic
def case_close_request(*, actor: User, case_pk: int | str, reason: str, now: dt.datetime) -> Case:
    """申请结案 with the reason; refused while tasks are open. Closing needs another case manager's approval."""
    case = _locked_case(actor, case_pk)
    _require_manage(actor, case)
    if not case.is_open:
        raise DomainError("closed", "个案已结案", status=409)
    if case.close_requested_at is not None:
        raise DomainError("close_requested", "已提交结案申请，等待审批", status=409)
    if not reason.strip():
        raise _invalid("reason", "请填写结案理由")
    _refuse_open_tasks(case)
    case.close_reason, case.close_requested_at, case.close_requested_by = reason.strip()[:300], now, actor
    case.save(update_fields=["close_reason", "close_requested_at", "close_requested_by"])
    _case_note(case, actor, CaseNote.Kind.CLOSE, f"申请结案：{case.close_reason}", now)
    audit_record(
        actor=actor,
        action="case.close_request",
        object_type="case",
        object_id=case.pk,
        summary=f"个案{case.number}申请结案：{case.close_reason}"[:300],
    )
    _case_timeline(case, actor, "close_request", f"申请结案：{case.close_reason}", now)
    return case


def _refuse_open_tasks(case: Case) -> None:
    open_tasks = case.tasks.filter(status=CaseTask.Status.OPEN).count()
    if open_tasks:
        raise DomainError(
            "open_tasks", f"还有{open_tasks}项任务未完成，不能结案", detail={"open_tasks": open_tasks}, status=409
        )


@transaction.atomic
def case_close_decide(*, actor: User, case_pk: int | str, approve: bool, now: dt.datetime, note: str = "") -> Case:
    """结案审批: a supervisor or district officer other than the requester approves (the case closes) or returns
    the request (the case stays open)."""
    case = _locked_case(actor, case_pk)
    _require_manage(actor, case)
    if case.close_requested_at is None or not case.is_open:
        raise DomainError("no_request", "该个案没有待审批的结案申请", status=409)
    if case.close_requested_by_id == actor.pk:
        raise PermissionRefused("结案须由申请人以外的督导员或区县民政审批")
    if approve:
        _refuse_open_tasks(case)
        case.stage, case.closed_at, case.approved_by = Case.Stage.CLOSED, now, actor
        case.save(update_fields=["stage", "closed_at", "approved_by"])
        text = f"审批同意结案：{case.close_reason}" + (f"（{note.strip()}）" if note.strip() else "")
    else:
        if not note.strip():
            raise _invalid("note", "退回结案申请请说明原因")
        case.close_requested_at, case.close_requested_by = None, None
        case.save(update_fields=["close_requested_at", "close_requested_by"])
        text = f"退回结案申请：{note.strip()}"
    _case_note(case, actor, CaseNote.Kind.CLOSE, text, now)
    audit_record(
        actor=actor,
        action="case.close" if approve else "case.close_return",
        object_type="case",
        object_id=case.pk,
        summary=f"个案{case.number}{text}"[:300],
        after={"stage": case.stage},
    )
    _case_timeline(case, actor, "close" if approve else "close_return", text, now)
    if approve and case.child_id is not None:
        risk_refresh(child_ids=[case.child_id], today=timezone.localdate(now))
    return case


# --- placements and legal actions (§6) -------------------------------------------------------------------


@transaction.atomic
def placement_add(
    *,
    actor: User,
    case_pk: int | str,
    kind: str,
    start: dt.date,
    responsible_body: str,
    now: dt.datetime,
    end: dt.date | None = None,
    note: str = "",
) -> Placement:
    """临时监护安置 by civil affairs: 委托亲属抚养, 家庭寄养, 未成年人救助保护机构, 儿童福利机构."""
    case = _locked_case(actor, case_pk)
    _require_manage(actor, case)
    if not case.is_open:
        raise DomainError("closed", "个案已结案", status=409)
    if kind not in Placement.Kind.values:
        raise _invalid("kind", "安置方式无效")
    if not responsible_body.strip():
        raise _invalid("responsible_body", "请填写负责单位或人员")
    if end is not None and end < start:
        raise _invalid("end", "结束日期不能早于开始日期")
    if end is None and case.placements.filter(end__isnull=True).exists():
        raise DomainError("open_placement", "该个案还有未结束的安置，请先填写其结束日期", status=409)
    row = Placement.objects.create(
        case=case,
        kind=kind,
        start=start,
        end=end,
        responsible_body=responsible_body.strip()[:200],
        note=note.strip()[:300],
        created_by=actor,
        created_at=now,
    )
    text = f"临时监护安置：{row.get_kind_display()}，{row.responsible_body}，自{start}" + (f"至{end}" if end else "")
    audit_record(
        actor=actor,
        action="case.placement",
        object_type="placement",
        object_id=row.pk,
        summary=text,
        after=snapshot(row),
    )
    _case_timeline(case, actor, "placement", text, now)
    return row


@transaction.atomic
def placement_end(*, actor: User, placement_pk: int | str, end: dt.date, now: dt.datetime, note: str = "") -> Placement:
    try:
        row = Placement.objects.select_for_update().get(pk=int(placement_pk))
    except (Placement.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None
    case = case_get(actor, row.case_id)
    _require_manage(actor, case)
    if row.end is not None:
        raise DomainError("ended", "该安置已结束", status=409)
    if end < row.start:
        raise _invalid("end", "结束日期不能早于开始日期")
    row.end = end
    if note.strip():
        row.note = (row.note + "；" + note.strip())[:300] if row.note else note.strip()[:300]
    row.save(update_fields=["end", "note"])
    text = f"安置结束：{row.get_kind_display()}，{row.start}至{end}"
    audit_record(actor=actor, action="case.placement_end", object_type="placement", object_id=row.pk, summary=text)
    _case_timeline(case, actor, "placement", text, now)
    return row


def _document_type(upload: UploadedFile) -> str:
    """A document's type from its first bytes (names can lie)."""
    head = upload.read(8)
    upload.seek(0)
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    return ""


def _check_document(upload: UploadedFile) -> str:
    cfg = protection_rules()["attachments"]
    if upload.size is not None and upload.size > int(cfg["max_bytes"]):
        raise _invalid("document", f"文书“{upload.name}”超过{int(cfg['max_bytes']) // (1024 * 1024)}MB")
    kind = _document_type(upload)
    if kind not in set(cfg["types"].values()):
        raise _invalid("document", f"“{upload.name}”不是PDF或图片（支持PDF、JPEG、PNG）")
    return kind


def _attach(row: LegalAction, document: UploadedFile | None) -> None:
    if document is None:
        return
    row.document_type = _check_document(document)
    row.document_size = document.size or 0
    row.document_name = (document.name or "文书")[:200]
    row.document = document


def _revoke(actor: User, case: Case, person_pk: int | None, effective_on: dt.date, today: dt.date) -> None:
    """A revoked guardian becomes a fact of the child's file, so the derived groups follow (监护困境 etc.)."""
    from guanai.registry.services import StatusData, person_status_add

    if case.child_id is None:
        raise _invalid("person", "个案儿童尚未登记，无法更新监护人状况；请先登记儿童")
    if not person_pk:
        raise _invalid("person", "请选择被撤销监护资格的监护人")
    person_status_add(
        actor=actor,
        child_pk=case.child_id,
        person_pk=person_pk,
        status=StatusData("guardianship_revoked", since=effective_on),
        today=today,
    )


@transaction.atomic
def legal_action_record(
    *,
    actor: User,
    case_pk: int | str,
    kind: str,
    body: str,
    filed_on: dt.date,
    today: dt.date,
    now: dt.datetime,
    decided_on: dt.date | None = None,
    result: str = "",
    person_pk: int | None = None,
    effective_on: dt.date | None = None,
    document: UploadedFile | None = None,
) -> LegalAction:
    """Record a court or procuratorate action (§6) with its document. A revocation of guardianship with an
    effective date updates the guardian's status in the registry."""
    case = _locked_case(actor, case_pk)
    _require_manage(actor, case)
    if kind not in LegalAction.Kind.values:
        raise _invalid("kind", "措施类型无效")
    if not body.strip():
        raise _invalid("body", "请填写作出机关（法院、检察院）")
    if filed_on > today:
        raise _invalid("filed_on", "日期不能晚于今天")
    if decided_on is not None and decided_on < filed_on:
        raise _invalid("decided_on", "决定日期不能早于申请日期")
    person = None
    if person_pk:
        if case.child is None:
            raise _invalid("person", "个案儿童尚未登记")
        person = next((r.person for r in child_relations(actor, case.child) if r.person_id == person_pk), None)
        if person is None:
            raise _invalid("person", "该人员不是此儿童的家庭成员")
    row = LegalAction(
        case=case,
        kind=kind,
        body=body.strip()[:200],
        filed_on=filed_on,
        decided_on=decided_on,
        result=result.strip()[:300],
        person=person,
        effective_on=effective_on,
        created_by=actor,
        created_at=now,
    )
    _attach(row, document)
    row.save()
    text = f"{row.get_kind_display()}（{row.body}，{filed_on}）" + (f"：{row.result}" if row.result else "")
    audit_record(
        actor=actor,
        action="case.legal",
        object_type="legal_action",
        object_id=row.pk,
        summary=f"个案{case.number}{text}"[:300],
        after=snapshot(
            row, ["kind", "body", "filed_on", "decided_on", "result", "person", "effective_on", "document_name"]
        ),
    )
    _case_timeline(case, actor, "legal", text, now)
    if kind == LegalAction.Kind.REVOKE_GUARDIANSHIP and effective_on is not None:
        _revoke(actor, case, person_pk, effective_on, today)
    return row


@transaction.atomic
def legal_action_decide(
    *,
    actor: User,
    action_pk: int | str,
    decided_on: dt.date,
    result: str,
    today: dt.date,
    now: dt.datetime,
    effective_on: dt.date | None = None,
    document: UploadedFile | None = None,
) -> LegalAction:
    """Record the decision on an action filed earlier (with the decision document)."""
    try:
        row = LegalAction.objects.select_for_update().get(pk=int(action_pk))
    except (LegalAction.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None
    case = case_get(actor, row.case_id)
    _require_manage(actor, case)
    if row.decided_on is not None:
        raise DomainError("decided", "该措施已记录决定", status=409)
    if decided_on < row.filed_on or decided_on > today:
        raise _invalid("decided_on", "决定日期应在申请日期和今天之间")
    if not result.strip():
        raise _invalid("result", "请填写决定结果")
    row.decided_on, row.result, row.effective_on = decided_on, result.strip()[:300], effective_on
    _attach(row, document)
    row.save()
    text = f"{row.get_kind_display()}决定（{decided_on}）：{row.result}"
    audit_record(
        actor=actor,
        action="case.legal_decide",
        object_type="legal_action",
        object_id=row.pk,
        summary=f"个案{case.number}{text}"[:300],
        after={"decided_on": decided_on, "result": row.result, "effective_on": effective_on},
    )
    _case_timeline(case, actor, "legal", text, now)
    if row.kind == LegalAction.Kind.REVOKE_GUARDIANSHIP and effective_on is not None:
        _revoke(actor, case, row.person_id, effective_on, today)
    return row


def legal_document_open(*, user: User, pk: int | str) -> LegalAction:
    """A court document of a case in scope; every opening is recorded."""
    from guanai.protection.selectors import legal_action_get

    row = legal_action_get(user, pk)
    if not row.document:
        raise NotFound("该措施没有上传文书")
    access_record(actor=user, action="legal.document", object_type="legal_action", object_id=row.pk)
    return row


# --- guardianship assessment (§5) ------------------------------------------------------------------------


@transaction.atomic
def assessment_submit(
    *,
    actor: User,
    child_pk: int | str,
    answers: dict[str, str],
    assessed_on: dt.date,
    now: dt.datetime,
    version_pk: int | None = None,
    note: str = "",
) -> Assessment:
    """家庭监护能力评估 (§5): score the answers with the instrument version in force and act on the result:
    监护缺失 opens a case and notifies civil affairs; 监护失当/不足 gets a support task and a reassessment date.
    The score is stored with its version and never recomputed when a new version is published."""
    if not actor.can("assessment.do"):
        raise PermissionRefused("您的角色无权开展家庭监护能力评估")
    child = child_get(actor, child_pk)
    today = timezone.localdate(now)
    version = instrument_current(protection_rules()["assessment"]["instrument"])
    if version_pk is not None and version_pk != version.pk:
        raise DomainError("stale_instrument", "评估工具已发布新版本，请刷新后按新版本重新填写", status=409)
    if assessed_on > today:
        raise _invalid("assessed_on", "评估日期不能晚于今天")
    try:
        scored = instrument_lib.score(version.definition, answers)
    except instrument_lib.InstrumentError as exc:
        raise DomainError("invalid", exc.message) from None
    cfg = protection_rules()["assessment"]
    days = cfg["reassess_days"].get(scored.result)
    assessment = Assessment.objects.create(
        child=child,
        version=version,
        answers=dict(answers),
        total=scored.total,
        max_total=scored.max_total,
        percent=scored.percent,
        result=scored.result,
        result_label=scored.result_label,
        explanation=scored.explanation[:500],
        vetoes=scored.vetoes,
        breakdown=[b.__dict__ for b in scored.breakdown],
        note=note.strip(),
        assessed_on=assessed_on,
        assessor=actor,
        reassess_due=assessed_on + dt.timedelta(days=int(days)) if days else None,
        created_at=now,
    )
    audit_record(
        actor=actor,
        action="assessment.submit",
        object_type="assessment",
        object_id=assessment.pk,
        summary=f"儿童{child.child_no}家庭监护能力评估：{scored.result_label}（{scored.total}/{scored.max_total}）",
        after=snapshot(assessment, ["child", "version", "total", "max_total", "result", "assessed_on", "reassess_due"]),
    )
    timeline_add(
        child=child,
        kind="assessment.guardianship",
        actor=actor,
        summary=f"家庭监护能力评估（第{version.version}版）：{scored.explanation}"
        + (f"；复评期限{assessment.reassess_due}" if assessment.reassess_due else ""),
        source_type="assessment",
        source_id=assessment.pk,
        at=now,
    )
    if scored.result in cfg["case_results"]:
        _assessment_case(actor, assessment, child, now)
    elif scored.result in cfg["support_results"]:
        _assessment_support(actor, assessment, child, today, int(cfg["support_task_days"]))
    risk_refresh(child_ids=[child.pk], today=today)
    _cadence_refresh(child.pk, today)
    return assessment


def _assessment_case(actor: User, assessment: Assessment, child: Child, now: dt.datetime) -> None:
    # A rule opens this case, not the assessor's role (a director has no case.manage): owner is left for the
    # district to assign.
    case = _case_create(
        actor=actor,
        title=f"家庭监护能力评估：{assessment.result_label}",
        source=Case.Source.ASSESSMENT,
        region=Region.objects.get(code=child.village_id),
        now=now,
        child=child,
        assessment=assessment,
    )
    district = regioncode.prefix(child.village_id, 3).ljust(12, "0")
    for user in User.objects.filter(is_active=True, role="district_officer", region_id=district):
        _notify(
            user,
            kind="assessment.missing",
            title=f"监护缺失：{child.village.name}一名儿童需立即处置",
            body=f"家庭监护能力评估结果为{assessment.result_label}，已立案{case.number}，请指定承办人。",
            url=f"/protection/cases/{case.pk}/",
            key=f"assessment:{assessment.pk}:missing:{user.pk}",
        )


def _assessment_support(actor: User, assessment: Assessment, child: Child, today: dt.date, days: int) -> None:
    from guanai.visits.services import ProblemData, problem_open

    problem = problem_open(
        actor=actor,
        child=child,
        today=today,
        data=ProblemData(
            category="guardianship",
            description=f"家庭监护能力评估为{assessment.result_label}：督促、帮助监护人改进监护"
            f"（{assessment.explanation[:150]}），复评期限{assessment.reassess_due}",
            due_date=today + dt.timedelta(days=days),
        ),
    )
    assessment.support_problem = problem
    assessment.save(update_fields=["support_problem"])


def _cadence_refresh(child_pk: int, today: dt.date) -> None:
    """Let the visit cadence see the new result at once (the visits trigger reads our selector)."""
    from guanai.visits.cadence import cadence_refresh

    cadence_refresh([child_pk], today)


@transaction.atomic
def instrument_publish(
    *, actor: User, instrument: Instrument | str, items_json: str | dict[str, Any], now: dt.datetime | None = None
) -> InstrumentVersion:
    """Publish a new version of an instrument without a code change. Earlier assessments keep their version."""
    if not actor.can("settings.manage"):
        raise PermissionRefused("只有系统管理员可以发布评估工具")
    if isinstance(instrument, str):
        found = Instrument.objects.filter(code=instrument).first()
        if found is None:
            raise NotFound("未找到该评估工具")
        instrument = found
    # Serialise publications of one instrument: two administrators must not both publish "version n+1".
    instrument = Instrument.objects.select_for_update().get(pk=instrument.pk)
    try:
        definition = json.loads(items_json) if isinstance(items_json, str) else items_json
        instrument_lib.validate(definition)
    except json.JSONDecodeError as exc:
        raise _invalid("items_json", f"JSON格式错误（第{exc.lineno}行）") from None
    except instrument_lib.InstrumentError as exc:
        raise _invalid("items_json", exc.message) from None
    latest = InstrumentVersion.objects.filter(instrument=instrument).aggregate(n=Max("version"))["n"] or 0
    version = InstrumentVersion.objects.create(
        instrument=instrument,
        version=latest + 1,
        definition=definition,
        source=str(definition.get("note", ""))[:300],
        published_at=now or timezone.now(),
        published_by=actor,
    )
    audit_record(
        actor=actor,
        action="instrument.publish",
        object_type="instrument",
        object_id=instrument.pk,
        summary=f"发布{instrument.name}第{version.version}版",
        after={"version": version.version, "items": len(instrument_lib.items_of(definition))},
    )
    return version


def reassessments_remind(*, today: dt.date) -> int:
    """Remind the assessor of reassessments due within a week (or overdue), once per assessment."""
    sent = 0
    due = Assessment.objects.filter(reassess_due__lte=today + dt.timedelta(days=7)).select_related("child", "assessor")
    for a in due:
        newer = Assessment.objects.filter(child_id=a.child_id, assessed_on__gt=a.assessed_on).exists()
        if newer or not a.assessor.is_active:
            continue
        sent += _notify(
            a.assessor,
            kind="assessment.reassess",
            title=f"家庭监护能力复评：{a.child.name}（期限{a.reassess_due}）",
            body=f"上次评估（{a.assessed_on}）结果为{a.result_label}",
            url=f"/protection/assess/{a.child_id}/",
            key=f"reassess:{a.pk}",
        )
    return sent


def case_tasks_remind(*, today: dt.date) -> int:
    """Tell the owner of an overdue case task once."""
    sent = 0
    for task in CaseTask.objects.filter(status=CaseTask.Status.OPEN, due_date__lt=today).select_related("case"):
        sent += _notify(
            task.owner,
            kind="case.task_overdue",
            title=f"个案任务逾期：{task.title}",
            body=f"个案{task.case.number}，期限{task.due_date}",
            url=f"/protection/cases/{task.case_id}/",
            key=f"case-task:{task.pk}:overdue",
        )
    return sent


# --- entrusted care (委托照护, §5) ------------------------------------------------------------------------


@transaction.atomic
def carer_check_record(
    *,
    actor: User,
    child_pk: int | str,
    answers: dict[str, bool],
    checked_on: dt.date,
    now: dt.datetime,
    carer_pk: int | None = None,
    carer_name: str = "",
    action: str = "",
    action_note: str = "",
    note: str = "",
) -> CarerCheck:
    """Check the entrusted carer's capacity (rules/protection.yaml ``entrusted_care``). A failed check must say
    what was done: the parents told to choose again, or the carer helped and urged (§5)."""
    if not actor.can("assessment.do"):
        raise PermissionRefused("您的角色无权开展委托照护核查")
    child = child_get(actor, child_pk)
    today = timezone.localdate(now)
    if checked_on > today:
        raise _invalid("checked_on", "核查日期不能晚于今天")
    carer = None
    if carer_pk:
        carer = next((r.person for r in child_relations(actor, child) if r.person_id == carer_pk), None)
        if carer is None:
            raise _invalid("carer", "该人员不是此儿童的家庭成员或照料人")
        carer_name = carer.name
    if not carer_name.strip():
        raise _invalid("carer_name", "请填写受委托人姓名")
    items = carer_checklist()
    missing = [i["label"] for i in items if i["id"] not in answers]
    if missing:
        raise _invalid("answers", "请逐项核查：" + "、".join(missing))
    failed = [i["id"] for i in items if not answers[i["id"]]]
    passed = not any(not answers[i["id"]] for i in items if i.get("required"))
    actions = carer_actions()
    if not passed and action not in actions:
        raise _invalid("action", "受委托人不具备照护能力，请选择处理措施：" + "、".join(actions.values()))
    follow_days = int(protection_rules()["entrusted_care"]["follow_up_days"])
    check = CarerCheck.objects.create(
        child=child,
        carer=carer,
        carer_name=carer_name.strip()[:50],
        answers={i["id"]: bool(answers[i["id"]]) for i in items},
        passed=passed,
        failed_items=failed,
        checked_on=checked_on,
        follow_up_due=None if passed else checked_on + dt.timedelta(days=follow_days),
        note=note.strip()[:300],
        checker=actor,
        created_at=now,
    )
    labels = {i["id"]: i["label"] for i in items}
    summary = f"委托照护核查：受委托人{check.carer_name}" + (
        "具备照护能力" if passed else "不具备照护能力（" + "、".join(labels[f] for f in failed) + "）"
    )
    if not passed:
        CarerAction.objects.create(
            check_row=check, kind=action, on=checked_on, note=action_note.strip()[:300], actor=actor, created_at=now
        )
        summary += f"；措施：{actions[action]}"
    audit_record(
        actor=actor,
        action="carer.check",
        object_type="carer_check",
        object_id=check.pk,
        summary=f"儿童{child.child_no}{summary}"[:300],
        after=snapshot(check, ["child", "carer_name", "passed", "failed_items", "checked_on"]),
    )
    timeline_add(
        child=child,
        kind="assessment.carer",
        actor=actor,
        summary=summary,
        source_type="carer_check",
        source_id=check.pk,
        at=now,
    )
    return check


@transaction.atomic
def carer_action_add(
    *, actor: User, check_pk: int | str, kind: str, on: dt.date, now: dt.datetime, note: str = ""
) -> CarerAction:
    """A later step after a failed check (parents informed, carer helped or urged), with its date."""
    from guanai.protection.selectors import carer_checks_for

    try:
        check = carer_checks_for(actor).select_related("child").get(pk=int(check_pk))
    except (CarerCheck.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None
    if not actor.can("assessment.do"):
        raise PermissionRefused("您的角色无权记录委托照护措施")
    actions = carer_actions()
    if kind not in actions:
        raise _invalid("kind", "措施无效")
    if on > timezone.localdate(now) or on < check.checked_on:
        raise _invalid("on", "日期应在核查日期和今天之间")
    row = CarerAction.objects.create(
        check_row=check, kind=kind, on=on, note=note.strip()[:300], actor=actor, created_at=now
    )
    text = f"委托照护跟进：{actions[kind]}（{on}）" + (f"：{row.note}" if row.note else "")
    audit_record(actor=actor, action="carer.action", object_type="carer_check", object_id=check.pk, summary=text)
    timeline_add(
        child=check.child,
        kind="assessment.carer",
        actor=actor,
        summary=text,
        source_type="carer_check",
        source_id=check.pk,
        at=now,
    )
    return row


# --- risk grades -------------------------------------------------------------------------------------------


RISK_COLUMNS = ["grade", "explanation", "rule_ids", "computed_at", "rule_version"]


def risk_refresh(*, child_ids: list[int], today: dt.date) -> int:
    """Recompute and store the risk grade of these children (rules/risk.yaml). Returns the rows changed."""
    if not child_ids:
        return 0
    version = int(risk_rules()["version"])
    now = timezone.now()
    computed = risk_compute(list(child_ids), today)
    existing = {
        row[0]: row[1:]
        for row in ChildRisk.objects.filter(child_id__in=id_array(computed)).values_list(
            "child_id", "pk", "grade", "explanation", "rule_version"
        )
    }
    at = connection.ops.adapt_datetimefield_value(now)
    new, changed = [], []
    stored: dict[int, tuple[Any, ...]] = {}  # children with the same facts share one RiskGrade (risk_compute)
    for pk, grade in computed.items():
        row = existing.get(pk)
        values = stored.get(id(grade))
        if values is None:
            values = stored[id(grade)] = (grade.grade, grade.explanation[:500], json.dumps(grade.rule_ids), at, version)
        if row is None:
            new.append((pk, *values))
        elif row[1:] != (grade.grade, grade.explanation[:500], version):
            changed.append((*values, row[0]))
    # Plain tuples, not model instances: an import grades 100,000 children at once. A grade stored meanwhile by
    # another transaction for a new child is kept (it was computed from the same facts).
    bulk_insert(ChildRisk, ["child_id", *RISK_COLUMNS], new, skip_existing=True)
    bulk_set(ChildRisk, RISK_COLUMNS, changed)
    return len(new) + len(changed)


def risk_refresh_due(*, today: dt.date) -> int:
    """The daily pass: children whose grade may change with time (open problems turn overdue) or is not low."""
    ids = set(ChildRisk.objects.exclude(grade=ChildRisk.Grade.LOW).values_list("child_id", flat=True))
    ids |= set(Problem.objects.filter(status__in=["open", "in_progress"]).values_list("child_id", flat=True))
    ids |= set(Report.objects.filter(status__in=OPEN_REPORT, child__isnull=False).values_list("child_id", flat=True))
    ordered = sorted(i for i in ids if i is not None)
    changed = 0
    for start in range(0, len(ordered), 5000):
        with transaction.atomic():
            changed += risk_refresh(child_ids=ordered[start : start + 5000], today=today)
    return changed


# --- audited reads -----------------------------------------------------------------------------------------


def case_view(*, user: User, pk: int | str) -> Case:
    """Open a case file; recorded like a child's file (PIPL: access to minors' data is logged)."""
    case = case_get(user, pk)
    access_record(actor=user, action="case.view", object_type="case", object_id=case.pk)
    return case


def assessment_view(*, user: User, pk: int | str) -> Assessment:
    assessment = assessment_get(user, pk)
    access_record(actor=user, action="assessment.view", object_type="assessment", object_id=assessment.pk)
    return assessment
