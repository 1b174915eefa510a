"""Pages. Thin: parse input, call one selector or service, render."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_POST

from guanai.accounts.models import User
from guanai.audit.selectors import access_events_for, audit_events_for
from guanai.lib.dates import age_on
from guanai.lib.errors import PermissionRefused
from guanai.regions.selectors import region_path
from guanai.registry.selectors import child_counts_by_area, child_relations, children_for
from guanai.registry.services import child_reveal, child_view


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    redirect_authenticated_user = True


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _today() -> dt.date:
    return timezone.localdate()


HOME_TEMPLATES = {
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
    user = _user(request)
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
        kids = list(children_for(user).exclude(status="exited").order_by("name")[:500])
        bands = {"0–5岁": 0, "6–11岁": 0, "12–15岁": 0, "16–17岁": 0}
        for child in kids:
            age = age_on(child.birth_date, today)
            key = "0–5岁" if age < 6 else "6–11岁" if age < 12 else "12–15岁" if age < 16 else "16–17岁"
            bands[key] += 1
        ctx.update(
            children=kids[:12],
            total=len(kids),
            bands=bands,
            disabled=sum(1 for c in kids if c.disability_type),
        )
    elif role.home in {"township", "district", "city", "partner"}:
        areas = child_counts_by_area(user, level=CHILD_LEVEL[user.region.level])
        ctx.update(areas=areas, total=sum(int(a["children"]) for a in areas))  # type: ignore[call-overload]
    elif role.home == "auditor":
        ctx.update(events=audit_events_for(user)[:10], accesses=access_events_for(user)[:10])
    elif role.home == "admin":
        ctx.update(
            users_by_role=User.objects.values("role").annotate(n=Count("id")).order_by("role"),
            user_total=User.objects.count(),
        )
    return render(request, HOME_TEMPLATES[role.home], ctx)


@login_required
def children(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not user.can("child.view"):
        raise PermissionRefused("您的角色无权查看儿童名册")
    qs = children_for(user).select_related("village").order_by("village_id", "name", "id")
    q = request.GET.get("q", "").strip()
    if q:
        qs = qs.filter(
            Q(name__startswith=q) | Q(name_pinyin__startswith=q.lower()) | Q(name_initials__startswith=q.lower())
        )
    status = request.GET.get("status", "")
    if status in {"registered", "active", "exited"}:
        qs = qs.filter(status=status)
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    return render(request, "web/children.html", {"page": page, "q": q, "status": status, "today": _today()})


@login_required
def child_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    child = child_view(user=user, pk=pk)
    return render(
        request,
        "web/child.html",
        {
            "child": child,
            "age": age_on(child.birth_date, _today()),
            "relations": child_relations(user, child),
            "can_reveal": user.can("child.reveal"),
            "region_path": region_path(child.village),
        },
    )


@login_required
@require_POST
def child_reveal_fragment(request: HttpRequest, pk: int) -> HttpResponse:
    value = child_reveal(user=_user(request), pk=pk, field="id_number")
    return render(request, "web/_revealed.html", {"value": value})


@login_required
def audit(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    filters = {k: request.GET.get(k, "").strip() for k in ("actor", "action", "object_type", "object_id")}
    kind = request.GET.get("kind", "events")
    qs = access_events_for(user, **filters) if kind == "access" else audit_events_for(user, **filters)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "web/audit.html", {"page": page, "filters": filters, "kind": kind})


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
