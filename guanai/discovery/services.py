"""Discovery services: reviewing uncertain links, and closing findings (confirmed → registration, assistance,
case…; or rejected with a reason). Every change is audited in its transaction; findings about registry children
are written to the child's timeline (§8 一人一档, §18 主动发现)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from guanai import privacy
from guanai.accounts.models import User
from guanai.accounts.scope import covers
from guanai.audit.services import audit_record
from guanai.discovery.models import Finding, Link, LinkDecision, RosterRow
from guanai.discovery.rules import rule as rule_spec
from guanai.lib import regioncode
from guanai.lib.errors import DomainError, NotFound, PermissionRefused
from guanai.registry.models import Child, ChildRelation, HukouType, PersonStatus
from guanai.registry.services import ChildData, PersonData, StatusData, child_register
from guanai.registry.timeline import timeline_add

REGISTERING_RULES = {"UNREGISTERED_LEFT_BEHIND", "DISABILITY_UNREGISTERED", "DEFACTO_UNSUPPORTED_CANDIDATE"}
POLICE_TO_STATUS = {
    "deceased": PersonStatus.Kind.DECEASED,
    "missing": PersonStatus.Kind.MISSING,
    "imprisoned": PersonStatus.Kind.IMPRISONED,
    "compulsory_rehab": PersonStatus.Kind.COMPULSORY_REHAB,
}


def _require(actor: User, permission: str, message: str) -> None:
    if not actor.can(permission):
        raise PermissionRefused(message)


def _in_scope(actor: User, region_code: str) -> bool:
    return bool(region_code) and covers(actor, region_code)


@transaction.atomic
def link_decide(*, actor: User, link_pk: int, decision: str, note: str = "") -> LinkDecision:
    """A district officer accepts or rejects a candidate link. The decision holds in every later run until it
    is revoked."""
    _require(actor, "discovery.run", "您的角色无权审核比对结果")
    if decision not in LinkDecision.Decision.values:
        raise DomainError("invalid", "审核结果应为“是同一人”或“不是同一人”")
    link = Link.objects.select_for_update().filter(pk=link_pk).first()
    if link is None or not _in_scope(actor, link.region_code):
        raise NotFound()
    made = LinkDecision.objects.create(
        row_id=link.row_id,
        child_id=link.child_id,
        target_id=link.target_id,
        decision=decision,
        note=note[:200],
        decided_by=actor,
    )
    if decision == LinkDecision.Decision.ACCEPT:
        link.state, link.method = Link.State.ACCEPTED, Link.Method.REVIEWED
    else:
        link.state = Link.State.REJECTED
    link.save(update_fields=["state", "method"])
    audit_record(
        actor=actor,
        action=f"link.{decision}",
        object_type="link",
        object_id=link.pk,
        summary=f"审核比对结果：{made.get_decision_display()}（名册行{link.row_id}）",
        after={"row": link.row_id, "child": link.child_id, "target": link.target_id, "decision": decision},
    )
    if link.child_id and decision == LinkDecision.Decision.ACCEPT:
        timeline_add(
            child=link.child_id,
            kind="discovery.link",
            actor=actor,
            summary=f"确认{link.row.get_source_display()}名册第{link.row.row_no}行为本人",
            source_type="link",
            source_id=link.pk,
        )
    return made


@transaction.atomic
def link_decision_revoke(*, actor: User, decision_pk: int) -> LinkDecision:
    """Undo a review decision: the pair goes back to the machine's judgement (pending until the next run)."""
    _require(actor, "discovery.run", "您的角色无权审核比对结果")
    made = LinkDecision.objects.select_for_update().filter(pk=decision_pk, revoked_at__isnull=True).first()
    if made is None:
        raise NotFound()
    # Django turns ``field=None`` into IS NULL: the pair is found whichever side (child or roster row) it has.
    pair: dict[str, Any] = {"row_id": made.row_id, "child_id": made.child_id, "target_id": made.target_id}
    link = Link.objects.filter(**pair).first()
    if link is not None and not _in_scope(actor, link.region_code):
        raise NotFound()
    made.revoked_at, made.revoked_by = timezone.now(), actor
    made.save(update_fields=["revoked_at", "revoked_by"])
    if link is not None:
        link.state, link.method = Link.State.PENDING, Link.Method.PROBABILISTIC
        link.save(update_fields=["state", "method"])
    audit_record(
        actor=actor,
        action="link.revoke",
        object_type="link_decision",
        object_id=made.pk,
        summary=f"撤销比对审核决定（名册行{made.row_id}）",
        before={"decision": made.decision},
    )
    return made


def _finding_for_update(actor: User, pk: int) -> Finding:
    _require(actor, "finding.handle", "您的角色无权处理数据比对线索")
    finding = Finding.objects.select_for_update().filter(pk=pk).first()
    if finding is None or not (_in_scope(actor, finding.responsible_region) or _in_scope(actor, finding.region_code)):
        raise NotFound()
    if finding.status != Finding.Status.OPEN:
        raise DomainError("closed", "该线索已处理", status=409)
    return finding


def _household_rows(row: RosterRow) -> list[RosterRow]:
    if row.source != "household" or not row.household_no:
        return []
    return list(RosterRow.objects.filter(source="household", household_no=row.household_no).exclude(pk=row.pk))


def prefill(finding: Finding) -> tuple[ChildData, list[PersonData]]:
    """What the rosters say about the found child, as a registration form: name, sex, birth date, ID number,
    village and hukou address from the household (or disability) row; parents and their situations from the
    household and migrant rows."""
    row = finding.subject_row
    if row is None:
        raise DomainError("no_row", "该线索没有对应的名册行，无法预填")
    number = privacy.reveal(row.id_number_enc) if row.id_state in ("valid", "legacy15") else ""
    village = row.region_code if row.region_code and regioncode.level_of(row.region_code) == 5 else ""
    hukou = HukouType.NON_AGRICULTURAL if village and regioncode.is_community(village) else HukouType.AGRICULTURAL
    data = ChildData(
        name=row.name,
        sex=row.sex or "M",
        birth_date=row.birth_date or dt.date(2000, 1, 1),
        village_code=village,
        hukou_type=hukou,
        id_number=number,
        hukou_address=row.address,
    )
    if finding.rule == "DISABILITY_UNREGISTERED":
        data.disability_type, data.disability_grade = row.category, int(row.grade) if row.grade else None
    family: list[PersonData] = []
    parents = {"child": ("head", "spouse"), "grandchild": ("child", "child_in_law")}.get(row.relation, ())
    for p in _household_rows(row):
        if p.relation not in parents:
            continue
        statuses: list[StatusData] = []
        if p.status in POLICE_TO_STATUS:
            statuses.append(StatusData(kind=POLICE_TO_STATUS[p.status], since=p.status_date))
        away = (
            RosterRow.objects.filter(source="migrant", links__target=p, links__state=Link.State.ACCEPTED)
            .order_by("start_date")
            .first()
        )
        if away is not None:
            statuses.append(
                StatusData(
                    kind=PersonStatus.Kind.WORKING_AWAY,
                    since=away.start_date,
                    work_place=away.org_name[:100],
                    cross_county=away.cross_county,
                )
            )
        relation = ChildRelation.Relation.FATHER if p.sex == "M" else ChildRelation.Relation.MOTHER
        family.append(
            PersonData(
                relation=relation,
                name=p.name,
                id_number=privacy.reveal(p.id_number_enc) if p.id_state in ("valid", "legacy15") else "",
                is_guardian=not statuses or all(s.kind == PersonStatus.Kind.WORKING_AWAY for s in statuses),
                statuses=statuses,
            )
        )
    return data, family


@transaction.atomic
def finding_confirm(
    *,
    actor: User,
    pk: int,
    outcome: str,
    today: dt.date,
    note: str = "",
    data: ChildData | None = None,
    family: list[PersonData] | None = None,
) -> Finding:
    """Confirm a finding. For a child not in the registry and the outcome 登记建档, the child is registered
    through ``child_register`` (pre-filled from the roster rows unless ``data`` is given)."""
    finding = _finding_for_update(actor, pk)
    allowed = rule_spec(finding.rule).get("outcomes", [])
    if outcome not in allowed:
        labels = "、".join(Finding.Outcome(o).label for o in allowed)
        raise DomainError("invalid", f"该类线索的处理结果应为：{labels}")
    if outcome == Finding.Outcome.REGISTRATION:
        if finding.child_id:
            raise DomainError("registered", "该儿童已在档案中，无需重复登记", status=409)
        if finding.rule not in REGISTERING_RULES:
            raise DomainError("invalid", "该类线索不能直接登记")
        if data is None:
            data, prefilled = prefill(finding)
            family = prefilled if family is None else family
        child = child_register(actor=actor, data=data, family=family or [], today=today)
        finding.registered_child = child
        finding.child = child
        if finding.subject_row_id:
            # The roster row is now this child's: link it (reviewed) so that the next run does not find it again.
            LinkDecision.objects.create(
                row_id=finding.subject_row_id,
                child=child,
                decision=LinkDecision.Decision.ACCEPT,
                decided_by=actor,
                note="由线索登记",
            )
            Link.objects.create(
                row_id=finding.subject_row_id,
                child=child,
                method=Link.Method.REVIEWED,
                probability=1.0,
                state=Link.State.ACCEPTED,
                region_code=child.village_id,
            )
    finding.status, finding.outcome, finding.reason = Finding.Status.CONFIRMED, outcome, note[:300]
    finding.closed_by, finding.closed_at = actor, timezone.now()
    finding.save()
    audit_record(
        actor=actor,
        action="finding.confirm",
        object_type="finding",
        object_id=finding.pk,
        summary=f"确认线索 {finding.rule} {finding.name}：{Finding.Outcome(outcome).label}",
        after={"rule": finding.rule, "outcome": outcome, "child": finding.child_id},
    )
    if finding.child_id:
        timeline_add(
            child=finding.child_id,
            kind="discovery.confirm",
            actor=actor,
            summary=f"核实数据比对线索（{rule_spec(finding.rule)['title']}）：{Finding.Outcome(outcome).label}"
            + (f"。{note}" if note else ""),
            source_type="finding",
            source_id=finding.pk,
        )
    return finding


@transaction.atomic
def finding_reject(*, actor: User, pk: int, reason: str) -> Finding:
    """Reject a finding with a reason (it stays rejected in later runs: the dedup key keeps it closed)."""
    finding = _finding_for_update(actor, pk)
    reason = reason.strip()
    if not reason:
        raise DomainError("invalid", "请填写排除理由")
    finding.status, finding.reason = Finding.Status.REJECTED, reason[:300]
    finding.closed_by, finding.closed_at = actor, timezone.now()
    finding.save(update_fields=["status", "reason", "closed_by", "closed_at"])
    audit_record(
        actor=actor,
        action="finding.reject",
        object_type="finding",
        object_id=finding.pk,
        summary=f"排除线索 {finding.rule} {finding.name}：{reason}"[:300],
        after={"rule": finding.rule, "reason": reason},
    )
    if finding.child_id:
        timeline_add(
            child=finding.child_id,
            kind="discovery.reject",
            actor=actor,
            summary=f"排除数据比对线索（{rule_spec(finding.rule)['title']}）：{reason}",
            source_type="finding",
            source_id=finding.pk,
        )
    return finding


def confirmation_rates(findings: Any) -> list[dict[str, Any]]:
    """Per rule: open, confirmed, rejected and the confirmation rate among closed findings."""
    from django.db.models import Count, Q

    from guanai.discovery.rules import ruleset

    rows = {
        r["rule"]: r
        for r in findings.values("rule").annotate(
            open=Count("id", filter=Q(status="open")),
            confirmed=Count("id", filter=Q(status="confirmed")),
            rejected=Count("id", filter=Q(status="rejected")),
        )
    }
    out = []
    for spec in ruleset()["rules"]:
        r = rows.get(spec["id"], {"open": 0, "confirmed": 0, "rejected": 0})
        closed = r["confirmed"] + r["rejected"]
        out.append(
            {
                "rule": spec["id"],
                "title": spec["title"],
                "open": r["open"],
                "confirmed": r["confirmed"],
                "rejected": r["rejected"],
                "rate": (r["confirmed"] / closed) if closed else None,
            }
        )
    return out


__all__ = ["Child", "confirmation_rates", "finding_confirm", "finding_reject", "link_decide", "prefill"]
