"""Protection pages. Thin: parse the form, call one selector or service, render or redirect.

A refusal that belongs on the form (400, 409) is shown there; 403 and 404 go to the error page (the
DomainErrorMiddleware). Actions posted from a report or case page come back to that page with a message.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from guanai.accounts.current import request_user
from guanai.accounts.models import User
from guanai.accounts.scope import region_prefix
from guanai.lib.errors import DomainError, PermissionRefused
from guanai.lib.parse import ParseError, parse_date
from guanai.protection import instrument as instrument_lib
from guanai.protection import services as svc
from guanai.protection.models import Case, CaseTask, Department, LegalAction, Placement, ReportRouting
from guanai.protection.selectors import (
    carer_actions,
    carer_checklist,
    carer_checks_for,
    case_can_manage,
    cases_for,
    default_reporter_kind_for,
    departments,
    districts,
    instrument_current,
    instruments,
    region_options,
    reporter_kinds,
    reports_filed_by,
    risk_colour,
    risk_rows_for,
    routings_inbox,
    situation_labels,
    situations,
    task_owner_choices,
    tasks_for,
)
from guanai.registry.selectors import child_get, child_relations, children_for


def _form_error(error: DomainError) -> bool:
    return error.status in (400, 409)


def _date(value: str, label: str, *, required: bool = True) -> dt.date | None:
    if not value.strip():
        if required:
            raise DomainError("invalid", f"请填写{label}", detail={label: "必填"})
        return None
    try:
        return parse_date(value)
    except ParseError as exc:
        raise DomainError("invalid", f"{label}：{exc.message}") from None


def _int(value: str | None) -> int | None:
    return int(value) if value and value.strip().isdigit() else None


@login_required
def index(request: HttpRequest) -> HttpResponse:
    """Where protection work starts for each role."""
    user = request_user(request)
    if user.can("report.handle"):
        return redirect("protection:inbox")
    if user.can("case.manage"):
        return redirect("protection:cases")
    if user.can("report.file"):
        return redirect("protection:mine")
    raise PermissionRefused("您的角色无需使用未成年人保护功能")


# --- reports -----------------------------------------------------------------------------------------------


def _report_form_context(request: HttpRequest, values: Any, **extra: Any) -> dict[str, Any]:
    user = request_user(request)
    prefix = region_prefix(user) or ""
    district = values.get("district") or (prefix[:6].ljust(12, "0") if len(prefix) >= 6 else "")
    township = values.get("township") or (prefix[:9].ljust(12, "0") if len(prefix) >= 9 else "")
    child = None
    if values.get("child"):
        child = child_get(user, values["child"])
    return {
        "situations": situations(),
        "ticked": values.getlist("situations") if hasattr(values, "getlist") else [],
        "values": values,
        "child": child,
        "children": list(children_for(user).order_by("name")[:300]) if user.can("child.view") and not child else [],
        "districts": districts(),
        "district": district,
        "townships": region_options(district) if district else [],
        "township": township,
        "villages": region_options(township) if township else [],
        "kinds": reporter_kinds(),
        "kind": values.get("reporter_kind") or default_reporter_kind_for(user),
        "client_key": values.get("client_key") or uuid.uuid4().hex,
        "now": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        **extra,
    }


@login_required
def report_new(request: HttpRequest) -> HttpResponse:
    """File a mandatory report: a phone-friendly form with the nine situations as big checkboxes."""
    user = request_user(request)
    if not user.can("report.file"):
        raise PermissionRefused("您的角色无权提交强制报告")
    if request.method != "POST":
        return render(request, "protection/report_form.html", _report_form_context(request, request.GET))
    post = request.POST
    region = post.get("village") or post.get("township") or post.get("district") or ""
    try:
        occurred_at = None
        if post.get("occurred_at"):
            # The phone's datetime-local value is wall-clock time in Asia/Shanghai.
            occurred_at = dt.datetime.strptime(post["occurred_at"], "%Y-%m-%dT%H:%M").replace(
                tzinfo=timezone.get_current_timezone()
            )
        report = svc.report_file(
            actor=user,
            now=timezone.now(),
            data=svc.ReportData(
                situations=post.getlist("situations"),
                description=post.get("description", ""),
                reporter_phone=post.get("reporter_phone", ""),
                reporter_name=post.get("reporter_name", ""),
                reporter_unit=post.get("reporter_unit", ""),
                reporter_kind=post.get("reporter_kind", ""),
                child_pk=_int(post.get("child")),
                region_code=region,
                child_name=post.get("child_name", ""),
                child_sex=post.get("child_sex", ""),
                child_age=_int(post.get("child_age")),
                child_location=post.get("child_location", ""),
                occurred_at=occurred_at,
                occurred_place=post.get("occurred_place", ""),
                school_involved=post.get("school_involved") == "1",
                client_key=post.get("client_key", ""),
            ),
        )
    except ValueError:
        error, fields = "发现时间格式不正确", {}
    except DomainError as exc:
        if not _form_error(exc):
            raise
        error, fields = exc.message, (exc.detail if isinstance(exc.detail, dict) else {})
    else:
        to = "、".join(r.get_department_display() for r in report.routings.all())
        messages.success(request, f"已提交强制报告{report.number}，已分送{to}。处理结果将反馈给您。")
        return redirect("protection:report", pk=report.pk)
    ctx = _report_form_context(request, post, error=error, fields=fields)
    return render(request, "protection/report_form.html", ctx, status=400)


@login_required
def regions(request: HttpRequest) -> HttpResponse:
    """The options of the next place picker (htmx): a district's townships or a township's villages."""
    parent = request.GET.get("township") or request.GET.get("district") or ""
    return render(request, "protection/_region_options.html", {"options": region_options(parent) if parent else []})


@login_required
def reports_mine(request: HttpRequest) -> HttpResponse:
    rows = reports_filed_by(request_user(request)).prefetch_related("feedback")[:200]
    return render(
        request, "protection/reports_mine.html", {"rows": [(r, situation_labels(r.situations)) for r in rows]}
    )


INBOX_TABS = {
    "pending": ("待受理", {"status": ReportRouting.Status.PENDING}),
    "accepted": ("办理中", {"status": ReportRouting.Status.ACCEPTED}),
    "escalated": ("超期督办", {}),
    "all": ("全部", {}),
}


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    if not user.can("report.handle"):
        raise PermissionRefused("您的角色不受理强制报告")
    # The city sees every district's routings; what needs it there is what was escalated.
    default = "escalated" if user.region is not None and user.region.level < 3 else "pending"
    tab = request.GET.get("tab", default)
    if tab not in INBOX_TABS:
        tab = default
    qs = routings_inbox(user)
    counts = {
        "pending": qs.filter(status=ReportRouting.Status.PENDING).count(),
        "accepted": qs.filter(status=ReportRouting.Status.ACCEPTED).count(),
    }
    if tab == "escalated":
        qs = qs.filter(status__in=["pending", "accepted"]).exclude(
            accept_escalated_at__isnull=True, result_escalated_at__isnull=True
        )
    else:
        qs = qs.filter(**INBOX_TABS[tab][1])
    page = Paginator(qs.order_by("accept_due", "id"), 30).get_page(request.GET.get("page"))
    return render(
        request,
        "protection/inbox.html",
        {
            "page": page,
            "rows": [(r, situation_labels(r.report.situations)) for r in page],
            "tab": tab,
            "tabs": [(k, v[0]) for k, v in INBOX_TABS.items()],
            "counts": counts,
            "now": timezone.now(),
        },
    )


@login_required
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    view = svc.report_view(user=user, pk=pk)
    if not view.access.content:
        return render(request, "protection/report_reporter.html", {"view": view})
    handled = [r for r in view.routings if r.pk in view.access.routing_ids]
    return render(
        request,
        "protection/report_detail.html",
        {
            "view": view,
            "report": view.report,
            "handled": handled,
            "departments": [(k, v["label"]) for k, v in departments().items()],
            "districts": districts(),
            "kind_label": reporter_kinds().get(view.report.reporter_kind, ""),
            "can_open_case": user.can("case.manage") and not view.report.cases.exclude(stage="closed").exists(),
            "cases": list(view.report.cases.all()) if user.can("case.manage") or user.can("child.view") else [],
            "now": timezone.now(),
        },
    )


def _routing_action(request: HttpRequest, pk: int, action: Callable[[User, Any], Any]) -> HttpResponse:
    user = request_user(request)
    routing = ReportRouting.objects.filter(pk=pk).values_list("report_id", flat=True).first()
    try:
        action(user, request.POST)
    except DomainError as exc:
        if not _form_error(exc):
            raise
        messages.error(request, exc.message)
    if routing is None:
        return redirect("protection:inbox")
    return redirect("protection:report", pk=routing)


@login_required
@require_POST
def routing_accept(request: HttpRequest, pk: int) -> HttpResponse:
    def act(user: User, post: Any) -> None:
        svc.report_accept(actor=user, routing_pk=pk, now=timezone.now())
        messages.success(request, "已受理")

    return _routing_action(request, pk, act)


@login_required
@require_POST
def routing_transfer(request: HttpRequest, pk: int) -> HttpResponse:
    def act(user: User, post: Any) -> None:
        svc.report_transfer(
            actor=user,
            routing_pk=pk,
            reason=post.get("reason", ""),
            department=post.get("department", ""),
            region_code=post.get("region_code", ""),
            now=timezone.now(),
        )
        messages.success(request, "已转交")

    return _routing_action(request, pk, act)


@login_required
@require_POST
def routing_feedback(request: HttpRequest, pk: int) -> HttpResponse:
    def act(user: User, post: Any) -> None:
        svc.report_feedback(
            actor=user,
            routing_pk=pk,
            text=post.get("text", ""),
            concludes=post.get("concludes") == "1",
            now=timezone.now(),
        )
        messages.success(request, "已反馈处理结果，报告人将收到通知")

    return _routing_action(request, pk, act)


# --- cases -------------------------------------------------------------------------------------------------


@login_required
def cases(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    tab = request.GET.get("tab", "open")
    qs = cases_for(user).select_related("child", "region")
    qs = qs.filter(stage=Case.Stage.CLOSED) if tab == "closed" else qs.exclude(stage=Case.Stage.CLOSED)
    page = Paginator(qs.order_by("-created_at", "-id"), 30).get_page(request.GET.get("page"))
    return render(
        request,
        "protection/cases.html",
        {
            "page": page,
            "tab": tab,
            "can_open": user.can("case.manage"),
            "tasks": list(tasks_for(user)[:50]),
            "today": timezone.localdate(),
        },
    )


@login_required
def case_new(request: HttpRequest) -> HttpResponse:
    """立案: from a report (?report=), a visit problem (?problem=), an assessment, or by hand."""
    user = request_user(request)
    if not user.can("case.manage"):
        raise PermissionRefused("您的角色无权立案")
    source = request.POST.get("source") or request.GET.get("source") or Case.Source.MANUAL
    if request.method == "POST":
        post = request.POST
        try:
            case = svc.case_open(
                actor=user,
                now=timezone.now(),
                source=source,
                title=post.get("title", ""),
                child_pk=_int(post.get("child")),
                report_pk=_int(post.get("report")),
                problem_pk=_int(post.get("problem")),
                assessment_pk=_int(post.get("assessment")),
                subject=post.get("subject", ""),
                region_code=post.get("region_code", ""),
                department=post.get("department") or Department.CIVIL_AFFAIRS,
            )
        except DomainError as exc:
            if not _form_error(exc):
                raise
            error = exc.message
        else:
            messages.success(request, f"已立案{case.number}")
            return redirect("protection:case", pk=case.pk)
    else:
        error = ""
    values = request.POST if request.method == "POST" else request.GET
    return render(
        request,
        "protection/case_new.html",
        {
            "values": values,
            "source": source,
            "sources": Case.Source.choices,
            "children": list(children_for(user).order_by("name")[:300]),
            "departments": Department.choices,
            "error": error,
        },
        status=400 if error else 200,
    )


@login_required
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    case = svc.case_view(user=user, pk=pk)
    manage = case_can_manage(user, case)
    stages = [s for s in Case.Stage if s != Case.Stage.CLOSED]
    current = next((i for i, s in enumerate(stages) if s == case.stage), len(stages))
    family = list(child_relations(user, case.child)) if case.child is not None and manage else []
    return render(
        request,
        "protection/case_detail.html",
        {
            "case": case,
            "manage": manage,
            "stages": stages,
            "current": current,
            "next_stage": stages[current + 1] if current + 1 < len(stages) else None,
            "notes": case.notes.select_related("author").order_by("at", "id"),
            "tasks": case.tasks.select_related("owner").order_by("status", "due_date"),
            "placements": case.placements.all(),
            "legal_actions": case.legal_actions.select_related("person"),
            "owners": task_owner_choices(case) if manage else [],
            "departments": Department.choices,
            "placement_kinds": Placement.Kind.choices,
            "legal_kinds": LegalAction.Kind.choices,
            "family": family,
            "today": timezone.localdate(),
            "can_approve": manage and case.close_requested_at is not None and case.close_requested_by_id != user.pk,
            "can_note": manage or case.tasks.filter(owner=user).exists(),
        },
    )


def _case_post(request: HttpRequest, case_pk: int, action: Callable[[User, Any, Any], str]) -> HttpResponse:
    user = request_user(request)
    try:
        message = action(user, request.POST, request.FILES)
    except DomainError as exc:
        if not _form_error(exc):
            raise
        messages.error(request, exc.message)
    else:
        messages.success(request, message)
    return redirect("protection:case", pk=case_pk)


def _case_stage(pk: int) -> Callable[[User, Any, Any], str]:
    def act(user: User, post: Any, files: Any) -> str:
        case = svc.case_stage_change(
            actor=user, case_pk=pk, stage=post.get("stage", ""), note=post.get("note", ""), now=timezone.now()
        )
        return f"已进入“{case.get_stage_display()}”阶段"

    return act


def _case_transfer(pk: int) -> Callable[[User, Any, Any], str]:
    def act(user: User, post: Any, files: Any) -> str:
        case = svc.case_transfer(
            actor=user,
            case_pk=pk,
            department=post.get("department", ""),
            reason=post.get("reason", ""),
            region_code=post.get("region_code", ""),
            now=timezone.now(),
        )
        return f"已转交{case.get_department_display()}"

    return act


def _case_note(pk: int) -> Callable[[User, Any, Any], str]:
    def act(user: User, post: Any, files: Any) -> str:
        svc.case_note_add(actor=user, case_pk=pk, text=post.get("text", ""), now=timezone.now())
        return "已添加记录"

    return act


def _case_task(pk: int) -> Callable[[User, Any, Any], str]:
    def act(user: User, post: Any, files: Any) -> str:
        due = _date(post.get("due_date", ""), "期限")
        assert due is not None
        svc.case_task_add(
            actor=user,
            case_pk=pk,
            title=post.get("title", ""),
            owner_pk=_int(post.get("owner")) or 0,
            due_date=due,
            today=timezone.localdate(),
            now=timezone.now(),
        )
        return "已添加任务并通知负责人"

    return act


def _case_close(pk: int) -> Callable[[User, Any, Any], str]:
    def act(user: User, post: Any, files: Any) -> str:
        svc.case_close_request(actor=user, case_pk=pk, reason=post.get("reason", ""), now=timezone.now())
        return "已提交结案申请，等待审批"

    return act


def _case_decide(pk: int) -> Callable[[User, Any, Any], str]:
    def act(user: User, post: Any, files: Any) -> str:
        approve = post.get("approve") == "1"
        svc.case_close_decide(actor=user, case_pk=pk, approve=approve, note=post.get("note", ""), now=timezone.now())
        return "已审批结案" if approve else "已退回结案申请"

    return act


def _case_placement(pk: int) -> Callable[[User, Any, Any], str]:
    def act(user: User, post: Any, files: Any) -> str:
        start = _date(post.get("start", ""), "开始日期")
        assert start is not None
        svc.placement_add(
            actor=user,
            case_pk=pk,
            kind=post.get("kind", ""),
            start=start,
            end=_date(post.get("end", ""), "结束日期", required=False),
            responsible_body=post.get("responsible_body", ""),
            note=post.get("note", ""),
            now=timezone.now(),
        )
        return "已记录临时监护安置"

    return act


def _case_legal(pk: int) -> Callable[[User, Any, Any], str]:
    def act(user: User, post: Any, files: Any) -> str:
        filed_on = _date(post.get("filed_on", ""), "申请/提出日期")
        assert filed_on is not None
        svc.legal_action_record(
            actor=user,
            case_pk=pk,
            kind=post.get("kind", ""),
            body=post.get("body", ""),
            filed_on=filed_on,
            decided_on=_date(post.get("decided_on", ""), "决定日期", required=False),
            result=post.get("result", ""),
            person_pk=_int(post.get("person")),
            effective_on=_date(post.get("effective_on", ""), "生效日期", required=False),
            document=files.get("document"),
            today=timezone.localdate(),
            now=timezone.now(),
        )
        return "已记录司法措施"

    return act


CASE_ACTIONS: dict[str, Callable[[int], Callable[[User, Any, Any], str]]] = {
    "stage": _case_stage,
    "transfer": _case_transfer,
    "note": _case_note,
    "task": _case_task,
    "close": _case_close,
    "decide": _case_decide,
    "placement": _case_placement,
    "legal": _case_legal,
}


@login_required
@require_POST
def case_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    if action not in CASE_ACTIONS:
        raise DomainError("not_found", "未知的操作", status=404)
    return _case_post(request, pk, CASE_ACTIONS[action](pk))


@login_required
@require_POST
def task_complete(request: HttpRequest, pk: int) -> HttpResponse:
    case_pk = CaseTask.objects.filter(pk=pk).values_list("case_id", flat=True).first() or 0

    def act(user: User, post: Any, files: Any) -> str:
        cancel = post.get("cancel") == "1"
        svc.case_task_complete(actor=user, task_pk=pk, result=post.get("result", ""), cancel=cancel, now=timezone.now())
        return "任务已取消" if cancel else "任务已完成"

    if not case_pk:
        raise DomainError("not_found", "未找到该任务", status=404)
    return _case_post(request, case_pk, act)


@login_required
@require_POST
def placement_end(request: HttpRequest, pk: int) -> HttpResponse:
    case_pk = Placement.objects.filter(pk=pk).values_list("case_id", flat=True).first() or 0

    def act(user: User, post: Any, files: Any) -> str:
        end = _date(post.get("end", ""), "结束日期")
        assert end is not None
        svc.placement_end(actor=user, placement_pk=pk, end=end, note=post.get("note", ""), now=timezone.now())
        return "安置已结束"

    if not case_pk:
        raise DomainError("not_found", "未找到该安置记录", status=404)
    return _case_post(request, case_pk, act)


@login_required
@require_POST
def legal_decide(request: HttpRequest, pk: int) -> HttpResponse:
    case_pk = LegalAction.objects.filter(pk=pk).values_list("case_id", flat=True).first() or 0

    def act(user: User, post: Any, files: Any) -> str:
        decided_on = _date(post.get("decided_on", ""), "决定日期")
        assert decided_on is not None
        svc.legal_action_decide(
            actor=user,
            action_pk=pk,
            decided_on=decided_on,
            result=post.get("result", ""),
            effective_on=_date(post.get("effective_on", ""), "生效日期", required=False),
            document=files.get("document"),
            today=timezone.localdate(),
            now=timezone.now(),
        )
        return "已记录决定结果"

    if not case_pk:
        raise DomainError("not_found", "未找到该措施", status=404)
    return _case_post(request, case_pk, act)


@login_required
def legal_document(request: HttpRequest, pk: int) -> FileResponse:
    """A court document, served through the app (never from a public media URL): scoped and recorded."""
    row = svc.legal_document_open(user=request_user(request), pk=pk)
    response = FileResponse(row.document.open("rb"), content_type=row.document_type or "application/octet-stream")
    response["Content-Disposition"] = "inline"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- assessments -------------------------------------------------------------------------------------------


@login_required
def assessment_new(request: HttpRequest, child_pk: int) -> HttpResponse:
    """The guardianship-capacity assessment form, rendered from the instrument version in force."""
    user = request_user(request)
    if not user.can("assessment.do"):
        raise PermissionRefused("您的角色无权开展家庭监护能力评估")
    child = child_get(user, child_pk)
    version = instrument_current()
    error = ""
    values: dict[str, str] = {}
    if request.method == "POST":
        items = instrument_lib.items_of(version.definition)
        values = {i["id"]: request.POST[f"q_{i['id']}"] for i in items if request.POST.get(f"q_{i['id']}")}
        try:
            assessed_on = _date(request.POST.get("assessed_on", ""), "评估日期", required=False) or timezone.localdate()
            assessment = svc.assessment_submit(
                actor=user,
                child_pk=child.pk,
                answers=values,
                assessed_on=assessed_on,
                version_pk=_int(request.POST.get("version")),
                note=request.POST.get("note", ""),
                now=timezone.now(),
            )
        except DomainError as exc:
            if not _form_error(exc):
                raise
            error = exc.message
        else:
            return redirect("protection:assessment", pk=assessment.pk)
    earlier = child.assessments.select_related("version").order_by("-assessed_on", "-id")[:10]
    return render(
        request,
        "protection/assessment_form.html",
        {
            "child": child,
            "version": version,
            "definition": version.definition,
            "values": values,
            "error": error,
            "today": timezone.localdate(),
            "earlier": earlier,
        },
        status=400 if error else 200,
    )


@login_required
def assessment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    assessment = svc.assessment_view(user=user, pk=pk)
    results = {r["code"]: r for r in assessment.version.definition["results"]}
    return render(
        request,
        "protection/assessment_result.html",
        {
            "a": assessment,
            "advice": results.get(assessment.result, {}).get("advice", ""),
            "severity": results.get(assessment.result, {}).get("severity", 0),
            "cases": assessment.cases.all(),
        },
    )


# --- entrusted care ----------------------------------------------------------------------------------------


@login_required
def carer_check(request: HttpRequest, child_pk: int) -> HttpResponse:
    user = request_user(request)
    if not user.can("assessment.do"):
        raise PermissionRefused("您的角色无权开展委托照护核查")
    child = child_get(user, child_pk)
    error = ""
    if request.method == "POST":
        post = request.POST
        try:
            checked_on = _date(post.get("checked_on", ""), "核查日期", required=False) or timezone.localdate()
            svc.carer_check_record(
                actor=user,
                child_pk=child.pk,
                carer_pk=_int(post.get("carer")),
                carer_name=post.get("carer_name", ""),
                answers={
                    i["id"]: post.get(f"c_{i['id']}") == "1" for i in carer_checklist() if post.get(f"c_{i['id']}")
                },
                checked_on=checked_on,
                action=post.get("action", ""),
                action_note=post.get("action_note", ""),
                note=post.get("note", ""),
                now=timezone.now(),
            )
        except DomainError as exc:
            if not _form_error(exc):
                raise
            error = exc.message
        else:
            messages.success(request, "已记录委托照护核查")
            return redirect("protection:carer", child_pk=child.pk)
    return render(
        request,
        "protection/carer_check.html",
        {
            "child": child,
            "carers": [r for r in child_relations(user, child) if r.is_entrusted_carer or r.is_guardian],
            "checklist": carer_checklist(),
            "actions": carer_actions(),
            "checks": carer_checks_for(user).filter(child=child).prefetch_related("actions")[:20],
            "values": request.POST,
            "error": error,
            "today": timezone.localdate(),
        },
        status=400 if error else 200,
    )


@login_required
@require_POST
def carer_action(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    child_pk = carer_checks_for(user).filter(pk=pk).values_list("child_id", flat=True).first()
    if child_pk is None:
        raise DomainError("not_found", "未找到该核查记录", status=404)
    try:
        on = _date(request.POST.get("on", ""), "日期")
        assert on is not None
        svc.carer_action_add(
            actor=user,
            check_pk=pk,
            kind=request.POST.get("kind", ""),
            on=on,
            note=request.POST.get("note", ""),
            now=timezone.now(),
        )
    except DomainError as exc:
        if not _form_error(exc):
            raise
        messages.error(request, exc.message)
    else:
        messages.success(request, "已记录跟进措施")
    return redirect("protection:carer", child_pk=child_pk)


# --- administration and risk -------------------------------------------------------------------------------


@login_required
def instruments_admin(request: HttpRequest) -> HttpResponse:
    """An administrator publishes a new instrument version by pasting its JSON (no code change)."""
    user = request_user(request)
    if not user.can("settings.manage"):
        raise PermissionRefused("只有系统管理员可以管理评估工具")
    error = ""
    text = ""
    if request.method == "POST":
        text = request.POST.get("items_json", "")
        try:
            version = svc.instrument_publish(actor=user, instrument=request.POST.get("instrument", ""), items_json=text)
        except DomainError as exc:
            if exc.status != 400:
                raise
            error = exc.message
        else:
            messages.success(
                request, f"已发布{version.instrument.name}第{version.version}版；此前的评估保留原版本和得分"
            )
            return redirect("protection:instruments")
    rows = []
    for inst in instruments():
        current = inst.versions.order_by("-version").first()
        rows.append(
            {
                "instrument": inst,
                "current": current,
                "versions": list(inst.versions.order_by("-version")[:20]),
                "json": text
                if error and request.POST.get("instrument") == inst.code
                else json.dumps(current.definition if current else {}, ensure_ascii=False, indent=2),
            }
        )
    return render(request, "protection/instruments.html", {"rows": rows, "error": error}, status=400 if error else 200)


@login_required
def risk_list(request: HttpRequest) -> HttpResponse:
    """Children in scope at high or medium risk, highest first."""
    user = request_user(request)
    if not user.can("child.view"):
        raise PermissionRefused("您的角色无权查看儿童风险等级")
    grade = request.GET.get("grade", "high")
    grades = ["high"] if grade == "high" else ["medium"] if grade == "medium" else ["high", "medium"]
    qs = risk_rows_for(user, grades=grades).order_by("grade", "child__village_id", "child__name")
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "protection/risk.html",
        {"page": page, "grade": grade, "colours": {g: risk_colour(g) for g in ("high", "medium", "low")}},
    )
