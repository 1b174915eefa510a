"""Account pages for administrators: list, create, change role or jurisdiction, disable, reset a password."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from guanai.accounts import forms as f
from guanai.accounts import services
from guanai.accounts.models import User
from guanai.accounts.selectors import users_for
from guanai.lib.errors import DomainError, PermissionRefused

FIELD_OF_ERROR = {
    "unknown_role": "role",
    "region_level": "region_code",
    "bad_region_code": "region_code",
    "unknown_region": "region_code",
    "region_out_of_scope": "region_code",
    "username_taken": "username",
    "weak_password": "password",
}


def _manager(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    if not user.can("user.manage"):
        raise PermissionRefused("只有系统管理员可以管理账号")
    return user


def _form_fail(form: Any, error: DomainError) -> None:
    field = FIELD_OF_ERROR.get(error.code)
    form.add_error(field if field in form.fields else None, error.message)


@login_required
def users(request: HttpRequest) -> HttpResponse:
    actor = _manager(request)
    filters = {key: request.GET.get(key, "").strip() for key in ("q", "role", "active")}
    page = Paginator(users_for(actor, **filters), 50).get_page(request.GET.get("page"))
    query = urlencode({k: v for k, v in filters.items() if v})
    return render(
        request, "accounts/users.html", {"page": page, "filters": filters, "roles": f.ROLE_CHOICES, "query": query}
    )


@login_required
def user_new(request: HttpRequest) -> HttpResponse:
    actor = _manager(request)
    form = f.NewAccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            account = services.user_create(actor=actor, **form.cleaned_data)
        except DomainError as error:
            if error.status not in (400, 409):
                raise
            _form_fail(form, error)
        else:
            messages.success(request, f"已创建账号 {account.username}（{account.role_label}，{account.region}）")
            return redirect("accounts:user", pk=account.pk)
    return render(request, "accounts/user_form.html", {"form": form, "mode": "new"})


@login_required
def user_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _manager(request)
    account = services.managed_user(actor=actor, pk=pk)
    initial = {
        "display_name": account.display_name,
        "organisation": account.organisation,
        "role": account.role,
        "region_code": account.region_id or "",
    }
    form = f.AccountForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.user_update(actor=actor, pk=pk, **form.cleaned_data)
        except DomainError as error:
            if error.status not in (400, 409):
                raise
            _form_fail(form, error)
        else:
            messages.success(request, "账号已保存")
            return redirect("accounts:user", pk=pk)
    return render(
        request,
        "accounts/user_form.html",
        {"form": form, "mode": "edit", "account": account, "password_form": f.PasswordForm()},
    )


@login_required
@require_POST
def user_active(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _manager(request)
    active = request.POST.get("active") == "1"
    try:
        account = services.user_set_active(actor=actor, pk=pk, active=active)
    except DomainError as error:
        if error.status not in (400, 409):
            raise
        messages.error(request, error.message)
    else:
        messages.success(request, f"已{'启用' if active else '停用'}账号 {account.username}")
    return redirect("accounts:user", pk=pk)


@login_required
@require_POST
def user_password(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _manager(request)
    form = f.PasswordForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请填写新密码")
        return redirect("accounts:user", pk=pk)
    try:
        account = services.user_set_password(actor=actor, pk=pk, password=form.cleaned_data["password"])
    except DomainError as error:
        if error.status not in (400, 409):
            raise
        messages.error(request, error.message)
    else:
        messages.success(request, f"已重置账号 {account.username} 的密码，请告知本人尽快登录。")
    return redirect("accounts:user", pk=pk)
