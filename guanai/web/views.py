"""Pages. Thin: parse input, call one selector or service, render."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.views.decorators.http import require_POST

from guanai.accounts.current import request_user
from guanai.accounts.models import User
from guanai.audit.selectors import access_events_for, audit_events_for
from guanai.audit.services import access_record
from guanai.discovery.models import Finding
from guanai.discovery.selectors import findings_for
from guanai.lib.dates import age_on
from guanai.lib.errors import DomainError, PermissionRefused
from guanai.protection.selectors import risk_for
from guanai.regions.selectors import region_path
from guanai.registry.archive_pdf import archive_pdf, family_rows, local_time, timeline_area
from guanai.registry.archive_xlsx import archive_xlsx
from guanai.registry.models import Child, ChildGroup, ChildRelation, PersonStatus
from guanai.registry.selectors import (
    child_counts_by_area,
    child_get,
    child_relations,
    children_for,
    children_search,
)
from guanai.registry.services import (
    child_exit,
    child_reenter,
    child_register,
    child_reveal,
    child_update,
    child_view,
    family_member_add,
    person_reveal,
    person_status_add,
)
from guanai.support.selectors import open_needs_for
from guanai.visits.selectors import completion_by_area, worklist_page
from guanai.web import forms as f


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    redirect_authenticated_user = True


def _today() -> dt.date:
    return timezone.localdate()


def _require(user: User, permission: str, message: str) -> None:
    if not user.can(permission):
        raise PermissionRefused(message)


# A refusal that belongs on the form (bad or conflicting input) rather than on an error page (403, 404).
def _form_error(error: DomainError) -> bool:
    return error.status in (400, 409)


HOME_TEMPLATES = {
    "reporter": "web/home_reporter.html",
    "village": "web/home_village.html",
    "township": "web/home_area.html",
    "district": "web/home_area.html",
    "city": "web/home_area.html",
    "partner": "web/home_area.html",
    "social": "web/home_social.html",
    "auditor": "web/home_auditor.html",
    "admin": "web/home_admin.html",
}
# Which level an area home breaks its counts down by: the level below the user's own region.
CHILD_LEVEL = {1: 3, 2: 3, 3: 4, 4: 5, 5: 5}


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    role = user.role_obj()
    if role is None or user.region is None:
        return render(
            request,
            "web/error.html",
            {"title": "账号未配置", "message": "您的账号尚未分配角色或管辖区域，请联系系统管理员。"},
            status=403,
        )
    ctx: dict[str, Any] = {"role": role, "region_path": region_path(user.region)}
    if role.home == "village":
        today = _today()
        on_roll = children_for(user).exclude(status=Child.Status.EXITED)
        kids = list(on_roll.order_by("name")[:500])
        bands = {"0–5岁": 0, "6–11岁": 0, "12–15岁": 0, "16–17岁": 0}
        for child in kids:
            age = age_on(child.birth_date, today)
            key = "0–5岁" if age < 6 else "6–11岁" if age < 12 else "12–15岁" if age < 16 else "16–17岁"
            bands[key] += 1
        counts = dict(on_roll.filter(groups__isnull=False).values_list("groups__code").annotate(n=Count("id")))
        ctx.update(
            children=kids[:12],
            total=on_roll.count(),
            bands=bands,
            disabled=sum(1 for c in kids if c.disability_type),
            group_counts=[(code, label, counts[code]) for code, label in ChildGroup.Code.choices if counts.get(code)],
            proposals=list(on_roll.exclude(exit_proposal="").order_by("name")[:20]),
            can_edit=user.can("child.edit"),
            # What other parts of the plan ask of the director today: data-comparison leads, open needs (§9, §18).
            open_findings=findings_for(user).filter(status=Finding.Status.OPEN).count(),
            open_needs=open_needs_for(user).values("child_id").distinct().count(),
        )
        if user.can("visit.view"):
            work = worklist_page(user, today=today, tab="todo", per_page=8)
            ctx.update(work_top=work.items, work_counts=work.counts, new_key=uuid.uuid4().hex)
    elif role.home in {"township", "district", "city", "partner"}:
        areas = child_counts_by_area(user, level=CHILD_LEVEL[user.region.level])
        if user.can("visit.view"):
            rates = {
                r["code"]: r for r in completion_by_area(user, today=_today(), level=CHILD_LEVEL[user.region.level])
            }
            for area in areas:
                rate = rates.get(str(area["code"]), {})
                area["contact_rate"], area["home_rate"] = rate.get("contact_rate"), rate.get("home_rate")
            ctx["rates"] = True
        ctx.update(
            areas=areas,
            total=sum(int(a["children"]) for a in areas),  # type: ignore[call-overload]
            can_view_children=user.can("child.view"),
            can_edit=user.can("child.edit"),
        )
    elif role.home == "auditor":
        ctx.update(events=audit_events_for(user)[:10], accesses=access_events_for(user)[:10])
    elif role.home == "admin":
        ctx.update(
            users_by_role=User.objects.values("role").annotate(n=Count("id")).order_by("role"),
            user_total=User.objects.count(),
        )
    return render(request, HOME_TEMPLATES[role.home], ctx)


# --- roster (花名册) ----------------------------------------------------------------------------------------

ROSTER_FILTERS = ("q", "region", "group", "status", "age_band")
# A name search counts its matches up to this many ("1000+"): counting every 王 of a district costs more
# than the page itself, and nobody pages through a thousand namesakes.
SEARCH_COUNT_CAP = 1000


class CappedPaginator(Paginator):
    """A paginator that counts at most ``cap`` rows; ``capped`` says whether there were more."""

    def __init__(self, object_list: Any, per_page: int, *, cap: int) -> None:
        super().__init__(object_list, per_page)
        self.cap = cap
        self.capped = False

    @cached_property
    def count(self) -> int:
        # Unordered, so that the database may stop at cap + 1 matches instead of sorting them all.
        n = self.object_list.order_by()[: self.cap + 1].count()  # type: ignore[attr-defined]  # a QuerySet
        self.capped = n > self.cap
        return min(n, self.cap)


@login_required
def children(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    _require(user, "child.view", "您的角色无权查看儿童名册")
    filters = {k: request.GET.get(k, "").strip()[:100] for k in ROSTER_FILTERS}
    today = _today()
    qs = (
        children_search(user, **filters, today=today)
        # The village by a second small query, not a join: joined, the planner may walk all regions in code
        # order to produce the roster order (slow when a search matches a few hundred children).
        .prefetch_related("village", "groups")
        .order_by("village_id", "name", "id")
    )
    paginator = CappedPaginator(qs, 30, cap=SEARCH_COUNT_CAP) if filters["q"] else Paginator(qs, 30)
    page = paginator.get_page(request.GET.get("page"))
    query = urlencode({k: v for k, v in filters.items() if v})
    return render(
        request,
        "web/children.html",
        {
            "page": page,
            "rows": [(c, age_on(c.birth_date, today)) for c in page],
            "filters": filters,
            "filtered": any(filters[k] for k in ROSTER_FILTERS if k != "q"),
            "query": query,
            "regions": f.region_filter_choices(user),
            "groups": ChildGroup.Code.choices,
            "statuses": Child.Status.choices,
            "age_bands": f.age_band_choices(),
            "can_edit": user.can("child.edit"),
        },
    )


# --- register and edit ----------------------------------------------------------------------------------


def _in_scope_link(user: User, child_no: str) -> str:
    """The archive link of an existing child, when it is in the user's jurisdiction."""
    found = children_search(user, q=child_no).first() if child_no else None
    return reverse("web:child", args=[found.pk]) if found else ""


@login_required
def child_new(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    _require(user, "child.edit", "您的角色无权登记儿童")
    villages = f.village_choices(user)
    data = request.POST if request.method == "POST" else None
    form = f.RegisterForm(data, villages=villages)
    family = f.registration_family_forms(data)
    duplicate: dict[str, str] | None = None
    if request.method == "POST" and form.is_valid() and all(p.is_valid() for p in family.values()):
        members = [m for m in (p.person_data() for p in family.values()) if m is not None]
        try:
            child = child_register(
                actor=user,
                data=form.child_data(),
                family=members,
                today=_today(),
                confirm_similar=form.cleaned_data["confirm_similar"],
            )
        except DomainError as error:
            if not _form_error(error):
                raise
            f.apply_domain_error(form, error)
            if error.code in ("possible_duplicate", "duplicate_id"):
                number = (error.detail or {}).get("child_no", "")
                duplicate = {"code": error.code, "child_no": number, "url": _in_scope_link(user, number)}
        else:
            messages.success(request, f"已登记 {child.name}（{child.child_no}）")
            return redirect("web:child", pk=child.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "web/child_form.html",
        {"form": form, "family": family, "duplicate": duplicate, "mode": "new"},
        status=status,
    )


@login_required
def child_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    _require(user, "child.edit", "您的角色无权修改儿童信息")
    child = child_get(user, pk)
    villages = f.village_choices(user)
    initial = f.child_edit_initial(child)
    data = request.POST if request.method == "POST" else None
    form = f.ChildEditForm(data, initial=initial, villages=villages, id_mask=child.id_number_mask)
    stale = False
    if request.method == "POST" and form.is_valid():
        changes = form.changes()
        if not changes:
            messages.info(request, "没有修改任何内容")
            return redirect("web:child", pk=child.pk)
        try:
            child_update(
                actor=user,
                pk=child.pk,
                expected_version=form.cleaned_data["version"],
                changes=changes,
                today=_today(),
            )
        except DomainError as error:
            if not _form_error(error):
                raise
            f.apply_domain_error(form, error)
            stale = error.code == "stale"
        else:
            messages.success(request, "档案已保存")
            return redirect("web:child", pk=child.pk)
    return render(
        request,
        "web/child_form.html",
        {"form": form, "child": child, "mode": "edit", "stale": stale},
        status=400 if request.method == "POST" else 200,
    )


# --- the archive (一人一档) ------------------------------------------------------------------------------


# Parents first, then the other people around the child, as on the 登记表.
FAMILY_ORDER = {"father": 0, "mother": 1, "grandparent": 2, "relative": 3, "sibling": 4, "other": 5}


def _family(user: User, child: Child) -> list[ChildRelation]:
    return sorted(child_relations(user, child), key=lambda r: (FAMILY_ORDER.get(r.relation, 9), r.pk))


def _archive(
    request: HttpRequest,
    user: User,
    pk: int,
    *,
    bound: dict[str, Any] | None = None,
    open_form: str = "",
    status: int = 200,
) -> HttpResponse:
    """Render a child's archive (recorded as a view), with any bound form that failed put back in place."""
    child = child_view(user=user, pk=pk)
    today = _today()
    bound = bound or {}
    relations = _family(user, child)
    can_edit = user.can("child.edit")
    rows = family_rows(relations, reveal=False, today=today)
    # The edit forms are rendered only when open (refused, or asked for with ?open=… when JavaScript is off);
    # otherwise each loads when its section is first opened (child_form_part).
    if not open_form and request.method == "GET":
        open_form = request.GET.get("open", "")[:40]
    status_forms = {
        rel.person_id: bound.get(f"status-{rel.person_id}") or f.StatusForm(prefix=f"st{rel.person_id}")
        for rel in relations
        if open_form == f"status-{rel.person_id}"
    }
    show_all = request.GET.get("timeline") == "all"
    events = child.timeline.all()
    total_events = events.count()
    shown = list(events if show_all else events[:30])
    return render(
        request,
        "web/child.html",
        {
            "child": child,
            "age": age_on(child.birth_date, today),
            "family": [
                (
                    rel,
                    row,
                    status_forms.get(rel.person_id),
                    open_form == f"status-{rel.person_id}",
                    f"status-{rel.person_id}",
                )
                for rel, row in zip(relations, rows, strict=True)
            ],
            "groups": list(child.groups.all()),
            "timeline": [(e, local_time(e.at), *timeline_area(e.kind)) for e in shown],
            "timeline_total": total_events,
            "timeline_more": total_events - len(shown),
            "can_reveal": user.can("child.reveal"),
            "can_edit": can_edit,
            "can_report": user.can("report.file") and child.status != "exited",
            "can_assess": user.can("assessment.do") and child.status != "exited",
            "can_support": user.can("support.manage"),
            "risk": risk_for([child.pk], today).get(child.pk),
            "region_path": region_path(child.village),
            "exit_form": bound.get("exit") or f.ExitForm(today=today, proposal=child.exit_proposal),
            "reenter_form": bound.get("reenter") or f.ReenterForm(),
            "member_form": bound.get("member")
            or (f.FamilyMemberForm(prefix="member") if open_form == "member" else None),
            "open_form": open_form,
            # A refusal that concerns no single field is shown on top: its form may not even be on the page
            # (exiting a child someone else exited a moment ago).
            "refusals": [e for form in bound.values() for e in form.non_field_errors()],
        },
        status=status,
    )


@login_required
def child_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _archive(request, request_user(request), pk)


@login_required
def child_form_part(request: HttpRequest, pk: int, part: str) -> HttpResponse:
    """One edit form of the archive (htmx, when its section is opened): ``member``, ``exit`` or
    ``status-<person id>`` of a family member of this child."""
    user = request_user(request)
    _require(user, "child.edit", "您的角色无权修改儿童信息")
    child = child_get(user, pk)
    ctx: dict[str, Any] = {"child": child, "part": part}
    if part == "member":
        ctx["member_form"] = f.FamilyMemberForm(prefix="member")
    elif part == "exit":
        ctx["exit_form"] = f.ExitForm(today=_today(), proposal=child.exit_proposal)
    elif part.startswith("status-") and part[7:].isdigit():
        rel = next((r for r in child_relations(user, child) if r.person_id == int(part[7:])), None)
        if rel is None:
            raise Http404
        ctx.update(rel=rel, sform=f.StatusForm(prefix=f"st{rel.person_id}"))
    else:
        raise Http404
    return render(request, "web/_archive_form_part.html", ctx)


@login_required
@require_POST
def child_exit_view(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    _require(user, "child.edit", "您的角色无权修改儿童信息")
    child = child_get(user, pk)
    form = f.ExitForm(request.POST, today=_today(), proposal=child.exit_proposal)
    if form.is_valid():
        try:
            child_exit(actor=user, pk=pk, **form.cleaned_data)
        except DomainError as error:
            if not _form_error(error):
                raise
            f.apply_domain_error(form, error)
        else:
            messages.success(request, f"已办理退出：{form.cleaned_data['reason']}")
            return redirect("web:child", pk=pk)
    return _archive(request, user, pk, bound={"exit": form}, open_form="exit", status=400)


@login_required
@require_POST
def child_reenter_view(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    _require(user, "child.edit", "您的角色无权修改儿童信息")
    form = f.ReenterForm(request.POST)
    if form.is_valid():
        try:
            child_reenter(actor=user, pk=pk, today=_today(), note=form.cleaned_data["note"])
        except DomainError as error:
            if not _form_error(error):
                raise
            f.apply_domain_error(form, error)
        else:
            messages.success(request, "已重新纳入，关爱类别已重新认定")
            return redirect("web:child", pk=pk)
    return _archive(request, user, pk, bound={"reenter": form}, open_form="reenter", status=400)


@login_required
@require_POST
def family_add(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    _require(user, "child.edit", "您的角色无权修改儿童信息")
    form = f.FamilyMemberForm(request.POST, prefix="member")
    if form.is_valid():
        member = form.person_data()
        assert member is not None  # the name is required on this form
        try:
            family_member_add(actor=user, child_pk=pk, member=member, today=_today())
        except DomainError as error:
            if not _form_error(error):
                raise
            f.apply_domain_error(form, error)
        else:
            messages.success(request, f"已添加家庭成员：{member.name}")
            return redirect(reverse("web:child", args=[pk]) + "#family")
    return _archive(request, user, pk, bound={"member": form}, open_form="member", status=400)


@login_required
@require_POST
def person_status(request: HttpRequest, pk: int, person_pk: int) -> HttpResponse:
    user = request_user(request)
    _require(user, "child.edit", "您的角色无权修改儿童信息")
    form = f.StatusForm(request.POST, prefix=f"st{person_pk}")
    status = form.status_data() if form.is_valid() else None
    if status is not None:
        try:
            person_status_add(actor=user, child_pk=pk, person_pk=person_pk, status=status, today=_today())
        except DomainError as error:
            if not _form_error(error):
                raise
            f.apply_domain_error(form, error)
        else:
            messages.success(request, f"已登记新状况：{PersonStatus.Kind(status.kind).label}")
            return redirect(reverse("web:child", args=[pk]) + "#family")
    return _archive(request, user, pk, bound={f"status-{person_pk}": form}, open_form=f"status-{person_pk}", status=400)


@login_required
@require_POST
def child_reveal_fragment(request: HttpRequest, pk: int) -> HttpResponse:
    value = child_reveal(user=request_user(request), pk=pk, field="id_number")
    return render(request, "web/_revealed.html", {"value": value})


@login_required
@require_POST
def person_reveal_fragment(request: HttpRequest, pk: int, person_pk: int, field: str) -> HttpResponse:
    value = person_reveal(user=request_user(request), child_pk=pk, person_pk=person_pk, field=field)
    return render(request, "web/_revealed.html", {"value": value})


# --- archive exports ------------------------------------------------------------------------------------


def _export(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    """One child's archive as PDF or Excel; masked unless the role may reveal, and recorded either way."""
    user = request_user(request)
    child = child_get(user, pk)
    reveal = user.can("child.reveal")
    parts: dict[str, Any] = {
        "child": child,
        "relations": _family(user, child),
        "groups": list(child.groups.all()),
        "timeline": list(child.timeline.all()),
        "reveal": reveal,
        "place": " › ".join(r.name for r in region_path(child.village)),
        "printed_by": user.shown_name,
    }
    if kind == "pdf":
        body, content_type = archive_pdf(**parts), "application/pdf"
    else:
        body = archive_xlsx(**parts)
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    access_record(
        actor=user,
        action=f"child.export_{kind}",
        object_type="child",
        object_id=child.pk,
        field="id_number,phone" if reveal else "",
    )
    response = HttpResponse(body, content_type=content_type)
    disposition = "inline" if kind == "pdf" else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="archive-{child.child_no}.{kind}"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
def child_archive_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    return _export(request, pk, "pdf")


@login_required
def child_archive_xlsx(request: HttpRequest, pk: int) -> HttpResponse:
    return _export(request, pk, "xlsx")


# --- audit and errors -----------------------------------------------------------------------------------


@login_required
def audit(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    filters = {k: request.GET.get(k, "").strip() for k in ("actor", "action", "object_type", "object_id")}
    kind = request.GET.get("kind", "events")
    qs = access_events_for(user, **filters) if kind == "access" else audit_events_for(user, **filters)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    query = urlencode({k: v for k, v in {**filters, "kind": kind}.items() if v})
    return render(request, "web/audit.html", {"page": page, "filters": filters, "kind": kind, "query": query})


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _error(request: HttpRequest, status: int, title: str, message: str) -> HttpResponse:
    return render(request, "web/error.html", {"title": title, "message": message}, status=status)


def error_400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 400, "请求有误", "请求格式不正确，请返回重试。")


def error_403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 403, "无权访问", "您的角色无权访问此页面。")


def error_404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 404, "未找到", "未找到该页面或记录，或不在您的管辖范围内。")


def error_500(request: HttpRequest) -> HttpResponse:
    return _error(request, 500, "系统错误", "系统出现错误，已记录。请稍后重试。")
