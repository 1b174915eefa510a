"""Matching a child's open needs to services in the catalogue (精准匹配需求, §18).

One query finds the services whose area covers the child's village (an area is a region-code prefix, so the
village's five prefixes are all the areas that can cover it), one counts their active referrals, one reads the
providers already working with the child; scoring is plain Python over that short list.

Scoring is vectorised over the candidates (``CandidateSet``), the same code for one child and for batch drafting.
Hard conditions (a service failing one is not suggested): it meets at least one open need's domain, the child's
age and sex fit, the child is in one of the groups the service is limited to (if any), a place is left, and the
child is not already referred to it. Score (higher first): need fit (severity × 10 per matched need), closeness
in the region tree (village 8, township 6, district 4, wider 2), capacity left (up to 5), continuity with a
provider already involved (6), a service targeted at the child's group (3). Ties: more places left, then id.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from django.db.models import Count, F, TextField
from django.db.models.functions import Cast

from guanai.lib.dates import age_on
from guanai.lib.regioncode import LEVEL_PREFIX_LENGTH
from guanai.registry.models import Child, ChildGroup
from guanai.support.models import Domain, Need, Referral, ServiceArea, Severity, domain_mask

AREA_POINTS = {5: (8, "服务范围覆盖本村（社区）"), 4: (6, "服务范围覆盖本乡镇（街道）"), 3: (4, "服务范围覆盖本区县")}
WIDE_AREA = (2, "全市范围服务")
DOMAIN_LABELS = dict(Domain.choices)
SEVERITY_LABELS = dict(Severity.choices)
GROUP_LABELS = dict(ChildGroup.Code.choices)


@dataclass
class Suggestion:
    service_id: int
    service_name: str
    provider_id: int
    provider_name: str
    programme: str
    score: float
    capacity: int
    capacity_left: int
    need_ids: list[int] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    @property
    def explanation(self) -> str:
        return "；".join(self.reasons)


@dataclass(frozen=True)
class ChildContext:
    """What matching needs to know about a child (loaded once, or set-wise for batch drafting)."""

    child_id: int
    village_id: str
    birth_date: dt.date
    sex: str
    groups: frozenset[str]
    needs: tuple[tuple[int, str, int], ...]  # (need id, domain, severity) of open needs
    involved_providers: frozenset[int] = frozenset()
    referred_services: frozenset[int] = frozenset()


class Candidate(NamedTuple):
    """One service covering the child's village (a named tuple: thousands are built per match)."""

    service_id: int
    level: int
    name: str
    domains: tuple[str, ...]
    capacity: int
    age_min: int
    age_max: int
    sex: str
    groups: tuple[str, ...]
    provider_id: int
    provider_name: str
    for_parents: bool
    programme: str


def village_prefixes(village_id: str) -> list[str]:
    return [village_id[:n] for n in sorted(set(LEVEL_PREFIX_LENGTH.values()))]


def _json_list(text: str | None, cache: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    """A JSON list column read as text, parsed once per distinct value (a catalogue repeats few combinations)."""
    if not text:
        return ()
    if text not in cache:
        cache[text] = tuple(json.loads(text))
    return cache[text]


def candidates_for_prefixes(prefixes: Iterable[str], *, domains: Iterable[str] | None = None) -> list[Candidate]:
    """Active services of active providers covering any of ``prefixes``, each with the deepest covering level.

    The JSON columns are read as text and parsed once per distinct value: Django's per-row JSON conversion was
    most of the time of a match against a large catalogue."""
    best: dict[int, Candidate] = {}
    cache: dict[str, tuple[str, ...]] = {}
    qs = ServiceArea.objects.filter(
        prefix__in=list(prefixes), service__is_active=True, service__provider__is_active=True
    )
    if domains is not None:
        # Only services meeting one of these domains (a bit test in SQL; the JSON list stays the record).
        qs = qs.annotate(hit=F("service__domain_mask").bitand(domain_mask(tuple(domains)))).filter(hit__gt=0)
    rows = qs.annotate(
        domains_text=Cast("service__domains", TextField()), groups_text=Cast("service__groups", TextField())
    ).values_list(
        "service_id",
        "level",
        "service__name",
        "domains_text",
        "service__capacity",
        "service__age_min",
        "service__age_max",
        "service__sex",
        "groups_text",
        "service__provider_id",
        "service__provider__name",
        "service__for_parents",
        "service__programme",
    )
    for row in rows:
        sid, level = row[0], row[1]
        if sid in best and best[sid].level >= level:
            continue
        best[sid] = Candidate(
            sid,
            level,
            row[2],
            _json_list(row[3], cache),
            row[4],
            row[5],
            row[6],
            row[7],
            _json_list(row[8], cache),
            row[9],
            row[10],
            bool(row[11]),
            row[12],
        )
    return list(best.values())


def active_counts(service_ids: Iterable[int]) -> Counter[int]:
    ids = list(service_ids)
    counts: Counter[int] = Counter()
    for i in range(0, len(ids), 5000):
        for sid, n in (
            Referral.objects.filter(service_id__in=ids[i : i + 5000], status__in=Referral.ACTIVE)
            .values("service_id")
            .annotate(n=Count("id"))
            .values_list("service_id", "n")
        ):
            counts[sid] = n
    return counts


def active_counts_for_prefixes(prefixes: Iterable[str]) -> Counter[int]:
    """Active referrals of the services covering ``prefixes`` (a join, not a list of thousands of ids)."""
    covering = ServiceArea.objects.filter(prefix__in=list(prefixes)).values("service_id")
    return Counter(
        dict(
            Referral.objects.filter(service_id__in=covering, status__in=Referral.ACTIVE)
            .values("service_id")
            .annotate(n=Count("id"))
            .values_list("service_id", "n")
        )
    )


def child_context(child: Child, *, needs: Iterable[Need] | None = None) -> ChildContext:
    open_needs = (
        list(needs)
        if needs is not None
        else list(Need.objects.filter(child=child, status__in=Need.OPEN_STATUSES).order_by("-severity", "id"))
    )
    groups = frozenset(ChildGroup.objects.filter(child=child).values_list("code", flat=True))
    involved: set[int] = set()
    referred: set[int] = set()
    for provider_id, service_id, status in Referral.objects.filter(child=child).values_list(
        "provider_id", "service_id", "status"
    ):
        if status in (Referral.Status.ACCEPTED, Referral.Status.DELIVERED, Referral.Status.SENT):
            involved.add(provider_id)
        if status in Referral.ACTIVE:
            referred.add(service_id)
    return ChildContext(
        child.pk,
        child.village_id,
        child.birth_date,
        child.sex,
        groups,
        tuple((n.pk, n.domain, n.severity) for n in open_needs if n.is_open),
        frozenset(involved),
        frozenset(referred),
    )


DOMAIN_INDEX = {code: i for i, code in enumerate(Domain.values)}
GROUP_BITS = {code: 1 << i for i, code in enumerate(ChildGroup.Code.values)}


class CandidateSet:
    """The candidates covering one village as arrays, so that scoring a child is a few vector operations
    (batch drafting scores 20,000 children against thousands of services each)."""

    def __init__(self, candidates: list[Candidate], used: Counter[int]) -> None:
        self.items = candidates
        n = len(candidates)
        self.has = np.zeros((n, len(DOMAIN_INDEX)), dtype=np.float64)
        for i, cand in enumerate(candidates):
            for d in cand.domains:
                if d in DOMAIN_INDEX:
                    self.has[i, DOMAIN_INDEX[d]] = 1.0
        self.service_id = np.array([cand.service_id for cand in candidates], dtype=np.int64)
        self.provider_id = np.array([cand.provider_id for cand in candidates], dtype=np.int64)
        self.capacity = np.array([cand.capacity for cand in candidates], dtype=np.int64)
        self.left = self.capacity - np.array([used.get(cand.service_id, 0) for cand in candidates], dtype=np.int64)
        self.age_min = np.array([cand.age_min for cand in candidates], dtype=np.int64)
        self.age_max = np.array([cand.age_max for cand in candidates], dtype=np.int64)
        self.sex = np.array([cand.sex for cand in candidates], dtype=object)
        self.for_parents = np.array([cand.for_parents for cand in candidates], dtype=bool)
        self.groups = np.array([sum(GROUP_BITS.get(g, 0) for g in cand.groups) for cand in candidates], dtype=np.int64)
        self.area_points = np.array(
            [AREA_POINTS.get(cand.level, WIDE_AREA)[0] for cand in candidates], dtype=np.float64
        )
        self.static = self.area_points + 5 * np.minimum(np.maximum(self.left, 0), 10) / 10


def rank(
    ctx: ChildContext, cset: CandidateSet, *, on: dt.date, limit: int | None = None, cover_needs: bool = False
) -> list[Suggestion]:
    """Score ``cset`` for one child, best first. ``limit`` caps the list; ``cover_needs`` stops as soon as every
    open need has a suggestion (what drafting a plan needs)."""
    if not ctx.needs or not cset.items:
        return []
    weight = np.zeros(len(DOMAIN_INDEX))
    need_domains: dict[str, list[tuple[int, int]]] = {}
    for need_id, domain, severity in ctx.needs:
        need_domains.setdefault(domain, []).append((need_id, severity))
        if domain in DOMAIN_INDEX:
            weight[DOMAIN_INDEX[domain]] += severity
    age = age_on(ctx.birth_date, on)
    fit = cset.has @ weight
    child_groups = sum(GROUP_BITS.get(g, 0) for g in ctx.groups)
    targeted = (cset.groups & child_groups) != 0
    person_ok = cset.for_parents | (
        (cset.age_min <= age) & (age <= cset.age_max) & ((cset.sex == "") | (cset.sex == ctx.sex))
    )
    ok = (fit > 0) & (cset.left > 0) & person_ok & ((cset.groups == 0) | targeted)
    if ctx.referred_services:
        ok &= ~np.isin(cset.service_id, list(ctx.referred_services))
    involved = np.isin(cset.provider_id, list(ctx.involved_providers)) if ctx.involved_providers else None
    score = 10 * fit + cset.static + 3 * targeted
    if involved is not None:
        score = score + 6 * involved
    idx = np.flatnonzero(ok)
    # Best first; ties: more places left, then the older service.
    order = idx[np.lexsort((cset.service_id[idx], -cset.left[idx], -score[idx]))]
    out: list[Suggestion] = []
    uncovered = {need_id for need_id, _d, _s in ctx.needs}
    for i in order:
        c = cset.items[int(i)]
        matched = [(d, n) for d in c.domains for n in need_domains.get(d, [])]
        need_ids = sorted({n for _, (n, _s) in matched})
        if cover_needs:
            if not uncovered & set(need_ids):
                continue
            uncovered -= set(need_ids)
        left = int(cset.left[i])
        reasons = [
            "满足需求："
            + "、".join(
                f"{DOMAIN_LABELS.get(d, d)}（{SEVERITY_LABELS.get(max(s for _, s in need_domains[d]), '')}）"
                for d in dict.fromkeys(d for d, _ in matched)
            ),
            AREA_POINTS.get(c.level, WIDE_AREA)[1],
            f"剩余名额{left}/{c.capacity}",
        ]
        if involved is not None and involved[i]:
            reasons.append("该服务方已在为这名儿童服务，便于延续")
        if targeted[i]:
            reasons.append("面向" + "、".join(GROUP_LABELS.get(g, g) for g in sorted(ctx.groups & set(c.groups))))
        if c.for_parents:
            reasons.append("面向父母或监护人")
        elif c.age_min > 0 or c.age_max < 17:
            reasons.append(f"适合{c.age_min}-{c.age_max}岁")
        out.append(
            Suggestion(
                c.service_id,
                c.name,
                c.provider_id,
                c.provider_name,
                c.programme,
                round(float(score[i]), 2),
                c.capacity,
                left,
                need_ids,
                reasons,
            )
        )
        if (limit is not None and len(out) >= limit) or (cover_needs and not uncovered):
            break
    return out


def match_services(*, child: Child, on: dt.date, limit: int = 10) -> list[Suggestion]:
    """Services for ``child``'s open needs, best first, each with the reasons it was suggested."""
    ctx = child_context(child)
    if not ctx.needs:
        return []
    prefixes = village_prefixes(child.village_id)
    wanted = {d for _, d, _ in ctx.needs}
    candidates = candidates_for_prefixes(prefixes, domains=wanted)
    used = active_counts_for_prefixes(prefixes)
    return rank(ctx, CandidateSet(candidates, used), on=on, limit=limit)
