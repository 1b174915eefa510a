"""Workforce pages: the directors' ledger with staffing gaps, a person's file (appointments, training archive,
evaluations), training events, social organisations. Thin: parse input, call one selector or service, render."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from guanai.accounts.current import request_user
from guanai.accounts.models import User
from guanai.accounts.scope import in_prefix, region_prefix
from guanai.lib.errors import DomainError, NotFound, PermissionRefused
from guanai.lib.parse import ParseError, parse_date
from guanai.regions.models import Region
from guanai.workforce import selectors as sel
from guanai.workforce import services as svc
from guanai.workforce.models import Appointment, Employment, SocialOrganisation, StaffProfile, TrainingEvent


def _viewer(request: HttpRequest) -> User:
    user = request_user(request)
    if not user.can("workforce.view"):
        raise PermissionRefused("您的角色无权查看儿童主任台账")
    return user


def _attempt(request: HttpRequest, action: Callable[[], Any]) -> tuple[Any, str]:
    """Run a service from a form; a refused request becomes the form's message (403 stays a page error)."""
    try:
        return action(), ""
    except ParseError as exc:
        return None, exc.message
    except ValueError:
        return None, "请检查数字格式"
    except DomainError as exc:
        if exc.status == 403:
            raise
        return None, exc.message


def _lines(text: str) -> list[str]:
    return [x.strip() for x in text.replace("，", "\n").replace("、", "\n").splitlines() if x.strip()]


def _regions(user: User, level: int) -> list[Region]:
    prefix = region_prefix(user) or ""
    return list(Region.objects.filter(in_prefix("code", prefix), level=level, is_active=True).order_by("code")[:3000])


@login_required
def ledger(request: HttpRequest) -> HttpResponse:
    user = _viewer(request)
    today = timezone.localdate()
    kind = request.GET.get("kind", "")
    staff = sel.staff_for(user).annotate(
        open_appointments=Count("appointments", filter=Q(appointments__end__isnull=True)),
        trained_this_year=Count("trainings", filter=Q(trainings__event__held_on__year=today.year)),
    )
    if kind in StaffProfile.Kind.values:
        staff = staff.filter(kind=kind)
    gaps = sel.staffing_gaps(user, on=today)
    return render(
        request,
        "workforce/ledger.html",
        {
            "staff": list(staff.order_by("status", "kind", "name")[:500]),
            "gaps": gaps,
            "no_director": sum(1 for g in gaps if g.have == 0),
            "short": sum(1 for g in gaps if g.have > 0),
            "kind": kind,
            "can_manage": user.can("workforce.manage"),
            "today": today,
        },
    )


@login_required
def staff_new(request: HttpRequest) -> HttpResponse:
    user = _viewer(request)
    error = ""
    if request.method == "POST":
        p = request.POST
        account = None
        if p.get("username"):
            account = User.objects.filter(username=p["username"].strip()).first()
            if account is None:
                error = f"账号{p['username']}不存在"
        if not error:
            profile, error = _attempt(
                request,
                lambda: svc.staff_register(
                    actor=user,
                    kind=p.get("kind", ""),
                    name=p.get("name", ""),
                    region=p.get("region", ""),
                    start=parse_date(p.get("start") or timezone.localdate().isoformat()),
                    user=account,
                    sex=p.get("sex", ""),
                    birth_year=int(p["birth_year"]) if p.get("birth_year") else None,
                    phone=p.get("phone", ""),
                    education=p.get("education", ""),
                    political_status=p.get("political_status", ""),
                    position=p.get("position", ""),
                    employment=p.get("employment", Employment.PART_TIME),
                    monthly_allowance=p.get("monthly_allowance", ""),
                    badge_no=p.get("badge_no", ""),
                    certificates=_lines(p.get("certificates", "")),
                    duties=_lines(p.get("duties", "")),
                    services=_lines(p.get("services", "")),
                ),
            )
            if profile is not None:
                messages.success(request, f"{profile.name}已建档。")
                return redirect("workforce:staff", pk=profile.pk)
    return render(
        request,
        "workforce/staff_form.html",
        {
            "error": error,
            "villages": _regions(user, 5),
            "townships": _regions(user, 4),
            "post": request.POST,
            "employment": Employment.choices,
            "kinds": StaffProfile.Kind.choices,
        },
    )


@login_required
def staff_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _viewer(request)
    profile = sel.staff_get(user, pk)
    today = timezone.localdate()
    error = ""
    if request.method == "POST":
        p = request.POST
        action = p.get("action")
        if action == "appoint":
            _, error = _attempt(
                request,
                lambda: svc.appointment_start(
                    actor=user, profile=profile, region=p.get("region", ""), start=parse_date(p.get("start", ""))
                ),
            )
        elif action == "unappoint":
            appointment = Appointment.objects.filter(pk=p.get("appointment") or 0, profile=profile).first()
            if appointment is None:
                raise NotFound()
            _, error = _attempt(
                request,
                lambda: svc.appointment_end(
                    actor=user, appointment=appointment, end=parse_date(p.get("end", "")), reason=p.get("reason", "")
                ),
            )
        elif action == "evaluate":
            _, error = _attempt(
                request,
                lambda: svc.evaluation_record(
                    actor=user,
                    profile=profile,
                    year=int(p.get("year", "")),
                    grade=p.get("grade", ""),
                    score=p.get("score", ""),
                    comments=p.get("comments", ""),
                    exemplary=bool(p.get("exemplary")),
                ),
            )
        if not error:
            messages.success(request, "已保存。")
            return redirect("workforce:staff", pk=profile.pk)
    level = 5 if profile.kind == StaffProfile.Kind.DIRECTOR else 4
    return render(
        request,
        "workforce/staff.html",
        {
            "profile": profile,
            "appointments": list(profile.appointments.select_related("region")),
            "trainings": sel.training_archive(profile),
            "evaluations": sel.evaluations_of(profile),
            "children": sel.children_covered(profile, today),
            "regions": _regions(user, level),
            "grades": sel.workforce_rules()["evaluation"]["grades"],
            "topics": sel.training_topics(),
            "error": error,
            "can_manage": user.can("workforce.manage"),
            "today": today,
        },
    )


@login_required
def trainings(request: HttpRequest) -> HttpResponse:
    user = _viewer(request)
    error = ""
    if request.method == "POST":
        p = request.POST
        ids = [int(x) for x in p.getlist("attendees") if x.isdigit()]
        attendees = list(sel.staff_for(user).filter(pk__in=ids))
        event, error = _attempt(
            request,
            lambda: svc.training_record(
                actor=user,
                title=p.get("title", ""),
                level=p.get("level", ""),
                region=p.get("region", ""),
                held_on=parse_date(p.get("held_on", "")),
                topics=p.getlist("topics"),
                attendees=attendees,
                hours=p.get("hours") or 0,
                place=p.get("place", ""),
            ),
        )
        if event is not None:
            messages.success(request, f"培训已记录，{len(attendees)}人计入培训档案。")
            return redirect("workforce:trainings")
    events = list(sel.trainings_for(user).annotate(n=Count("attendances")).select_related("region")[:200])
    topics = sel.training_topics()
    for e in events:
        e.topic_labels = [topics.get(t, t) for t in e.topics]  # type: ignore[attr-defined]
    levels = [
        (c, label)
        for c, label in TrainingEvent.Level.choices
        if (c == "city") == (user.region is not None and user.region.level <= 2)
    ]
    return render(
        request,
        "workforce/trainings.html",
        {
            "events": events,
            "topics": topics,
            "levels": levels,
            "staff": list(
                sel.staff_for(user).filter(status=StaffProfile.Status.SERVING).order_by("kind", "name")[:1000]
            ),
            "error": error,
            "can_manage": user.can("workforce.manage"),
            "own_region": user.region,
        },
    )


@login_required
def organisations(request: HttpRequest) -> HttpResponse:
    user = _viewer(request)
    error = ""
    if request.method == "POST":
        p = request.POST
        if p.get("action") == "volunteer":
            org = sel.organisations_for(user).filter(pk=p.get("organisation") or 0).first()
            done, error = _attempt(
                request,
                lambda: svc.volunteer_register(
                    actor=user,
                    name=p.get("name", ""),
                    district=p.get("district", ""),
                    registered_on=parse_date(p.get("registered_on") or timezone.localdate().isoformat()),
                    organisation=org,
                    skills=p.get("skills", ""),
                    phone=p.get("phone", ""),
                ),
            )
        elif p.get("action") == "project":
            org = sel.organisations_for(user).filter(pk=p.get("organisation") or 0).first()
            if org is None:
                raise NotFound()
            done, error = _attempt(
                request,
                lambda: svc.project_add(
                    actor=user,
                    organisation=org,
                    name=p.get("name", ""),
                    region=p.get("region", ""),
                    start=parse_date(p.get("start", "")),
                    end=parse_date(p["end"]) if p.get("end") else None,
                    services=_lines(p.get("services", "")),
                    children_reached=int(p.get("children_reached") or 0),
                    families_reached=int(p.get("families_reached") or 0),
                    volunteers=int(p.get("volunteers") or 0),
                ),
            )
        else:
            done, error = _attempt(
                request,
                lambda: svc.organisation_register(
                    actor=user,
                    name=p.get("name", ""),
                    district=p.get("district", ""),
                    cultivated_year=int(p["cultivated_year"]) if p.get("cultivated_year") else None,
                    mode=p.get("mode", ""),
                    services=_lines(p.get("services", "")),
                    in_alliance=bool(p.get("in_alliance")),
                    credit_code=p.get("credit_code", ""),
                    contact_name=p.get("contact_name", ""),
                ),
            )
        if done is not None:
            messages.success(request, "已保存。")
            return redirect("workforce:organisations")
    orgs = list(
        sel.organisations_for(user)
        .select_related("district")
        .annotate(n_projects=Count("projects", distinct=True), n_volunteers=Count("volunteer_set", distinct=True))
        .order_by("-cultivated_year", "name")[:500]
    )
    year = timezone.localdate().year
    per_district: dict[str, int] = {}
    for o in orgs:
        if o.cultivated_year == year:
            per_district[o.district.name] = per_district.get(o.district.name, 0) + 1
    districts = _regions(user, 3)
    return render(
        request,
        "workforce/organisations.html",
        {
            "orgs": orgs,
            "districts": districts,
            "missing": [d.name for d in districts if d.name not in per_district],
            "year": year,
            "modes": SocialOrganisation.Mode.choices,
            "error": error,
            "can_manage": user.can("workforce.manage"),
        },
    )
