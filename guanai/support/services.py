"""Support services (精准帮扶): needs assessment and derivation, benefit enrolments and standards, the catalogue,
referrals, care plans and activities. Keyword-only, each in one transaction with its audit event and the child's
timeline line; a refused request raises ``DomainError`` with a Chinese message and writes nothing."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from guanai import rules
from guanai.accounts.models import User
from guanai.accounts.scope import covers
from guanai.audit.services import audit_record, snapshot
from guanai.lib import regioncode
from guanai.lib.dates import add_months, age_on
from guanai.lib.errors import DomainError, NotFound, PermissionRefused
from guanai.regions.models import Region
from guanai.registry.groups import groups_refresh
from guanai.registry.models import BenefitEnrolment, Child, ChildGroup
from guanai.registry.selectors import child_get
from guanai.registry.timeline import timeline_add, timeline_row
from guanai.support.eligibility import benefit_gaps, benefit_label
from guanai.support.models import (
    Activity,
    ActivityInvite,
    BenefitStandard,
    CarePlan,
    Domain,
    Need,
    NeedsAssessment,
    PlanAction,
    PlanReview,
    Provider,
    ProviderMember,
    Referral,
    Service,
    ServiceArea,
    Severity,
)

DOMAIN_LABELS = dict(Domain.choices)
VISIT_WINDOW_DAYS = 100  # visit checklists older than this no longer raise needs


def _require(user: User, permission: str, message: str) -> None:
    if not user.can(permission):
        raise PermissionRefused(message)


# --- the instrument ----------------------------------------------------------------------------------------
@cache
def needs_rules() -> dict[str, Any]:
    data = rules.load("needs")
    domains = set(Domain.values)
    for inst in data["instruments"]:
        for d in inst["domains"]:
            if d["id"] not in domains:
                raise ValueError(f"needs instrument v{inst['version']}: unknown domain {d['id']!r}")
    for item, domain in data["from_visit_checklist"]["items"].items():
        if domain not in domains:
            raise ValueError(f"needs.yaml from_visit_checklist: {item} maps to unknown domain {domain!r}")
    return data


def instrument(version: int | None = None) -> dict[str, Any]:
    """The instrument of ``version`` (default: the current one): {"version", "domains": [{id, label, items}]}."""
    data = needs_rules()
    wanted = version or int(data["current"])
    for inst in data["instruments"]:
        if int(inst["version"]) == wanted:
            return {
                "version": wanted,
                "domains": [{**d, "label": DOMAIN_LABELS[d["id"]]} for d in inst["domains"]],
            }
    raise DomainError("unknown_instrument", f"没有第{wanted}版需求评估工具")


def _item_domains(inst: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {item["id"]: (d["id"], item["text"]) for d in inst["domains"] for item in d["items"]}


def _upsert_need(
    *,
    child_id: int,
    key: str,
    domain: str,
    severity: int,
    source: str,
    title: str,
    evidence: str,
    on: dt.date,
    **extra: Any,
) -> tuple[Need, bool]:
    """The open need with ``key`` updated, or a new one. Returns (need, created)."""
    need = Need.objects.select_for_update().filter(child_id=child_id, key=key, status__in=Need.OPEN_STATUSES).first()
    if need is None:
        return (
            Need.objects.create(
                child_id=child_id,
                key=key,
                domain=domain,
                severity=severity,
                source=source,
                title=title[:200],
                evidence=evidence[:500],
                created_on=on,
                **extra,
            ),
            True,
        )
    need.severity, need.title, need.evidence = severity, title[:200], evidence[:500]
    for name, value in extra.items():
        setattr(need, name, value)
    need.save(update_fields=["severity", "title", "evidence", "updated_at", *extra])
    return need, False


def _resolve_need(need: Need, *, on: dt.date, resolution: str, status: str = Need.Status.MET) -> None:
    need.status, need.resolved_on, need.resolution = status, on, resolution[:300]
    need.save(update_fields=["status", "resolved_on", "resolution", "updated_at"])


@transaction.atomic
def needs_assess(
    *,
    actor: User,
    child_pk: int,
    answers: Mapping[str, Mapping[str, Any]],
    on: dt.date,
    visit_id: str | None = None,
    summary: str = "",
) -> NeedsAssessment:
    """Score the needs instrument for a child (§18 精准匹配需求). Each domain's highest item score becomes an open
    need of that severity (updating the one from an earlier assessment); a domain now scored 0 closes it."""
    _require(actor, "support.manage", "您的角色无权开展需求评估")
    child = child_get(actor, child_pk)
    inst = instrument()
    items = _item_domains(inst)
    errors: dict[str, str] = {}
    clean: dict[str, dict[str, Any]] = {}
    for item_id, answer in answers.items():
        if item_id not in items:
            errors[item_id] = f"评估工具中没有“{item_id}”这一项"
            continue
        try:
            score = int(answer.get("score", 0))
        except (TypeError, ValueError):
            score = -1
        if score not in (0, 1, 2, 3):
            errors[item_id] = f"“{items[item_id][1]}”的得分应为0至3"
            continue
        evidence = str(answer.get("evidence", "")).strip()
        if score >= 2 and not evidence:
            errors[item_id] = f"“{items[item_id][1]}”评为较重或严重时须填写依据"
            continue
        clean[item_id] = {"score": score, "evidence": evidence[:300]}
    if errors:
        raise DomainError("invalid", "；".join(errors.values()), detail=errors)
    if not clean:
        raise DomainError("invalid", "请至少为一项评分")
    visit = None
    if visit_id:
        from guanai.visits.models import Visit

        visit = Visit.objects.filter(pk=visit_id, child=child).first()
        if visit is None:
            raise DomainError("invalid", "关联的走访记录不属于这名儿童")
    scores: dict[str, int] = {d["id"]: 0 for d in inst["domains"]}
    for item_id, answer in clean.items():
        domain = items[item_id][0]
        scores[domain] = max(scores[domain], answer["score"])
    assessment = NeedsAssessment.objects.create(
        child=child,
        visit=visit,
        instrument_version=inst["version"],
        answers=clean,
        domain_scores=scores,
        summary=summary[:500],
        assessed_on=on,
        assessed_by=actor,
    )
    raised = []
    for d in inst["domains"]:
        domain, score = d["id"], scores[d["id"]]
        key = f"assessment:{domain}"
        scored = [a for i, a in clean.items() if items[i][0] == domain]
        if score > 0:
            worst = [items[i][1] for i, a in clean.items() if items[i][0] == domain and a["score"] == score]
            evidence = "；".join(a["evidence"] for a in scored if a["evidence"])
            _upsert_need(
                child_id=child.pk,
                key=key,
                domain=domain,
                severity=score,
                source=Need.Source.ASSESSMENT,
                title=f"{d['label']}：{worst[0]}",
                evidence=evidence,
                on=on,
                assessment=assessment,
            )
            raised.append(f"{d['label']}（{Severity(score).label}）")
        elif scored:
            for need in Need.objects.filter(child=child, key=key, status__in=Need.OPEN_STATUSES):
                _resolve_need(need, on=on, resolution="复评显示该领域已无需求")
    text = "需求评估：" + ("、".join(raised) if raised else "未发现需求")
    timeline_add(
        child=child,
        kind="support.assessment",
        summary=text,
        actor=actor,
        source_type="needs_assessment",
        source_id=assessment.pk,
    )
    audit_record(
        actor=actor,
        action="needs.assess",
        object_type="needs_assessment",
        object_id=assessment.pk,
        summary=f"child {child.pk}",
        after={"domain_scores": scores, "instrument_version": inst["version"]},
    )
    return assessment


@transaction.atomic
def need_add(
    *, actor: User, child_pk: int, domain: str, severity: int, title: str, evidence: str = "", on: dt.date
) -> Need:
    """Record a need by hand (a need said at a meeting, reported by a school…)."""
    _require(actor, "support.manage", "您的角色无权登记需求")
    child = child_get(actor, child_pk)
    if domain not in Domain.values:
        raise DomainError("invalid", "需求领域无效")
    if severity not in Severity.values:
        raise DomainError("invalid", "程度应为一般、较重或严重")
    if not title.strip():
        raise DomainError("invalid", "请填写需求内容")
    need = Need.objects.create(
        child=child,
        domain=domain,
        severity=severity,
        source=Need.Source.MANUAL,
        key=f"manual:{timezone.now().timestamp()}",
        title=title.strip()[:200],
        evidence=evidence[:500],
        created_on=on,
    )
    timeline_add(
        child=child,
        kind="support.need",
        summary=f"登记需求：{need.title}",
        actor=actor,
        source_type="need",
        source_id=need.pk,
    )
    audit_record(actor=actor, action="need.add", object_type="need", object_id=need.pk, after=snapshot(need))
    return need


def _need_in_scope(actor: User, pk: int) -> Need:
    need = Need.objects.select_for_update().filter(pk=pk).first()
    if need is None:
        raise NotFound()
    child_get(actor, need.child_id)
    return need


@transaction.atomic
def need_close(*, actor: User, pk: int, resolution: str, on: dt.date, met: bool = True) -> Need:
    _require(actor, "support.manage", "您的角色无权办结需求")
    need = _need_in_scope(actor, pk)
    if not need.is_open:
        raise DomainError("already_closed", "该需求已办结")
    if not resolution.strip():
        raise DomainError("invalid", "请填写解决情况")
    _resolve_need(need, on=on, resolution=resolution.strip(), status=Need.Status.MET if met else Need.Status.CLOSED)
    timeline_add(
        child=need.child_id,
        kind="support.need",
        summary=f"需求{need.get_status_display()}：{need.title}（{resolution.strip()}）",
        actor=actor,
        source_type="need",
        source_id=need.pk,
    )
    audit_record(actor=actor, action="need.close", object_type="need", object_id=need.pk, after={"status": need.status})
    return need


@transaction.atomic
def need_post(*, actor: User, pk: int, posted: bool = True) -> Need:
    """Post an open need for providers in the child's area to take up (接单), or withdraw it. Providers see the
    posting without the child's name or identifiers."""
    _require(actor, "support.manage", "您的角色无权发布需求")
    need = _need_in_scope(actor, pk)
    if posted and not need.is_open:
        raise DomainError("already_closed", "已办结的需求不能发布")
    need.posted_at = timezone.now() if posted else None
    need.save(update_fields=["posted_at", "updated_at"])
    timeline_add(
        child=need.child_id,
        kind="support.need",
        summary=("发布需求供服务机构接单：" if posted else "撤回接单需求：") + need.title,
        actor=actor,
        source_type="need",
        source_id=need.pk,
    )
    audit_record(actor=actor, action="need.post" if posted else "need.unpost", object_type="need", object_id=need.pk)
    return need


# --- needs from facts and visits ---------------------------------------------------------------------------
def needs_derive(*, child_ids: Iterable[int] | None, on: dt.date) -> dict[str, int]:
    """Needs from registry facts (a disability without a rehabilitation record, a dropout, an unmet benefit) and
    from the latest visit checklist of each child; closes fact needs whose fact no longer holds. Set-based: a
    handful of queries for any number of children. Returns counts of needs opened and closed."""
    data = needs_rules()
    fact_rules = {r["id"]: r for r in data["from_facts"]}
    ids = None if child_ids is None else sorted(set(child_ids))
    base = Child.objects.exclude(status=Child.Status.EXITED)
    if ids is not None:
        base = base.filter(pk__in=ids)
    wanted: dict[tuple[int, str], dict[str, Any]] = {}
    # A disabled child with no rehabilitation enrolment ever and no rehabilitation service delivered or under way.
    rule = fact_rules["disability_no_rehab"]
    rehab = BenefitEnrolment.objects.filter(kind=BenefitEnrolment.Kind.DISABILITY_REHAB, child__isnull=False)
    medical = Referral.objects.filter(
        status__in=[Referral.Status.SENT, Referral.Status.ACCEPTED, Referral.Status.DELIVERED],
        need__domain=Domain.MEDICAL,
    )
    if ids is not None:  # a recorded visit: read this child's records, not the registry's
        rehab, medical = rehab.filter(child_id__in=ids), medical.filter(child_id__in=ids)
    rehab_children = set(rehab.values_list("child_id", flat=True))
    rehab_children |= set(medical.values_list("child_id", flat=True))
    for pk, d_type, d_grade in base.exclude(disability_type="").values_list(
        "pk", "disability_type", "disability_grade"
    ):
        if pk not in rehab_children:
            wanted[(pk, "fact:disability_no_rehab")] = {
                "domain": rule["domain"],
                "severity": rule["severity"],
                "source": Need.Source.FACT,
                "title": rule["title"],
                "evidence": f"儿童本人{d_type}残疾{d_grade or ''}级，未见康复救助或康复服务记录（{rule['source']}）",
            }
    rule = fact_rules["dropout"]
    for pk in base.filter(schooling="辍学").values_list("pk", flat=True):
        wanted[(pk, "fact:dropout")] = {
            "domain": rule["domain"],
            "severity": rule["severity"],
            "source": Need.Source.FACT,
            "title": rule["title"],
            "evidence": f"就学情况为辍学（{rule['source']}）",
        }
    rule = fact_rules["benefit_gap"]
    for gap in benefit_gaps(on=on, child_ids=ids):
        domain = Domain.EDUCATION if gap.benefit == BenefitEnrolment.Kind.EDUCATION_AID else rule["domain"]
        wanted[(gap.child_id, f"benefit:{gap.rule}")] = {
            "domain": domain,
            "severity": rule["severity"],
            "source": Need.Source.BENEFIT,
            "title": f"应享未享：{benefit_label(gap.benefit)}",
            "evidence": gap.explanation,
        }
    # The latest visit of each child: its checklist items answered 需关注 / 有问题.
    visit_map = data["from_visit_checklist"]
    from guanai.visits.models import Visit

    # Only recent visits count (a quarter's home visit supersedes older ones); this bounds the nightly run over
    # the whole registry to a few visits per child.
    recent = on - dt.timedelta(days=VISIT_WINDOW_DAYS)
    visits = Visit.objects.filter(child__in=base.values("pk"), visited_on__gte=recent, visited_on__lte=on).order_by(
        "child_id", "-visited_at"
    )
    latest: dict[int, tuple[dict[str, dict[str, str]], dt.date]] = {}
    for child_id, checklist, visited_on in visits.values_list("child_id", "checklist", "visited_on").iterator(
        chunk_size=5000
    ):
        latest.setdefault(child_id, (checklist or {}, visited_on))
    labels = {i["id"]: i["label"] for i in rules.load("visits")["checklist"]}
    for child_id, (checklist, visited_on) in latest.items():
        for item, answer in checklist.items():
            severity = visit_map["answers"].get((answer or {}).get("status"))
            domain = visit_map["items"].get(item)
            if severity and domain:
                note = (answer or {}).get("note", "")
                wanted[(child_id, f"visit:{item}")] = {
                    "domain": domain,
                    "severity": severity,
                    "source": Need.Source.VISIT,
                    "title": f"走访发现：{labels.get(item, item)}{answer.get('status')}",
                    "evidence": f"{visited_on.isoformat()}走访" + (f"：{note}" if note else ""),
                }
    derived_prefixes = ("fact:", "benefit:", "visit:")
    existing_q = Need.objects.filter(status__in=Need.OPEN_STATUSES).filter(
        Q(key__startswith="fact:") | Q(key__startswith="benefit:") | Q(key__startswith="visit:")
    )
    if ids is not None:
        existing_q = existing_q.filter(child_id__in=ids)
    existing = {
        (child_id, key): (pk, sev, ev)
        for pk, child_id, key, sev, ev in existing_q.values_list("pk", "child_id", "key", "severity", "evidence")
    }
    opened = closed = 0
    with transaction.atomic():
        new_rows: list[Need] = []
        timeline: list[TimelineEventRow] = []
        for (child_id, key), spec in wanted.items():
            if (child_id, key) in existing:
                pk, sev, ev = existing[(child_id, key)]
                if (sev, ev) != (spec["severity"], spec["evidence"][:500]):
                    Need.objects.filter(pk=pk).update(severity=spec["severity"], evidence=spec["evidence"][:500])
                continue
            new_rows.append(
                Need(
                    child_id=child_id,
                    key=key,
                    created_on=on,
                    **{**spec, "title": spec["title"][:200], "evidence": spec["evidence"][:500]},
                )
            )
            timeline.append(
                timeline_row(
                    child=child_id, kind="support.need", summary=f"发现需求：{spec['title']}", source_type="need"
                )
            )
        Need.objects.bulk_create(new_rows, batch_size=2000)
        opened = len(new_rows)
        gone = [
            pk
            for (child_id, key), (pk, _s, _e) in existing.items()
            if (child_id, key) not in wanted and key.startswith(derived_prefixes[:2])
        ]
        # Visit needs stay open until someone resolves them: a later visit answering 正常 does not prove the
        # problem was solved, only fact needs close themselves.
        for i in range(0, len(gone), 5000):
            closed += Need.objects.filter(pk__in=gone[i : i + 5000]).update(
                status=Need.Status.MET, resolved_on=on, resolution="档案信息显示情况已改变"
            )
        from guanai.registry.models import TimelineEvent

        TimelineEvent.objects.bulk_create([TimelineEvent(**row) for row in timeline], batch_size=2000)
    return {"opened": opened, "closed": closed}


TimelineEventRow = dict[str, Any]


# --- benefits ------------------------------------------------------------------------------------------------
STANDARD_FOR_KIND: dict[str, str] = {
    BenefitEnrolment.Kind.URBAN_DIBAO: BenefitStandard.Item.URBAN_DIBAO,
    BenefitEnrolment.Kind.RURAL_DIBAO: BenefitStandard.Item.RURAL_DIBAO,
    BenefitEnrolment.Kind.TEKUN: BenefitStandard.Item.TEKUN,
    BenefitEnrolment.Kind.ORPHAN: BenefitStandard.Item.ORPHAN_COMMUNITY,
    BenefitEnrolment.Kind.UNSUPPORTED: BenefitStandard.Item.ORPHAN_COMMUNITY,
}
ONE_OFF_KINDS = {
    BenefitEnrolment.Kind.TEMPORARY,
    BenefitEnrolment.Kind.DISABILITY_REHAB,
    BenefitEnrolment.Kind.MEDICAL_AID,
    BenefitEnrolment.Kind.EDUCATION_AID,
}


def standard_on(item: str, day: dt.date) -> BenefitStandard | None:
    """The standard of ``item`` in force on ``day``: the latest taking effect on or before it."""
    return BenefitStandard.objects.filter(item=item, effective_from__lte=day).order_by("-effective_from").first()


def _money(value: Any, label: str) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise DomainError("invalid", f"{label}应为金额") from None
    if amount < 0 or amount >= Decimal("100000000"):
        raise DomainError("invalid", f"{label}超出范围")
    return amount.quantize(Decimal("0.01"))


@transaction.atomic
def standard_set(
    *, actor: User, item: str, effective_from: dt.date, monthly_amount: Any, source: str
) -> BenefitStandard:
    """Add or correct a Chongqing standard (元/人/月) from a date (administrator; DOMAIN.md §4)."""
    _require(actor, "settings.manage", "只有系统管理员可以修改救助保障标准")
    if item not in BenefitStandard.Item.values:
        raise DomainError("invalid", "标准项目无效")
    amount = _money(monthly_amount, "标准")
    if amount is None or amount <= 0:
        raise DomainError("invalid", "请填写大于0的标准金额")
    if not source.strip():
        raise DomainError("invalid", "请填写文件依据")
    existing = BenefitStandard.objects.select_for_update().filter(item=item, effective_from=effective_from).first()
    before = snapshot(existing) if existing else None
    standard, _ = BenefitStandard.objects.update_or_create(
        item=item,
        effective_from=effective_from,
        defaults={"monthly_amount": amount, "source": source.strip()[:100], "updated_by": actor},
    )
    audit_record(
        actor=actor,
        action="benefit_standard.set",
        object_type="benefit_standard",
        object_id=standard.pk,
        summary=f"{standard.get_item_display()} {effective_from} {amount}",
        before=before,
        after=snapshot(standard),
    )
    return standard


def _covered_child_ids(enrolment_child: Child | None, household_id: int | None) -> list[int]:
    if enrolment_child is not None:
        return [enrolment_child.pk]
    if household_id is None:
        return []
    return list(Child.objects.filter(household_id=household_id).values_list("pk", flat=True))


@transaction.atomic
def benefit_enrol(
    *,
    actor: User,
    child_pk: int,
    kind: str,
    start: dt.date,
    end: dt.date | None = None,
    household: bool = False,
    monthly_amount: Any = None,
    lump_sum: Any = None,
    note: str = "",
    today: dt.date,
) -> BenefitEnrolment:
    """Record an enrolment of a child, or of the child's household (低保, 特困 are per household). Refuses one that
    overlaps another of the same kind for the same child or household; the monthly amount defaults to the
    standard in force on the start date."""
    _require(actor, "benefit.edit", "您的角色无权录入救助保障")
    child = child_get(actor, child_pk)
    if kind not in BenefitEnrolment.Kind.values:
        raise DomainError("invalid", "救助类型无效")
    if end is not None and end < start:
        raise DomainError("invalid", "终止日期不能早于起始日期")
    if household and child.household_id is None:
        raise DomainError("invalid", "这名儿童没有登记家庭户，只能按儿童本人录入")
    Child.objects.select_for_update().filter(pk=child.pk).first()  # one enrolment at a time per child (overlap race)
    far = dt.date.max
    overlapping = BenefitEnrolment.objects.filter(kind=kind, start__lte=end or far).filter(
        Q(end__isnull=True) | Q(end__gte=start)
    )
    scope = Q(child=child)
    if child.household_id is not None:
        scope |= Q(household_id=child.household_id)
    clash = overlapping.filter(scope).order_by("start").first()
    if clash is not None:
        who = "该家庭户" if clash.household_id else "该儿童"
        until = clash.end.isoformat() if clash.end else "至今"
        raise DomainError(
            "benefit_overlap",
            f"{who}已有{clash.get_kind_display()}记录（{clash.start.isoformat()}—{until}），与本次录入的期间重叠",
            detail={"existing": clash.pk},
            status=409,
        )
    amount = _money(monthly_amount, "月标准")
    if amount is None and kind in STANDARD_FOR_KIND:
        std = standard_on(STANDARD_FOR_KIND[kind], start)
        amount = std.monthly_amount if std else None
    enrolment = BenefitEnrolment.objects.create(
        child=None if household else child,
        household_id=child.household_id if household else None,
        kind=kind,
        start=start,
        end=end,
        monthly_amount=amount,
        lump_sum=_money(lump_sum, "一次性金额"),
        note=note[:200],
    )
    covered = _covered_child_ids(None if household else child, child.household_id if household else None)
    label = benefit_label(kind)
    for pk in covered:
        timeline_add(
            child=pk,
            kind="support.benefit",
            summary=f"纳入{label}（{'家庭' if household else '本人'}，自{start.isoformat()}"
            + (f"，月标准{amount}元" if amount else "")
            + "）",
            actor=actor,
            source_type="benefit",
            source_id=enrolment.pk,
        )
    audit_record(
        actor=actor, action="benefit.enrol", object_type="benefit", object_id=enrolment.pk, after=snapshot(enrolment)
    )
    groups_refresh(child_ids=covered, today=today, actor=actor)
    needs_derive(child_ids=covered, on=today)
    return enrolment


@transaction.atomic
def benefit_end(*, actor: User, pk: int, end: dt.date, today: dt.date) -> BenefitEnrolment:
    _require(actor, "benefit.edit", "您的角色无权修改救助保障")
    enrolment = BenefitEnrolment.objects.select_for_update().filter(pk=pk).first()
    if enrolment is None:
        raise NotFound()
    covered = _covered_child_ids(enrolment.child, enrolment.household_id)
    if not covered:
        raise NotFound()
    child_get(actor, covered[0])
    if end < enrolment.start:
        raise DomainError("invalid", "终止日期不能早于起始日期")
    before = snapshot(enrolment)
    enrolment.end = end
    enrolment.save(update_fields=["end"])
    for child_pk in covered:
        timeline_add(
            child=child_pk,
            kind="support.benefit",
            summary=f"{enrolment.get_kind_display()}于{end.isoformat()}终止",
            actor=actor,
            source_type="benefit",
            source_id=enrolment.pk,
        )
    audit_record(
        actor=actor,
        action="benefit.end",
        object_type="benefit",
        object_id=enrolment.pk,
        before=before,
        after=snapshot(enrolment),
    )
    groups_refresh(child_ids=covered, today=today, actor=actor)
    return enrolment


# --- catalogue -----------------------------------------------------------------------------------------------
def _areas(codes: Iterable[str]) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    for code in codes:
        try:
            full = regioncode.normalise(code)
        except regioncode.RegionCodeError as exc:
            raise DomainError("invalid", exc.message) from None
        if not Region.objects.filter(code=full).exists():
            raise DomainError("invalid", f"区划代码{full}不存在")
        level = regioncode.level_of(full)
        out.append((regioncode.prefix(full, level), level))
    if not out:
        raise DomainError("invalid", "请至少选择一个服务区域")
    return out


@transaction.atomic
def provider_create(
    *, actor: User, name: str, kind: str, region_code: str, contact_name: str = "", contact_phone: str = ""
) -> Provider:
    _require(actor, "support.catalogue", "您的角色无权管理服务目录")
    if kind not in Provider.Kind.values:
        raise DomainError("invalid", "服务提供方类型无效")
    if not name.strip():
        raise DomainError("invalid", "请填写服务提供方名称")
    _areas([region_code])
    if not covers(actor, region_code):
        raise DomainError("out_of_scope", "所在地不在您的管辖范围内", status=403)
    provider = Provider.objects.create(
        name=name.strip()[:100],
        kind=kind,
        region_id=regioncode.normalise(region_code),
        contact_name=contact_name[:50],
        contact_phone=contact_phone[:30],
    )
    audit_record(
        actor=actor, action="provider.create", object_type="provider", object_id=provider.pk, after=snapshot(provider)
    )
    return provider


@transaction.atomic
def provider_member_add(*, actor: User, provider_pk: int, user_pk: int) -> ProviderMember:
    """Tie a user (role 社会组织工作者) to a provider; the user then works that provider's referrals."""
    _require(actor, "support.catalogue", "您的角色无权管理服务目录")
    provider = Provider.objects.filter(pk=provider_pk).first()
    user = User.objects.filter(pk=user_pk).first()
    if provider is None or user is None or not covers(actor, provider.region_id):
        raise NotFound()
    # The member will read the children referred to the provider: only someone of the actor's own jurisdiction.
    if user.region_id is None or not covers(actor, user.region_id):
        raise NotFound("该账号不存在或不在您的管辖范围内")
    if not user.can("support.provide"):
        raise DomainError("invalid", "该用户的角色不能作为服务提供方人员")
    member, _ = ProviderMember.objects.update_or_create(user=user, defaults={"provider": provider})
    audit_record(
        actor=actor, action="provider.member", object_type="provider", object_id=provider.pk, summary=f"user {user.pk}"
    )
    return member


@transaction.atomic
def service_create(
    *,
    actor: User,
    provider_pk: int,
    name: str,
    domains: list[str],
    areas: list[str],
    capacity: int,
    programme: str = "",
    description: str = "",
    schedule: str = "",
    age_min: int = 0,
    age_max: int = 17,
    sex: str = "",
    groups: list[str] | None = None,
    for_parents: bool = False,
) -> Service:
    """Add a service to the catalogue, with the needs it meets and the regions it serves."""
    _require(actor, "support.catalogue", "您的角色无权管理服务目录")
    provider = Provider.objects.filter(pk=provider_pk).first()
    if provider is None or not covers(actor, provider.region_id):
        raise NotFound()
    errors: dict[str, str] = {}
    if not name.strip():
        errors["name"] = "请填写服务名称"
    if not domains or set(domains) - set(Domain.values):
        errors["domains"] = "请选择服务满足的需求领域"
    if capacity is None or capacity < 1:
        errors["capacity"] = "服务名额应至少为1"
    if not (0 <= age_min <= age_max <= 17):
        errors["age"] = "年龄范围应在0至17岁之间"
    if sex not in ("", "M", "F"):
        errors["sex"] = "性别要求无效"
    if groups and set(groups) - set(ChildGroup.Code.values):
        errors["groups"] = "限定儿童类别无效"
    if errors:
        raise DomainError("invalid", "；".join(errors.values()), detail=errors)
    parsed = _areas(areas)
    for prefix, _level in parsed:
        # A district officer lets a service serve her district or places inside it, not beyond.
        if not covers(actor, prefix.ljust(12, "0")):
            raise DomainError("out_of_scope", "服务区域超出您的管辖范围", status=403)
    service = Service.objects.create(
        provider=provider,
        name=name.strip()[:100],
        programme=programme[:40],
        description=description[:500],
        domains=sorted(set(domains)),
        capacity=capacity,
        schedule=schedule[:100],
        age_min=age_min,
        age_max=age_max,
        sex=sex,
        groups=sorted(set(groups or [])),
        for_parents=for_parents,
    )
    ServiceArea.objects.bulk_create(
        [ServiceArea(service=service, prefix=p, level=lv) for p, lv in dict(parsed).items()]
    )
    audit_record(
        actor=actor, action="service.create", object_type="service", object_id=service.pk, after=snapshot(service)
    )
    return service


# --- referrals -----------------------------------------------------------------------------------------------
def service_covers(service: Service, village_id: str) -> bool:
    from guanai.support.matching import village_prefixes

    return service.areas.filter(prefix__in=village_prefixes(village_id)).exists()


def _check_service_fits(service: Service, child: Child, *, on: dt.date) -> None:
    if not service.is_active or not service.provider.is_active:
        raise DomainError("service_inactive", "该服务已停止")
    if not service_covers(service, child.village_id):
        raise DomainError(
            "out_of_area", f"“{service.name}”的服务区域不包括这名儿童所在的村（社区），不能转介", status=409
        )
    if not service.for_parents:
        age = age_on(child.birth_date, on)
        if not service.age_min <= age <= service.age_max:
            raise DomainError(
                "not_eligible", f"“{service.name}”面向{service.age_min}-{service.age_max}岁儿童，这名儿童{age}岁"
            )
        if service.sex and service.sex != child.sex:
            raise DomainError("not_eligible", f"“{service.name}”仅面向{'男' if service.sex == 'M' else '女'}童")
    if service.groups:
        codes = set(ChildGroup.objects.filter(child=child).values_list("code", flat=True))
        if not codes & set(service.groups):
            labels = dict(ChildGroup.Code.choices)
            raise DomainError(
                "not_eligible", f"“{service.name}”仅面向" + "、".join(labels.get(g, g) for g in service.groups)
            )


def _check_capacity(service: Service) -> None:
    used = Referral.objects.filter(service=service, status__in=Referral.ACTIVE).count()
    if used >= service.capacity:
        raise DomainError(
            "over_capacity", f"“{service.name}”名额已满（{used}/{service.capacity}），请选择其他服务", status=409
        )


@transaction.atomic
def referral_create(
    *,
    actor: User,
    child_pk: int,
    service_pk: int,
    need_pk: int | None = None,
    reason: str = "",
    explanation: str = "",
    on: dt.date,
) -> Referral:
    """Refer a child to a service (转介): the director or district officer picks a suggestion. Refused when the
    service does not serve the child's village, is full, or does not take this child."""
    _require(actor, "support.manage", "您的角色无权转介服务")
    child = child_get(actor, child_pk)
    # Lock the service row: two people referring to the last place must not both succeed.
    service = Service.objects.select_for_update().select_related("provider").filter(pk=service_pk).first()
    if service is None:
        raise NotFound("未找到该服务")
    need = None
    if need_pk is not None:
        need = Need.objects.select_for_update().filter(pk=need_pk, child=child).first()
        if need is None:
            raise DomainError("invalid", "该需求不属于这名儿童")
        if not need.is_open:
            raise DomainError("already_closed", "该需求已办结")
    _check_service_fits(service, child, on=on)
    if Referral.objects.filter(child=child, service=service, status__in=Referral.ACTIVE).exists():
        raise DomainError("duplicate_referral", "这名儿童已转介到该服务，正在等待或接受服务", status=409)
    _check_capacity(service)
    referral = Referral.objects.create(
        child=child,
        need=need,
        service=service,
        provider=service.provider,
        reason=reason[:500],
        match_explanation=explanation[:500],
        created_by=actor,
    )
    if need is not None and need.status == Need.Status.OPEN:
        need.status = Need.Status.IN_PROGRESS
        need.save(update_fields=["status", "updated_at"])
    if need is not None:
        # The current plan's referral action for this need now follows this referral.
        PlanAction.objects.filter(
            plan__child=child,
            plan__status__in=[CarePlan.Status.DRAFT, CarePlan.Status.ACTIVE],
            kind=PlanAction.Kind.REFERRAL,
            need=need,
            referral__isnull=True,
        ).update(referral=referral, service=service, status=PlanAction.Status.DOING)
    timeline_add(
        child=child,
        kind="support.referral",
        summary=f"转介至{service.provider.name}“{service.name}”" + (f"（{need.title}）" if need else ""),
        actor=actor,
        source_type="referral",
        source_id=referral.pk,
    )
    audit_record(
        actor=actor, action="referral.create", object_type="referral", object_id=referral.pk, after=snapshot(referral)
    )
    return referral


def provider_for(user: User) -> Provider:
    if not user.can("support.provide"):
        raise PermissionRefused("只有服务提供方人员可以处理转介")
    member = ProviderMember.objects.select_related("provider").filter(user=user).first()
    if member is None:
        raise PermissionRefused("您的账号尚未关联服务机构，请联系区县民政")
    return member.provider


def _provider_referral(actor: User, pk: int) -> Referral:
    provider = provider_for(actor)
    referral = Referral.objects.select_for_update().filter(pk=pk, provider=provider).first()
    if referral is None:
        raise NotFound()
    return referral


@transaction.atomic
def referral_respond(*, actor: User, pk: int, accept: bool, reason: str = "") -> Referral:
    """The provider accepts or declines a referral (a decline needs a reason and frees the place)."""
    referral = _provider_referral(actor, pk)
    if referral.status != Referral.Status.SENT:
        raise DomainError("bad_state", f"该转介当前为“{referral.get_status_display()}”，不能再接收或拒绝")
    if not accept and not reason.strip():
        raise DomainError("invalid", "拒绝转介须说明理由")
    referral.status = Referral.Status.ACCEPTED if accept else Referral.Status.DECLINED
    referral.responded_at, referral.responded_by, referral.decline_reason = timezone.now(), actor, reason.strip()[:300]
    referral.save(update_fields=["status", "responded_at", "responded_by", "decline_reason"])
    if not accept and referral.need_id is not None:
        others = Referral.objects.filter(need_id=referral.need_id, status__in=Referral.ACTIVE).exists()
        if not others:
            Need.objects.filter(pk=referral.need_id, status=Need.Status.IN_PROGRESS).update(status=Need.Status.OPEN)
    text = f"{referral.provider.name}{'接收' if accept else '拒绝'}转介“{referral.service.name}”" + (
        "" if accept else f"：{reason.strip()}"
    )
    timeline_add(
        child=referral.child_id,
        kind="support.referral",
        summary=text,
        actor=actor,
        source_type="referral",
        source_id=referral.pk,
    )
    audit_record(
        actor=actor,
        action="referral.accept" if accept else "referral.decline",
        object_type="referral",
        object_id=referral.pk,
    )
    return referral


@transaction.atomic
def referral_deliver(
    *, actor: User, pk: int, delivered_on: dt.date, note: str, sessions: int = 1, need_met: bool = True, today: dt.date
) -> Referral:
    """The provider reports delivery. The need is resolved when the provider says it was met, and the care-plan
    action that asked for this referral is done."""
    referral = _provider_referral(actor, pk)
    if referral.status != Referral.Status.ACCEPTED:
        raise DomainError("bad_state", "只有已接收的转介可以登记服务完成")
    if not note.strip():
        raise DomainError("invalid", "请填写服务情况")
    if delivered_on > today:
        raise DomainError("invalid", "服务完成日期不能晚于今天")
    if sessions < 1:
        raise DomainError("invalid", "服务次数应至少为1")
    referral.status, referral.delivered_on = Referral.Status.DELIVERED, delivered_on
    referral.delivery_note, referral.sessions = note.strip()[:500], sessions
    referral.save(update_fields=["status", "delivered_on", "delivery_note", "sessions"])
    if need_met and referral.need_id is not None:
        need = Need.objects.select_for_update().get(pk=referral.need_id)
        if need.is_open:
            _resolve_need(
                need,
                on=delivered_on,
                resolution=f"{referral.provider.name}提供“{referral.service.name}”：{note.strip()}",
            )
    PlanAction.objects.filter(referral=referral).exclude(status=PlanAction.Status.CANCELLED).update(
        status=PlanAction.Status.DONE, done_on=delivered_on, note=f"服务完成：{note.strip()}"[:300]
    )
    timeline_add(
        child=referral.child_id,
        kind="support.referral",
        summary=f"{referral.provider.name}完成服务“{referral.service.name}”（{sessions}次）：{note.strip()}",
        actor=actor,
        source_type="referral",
        source_id=referral.pk,
    )
    audit_record(
        actor=actor,
        action="referral.deliver",
        object_type="referral",
        object_id=referral.pk,
        after={"sessions": sessions, "need_met": need_met},
    )
    return referral


@transaction.atomic
def referral_cancel(*, actor: User, pk: int, reason: str) -> Referral:
    _require(actor, "support.manage", "您的角色无权撤回转介")
    referral = Referral.objects.select_for_update().filter(pk=pk).first()
    if referral is None:
        raise NotFound()
    child_get(actor, referral.child_id)
    if referral.status not in Referral.ACTIVE:
        raise DomainError("bad_state", "只有待接收或已接收的转介可以撤回")
    referral.status, referral.decline_reason = Referral.Status.CANCELLED, reason[:300]
    referral.save(update_fields=["status", "decline_reason"])
    timeline_add(
        child=referral.child_id,
        kind="support.referral",
        summary=f"撤回转介“{referral.service.name}”：{reason}",
        actor=actor,
        source_type="referral",
        source_id=referral.pk,
    )
    audit_record(actor=actor, action="referral.cancel", object_type="referral", object_id=referral.pk)
    return referral


@transaction.atomic
def need_take(*, actor: User, need_pk: int, service_pk: int, on: dt.date) -> Referral:
    """A provider takes up a posted need (接单) with one of its services: an accepted referral follows."""
    provider = provider_for(actor)
    need = Need.objects.select_for_update().select_related("child").filter(pk=need_pk, posted_at__isnull=False).first()
    if need is None or not need.is_open:
        raise NotFound("该需求不存在或已被接单办结")
    service = (
        Service.objects.select_for_update().select_related("provider").filter(pk=service_pk, provider=provider).first()
    )
    if service is None:
        raise NotFound("未找到贵机构的该项服务")
    if need.domain not in service.domains:
        raise DomainError("not_eligible", f"“{service.name}”不提供{DOMAIN_LABELS[need.domain]}方面的服务")
    child = need.child
    _check_service_fits(service, child, on=on)
    if Referral.objects.filter(need=need, status__in=Referral.ACTIVE).exists():
        raise DomainError("already_taken", "该需求已有服务机构接单", status=409)
    _check_capacity(service)
    referral = Referral.objects.create(
        child=child,
        need=need,
        service=service,
        provider=provider,
        status=Referral.Status.ACCEPTED,
        via_posting=True,
        reason="服务机构接单",
        created_by=actor,
        responded_at=timezone.now(),
        responded_by=actor,
    )
    need.status, need.posted_at = Need.Status.IN_PROGRESS, None
    need.save(update_fields=["status", "posted_at", "updated_at"])
    timeline_add(
        child=child,
        kind="support.referral",
        summary=f"{provider.name}接单“{service.name}”（{need.title}）",
        actor=actor,
        source_type="referral",
        source_id=referral.pk,
    )
    audit_record(actor=actor, action="need.take", object_type="referral", object_id=referral.pk)
    return referral


# --- care plans ----------------------------------------------------------------------------------------------
GOAL_TEXT = {
    Domain.LIVING: "基本生活得到保障，应享救助保障全部落实",
    Domain.MEDICAL: "疾病得到治疗，残疾儿童接受康复救助和康复训练",
    Domain.EDUCATION: "按时就学，学业困难得到辅导（结对帮扶）",
    Domain.PSYCHOLOGICAL: "情绪和行为问题得到心理辅导和持续关注",
    Domain.GUARDIANSHIP: "日常照料和监护落实到人",
    Domain.SAFETY: "消除安全隐患，掌握安全知识",
    Domain.AFFECTION: "与父母保持经常联系，获得亲情陪伴",
    Domain.RECREATION: "参加阅读、运动等文体活动",
}


def _draft_for(
    *,
    child_id: int,
    needs: list[tuple[int, str, int, str, str]],  # (id, domain, severity, key, title)
    suggestions: dict[int, tuple[int, str]],  # need id -> (service id, service label)
    owner_id: int,
    on: dt.date,
    under_way: dict[int, tuple[int, int, str]] | None = None,  # need id -> (referral id, service id, label)
) -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
    """Goals and actions of a draft plan, from open needs and the best match of each."""
    goals: list[dict[str, str]] = []
    actions: list[dict[str, Any]] = []
    domains = list(dict.fromkeys(d for _, d, _, _, _ in sorted(needs, key=lambda n: -n[2])))
    for d in domains:
        goals.append({"domain": d, "text": GOAL_TEXT.get(Domain(d), DOMAIN_LABELS[d])})
    urgent = False
    for need_id, domain, severity, key, title in needs:
        due = on + dt.timedelta(days=14 if severity >= 3 else 30)
        if key.startswith("benefit:"):
            rule_id = key.partition(":")[2]
            from guanai.support.eligibility import ruleset

            try:
                benefit = ruleset().get(rule_id).benefit
            except KeyError:
                benefit = ""
            actions.append(
                {
                    "kind": PlanAction.Kind.BENEFIT,
                    "title": f"协助申请{benefit_label(benefit)}",
                    "need_id": need_id,
                    "benefit": benefit,
                    "due_on": due,
                }
            )
        elif under_way and need_id in under_way:
            referral_id, service_id, label = under_way[need_id]
            actions.append(
                {
                    "kind": PlanAction.Kind.REFERRAL,
                    "title": f"转介：{label}（{title}）"[:200],
                    "need_id": need_id,
                    "service_id": service_id,
                    "referral_id": referral_id,
                    "status": PlanAction.Status.DOING,
                    "due_on": due,
                }
            )
        elif need_id in suggestions:
            service_id, label = suggestions[need_id]
            actions.append(
                {
                    "kind": PlanAction.Kind.REFERRAL,
                    "title": f"转介：{label}（{title}）"[:200],
                    "need_id": need_id,
                    "service_id": service_id,
                    "due_on": due,
                }
            )
        elif domain == Domain.EDUCATION:
            actions.append(
                {
                    "kind": PlanAction.Kind.PAIRING,
                    "title": f"安排教师或志愿者一对一结对帮扶（{title}）"[:200],
                    "need_id": need_id,
                    "due_on": due,
                }
            )
        else:
            actions.append(
                {"kind": PlanAction.Kind.OTHER, "title": f"跟进：{title}"[:200], "need_id": need_id, "due_on": due}
            )
        urgent = urgent or (severity >= 3 and domain in (Domain.PSYCHOLOGICAL, Domain.GUARDIANSHIP, Domain.SAFETY))
    if urgent:
        actions.append(
            {
                "kind": PlanAction.Kind.VISIT_CADENCE,
                "title": "加大走访频次：每月入户走访一次",
                "due_on": on + dt.timedelta(days=7),
            }
        )
    for a in actions:
        a["owner_id"] = owner_id
    return goals, actions


@transaction.atomic
def plan_draft(*, actor: User, child_pk: int, on: dt.date) -> CarePlan:
    """Draft a care plan from the child's open needs and the best service for each (then edited by people)."""
    from guanai.support.matching import match_services

    _require(actor, "support.manage", "您的角色无权制定帮扶方案")
    child = child_get(actor, child_pk)
    if CarePlan.objects.filter(child=child, status__in=[CarePlan.Status.DRAFT, CarePlan.Status.ACTIVE]).exists():
        raise DomainError("plan_exists", "这名儿童已有草稿或实施中的帮扶方案，请在原方案上修改", status=409)
    needs = list(
        Need.objects.filter(child=child, status__in=Need.OPEN_STATUSES)
        .order_by("-severity", "id")
        .values_list("pk", "domain", "severity", "key", "title")
    )
    if not needs:
        raise DomainError("no_needs", "这名儿童没有待帮扶的需求，请先开展需求评估")
    suggestions: dict[int, tuple[int, str]] = {}
    for s in match_services(child=child, on=on, limit=50):
        for need_id in s.need_ids:
            suggestions.setdefault(need_id, (s.service_id, f"{s.provider_name}“{s.service_name}”"))
    under_way = {
        r.need_id: (r.pk, r.service_id, f"{r.provider.name}“{r.service.name}”")
        for r in Referral.objects.filter(child=child, status__in=Referral.ACTIVE, need__isnull=False).select_related(
            "provider", "service"
        )
        if r.need_id is not None
    }
    goals, actions = _draft_for(
        child_id=child.pk, needs=needs, suggestions=suggestions, owner_id=actor.pk, on=on, under_way=under_way
    )
    plan = CarePlan.objects.create(
        child=child, goals=goals, created_by=actor, created_on=on, next_review_on=add_months(on, 3)
    )
    PlanAction.objects.bulk_create([PlanAction(plan=plan, **a) for a in actions])
    timeline_add(
        child=child,
        kind="support.plan",
        summary=f"生成关爱帮扶方案草稿（{len(goals)}项目标，{len(actions)}项措施）",
        actor=actor,
        source_type="care_plan",
        source_id=plan.pk,
    )
    audit_record(
        actor=actor, action="plan.draft", object_type="care_plan", object_id=plan.pk, summary=f"child {child.pk}"
    )
    return plan


def plans_draft_batch(*, actor: User, region_code: str, on: dt.date, progress: Any = None) -> dict[str, int]:
    """Draft plans for every child in a region with open needs and no current plan (a district's 20,000 children
    in one run): needs, groups, referrals and candidate services are loaded set-wise; each village's candidate
    services are loaded once; plans, actions and timeline lines are written in bulk per chunk."""
    from guanai.support.matching import (
        CandidateSet,
        ChildContext,
        active_counts,
        candidates_for_prefixes,
        rank,
        village_prefixes,
    )

    _require(actor, "support.manage", "您的角色无权制定帮扶方案")
    if not covers(actor, region_code):
        raise DomainError("out_of_scope", "该区域不在您的管辖范围内", status=403)
    from guanai.registry.selectors import children_for

    prefix = regioncode.prefix(region_code)
    low, high = regioncode.prefix_range(prefix)
    scoped_children = (
        children_for(actor).filter(village_id__gte=low, village_id__lte=high).exclude(status=Child.Status.EXITED)
    )
    has_plan = CarePlan.objects.filter(status__in=[CarePlan.Status.DRAFT, CarePlan.Status.ACTIVE]).values("child_id")
    needs_by_child: dict[int, list[tuple[int, str, int, str, str]]] = defaultdict(list)
    for pk, child_id, domain, severity, key, title in (
        Need.objects.filter(child__in=scoped_children.values("pk"), status__in=Need.OPEN_STATUSES)
        .exclude(child_id__in=has_plan)
        .order_by("child_id", "-severity", "id")
        .values_list("pk", "child_id", "domain", "severity", "key", "title")
        .iterator(chunk_size=10000)
    ):
        needs_by_child[child_id].append((pk, domain, severity, key, title))
    ids = sorted(needs_by_child)
    info: dict[int, tuple[str, dt.date, str]] = {}
    groups: dict[int, set[str]] = defaultdict(set)
    involved: dict[int, set[int]] = defaultdict(set)
    referred: dict[int, set[int]] = defaultdict(set)
    for i in range(0, len(ids), 5000):
        chunk = ids[i : i + 5000]
        for pk, village, birth, sex in Child.objects.filter(pk__in=chunk).values_list(
            "pk", "village_id", "birth_date", "sex"
        ):
            info[pk] = (village, birth, sex)
        for child_id, code in ChildGroup.objects.filter(child_id__in=chunk).values_list("child_id", "code"):
            groups[child_id].add(code)
        for child_id, provider_id, service_id, status in Referral.objects.filter(child_id__in=chunk).values_list(
            "child_id", "provider_id", "service_id", "status"
        ):
            if status != Referral.Status.DECLINED and status != Referral.Status.CANCELLED:
                involved[child_id].add(provider_id)
            if status in Referral.ACTIVE:
                referred[child_id].add(service_id)
    by_village: dict[str, CandidateSet] = {}
    ancestors = [prefix[:n] for n in (2, 4, 6, 9, 12) if n <= len(prefix)]
    used = active_counts(
        ServiceArea.objects.filter(Q(prefix__in=ancestors) | Q(prefix__startswith=prefix))
        .values_list("service_id", flat=True)
        .distinct()
    )
    drafted = actions_n = 0
    now = timezone.now()
    for i in range(0, len(ids), 2000):
        chunk = ids[i : i + 2000]
        with transaction.atomic():
            plans: list[CarePlan] = []
            pending: list[list[dict[str, Any]]] = []
            for child_id in chunk:
                village, birth, sex = info[child_id]
                if village not in by_village:
                    by_village[village] = CandidateSet(candidates_for_prefixes(village_prefixes(village)), used)
                needs = needs_by_child[child_id]
                ctx = ChildContext(
                    child_id,
                    village,
                    birth,
                    sex,
                    frozenset(groups[child_id]),
                    tuple((n[0], n[1], n[2]) for n in needs),
                    frozenset(involved[child_id]),
                    frozenset(referred[child_id]),
                )
                suggestions: dict[int, tuple[int, str]] = {}
                for s in rank(ctx, by_village[village], on=on, cover_needs=True):
                    for need_id in s.need_ids:
                        suggestions.setdefault(need_id, (s.service_id, f"{s.provider_name}“{s.service_name}”"))
                goals, actions = _draft_for(
                    child_id=child_id, needs=needs, suggestions=suggestions, owner_id=actor.pk, on=on
                )
                plans.append(
                    CarePlan(
                        child_id=child_id,
                        goals=goals,
                        created_by=actor,
                        created_on=on,
                        next_review_on=add_months(on, 3),
                    )
                )
                pending.append(actions)
            created = CarePlan.objects.bulk_create(plans, batch_size=1000)
            if any(p.pk is None for p in created):  # pragma: no cover - both engines return keys
                raise RuntimeError("bulk_create did not return primary keys")
            rows = [PlanAction(plan_id=p.pk, **a) for p, acts in zip(created, pending, strict=True) for a in acts]
            PlanAction.objects.bulk_create(rows, batch_size=2000)
            from guanai.registry.models import TimelineEvent

            TimelineEvent.objects.bulk_create(
                [
                    TimelineEvent(
                        **timeline_row(
                            child=p.child_id,
                            kind="support.plan",
                            summary=f"批量生成关爱帮扶方案草稿（{len(acts)}项措施）",
                            actor=actor,
                            source_type="care_plan",
                            source_id=p.pk,
                            at=now,
                        )
                    )
                    for p, acts in zip(created, pending, strict=True)
                ],
                batch_size=2000,
            )
            audit_record(
                actor=actor,
                action="plan.draft_batch",
                object_type="care_plan",
                summary=f"{len(created)} plans in {prefix}",
            )
            drafted += len(created)
            actions_n += len(rows)
        if progress is not None:
            progress(drafted, len(ids))
    return {"plans": drafted, "actions": actions_n}


def _plan_in_scope(actor: User, pk: int, *, lock: bool = True) -> CarePlan:
    _require(actor, "support.manage", "您的角色无权修改帮扶方案")
    qs = CarePlan.objects.select_for_update() if lock else CarePlan.objects.all()
    plan = qs.filter(pk=pk).first()
    if plan is None:
        raise NotFound()
    child_get(actor, plan.child_id)
    return plan


def _owner(actor: User, owner_pk: int | None, child: Child) -> User:
    if owner_pk is None:
        raise DomainError("owner_required", "每项措施都要指定负责人", detail={"owner": "必填"})
    owner = User.objects.filter(pk=owner_pk, is_active=True).first()
    if owner is None or not (owner.can("support.manage") and covers(owner, child.village_id)):
        raise DomainError("invalid", "负责人应是负责这名儿童的儿童主任、督导员或区县民政人员", detail={"owner": "无效"})
    return owner


@transaction.atomic
def plan_action_add(
    *,
    actor: User,
    plan_pk: int,
    kind: str,
    title: str,
    owner_pk: int | None,
    due_on: dt.date | None,
    need_pk: int | None = None,
    service_pk: int | None = None,
    benefit: str = "",
    partner_name: str = "",
) -> PlanAction:
    plan = _plan_in_scope(actor, plan_pk)
    if plan.status == CarePlan.Status.CLOSED:
        raise DomainError("bad_state", "方案已结束，不能再添加措施")
    if kind not in PlanAction.Kind.values:
        raise DomainError("invalid", "措施类型无效")
    if not title.strip():
        raise DomainError("invalid", "请填写措施内容")
    owner = _owner(actor, owner_pk, plan.child)
    if due_on is None:
        raise DomainError("invalid", "请填写完成期限", detail={"due_on": "必填"})
    if kind == PlanAction.Kind.PAIRING and not partner_name.strip():
        raise DomainError("invalid", "结对帮扶须填写结对的教师或志愿者", detail={"partner_name": "必填"})
    if need_pk is not None and not Need.objects.filter(pk=need_pk, child_id=plan.child_id).exists():
        raise DomainError("invalid", "该需求不属于这名儿童")
    if service_pk is not None and not Service.objects.filter(pk=service_pk).exists():
        raise DomainError("invalid", "服务不存在")
    action = PlanAction.objects.create(
        plan=plan,
        kind=kind,
        title=title.strip()[:200],
        owner=owner,
        due_on=due_on,
        need_id=need_pk,
        service_id=service_pk,
        benefit=benefit,
        partner_name=partner_name.strip()[:50],
    )
    _plan_touched(actor, plan, f"帮扶方案新增措施：{action.title}（负责人{owner.shown_name}，{due_on.isoformat()}前）")
    return action


def _plan_touched(actor: User, plan: CarePlan, text: str) -> None:
    plan.version += 1
    plan.save(update_fields=["version"])
    timeline_add(
        child=plan.child_id, kind="support.plan", summary=text, actor=actor, source_type="care_plan", source_id=plan.pk
    )
    audit_record(actor=actor, action="plan.change", object_type="care_plan", object_id=plan.pk, summary=text)


@transaction.atomic
def plan_action_update(
    *, actor: User, pk: int, status: str, note: str = "", on: dt.date, referral_reason: str = ""
) -> PlanAction:
    """Move an action on. Starting a referral action sends the referral (the same checks as any referral)."""
    action = PlanAction.objects.select_for_update().select_related("plan").filter(pk=pk).first()
    if action is None:
        raise NotFound()
    plan = _plan_in_scope(actor, action.plan_id)
    if status not in PlanAction.Status.values:
        raise DomainError("invalid", "措施状态无效")
    if plan.status == CarePlan.Status.CLOSED:
        raise DomainError("bad_state", "方案已结束")
    if (
        status == PlanAction.Status.DOING
        and action.kind == PlanAction.Kind.REFERRAL
        and action.referral_id is None
        and action.service_id is not None
    ):
        referral = referral_create(
            actor=actor,
            child_pk=plan.child_id,
            service_pk=action.service_id,
            need_pk=action.need_id,
            reason=referral_reason or action.title,
            on=on,
        )
        action.referral = referral
    action.status = status
    action.note = note[:300] or action.note
    action.done_on = on if status == PlanAction.Status.DONE else None
    action.save(update_fields=["status", "note", "done_on", "referral"])
    _plan_touched(actor, plan, f"措施“{action.title}”：{action.get_status_display()}" + (f"（{note}）" if note else ""))
    return action


@transaction.atomic
def plan_goals_set(*, actor: User, pk: int, goals: list[dict[str, str]]) -> CarePlan:
    plan = _plan_in_scope(actor, pk)
    clean = [
        {"domain": g.get("domain", ""), "text": g["text"].strip()[:200]} for g in goals if g.get("text", "").strip()
    ]
    if not clean:
        raise DomainError("invalid", "请至少填写一项帮扶目标")
    if any(g["domain"] and g["domain"] not in Domain.values for g in clean):
        raise DomainError("invalid", "目标的需求领域无效")
    plan.goals = clean
    plan.save(update_fields=["goals"])
    _plan_touched(actor, plan, f"修改帮扶目标（{len(clean)}项）")
    return plan


@transaction.atomic
def plan_activate(*, actor: User, pk: int, on: dt.date) -> CarePlan:
    plan = _plan_in_scope(actor, pk)
    if plan.status != CarePlan.Status.DRAFT:
        raise DomainError("bad_state", "只有草稿方案可以启动")
    if not plan.actions.exclude(status=PlanAction.Status.CANCELLED).exists():
        raise DomainError("invalid", "方案至少要有一项措施")
    plan.status, plan.activated_on = CarePlan.Status.ACTIVE, on
    plan.next_review_on = add_months(on, plan.review_every_months)
    plan.save(update_fields=["status", "activated_on", "next_review_on"])
    _plan_touched(actor, plan, f"关爱帮扶方案启动实施，下次评估{plan.next_review_on.isoformat()}")
    return plan


def plan_progress(plan: CarePlan) -> int:
    """Share of the plan's actions done (cancelled ones do not count), in percent."""
    counts = {s: 0 for s in PlanAction.Status.values}
    for status in plan.actions.values_list("status", flat=True):
        counts[status] += 1
    total = counts["todo"] + counts["doing"] + counts["done"]
    return round(100 * counts["done"] / total) if total else 0


@transaction.atomic
def plan_review(*, actor: User, pk: int, note: str, on: dt.date, close: bool = False) -> PlanReview:
    plan = _plan_in_scope(actor, pk)
    if plan.status != CarePlan.Status.ACTIVE:
        raise DomainError("bad_state", "只有实施中的方案可以评估")
    if not note.strip():
        raise DomainError("invalid", "请填写评估意见")
    review = PlanReview.objects.create(
        plan=plan, reviewed_on=on, reviewed_by=actor, progress=plan_progress(plan), note=note.strip()[:500]
    )
    if close:
        plan.status, plan.closed_on = CarePlan.Status.CLOSED, on
    plan.next_review_on = None if close else add_months(on, plan.review_every_months)
    plan.save(update_fields=["status", "closed_on", "next_review_on"])
    _plan_touched(
        actor, plan, f"帮扶方案评估：完成{review.progress}%，{note.strip()}" + ("；方案结束" if close else "")
    )
    return review


# --- activities ----------------------------------------------------------------------------------------------
@transaction.atomic
def activity_create(
    *,
    actor: User,
    title: str,
    kind: str,
    region_code: str,
    starts_on: dt.date,
    ends_on: dt.date,
    programme: str = "",
    place: str = "",
    provider_pk: int | None = None,
) -> Activity:
    """A holiday or programme activity (§11) or a safety-education event (§13)."""
    if not (actor.can("support.catalogue") or actor.can("support.manage")):
        raise PermissionRefused("您的角色无权组织关爱活动")
    if kind not in Activity.Kind.values:
        raise DomainError("invalid", "活动类型无效")
    if not title.strip():
        raise DomainError("invalid", "请填写活动名称")
    if ends_on < starts_on:
        raise DomainError("invalid", "结束日期不能早于开始日期")
    _areas([region_code])
    if not covers(actor, region_code):
        raise DomainError("out_of_scope", "举办地不在您的管辖范围内", status=403)
    activity = Activity.objects.create(
        title=title.strip()[:100],
        kind=kind,
        programme=programme[:40],
        region_id=regioncode.normalise(region_code),
        place=place[:200],
        starts_on=starts_on,
        ends_on=ends_on,
        provider_id=provider_pk,
        created_by=actor,
    )
    audit_record(
        actor=actor, action="activity.create", object_type="activity", object_id=activity.pk, after=snapshot(activity)
    )
    return activity


def _activity_in_scope(actor: User, pk: int) -> Activity:
    activity = Activity.objects.select_for_update().filter(pk=pk).first()
    if activity is None or not covers(actor, activity.region_id):
        raise NotFound()
    if not (actor.can("support.catalogue") or actor.can("support.manage")):
        raise PermissionRefused("您的角色无权管理关爱活动")
    return activity


@transaction.atomic
def activity_invite(*, actor: User, pk: int, child_ids: Iterable[int]) -> int:
    """Invite target children (in the actor's scope and the activity's region); returns how many were added."""
    from guanai.registry.selectors import children_for

    activity = _activity_in_scope(actor, pk)
    low, high = regioncode.prefix_range(regioncode.prefix(activity.region_id))
    wanted = sorted(set(child_ids))
    allowed = set(
        children_for(actor)
        .filter(pk__in=wanted, village_id__gte=low, village_id__lte=high)
        .values_list("pk", flat=True)
    )
    if set(wanted) - allowed:
        raise DomainError("invalid", "只能邀请举办地范围内、您管辖的儿童")
    have = set(ActivityInvite.objects.filter(activity=activity).values_list("child_id", flat=True))
    new = [pk_ for pk_ in wanted if pk_ not in have]
    ActivityInvite.objects.bulk_create([ActivityInvite(activity=activity, child_id=c) for c in new])
    audit_record(
        actor=actor,
        action="activity.invite",
        object_type="activity",
        object_id=activity.pk,
        summary=f"{len(new)} children",
    )
    return len(new)


@transaction.atomic
def activity_attendance(*, actor: User, pk: int, attended: Mapping[int, bool]) -> int:
    """Record who came; each attendance goes to the child's timeline (participation counts feed oversight)."""
    activity = _activity_in_scope(actor, pk)
    invites = {i.child_id: i for i in ActivityInvite.objects.select_for_update().filter(activity=activity)}
    unknown = set(attended) - set(invites)
    if unknown:
        raise DomainError("invalid", "只能为已邀请的儿童登记出席")
    now = timezone.now()
    changed = []
    for child_id, came in attended.items():
        invite = invites[child_id]
        if invite.attended == came:
            continue
        invite.attended, invite.recorded_at = came, now
        changed.append(invite)
        if came:
            timeline_add(
                child=child_id,
                kind="support.activity",
                summary=f"参加{activity.get_kind_display()}“{activity.title}”（{activity.starts_on.isoformat()}）",
                actor=actor,
                source_type="activity",
                source_id=activity.pk,
            )
    ActivityInvite.objects.bulk_update(changed, ["attended", "recorded_at"])
    audit_record(
        actor=actor,
        action="activity.attendance",
        object_type="activity",
        object_id=activity.pk,
        summary=f"{len(changed)} changed",
    )
    return len(changed)
