"""Support pages, mounted at /support/. Thin: parse the form, call one selector or service, render or redirect.

Actions post back to the page they came from; a refusal that belongs on the form (400, 409) comes back as a
message there, 403 and 404 go to the error page (the DomainErrorMiddleware).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, F, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from guanai.accounts.current import request_user
from guanai.accounts.models import User
from guanai.accounts.scope import region_prefix
from guanai.audit.services import access_record
from guanai.lib.dates import age_on
from guanai.lib.errors import DomainError, PermissionRefused
from guanai.lib.parse import ParseError, parse_date
from guanai.registry.models import BenefitEnrolment, ChildGroup
from guanai.registry.selectors import child_get, children_for
from guanai.support import selectors as sel
from guanai.support import services as svc
from guanai.support.eligibility import benefit_coverage, benefit_label
from guanai.support.matching import match_services
from guanai.support.models import (
    Activity,
    BenefitStandard,
    CarePlan,
    Domain,
    Need,
    PlanAction,
    Provider,
    Severity,
    domain_mask,
)


def _today() -> dt.date:
    return timezone.localdate()


def _date(value: str | None, label: str, *, required: bool = True) -> dt.date | None:
    if not (value or "").strip():
        if required:
            raise DomainError("invalid", f"请填写{label}")
        return None
    try:
        return parse_date(value or "")
    except ParseError as exc:
        raise DomainError("invalid", f"{label}：{exc.message}") from None


def _int(value: str | None) -> int | None:
    return int(value) if value and value.strip().isdigit() else None


def _act(request: HttpRequest, back: str, action: Callable[[User], str]) -> HttpResponse:
    """Run one service; success and form-level refusals both come back to ``back`` with a message."""
    try:
        done = action(request_user(request))
    except DomainError as exc:
        if exc.status not in (400, 409):
            raise
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect(back)


def _require(user: User, permission: str) -> None:
    if not user.can(permission):
        raise PermissionRefused()


# --- index -------------------------------------------------------------------------------------------------
@login_required
def index(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    if user.can("support.provide") and not user.can("support.manage"):
        return redirect("support:provider")
    _require(user, "support.manage")
    domain = request.GET.get("domain", "")
    needs = sel.open_needs_for(user)
    if domain:
        needs = needs.filter(domain=domain)
    rows = (
        needs.values("child_id", "child__name", "child__village__name")
        .annotate(n=Count("id"), worst=Count("id", filter=Q(severity=Severity.HIGH)))
        .order_by("-worst", "-n", "child__name")
    )
    page = Paginator(rows, 30).get_page(request.GET.get("page"))
    ids = [r["child_id"] for r in page]
    plans = dict(
        CarePlan.objects.filter(child_id__in=ids, status__in=["draft", "active"]).values_list("child_id", "status")
    )
    shown = [{**r, "plan": plans.get(r["child_id"])} for r in page]
    by_domain = dict(sel.open_needs_for(user).values_list("domain").annotate(n=Count("id")).values_list("domain", "n"))
    return render(
        request,
        "support/index.html",
        {
            "page": page,
            "rows": shown,
            "domains": [(code, label, by_domain.get(code, 0)) for code, label in Domain.choices],
            "domain": domain,
            "referrals": sel.referrals_for_workforce(user).filter(status__in=["sent", "accepted"]).count(),
            "region": region_prefix(user),
        },
    )


# --- a child's support page --------------------------------------------------------------------------------
@login_required
def child_support(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    _require(user, "support.manage")
    child = child_get(user, pk)
    access_record(actor=user, action="support.view", object_type="child", object_id=child.pk)
    today = _today()
    needs = list(sel.needs_of(user, child))
    open_needs = [n for n in needs if n.is_open]
    coverage = benefit_coverage(on=today, child_ids=[child.pk])  # one pass for both
    eligible, gaps = coverage.eligibility.get(child.pk, []), coverage.gaps
    suggestions = match_services(child=child, on=today, limit=8) if open_needs else []
    need_titles = {n.pk: n for n in open_needs}
    return render(
        request,
        "support/child.html",
        {
            "child": child,
            "age": age_on(child.birth_date, today),
            "groups": ChildGroup.objects.filter(child=child).order_by("code"),
            "open_needs": open_needs,
            "closed_needs": [n for n in needs if not n.is_open][:10],
            "assessments": sel.assessments_of(user, child)[:5],
            "enrolments": sel.enrolments_of(user, child),
            "eligible": [(benefit_label(b), why) for b, _rule, why in eligible],
            "gaps": [(benefit_label(g.benefit), g) for g in gaps],
            "suggestions": [(s, [need_titles[i] for i in s.need_ids if i in need_titles]) for s in suggestions],
            "referrals": sel.referrals_of(user, child),
            "plan": sel.current_plan(user, child),
            "domains": Domain.choices,
            "severities": Severity.choices,
            "kinds": BenefitEnrolment.Kind.choices,
            "can_enrol": user.can("benefit.edit"),
            "today": today,
        },
    )


@login_required
@require_POST
def child_refer(request: HttpRequest, pk: int) -> HttpResponse:
    def act(user: User) -> str:
        svc.referral_create(
            actor=user,
            child_pk=pk,
            service_pk=_int(request.POST.get("service")) or 0,
            need_pk=_int(request.POST.get("need")),
            reason=request.POST.get("reason", ""),
            explanation=request.POST.get("explanation", ""),
            on=_today(),
        )
        return "已发出转介，等待服务方接收"

    return _act(request, f"/support/children/{pk}/#referrals", act)


@login_required
@require_POST
def child_need_add(request: HttpRequest, pk: int) -> HttpResponse:
    def act(user: User) -> str:
        svc.need_add(
            actor=user,
            child_pk=pk,
            domain=request.POST.get("domain", ""),
            severity=_int(request.POST.get("severity")) or 0,
            title=request.POST.get("title", ""),
            evidence=request.POST.get("evidence", ""),
            on=_today(),
        )
        return "已登记需求"

    return _act(request, f"/support/children/{pk}/#needs", act)


@login_required
@require_POST
def child_needs_refresh(request: HttpRequest, pk: int) -> HttpResponse:
    def act(user: User) -> str:
        _require(user, "support.manage")
        child = child_get(user, pk)
        result = svc.needs_derive(child_ids=[child.pk], on=_today())
        return f"已根据档案、救助保障比对和走访记录更新需求：新发现{result['opened']}项，关闭{result['closed']}项"

    return _act(request, f"/support/children/{pk}/#needs", act)


@login_required
@require_POST
def child_benefit_add(request: HttpRequest, pk: int) -> HttpResponse:
    def act(user: User) -> str:
        e = svc.benefit_enrol(
            actor=user,
            child_pk=pk,
            kind=request.POST.get("kind", ""),
            start=_date(request.POST.get("start"), "起始日期"),  # type: ignore[arg-type]
            end=_date(request.POST.get("end"), "终止日期", required=False),
            household=request.POST.get("household") == "1",
            monthly_amount=request.POST.get("monthly_amount") or None,
            lump_sum=request.POST.get("lump_sum") or None,
            note=request.POST.get("note", ""),
            today=_today(),
        )
        return f"已录入{e.get_kind_display()}"

    return _act(request, f"/support/children/{pk}/#benefits", act)


@login_required
@require_POST
def benefit_end_view(request: HttpRequest, pk: int) -> HttpResponse:
    back = request.POST.get("back", "/support/")

    def act(user: User) -> str:
        svc.benefit_end(actor=user, pk=pk, end=_date(request.POST.get("end"), "终止日期"), today=_today())  # type: ignore[arg-type]
        return "已终止"

    return _act(request, back if back.startswith("/support/") else "/support/", act)


@login_required
@require_POST
def need_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    back = request.POST.get("back", "/support/")
    back = back if back.startswith("/support/") else "/support/"

    def act(user: User) -> str:
        if action == "close":
            svc.need_close(
                actor=user,
                pk=pk,
                resolution=request.POST.get("resolution", ""),
                on=_today(),
                met=request.POST.get("met", "1") == "1",
            )
            return "需求已办结"
        if action == "post":
            svc.need_post(actor=user, pk=pk, posted=request.POST.get("posted", "1") == "1")
            return "已发布，服务区域内的服务机构可以接单" if request.POST.get("posted", "1") == "1" else "已撤回"
        raise DomainError("invalid", "未知操作")

    return _act(request, back, act)


@login_required
@require_POST
def referral_cancel_view(request: HttpRequest, pk: int) -> HttpResponse:
    back = request.POST.get("back", "/support/")

    def act(user: User) -> str:
        svc.referral_cancel(actor=user, pk=pk, reason=request.POST.get("reason", "") or "撤回")
        return "已撤回转介"

    return _act(request, back if back.startswith("/support/") else "/support/", act)


# --- assessment ----------------------------------------------------------------------------------------------
@login_required
def assess(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    _require(user, "support.manage")
    child = child_get(user, pk)
    inst = svc.instrument()
    visit_id = request.GET.get("visit") or request.POST.get("visit") or ""
    visit = None
    prefill: dict[str, int] = {}
    if visit_id:
        from guanai.visits.models import Visit

        try:
            visit = Visit.objects.filter(pk=visit_id, child=child).first()
        except Exception:  # a malformed UUID
            visit = None
        if visit is not None:
            prefill = _prefill_from_checklist(visit.checklist or {})
    error = None
    values: dict[str, dict[str, Any]] = {}
    if request.method == "POST":
        for d in inst["domains"]:
            for item in d["items"]:
                score = request.POST.get(f"score_{item['id']}", "")
                if score != "":
                    values[item["id"]] = {"score": score, "evidence": request.POST.get(f"evidence_{item['id']}", "")}
        try:
            svc.needs_assess(
                actor=user,
                child_pk=child.pk,
                answers=values,
                on=_today(),
                visit_id=str(visit.pk) if visit else None,
                summary=request.POST.get("summary", ""),
            )
        except DomainError as exc:
            if exc.status not in (400, 409):
                raise
            error = exc
        else:
            messages.success(request, "需求评估已保存，已生成待帮扶需求")
            return redirect(f"/support/children/{child.pk}/#needs")
    else:
        values = {k: {"score": v, "evidence": ""} for k, v in prefill.items()}
    return render(
        request,
        "support/assess.html",
        {
            "child": child,
            "inst": inst,
            "scores": [(0, "无需求"), (1, "一般"), (2, "较重"), (3, "严重")],
            "values": values,
            "visit": visit,
            "error": error,
        },
        status=400 if error else 200,
    )


def _prefill_from_checklist(checklist: dict[str, Any]) -> dict[str, int]:
    """Scores suggested by a visit checklist: the item's domain gets 需关注 → 2, 有问题 → 3 on its first item."""
    rules = svc.needs_rules()["from_visit_checklist"]
    first_item = {d["id"]: d["items"][0]["id"] for d in svc.instrument()["domains"]}
    out: dict[str, int] = {}
    for item, answer in checklist.items():
        score = rules["answers"].get((answer or {}).get("status"))
        domain = rules["items"].get(item)
        if score and domain in first_item:
            key = first_item[domain]
            out[key] = max(out.get(key, 0), score)
    return out


# --- care plans ----------------------------------------------------------------------------------------------
@login_required
@require_POST
def plan_new(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    try:
        plan = svc.plan_draft(actor=user, child_pk=pk, on=_today())
    except DomainError as exc:
        if exc.status not in (400, 409):
            raise
        messages.error(request, exc.message)
        return redirect(f"/support/children/{pk}/#plan")
    messages.success(request, "已根据需求和推荐服务生成方案草稿，请修改后启动")
    return redirect("support:plan", pk=plan.pk)


@login_required
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    _require(user, "support.manage")
    plan = sel.plan_get(user, pk)
    actions = list(
        plan.actions.select_related("owner", "service", "service__provider", "referral", "need").order_by(
            "status", "due_on", "id"
        )
    )
    template = "support/plan_print.html" if request.GET.get("print") else "support/plan.html"
    return render(
        request,
        template,
        {
            "plan": plan,
            "child": plan.child,
            "age": age_on(plan.child.birth_date, _today()),
            "actions": actions,
            "reviews": plan.reviews.select_related("reviewed_by").order_by("-reviewed_on", "-id"),
            "progress": svc.plan_progress(plan),
            "owners": sel.plan_owner_choices(plan.child),
            "kinds": PlanAction.Kind.choices,
            "statuses": PlanAction.Status.choices,
            "domains": dict(Domain.choices),
            "needs": Need.objects.filter(child=plan.child, status__in=Need.OPEN_STATUSES),
            "today": _today(),
        },
    )


@login_required
@require_POST
def plan_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    back = f"/support/plans/{pk}/"
    p = request.POST

    def act(user: User) -> str:
        if action == "add":
            svc.plan_action_add(
                actor=user,
                plan_pk=pk,
                kind=p.get("kind", ""),
                title=p.get("title", ""),
                owner_pk=_int(p.get("owner")),
                due_on=_date(p.get("due_on"), "完成期限", required=False),
                need_pk=_int(p.get("need")),
                partner_name=p.get("partner_name", ""),
            )
            return "已添加措施"
        if action == "activate":
            svc.plan_activate(actor=user, pk=pk, on=_today())
            return "方案已启动实施"
        if action == "review":
            svc.plan_review(actor=user, pk=pk, note=p.get("note", ""), on=_today(), close=p.get("close") == "1")
            return "已记录方案评估"
        if action == "goals":
            texts = p.getlist("goal")
            doms = p.getlist("goal_domain")
            svc.plan_goals_set(
                actor=user, pk=pk, goals=[{"domain": d, "text": t} for d, t in zip(doms, texts, strict=False)]
            )
            return "已保存帮扶目标"
        raise DomainError("invalid", "未知操作")

    return _act(request, back, act)


@login_required
@require_POST
def plan_action_status(request: HttpRequest, pk: int) -> HttpResponse:
    action = PlanAction.objects.filter(pk=pk).only("plan_id").first()
    back = f"/support/plans/{action.plan_id}/" if action else "/support/"

    def act(user: User) -> str:
        a = svc.plan_action_update(
            actor=user, pk=pk, status=request.POST.get("status", ""), note=request.POST.get("note", ""), on=_today()
        )
        return f"措施已更新为“{a.get_status_display()}”" + (
            "，转介已发出" if a.referral_id and a.status == "doing" else ""
        )

    return _act(request, back, act)


# --- providers -----------------------------------------------------------------------------------------------
@login_required
def provider_home(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    _require(user, "support.provide")
    provider = sel.provider_of(user)
    today = _today()
    referrals = list(sel.referrals_for_provider(user)) if provider else []
    rows = [(r, sel.provider_child(r, on=today)) for r in referrals]
    for r in referrals:  # a provider reading a referred child's details is logged, child by child
        access_record(actor=user, action="provider.view", object_type="child", object_id=r.child_id)
    return render(
        request,
        "support/provider.html",
        {
            "provider": provider,
            "rows": rows,
            "postings": sel.postings_for_provider(user, on=today) if provider else [],
            "services": {s.pk: s for s in provider.services.all()} if provider else {},
            "today": today,
        },
    )


@login_required
@require_POST
def provider_referral(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    p = request.POST

    def act(user: User) -> str:
        if action == "accept":
            svc.referral_respond(actor=user, pk=pk, accept=True)
            return "已接收转介"
        if action == "decline":
            svc.referral_respond(actor=user, pk=pk, accept=False, reason=p.get("reason", ""))
            return "已拒绝转介"
        if action == "deliver":
            svc.referral_deliver(
                actor=user,
                pk=pk,
                delivered_on=_date(p.get("delivered_on"), "服务完成日期"),  # type: ignore[arg-type]
                note=p.get("note", ""),
                sessions=_int(p.get("sessions")) or 0,
                need_met=p.get("need_met", "1") == "1",
                today=_today(),
            )
            return "已登记服务完成"
        raise DomainError("invalid", "未知操作")

    return _act(request, "/support/provider/", act)


@login_required
@require_POST
def provider_take(request: HttpRequest, pk: int) -> HttpResponse:
    def act(user: User) -> str:
        svc.need_take(actor=user, need_pk=pk, service_pk=_int(request.POST.get("service")) or 0, on=_today())
        return "已接单，儿童信息已显示在转介列表中"

    return _act(request, "/support/provider/", act)


# --- catalogue, standards, activities ---------------------------------------------------------------------------
@login_required
def services(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    if not (user.can("support.manage") or user.can("support.catalogue")):
        raise PermissionRefused()
    q = request.GET.get("q", "").strip()
    qs = sel.services_for(user).prefetch_related("areas")
    if q:
        qs = qs.filter(Q(name__contains=q) | Q(programme__contains=q) | Q(provider__name__contains=q))
    domain = request.GET.get("domain", "")
    if domain:  # in the database, by the services' domain bitmap, so that every page is full
        qs = qs.annotate(hit=F("domain_mask").bitand(domain_mask((domain,)))).filter(hit__gt=0)
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    items = list(page)
    return render(
        request,
        "support/services.html",
        {
            "page": page,
            "items": items,
            "q": q,
            "domain": domain,
            "query": urlencode({k: v for k, v in {"q": q, "domain": domain}.items() if v}),
            "domains": Domain.choices,
            "domain_labels": dict(Domain.choices),
            "providers": sel.providers_for(user),
            "provider_kinds": Provider.Kind.choices,
            "can_edit": user.can("support.catalogue"),
            "region": user.region_id,
        },
    )


@login_required
@require_POST
def service_new(request: HttpRequest) -> HttpResponse:
    p = request.POST

    def act(user: User) -> str:
        s = svc.service_create(
            actor=user,
            provider_pk=_int(p.get("provider")) or 0,
            name=p.get("name", ""),
            domains=p.getlist("domains"),
            areas=[a for a in p.get("areas", "").replace("，", ",").split(",") if a.strip()],
            capacity=_int(p.get("capacity")) or 0,
            programme=p.get("programme", ""),
            description=p.get("description", ""),
            schedule=p.get("schedule", ""),
            age_min=_int(p.get("age_min")) or 0,
            age_max=_int(p.get("age_max")) if p.get("age_max") else 17,  # type: ignore[arg-type]
            for_parents=p.get("for_parents") == "1",
        )
        return f"已添加服务“{s.name}”"

    return _act(request, "/support/services/", act)


@login_required
@require_POST
def provider_new(request: HttpRequest) -> HttpResponse:
    p = request.POST

    def act(user: User) -> str:
        prov = svc.provider_create(
            actor=user,
            name=p.get("name", ""),
            kind=p.get("kind", ""),
            region_code=p.get("region", ""),
            contact_name=p.get("contact_name", ""),
            contact_phone=p.get("contact_phone", ""),
        )
        return f"已添加服务提供方“{prov.name}”"

    return _act(request, "/support/services/", act)


@login_required
@require_POST
def provider_member_new(request: HttpRequest) -> HttpResponse:
    """Tie a social-organisation account (by user name) to a provider, so that it works the provider's referrals."""
    p = request.POST

    def act(user: User) -> str:
        account = User.objects.filter(username=p.get("username", "").strip()).first()
        if account is None:
            raise DomainError("invalid", f"没有用户名为“{p.get('username', '').strip()}”的账号")
        try:
            provider_pk = int(p.get("provider", ""))
        except ValueError:
            raise DomainError("invalid", "请选择服务提供方") from None
        member = svc.provider_member_add(actor=user, provider_pk=provider_pk, user_pk=account.pk)
        return f"已将账号 {account.username} 设为“{member.provider.name}”的工作人员"

    return _act(request, "/support/services/", act)


@login_required
def standards(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    if request.method == "POST":

        def act(u: User) -> str:
            svc.standard_set(
                actor=u,
                item=request.POST.get("item", ""),
                effective_from=_date(request.POST.get("effective_from"), "执行日期"),  # type: ignore[arg-type]
                monthly_amount=request.POST.get("monthly_amount", ""),
                source=request.POST.get("source", ""),
            )
            return "已保存标准"

        return _act(request, "/support/standards/", act)
    if not (user.can("support.manage") or user.can("settings.manage") or user.can("support.catalogue")):
        raise PermissionRefused()
    today = _today()
    current = {}
    for item, _label in BenefitStandard.Item.choices:
        std = svc.standard_on(item, today)
        current[item] = std.monthly_amount if std else None
    return render(
        request,
        "support/standards.html",
        {
            "rows": sel.standards_table(),
            "items": BenefitStandard.Item.choices,
            "current": [(label, current[item]) for item, label in BenefitStandard.Item.choices],
            "can_edit": user.can("settings.manage"),
            "today": today,
        },
    )


@login_required
def activities(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    if not (user.can("support.manage") or user.can("support.catalogue")):
        raise PermissionRefused()
    if request.method == "POST":
        p = request.POST

        def act(u: User) -> str:
            a = svc.activity_create(
                actor=u,
                title=p.get("title", ""),
                kind=p.get("kind", ""),
                region_code=p.get("region", "") or (u.region_id or ""),
                starts_on=_date(p.get("starts_on"), "开始日期"),  # type: ignore[arg-type]
                ends_on=_date(p.get("ends_on") or p.get("starts_on"), "结束日期"),  # type: ignore[arg-type]
                programme=p.get("programme", ""),
                place=p.get("place", ""),
            )
            return f"已新增活动“{a.title}”"

        return _act(request, "/support/activities/", act)
    qs = sel.activities_for(user).annotate(
        invited=Count("invites"), came=Count("invites", filter=Q(invites__attended=True))
    )
    return render(
        request,
        "support/activities.html",
        {
            "page": Paginator(qs, 30).get_page(request.GET.get("page")),
            "kinds": Activity.Kind.choices,
            "region": user.region_id,
            "today": _today(),
        },
    )


@login_required
def activity_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    activity = sel.activity_get(user, pk)
    if request.method == "POST":
        p = request.POST

        def act(u: User) -> str:
            if p.get("action") == "invite":
                n = svc.activity_invite(actor=u, pk=pk, child_ids=[int(x) for x in p.getlist("child") if x.isdigit()])
                return f"已邀请{n}名儿童"
            invited = [int(x) for x in p.getlist("invited") if x.isdigit()]
            came = {int(x) for x in p.getlist("attended") if x.isdigit()}
            n = svc.activity_attendance(actor=u, pk=pk, attended={c: c in came for c in invited})
            return f"已登记出席（{n}人有变化）"

        return _act(request, f"/support/activities/{pk}/", act)
    invites = list(sel.activity_invites(user, activity))
    invited_ids = {i.child_id for i in invites}
    from guanai.lib import regioncode

    low, high = regioncode.prefix_range(regioncode.prefix(activity.region_id))
    candidates = (
        children_for(user)
        .filter(village_id__gte=low, village_id__lte=high)
        .exclude(status="exited")
        .exclude(pk__in=invited_ids)
        .select_related("village")
        .order_by("village_id", "name")[:100]
    )
    return render(
        request,
        "support/activity.html",
        {"activity": activity, "invites": invites, "candidates": candidates, "today": _today()},
    )
