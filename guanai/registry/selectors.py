"""Scoped reads of children's data. Views, the API and jobs read children only through these."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.functions import Length, Reverse
from django.utils import timezone

from guanai.accounts.models import User
from guanai.accounts.scope import scoped
from guanai.lib.errors import NotFound
from guanai.registry.models import Child, ChildRelation


def children_for(user: User) -> QuerySet[Child]:
    """The children in ``user``'s jurisdiction (a village director: her village; a district: the district)."""
    return scoped(Child.objects.all(), user, field="village_id", permission="child.view")


def child_get(user: User, pk: int | str) -> Child:
    """One child in scope, or NotFound — the same answer whether it does not exist or is out of scope."""
    try:
        return children_for(user).select_related("village", "household").get(pk=int(pk))
    except (Child.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def child_relations(user: User, child: Child) -> QuerySet[ChildRelation]:
    child_get(user, child.pk)  # re-check scope: relations are only reachable through a child in scope
    return (
        ChildRelation.objects.filter(child=child)
        .select_related("person")
        .prefetch_related("person__statuses")
        .order_by("relation", "id")
    )


def child_count_by_village(user: User) -> dict[str, int]:
    from django.db.models import Count

    rows = children_for(user).exclude(status=Child.Status.EXITED).values("village_id").annotate(n=Count("id"))
    return {r["village_id"]: r["n"] for r in rows}


def child_counts_by_area(user: User, *, level: int) -> list[dict[str, object]]:
    """Children in scope (not exited) counted per region at ``level`` (a district's townships, a city's districts).

    Needs only ``stats.view``: counts, not files.
    """
    from django.db.models import Count
    from django.db.models.functions import Substr

    from guanai.lib.regioncode import LEVEL_PREFIX_LENGTH
    from guanai.regions.models import Region

    n = LEVEL_PREFIX_LENGTH[level]
    rows = (
        scoped(Child.objects.all(), user, field="village_id", permission="stats.view")
        .exclude(status=Child.Status.EXITED)
        .annotate(area=Substr("village_id", 1, n))
        .values("area")
        .annotate(children=Count("id"))
        .order_by("area")
    )
    counts = {r["area"]: r["children"] for r in rows}
    codes = [c.ljust(12, "0") for c in counts]
    names = dict(Region.objects.filter(code__in=codes).values_list("code", "name"))
    return [
        {"code": area.ljust(12, "0"), "name": names.get(area.ljust(12, "0"), area), "children": n_children}
        for area, n_children in counts.items()
    ]


AGE_BANDS = {"0-5": (0, 5), "6-11": (6, 11), "12-15": (12, 15), "16-17": (16, 17)}


def children_search(
    user: User,
    *,
    q: str = "",
    region: str = "",
    group: str = "",
    status: str = "",
    age_band: str = "",
    today: dt.date | None = None,
) -> QuerySet[Child]:
    """Search within the user's jurisdiction: ``q`` is a name (characters), full pinyin, initials, a child
    number, or a full ID number (exact, through the blind index). Unknown filter values match nothing."""
    from guanai import privacy
    from guanai.accounts.scope import in_prefix
    from guanai.lib import idnumber, regioncode
    from guanai.lib.dates import add_months

    qs = children_for(user)
    text = "".join(q.split())
    if text:
        cleaned = idnumber.clean(text)
        if len(cleaned) in (15, 18) and cleaned[:6].isdigit():
            qs = qs.filter(id_number_bidx=privacy.id_bidx(cleaned))
        elif cleaned.startswith("C") and cleaned[1:].isdigit():
            qs = qs.filter(child_no=cleaned)
        elif text.isascii():
            key = text.lower()
            qs = qs.filter(Q(name_pinyin__startswith=key) | Q(name_initials__startswith=key))
        elif len(text) < 2:
            qs = qs.filter(name__startswith=text)
        elif len(text) == 2 and connection.vendor == "postgresql":
            # The same as "contains", written so that indexes serve it (a trigram index cannot serve two
            # characters): at the start, at the end (a given name), or inside one of the few long names.
            qs = qs.alias(_reversed=Reverse("name"), _length=Length("name")).filter(
                Q(name__startswith=text) | Q(_reversed__startswith=text[::-1]) | Q(_length__gte=4, name__contains=text)
            )
        else:
            qs = qs.filter(name__contains=text)  # three characters or more: the trigram index on PostgreSQL
    if region:
        try:
            qs = qs.filter(in_prefix("village_id", regioncode.prefix(region)))
        except regioncode.RegionCodeError:
            return qs.none()
    if group:
        qs = qs.filter(groups__code=group)
    if status:
        qs = qs.filter(status=status)
    if age_band:
        band = AGE_BANDS.get(age_band)
        if band is None:
            return qs.none()
        day = today or timezone.localdate()
        youngest_birth = add_months(day, -12 * band[0])  # born on or before this date: at least band[0]
        oldest_birth = add_months(day, -12 * (band[1] + 1))  # born after this date: at most band[1]
        qs = qs.filter(birth_date__lte=youngest_birth, birth_date__gt=oldest_birth)
    return qs
