"""Pages of the director's daily work. Thin: parse input, call one selector or service, render."""

from __future__ import annotations

import datetime as dt
import io
import uuid
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from guanai.accounts.current import request_user
from guanai.lib.errors import DomainError, PermissionRefused
from guanai.lib.parse import ParseError, parse_date
from guanai.registry.selectors import child_get
from guanai.visits import services as svc
from guanai.visits.models import Notification, Problem, Visit
from guanai.visits.obligations import DONE
from guanai.visits.selectors import (
    WorkItem,
    completion_by_area,
    effective_settings,
    ledger_for,
    open_problems_for,
    problem_get,
    visits_for,
    worklist_page,
)

WORKLIST_PAGE = 50
CHILD_LEVEL = {1: 3, 2: 3, 3: 4, 4: 5, 5: 5}


@login_required
def worklist(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    today = timezone.localdate()
    tab = request.GET.get("tab", "todo")
    # A big village has over a thousand children: the list is paged in the database, most urgent first.
    result = worklist_page(user, today=today, tab=tab, page=_page_number(request), per_page=WORKLIST_PAGE)
    # Each item links to three pages: the links are filled from one reverse() per name, not 150 per page (a
    # {% url %} tag costs ~25 µs, a third of the template's time at 50 items); the state chips are formatted
    # here too (template filters cost several times more than str.format).
    patterns = {key: reverse(name, args=[_PK]).replace(str(_PK), "{}") for name, key in _ITEM_URLS.items()}
    items = [(w, {key: p.format(w.child.pk) for key, p in patterns.items()}, _states(w)) for w in result.items]
    return render(
        request,
        "visits/worklist.html",
        {
            "items": items,
            "page": Paginator(range(result.count), WORKLIST_PAGE).get_page(result.number),
            "tab": tab,
            "counts": result.counts,
            "total": result.total,
            "today": today,
            "new_key": uuid.uuid4().hex,
        },
    )


_PK = 987654321  # a key no child has, replaced by each child's
_ITEM_URLS = {"web:child": "child", "visits:contact": "contact", "visits:new": "new"}


def _states(w: WorkItem) -> list[tuple[str, str, str]]:
    """Each obligation of a worklist item as (state, tooltip, text) for its chip."""
    chips = []
    for o in w.obligations:
        text = f"{o.label}：{o.state}" + ("" if o.state == DONE else f" · {o.due.month}月{o.due.day}日前")
        chips.append((o.state, f"{o.window_start.month}/{o.window_start.day}–{o.due.month}/{o.due.day}", text))
    return chips


def _page_number(request: HttpRequest) -> int:
    try:
        return int(request.GET.get("page", "1"))
    except ValueError:
        return 1


def _visit_context(request: HttpRequest, child_pk: int, **extra: Any) -> dict[str, Any]:
    user = request_user(request)
    return {
        "child": child_get(user, child_pk),
        "modes": Visit.Mode.choices,
        "checklist": svc._checklist_items(),
        "answers": svc._raw_rules()["checklist_answers"],
        "categories": svc.problem_categories(),
        "now": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "client_key": uuid.uuid4().hex,
        "late_days": effective_settings()["late_entry_days"],
        **extra,
    }


@login_required
def visit_new(request: HttpRequest, child_pk: int) -> HttpResponse:
    user = request_user(request)
    if request.method != "POST":
        return render(request, "visits/visit_form.html", _visit_context(request, child_pk, values={"mode": "home"}))
    post = request.POST
    checklist = {
        item["id"]: {"status": post.get(f"c_{item['id']}", "正常"), "note": post.get(f"n_{item['id']}", "")}
        for item in svc._checklist_items()
    }
    problems = []
    if post.get("problem_description", "").strip():
        problems.append(
            svc.ProblemData(category=post.get("problem_category", "other"), description=post["problem_description"])
        )
    try:
        # The phone's datetime-local value is wall-clock time in Asia/Shanghai.
        visited_at = dt.datetime.strptime(post.get("visited_at", ""), "%Y-%m-%dT%H:%M").replace(
            tzinfo=timezone.get_current_timezone()
        )
        visit = svc.visit_record(
            actor=user,
            child_pk=child_pk,
            now=timezone.now(),
            client_key=post.get("client_key", ""),
            photos=request.FILES.getlist("photos"),
            problems=problems,
            data=svc.VisitData(
                mode=post.get("mode", ""),
                visited_at=visited_at,
                met=post.get("met", ""),
                checklist=checklist,
                notes=post.get("notes", ""),
                late_reason=post.get("late_reason", ""),
            ),
        )
    except ValueError:
        error = "请填写正确的走访时间"
    except DomainError as exc:
        if exc.status == 404:
            raise
        error = exc.message
    else:
        return redirect(f"/visits/?done={visit.child_id}")
    ctx = _visit_context(request, child_pk, error=error, values=post)
    ctx["client_key"] = post.get("client_key") or ctx["client_key"]  # a retry keeps its key: no duplicate
    return render(request, "visits/visit_form.html", ctx, status=400)


@login_required
@require_POST
def quick_contact(request: HttpRequest, child_pk: int) -> HttpResponse:
    """One tap: 'I phoned the child today'. The key from the page makes a double tap harmless."""
    user = request_user(request)
    svc.visit_record(
        actor=user,
        child_pk=child_pk,
        now=timezone.now(),
        client_key=request.POST.get("client_key", ""),
        data=svc.VisitData(mode="phone", visited_at=timezone.now()),
    )
    return render(request, "visits/_contacted.html", {})


@login_required
def problems(request: HttpRequest) -> HttpResponse:
    return render(request, "visits/problems.html", {"problems": open_problems_for(request_user(request))[:200]})


@login_required
def problem_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    problem = problem_get(user, pk)
    error = ""
    if request.method == "POST":
        try:
            svc.problem_update(
                actor=user,
                problem_pk=pk,
                status=request.POST.get("status", ""),
                note=request.POST.get("note", ""),
                solution=request.POST.get("solution", ""),
            )
            return redirect("visits:problem", pk=pk)
        except DomainError as exc:
            if exc.status in (403, 404):
                raise
            error = exc.message
    return render(
        request,
        "visits/problem.html",
        {
            "problem": problem,
            "updates": problem.updates.all(),
            "error": error,
            "next_states": [
                s
                for s in Problem.Status
                if user.can("problem.handle")
                and s.value in {str(v) for v in svc.TRANSITIONS.get(Problem.Status(problem.status), set())}
            ],
            "categories": svc.problem_categories(),
            "today": timezone.localdate(),
        },
    )


def _month(request: HttpRequest) -> dt.date:
    try:
        return parse_date(request.GET["month"] + "-01") if request.GET.get("month") else timezone.localdate()
    except ParseError:
        raise DomainError("bad_month", "月份格式应为2026-11") from None


@login_required
def ledger(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    month = _month(request)
    rows = ledger_for(user, month=month)
    visits = (
        visits_for(user)
        .filter(visited_on__year=month.year, visited_on__month=month.month)
        .select_related("child")
        .order_by("-visited_at")[:300]
    )
    return render(request, "visits/ledger.html", {"rows": rows, "month": month, "visits": visits})


@login_required
def ledger_xlsx(request: HttpRequest) -> HttpResponse:
    from openpyxl import Workbook

    from guanai.audit.services import access_record

    user = request_user(request)
    month = _month(request)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "工作台账"
    sheet.append(["走访人", "走访儿童数", "联系次数", "入户走访次数", "发现问题", "已办结问题", "工作日志条数"])
    for r in ledger_for(user, month=month):
        sheet.append(
            [
                r["visitor"],
                r["children"],
                r["contacts"],
                r["home_visits"],
                r["problems_found"],
                r["problems_closed"],
                r["worklog_entries"],
            ]
        )
    detail = book.create_sheet("走访明细")
    detail.append(["日期", "儿童编号", "儿童姓名", "方式", "走访人", "见到的人", "补录原因"])
    for v in (
        visits_for(user)
        .filter(visited_on__year=month.year, visited_on__month=month.month)
        .select_related("child")
        .order_by("visited_on")
    ):
        detail.append(
            [
                v.visited_on.isoformat(),
                v.child.child_no,
                v.child.name,
                v.get_mode_display(),
                v.visitor_name,
                v.met,
                v.late_reason,
            ]
        )
    out = io.BytesIO()
    book.save(out)
    access_record(actor=user, action="ledger.export", object_type="ledger", object_id=f"{month:%Y-%m}")
    response = HttpResponse(
        out.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="ledger-{month:%Y-%m}.xlsx"'
    return response


@login_required
def completion(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    if user.region is None:
        raise PermissionRefused()
    today = timezone.localdate()
    rows = completion_by_area(user, today=today, level=CHILD_LEVEL[user.region.level])
    rows.sort(key=lambda r: (r["contact_rate"], r["home_rate"]))  # worst first
    return render(request, "visits/completion.html", {"rows": rows, "today": today})


@login_required
def worklog(request: HttpRequest) -> HttpResponse:
    from guanai.visits.models import WorkLogEntry

    user = request_user(request)
    error = ""
    today = timezone.localdate()
    if request.method == "POST":
        try:
            day = parse_date(request.POST.get("day") or today.isoformat())
            svc.worklog_add(actor=user, day=day, content=request.POST.get("content", ""), today=today)
            return redirect("visits:worklog")
        except ParseError as exc:
            error = exc.message
        except DomainError as exc:
            if exc.status == 403:
                raise
            error = exc.message
    entries = WorkLogEntry.objects.filter(author=user).select_related("child")[:100]
    return render(request, "visits/worklog.html", {"entries": entries, "error": error, "today": today})


@login_required
def settings_page(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    if not user.can("settings.manage"):
        raise PermissionRefused("只有系统管理员可以修改走访设置")
    error = ""
    if request.method == "POST":
        try:
            svc.visit_settings_update(
                actor=user,
                raised_home_visit_months=int(request.POST.get("raised_home_visit_months", "")),
                due_soon_days=int(request.POST.get("due_soon_days", "")),
                late_entry_days=int(request.POST.get("late_entry_days", "")),
            )
            return redirect("visits:settings")
        except ValueError:
            error = "请填写整数"
        except DomainError as exc:
            error = exc.message
    return render(request, "visits/settings.html", {"cfg": effective_settings(), "error": error})


@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    rows = list(Notification.objects.filter(user=user)[:100])
    Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())
    return render(request, "visits/notifications.html", {"rows": rows})
