"""Oversight pages: dashboards (from snapshots), the annual report, spot checks, rectification tasks, milestones
and the national exports. Thin: parse input, call one selector or service, render."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from guanai.accounts.current import request_user
from guanai.accounts.models import User
from guanai.accounts.scope import region_prefix
from guanai.audit.services import access_record
from guanai.lib.dates import add_months
from guanai.lib.errors import DomainError, NotFound, PermissionRefused
from guanai.lib.parse import ParseError, parse_date
from guanai.oversight import selectors as sel
from guanai.oversight import services as svc
from guanai.oversight.kpis import kpis, parse_period
from guanai.oversight.models import RectificationTask, SpotCheck, SpotCheckItem
from guanai.regions.models import Region


def _day(request: HttpRequest, today: dt.date) -> dt.date:
    """The month a dashboard shows (``?period=YYYY-MM``), its last day capped at today."""
    text = request.GET.get("period", "")
    if not text:
        return today
    try:
        kind, start = parse_period(text)
    except ValueError as exc:
        raise DomainError("bad_period", str(exc)) from None
    if kind != "month":
        raise DomainError("bad_period", "请选择月份")
    from guanai.lib.dates import month_end

    return min(month_end(start), today)


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    today = timezone.localdate()
    day = _day(request, today)
    data = sel.dashboard(
        user, region_code=request.GET.get("region", ""), day=day, today=today, kpi_id=request.GET.get("kpi", "")
    )
    payload = sel.dashboard_json(data)
    selected = next(c for c in data["cards"] if c["kpi"].id == data["selected"].id)
    chart = {
        "selected": {
            "id": selected["kpi"].id,
            "label": selected["kpi"].label,
            "unit": selected["kpi"].unit,
            "target": selected["kpi"].target,
            "better": selected["kpi"].better,
        },
        "trend": [
            {"period": t["period"], "value": t["value"] if isinstance(t["value"], int | float) else None}
            for t in selected["trend"]
        ],
        "areas": [
            {
                "code": a["code"],
                "name": a["name"],
                "value": v
                if isinstance(v := a["values"].get(selected["kpi"].id, {}).get("value"), int | float)
                else None,
            }
            for a in data["areas"]
        ],
    }
    # The sub-area table shows the selected indicator and the main ones of §8 and §16 (all are in the API).
    main = ("contact_rate", "home_visit_rate", "archive_completeness", "villages_with_director", "directors_trained")
    shown = {c["kpi"].id for c in data["cards"] if not c["pending"]}
    table_kpis = [k for k in kpis().values() if k.id in shown and (k.id in main or k.id == data["selected"].id)]
    return render(
        request,
        "oversight/dashboard.html",
        {
            **data,
            "payload": payload,
            "chart": chart,
            "path": sel.region_path(data["region"], user),
            "table_kpis": table_kpis,
            "period": f"{day:%Y-%m}",
            "months": [f"{add_months(today, -i):%Y-%m}" for i in range(24)],
            "can_manage": user.can("oversight.manage"),
            "computed_at": _latest(data["cards"]),
        },
    )


@login_required
@require_POST
def refresh(request: HttpRequest) -> HttpResponse:
    """Recompute the snapshots now (all regions: the figures are shared), as a background job with progress."""
    from guanai.jobs.runner import job_enqueue

    user = request_user(request)
    if not user.can("oversight.manage"):
        raise PermissionRefused("您的角色无权更新指标")
    today = timezone.localdate()
    job = job_enqueue(
        kind="oversight.kpi_refresh", title=f"更新督导指标快照 {today}", params={"day": today.isoformat()}, actor=user
    )
    return redirect("jobs:detail", pk=job.pk)


def _latest(cards: list[dict[str, Any]]) -> dt.datetime | None:
    stamps = [c["current"].get("computed_at") for c in cards if c["current"].get("computed_at")]
    return timezone.localtime(dt.datetime.fromisoformat(max(stamps))) if stamps else None


# --- the annual report ---------------------------------------------------------------------------------------


def _report_scope(request: HttpRequest, user: User) -> tuple[Region, int]:
    if not user.can("oversight.manage"):
        raise PermissionRefused("您的角色无权编制年度进展报告")
    today = timezone.localdate()
    code = request.GET.get("region") or request.POST.get("region") or ""
    region = sel.dashboard_region(user, code) if code else user.region
    assert region is not None
    if region.level not in (Region.Level.PROVINCE, Region.Level.COUNTY):
        raise DomainError("bad_report_region", "年度进展报告按区县或全市编制")
    try:
        year = int(request.GET.get("year") or request.POST.get("year") or today.year)
    except ValueError:
        raise DomainError("bad_year", "年度应为数字") from None
    return region, year


@login_required
def annual(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    region, year = _report_scope(request, user)
    error = ""
    if request.method == "POST":
        try:
            if request.POST.get("action") == "submit":
                svc.annual_report_submit(actor=user, region=region.code, year=year)
                messages.success(request, "年度进展报告已报送市民政局。")
            elif request.POST.get("action") == "case":
                svc.exemplary_case_add(
                    actor=user,
                    region=region.code,
                    year=year,
                    title=request.POST.get("title", ""),
                    summary=request.POST.get("summary", ""),
                )
                messages.success(request, "优秀案例已添加。")
            else:
                svc.annual_report_save(
                    actor=user,
                    region=region.code,
                    year=year,
                    inspection=request.POST.get("inspection", ""),
                    highlights=request.POST.get("highlights", ""),
                    problems=request.POST.get("problems", ""),
                    measures=request.POST.get("measures", ""),
                )
                messages.success(request, "已保存。")
            return redirect(f"{reverse('oversight:annual')}?region={region.code}&year={year}")
        except DomainError as exc:
            if exc.status == 403:
                raise
            error = exc.message
    report = sel.annual_report_get(region, year)
    due = dt.date(year, 12, 1)
    today = timezone.localdate()
    return render(
        request,
        "oversight/annual.html",
        {
            "region": region,
            "year": year,
            "report": report,
            "cases": sel.exemplary_cases(region, year),
            "error": error,
            "due": due,
            "days_left": (due - today).days,
            "districts": sel.districts_for(user) if region.level == Region.Level.PROVINCE else [],
            "years": list(range(today.year, 2023, -1)),
        },
    )


@login_required
def annual_download(request: HttpRequest) -> HttpResponse:
    from guanai.oversight.annual import annual_report_data, annual_report_pdf, annual_report_xlsx

    user = request_user(request)
    region, year = _report_scope(request, user)
    fmt = request.GET.get("format", "pdf")
    if fmt not in ("pdf", "xlsx"):
        raise DomainError("bad_format", "格式应为PDF或Excel")
    shared = request.GET.get("shared") == "1"
    data = annual_report_data(region, year, today=timezone.localdate(), shared=shared)
    body = annual_report_pdf(data) if fmt == "pdf" else annual_report_xlsx(data)
    with transaction.atomic():
        access_record(
            actor=user,
            action=f"annual_report.download.{fmt}",
            object_type="annual_report",
            object_id=f"{region.code}:{year}",
        )
    name = f"annual-report-{region.code[:6]}-{year}{'-shared' if shared else ''}.{fmt}"
    content_type = (
        "application/pdf" if fmt == "pdf" else ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    )
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
def national_export(request: HttpRequest) -> StreamingHttpResponse:
    """The national-system CSV of the user's jurisdiction, or of ``?region=`` inside it, streamed (a district's
    file has hundreds of thousands of lines)."""
    from guanai.accounts.scope import in_prefix
    from guanai.oversight.national import child_lines, director_lines, stream
    from guanai.registry.selectors import children_for

    user = request_user(request)
    if not user.can("oversight.manage") or not user.can("child.reveal"):
        raise PermissionRefused("只有区县和市民政部门可以导出全国系统报送数据")
    kind = request.GET.get("kind", "")
    if kind not in ("children", "directors"):
        raise NotFound()
    region = sel.dashboard_region(user, request.GET.get("region", ""))
    today = timezone.localdate()
    if kind == "children":
        lines = child_lines(children_for(user).filter(in_prefix("village_id", region.prefix)), today=today)
    else:
        lines = director_lines(region.prefix, today=today)
    with transaction.atomic():
        access_record(actor=user, action=f"national.export.{kind}", object_type="region", object_id=region.code)
    response = StreamingHttpResponse(stream(lines), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="national-{kind}-{region.code[:6]}-{today}.csv"'
    return response


# --- spot checks ---------------------------------------------------------------------------------------------


@login_required
def spotchecks(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    if not user.can("oversight.manage"):
        raise PermissionRefused("您的角色无权开展档案抽查")
    today = timezone.localdate()
    error = ""
    if request.method == "POST":
        try:
            seed_text = request.POST.get("seed", "").strip()
            check = svc.spotcheck_draw(
                actor=user,
                district=request.POST.get("district", ""),
                year=int(request.POST.get("year") or today.year),
                size=int(request.POST.get("size") or 0) or None,
                seed=int(seed_text) if seed_text else None,
                today=today,
            )
            return redirect("oversight:spotcheck", pk=check.pk)
        except ValueError:
            error = "样本量、年度和随机种子应为数字"
        except DomainError as exc:
            if exc.status == 403:
                raise
            error = exc.message
    checks = list(sel.spotchecks_for(user).select_related("district")[:100])
    return render(
        request,
        "oversight/spotchecks.html",
        {
            "checks": checks,
            "districts": sel.districts_for(user),
            "error": error,
            "year": today.year,
            "default_size": svc.oversight_rules()["spot_check"]["default_size"],
        },
    )


@login_required
def spotcheck(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    check = sel.spotcheck_get(user, pk)
    today = timezone.localdate()
    error = ""
    if request.method == "POST":
        try:
            svc.spotcheck_close(actor=user, check=check, summary=request.POST.get("summary", ""), today=today)
            messages.success(request, "抽查结论已保存。")
            return redirect("oversight:spotcheck", pk=check.pk)
        except DomainError as exc:
            if exc.status == 403:
                raise
            error = exc.message
    items = list(check.items.select_related("child").order_by("township_code", "village_code", "id"))
    names = dict(
        Region.objects.filter(code__in={i.township_code for i in items} | {i.village_code for i in items}).values_list(
            "code", "name"
        )
    )
    for item in items:
        item.place = f"{names.get(item.township_code, '')} {names.get(item.village_code, '')}"  # type: ignore[attr-defined]
    return render(
        request,
        "oversight/spotcheck.html",
        {
            "check": check,
            "items": items,
            "summary": svc.spotcheck_summary(check, today=today),
            "error": error,
            "tasks": RectificationTask.objects.filter(item__spot_check=check).select_related("assignee", "item__child"),
        },
    )


@login_required
def spotcheck_item(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    item = sel.spotcheck_item_get(user, pk)
    error = ""
    if request.method == "POST":
        answers = {c["id"]: request.POST.get(f"item_{c['id']}", "") for c in svc.checklist()}
        try:
            svc.spotcheck_review(
                actor=user, item=item, answers=answers, notes=request.POST.get("notes", ""), today=timezone.localdate()
            )
            nxt = (
                item.spot_check.items.filter(result=SpotCheckItem.Result.PENDING)
                .order_by("township_code", "id")
                .first()
            )
            if nxt is not None and request.POST.get("next"):
                return redirect("oversight:spotcheck-item", pk=nxt.pk)
            return redirect("oversight:spotcheck", pk=item.spot_check_id)
        except DomainError as exc:
            if exc.status == 403:
                raise
            error = exc.message
            item.answers = answers
            item.notes = request.POST.get("notes", "")
    with transaction.atomic():
        access_record(actor=user, action="spotcheck.view", object_type="child", object_id=item.child_id)
    answers = svc.oversight_rules()["spot_check"]["answers"]
    rows = [
        {"id": c["id"], "label": c["label"], "value": (item.answers or {}).get(c["id"], "")} for c in svc.checklist()
    ]
    return render(
        request,
        "oversight/spotcheck_item.html",
        {
            "item": item,
            "rows": rows,
            "answers": answers,
            "error": error,
            "closed": item.spot_check.status == SpotCheck.Status.CLOSED,
        },
    )


# --- rectification tasks -------------------------------------------------------------------------------------


@login_required
def tasks(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    rows = list(sel.tasks_for(user).order_by("status", "due_date", "id")[:200])
    return render(request, "oversight/tasks.html", {"tasks": rows, "today": timezone.localdate()})


@login_required
@require_POST
def task_done(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    task = sel.task_get(user, pk)
    try:
        svc.rectification_done(actor=user, task=task, response=request.POST.get("response", ""))
        messages.success(request, "整改情况已填报。")
    except DomainError as exc:
        if exc.status == 403:
            raise
        messages.error(request, exc.message)
    return redirect("oversight:tasks")


# --- milestones ----------------------------------------------------------------------------------------------


@login_required
def milestones(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    progress = sel.milestones_for(user)
    error = ""
    if request.method == "POST":
        try:
            done_text = request.POST.get("done_on", "").strip()
            svc.milestone_update(
                actor=user,
                district=request.POST.get("district", ""),
                milestone=request.POST.get("milestone", ""),
                done_on=parse_date(done_text) if done_text else None,
                note=request.POST.get("note", ""),
                evidence=request.FILES.get("evidence"),
            )
            messages.success(request, "工作节点进展已保存。")
            return redirect("oversight:milestones")
        except ParseError as exc:
            error = exc.message
        except DomainError as exc:
            if exc.status == 403:
                raise
            error = exc.message
    districts = sel.districts_for(user)
    specs = svc.milestone_rules()
    today = timezone.localdate()
    table = []
    for d in districts:
        cells = []
        for m in specs:
            p = progress.get(d.code, {}).get(m["id"])
            state = "done" if p and p.done_on else ("overdue" if m["due"] < today else "pending")
            late = bool(p and p.done_on and p.done_on > m["due"])
            cells.append({"m": m, "p": p, "state": state, "late": late})
        table.append({"district": d, "cells": cells})
    return render(
        request,
        "oversight/milestones.html",
        {
            "specs": specs,
            "table": table,
            "error": error,
            "can_manage": user.can("oversight.manage"),
            "today": today,
        },
    )


@login_required
def milestone_evidence(request: HttpRequest, pk: int) -> FileResponse:
    from guanai.oversight.models import MilestoneProgress

    user = request_user(request)
    prefix = region_prefix(user)
    row = MilestoneProgress.objects.filter(pk=pk).first()
    if row is None or prefix is None or not row.district_id.startswith(prefix) or not row.evidence:
        raise NotFound()
    return FileResponse(row.evidence.open("rb"), as_attachment=True, filename=row.evidence_name or "evidence")
