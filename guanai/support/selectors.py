"""Scoped reads of support data. The workforce reads through the registry's scope (a child in jurisdiction);
a provider reads only its own referrals and, without names, the posted needs in its service area.

What a provider sees of a referred child (``ProviderChild``) is the minimum for the service: given name, sex, age,
village, the need, and who referred; never the ID number, the family or the archive.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from guanai.accounts.models import User
from guanai.accounts.scope import in_prefix, region_prefix, scoped
from guanai.lib.dates import age_on
from guanai.lib.errors import NotFound
from guanai.registry.models import BenefitEnrolment, Child
from guanai.registry.selectors import child_get, children_for
from guanai.support.models import (
    Activity,
    ActivityInvite,
    BenefitStandard,
    CarePlan,
    Need,
    NeedsAssessment,
    Provider,
    ProviderMember,
    Referral,
    Service,
    ServiceArea,
)


# --- workforce ---------------------------------------------------------------------------------------------
def needs_of(user: User, child: Child) -> QuerySet[Need]:
    child_get(user, child.pk)
    return Need.objects.filter(child=child).order_by("status", "-severity", "-created_on", "id")


def open_needs_for(user: User) -> QuerySet[Need]:
    """Open needs of the children in ``user``'s jurisdiction."""
    return Need.objects.filter(child__in=children_for(user).values("pk"), status__in=Need.OPEN_STATUSES)


def assessments_of(user: User, child: Child) -> QuerySet[NeedsAssessment]:
    child_get(user, child.pk)
    return NeedsAssessment.objects.filter(child=child).select_related("assessed_by").order_by("-assessed_on", "-id")


def enrolments_of(user: User, child: Child) -> QuerySet[BenefitEnrolment]:
    """The child's own enrolments and those of the child's household."""
    child_get(user, child.pk)
    q = Q(child=child)
    if child.household_id is not None:
        q |= Q(household_id=child.household_id)
    return BenefitEnrolment.objects.filter(q).order_by("-start", "-id")


def referrals_of(user: User, child: Child) -> QuerySet[Referral]:
    child_get(user, child.pk)
    return Referral.objects.filter(child=child).select_related("service", "provider", "need").order_by("-created_at")


def referrals_for_workforce(user: User) -> QuerySet[Referral]:
    return Referral.objects.filter(child__in=children_for(user).values("pk")).select_related(
        "service", "provider", "child", "need"
    )


def referral_for_workforce(user: User, pk: int) -> Referral:
    referral = referrals_for_workforce(user).filter(pk=pk).first()
    if referral is None:
        raise NotFound()
    return referral


def current_plan(user: User, child: Child) -> CarePlan | None:
    child_get(user, child.pk)
    return CarePlan.objects.filter(child=child).order_by("-created_on", "-id").first()


def plans_for(user: User) -> QuerySet[CarePlan]:
    return CarePlan.objects.filter(child__in=children_for(user).values("pk")).select_related("child")


def plan_get(user: User, pk: int) -> CarePlan:
    plan = plans_for(user).filter(pk=pk).select_related("child", "created_by").first()
    if plan is None:
        raise NotFound()
    return plan


def plan_owner_choices(child: Child) -> QuerySet[User]:
    """Who may own an action: active workforce users (support.manage) whose jurisdiction covers the child."""
    code = child.village_id
    prefixes = [code[:n] for n in (2, 4, 6, 9, 12)]
    return (
        User.objects.filter(is_active=True, role__in=["director", "supervisor", "district_officer"])
        .filter(Q(region_id__in=[p.ljust(12, "0") for p in prefixes]))
        .order_by("role", "username")
    )


def services_for(user: User) -> QuerySet[Service]:
    """The catalogue as the workforce sees it: services serving any place in the user's jurisdiction, or above it."""
    prefix = region_prefix(user)
    if prefix is None or not (user.can("support.manage") or user.can("support.catalogue")):
        return Service.objects.none()
    ancestors = [prefix[:n] for n in (2, 4, 6, 9, 12) if n <= len(prefix)]
    areas = ServiceArea.objects.filter(Q(prefix__in=ancestors) | Q(prefix__startswith=prefix)).values("service_id")
    return (
        Service.objects.filter(pk__in=areas)
        .select_related("provider")
        .annotate(active=Count("referrals", filter=Q(referrals__status__in=Referral.ACTIVE)))
        .order_by("provider__name", "name")
    )


def providers_for(user: User) -> QuerySet[Provider]:
    return scoped(Provider.objects.all(), user, field="region_id", permission="support.catalogue").order_by("name")


def activities_for(user: User) -> QuerySet[Activity]:
    prefix = region_prefix(user)
    if prefix is None or not (user.can("support.manage") or user.can("support.catalogue")):
        return Activity.objects.none()
    ancestors = [prefix[:n].ljust(12, "0") for n in (2, 4, 6, 9) if n < len(prefix)]
    inside = scoped(Activity.objects.all(), user, field="region_id", permission="child.view")
    if not user.can("child.view"):
        inside = scoped(Activity.objects.all(), user, field="region_id", permission="support.catalogue")
    return (inside | Activity.objects.filter(region_id__in=ancestors)).distinct().order_by("-starts_on", "-id")


def activity_get(user: User, pk: int) -> Activity:
    activity = activities_for(user).filter(pk=pk).first()
    if activity is None:
        raise NotFound()
    return activity


def activity_invites(user: User, activity: Activity) -> QuerySet[ActivityInvite]:
    """Invites of children in the user's jurisdiction only."""
    return (
        ActivityInvite.objects.filter(activity=activity, child__in=children_for(user).values("pk"))
        .select_related("child", "child__village")
        .order_by("child__village_id", "child__name")
    )


def standards_table() -> QuerySet[BenefitStandard]:
    return BenefitStandard.objects.select_related("updated_by").order_by("item", "-effective_from")


# --- providers -----------------------------------------------------------------------------------------------
def provider_of(user: User) -> Provider | None:
    if not user.is_authenticated or not user.can("support.provide"):
        return None
    member = ProviderMember.objects.select_related("provider").filter(user=user).first()
    return member.provider if member else None


VISIBLE_TO_PROVIDER = [Referral.Status.SENT, Referral.Status.ACCEPTED, Referral.Status.DELIVERED]


def referrals_for_provider(user: User) -> QuerySet[Referral]:
    """Referrals to the user's provider. Declined and withdrawn referrals drop out: the provider no longer has a
    reason to see the child."""
    provider = provider_of(user)
    if provider is None:
        return Referral.objects.none()
    return (
        Referral.objects.filter(provider=provider, status__in=VISIBLE_TO_PROVIDER)
        .select_related("service", "need", "child", "child__village", "created_by")
        .order_by("status", "-created_at")
    )


@dataclass(frozen=True)
class ProviderChild:
    """The minimum a provider sees of a referred child."""

    name: str
    sex: str
    age: int
    village: str


def provider_child(referral: Referral, *, on: dt.date) -> ProviderChild:
    child = referral.child
    return ProviderChild(child.name, child.get_sex_display(), age_on(child.birth_date, on), child.village.name)


def referral_for_provider(user: User, pk: int) -> Referral:
    referral = referrals_for_provider(user).filter(pk=pk).first()
    if referral is None:
        raise NotFound()
    return referral


@dataclass(frozen=True)
class Posting:
    """A posted need as a provider sees it before taking it: no name, no identifiers."""

    need_id: int
    domain: str
    domain_label: str
    severity_label: str
    title: str
    age: int
    sex: str
    village: str
    posted_at: dt.datetime
    service_ids: list[int]


def postings_for_provider(user: User, *, on: dt.date) -> list[Posting]:
    """Posted open needs of children in the provider's service areas, in domains its services meet."""
    provider = provider_of(user)
    if provider is None:
        return []
    services = list(
        Service.objects.filter(provider=provider, is_active=True).prefetch_related("areas").values_list("pk", "domains")
    )
    if not services:
        return []
    areas: dict[int, list[str]] = {}
    for service_id, prefix in ServiceArea.objects.filter(service__provider=provider).values_list(
        "service_id", "prefix"
    ):
        areas.setdefault(service_id, []).append(prefix)
    area_q = Q()
    for prefixes in areas.values():
        for p in prefixes:
            area_q |= in_prefix("child__village_id", p)
    domains = {d for _pk, ds in services for d in ds}
    if not area_q:
        return []
    out: list[Posting] = []
    for need in (
        Need.objects.filter(posted_at__isnull=False, status=Need.Status.OPEN, domain__in=domains)
        .filter(area_q)
        .exclude(child__status=Child.Status.EXITED)
        .select_related("child", "child__village")
        .order_by("-severity", "posted_at")[:200]
    ):
        fitting = [
            pk
            for pk, ds in services
            if need.domain in ds and any(need.child.village_id.startswith(p) for p in areas.get(pk, []))
        ]
        if not fitting:
            continue
        out.append(
            Posting(
                need.pk,
                need.domain,
                need.get_domain_display(),
                need.get_severity_display(),
                need.title,
                age_on(need.child.birth_date, on),
                need.child.get_sex_display(),
                need.child.village.name,
                need.posted_at,  # type: ignore[arg-type]
                fitting,
            )
        )
    return out


def participation_counts(user: User, *, start: dt.date, end: dt.date) -> dict[str, int]:
    """Activity participation in the user's jurisdiction between ``start`` and ``end`` (for oversight): activities
    held, children invited, attendances, and distinct children who attended at least once."""
    acts = activities_for(user).filter(starts_on__gte=start, starts_on__lte=end)
    invites = ActivityInvite.objects.filter(activity__in=acts.values("pk"), child__in=children_for(user).values("pk"))
    came = invites.filter(attended=True)
    return {
        "activities": acts.count(),
        "invited": invites.count(),
        "attendances": came.count(),
        "children_attended": came.values("child_id").distinct().count(),
    }
