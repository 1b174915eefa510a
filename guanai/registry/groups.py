"""Refreshing derived groups in bulk: load facts set-wise, derive, write only what changed.

Used after every fact change (one child), after an import (many), and by the daily refresh that catches
birthdays and statuses that start or stop counting with the passing of time.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator
from contextlib import suppress
from typing import Any

from django.db import transaction

from guanai.bulk import bulk_insert, id_array
from guanai.lib.dates import add_months
from guanai.registry.derivation import RELIEF_KINDS, ChildFacts, DerivedGroup, Relief, Status, derive, ruleset
from guanai.registry.models import BenefitEnrolment, Child, ChildGroup, ChildRelation, PersonStatus, TimelineEvent
from guanai.registry.signals import facts_changed
from guanai.registry.timeline import timeline_row

CHUNK = 5000
GROUP_COLUMNS = ["child_id", "code", "explanation", "rule_id", "rule_version", "source", "derived_on"]
TIMELINE_COLUMNS = ["child_id", "at", "kind", "summary", "actor_username", "source_type", "source_id", "detail"]


def timeline_line(row: dict[str, Any]) -> tuple[Any, ...]:
    """A timeline row as a database-ready tuple for ``bulk_insert`` (JSON as text)."""
    detail = row["detail"]
    return tuple(
        json.dumps(detail, ensure_ascii=False) if k == "detail" and detail is not None else row[k]
        for k in TIMELINE_COLUMNS
    )


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


def load_facts(child_ids: list[int]) -> dict[int, ChildFacts]:
    """Facts for many children in four queries (children, parents, statuses, relief)."""
    facts: dict[int, ChildFacts] = {}
    households: dict[int, list[int]] = defaultdict(list)
    for row in Child.objects.filter(pk__in=id_array(child_ids)).values_list(
        "pk",
        "birth_date",
        "hukou_type",
        "village_id",
        "disability_type",
        "disability_grade",
        "serious_illness",
        "household_id",
    ):
        pk, birth, hukou, village, dis_type, dis_grade, illness, household = row
        facts[pk] = ChildFacts(birth, hukou, village, dis_type, dis_grade, illness)
        if household:
            households[household].append(pk)
    parents: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for child_id, person_id, relation in ChildRelation.objects.filter(
        child_id__in=id_array(child_ids), relation__in=["father", "mother"]
    ).values_list("child_id", "person_id", "relation"):
        parents[person_id].append((child_id, relation))
        setattr(facts[child_id], relation, getattr(facts[child_id], relation) or [])
    for person_id, kind, since, until, place, cross, d_type, d_grade in PersonStatus.objects.filter(
        person_id__in=id_array(parents)
    ).values_list(
        "person_id", "kind", "since", "until", "work_place", "cross_county", "disability_type", "disability_grade"
    ):
        status = Status(kind, since, until, place, cross, d_type, d_grade)
        for child_id, relation in parents[person_id]:
            getattr(facts[child_id], relation).append(status)
    for household_id, child_id, kind, start, end in (
        BenefitEnrolment.objects.filter(kind__in=list(RELIEF_KINDS), household_id__in=id_array(households))
        .values_list("household_id", "child_id", "kind", "start", "end")
        .union(
            BenefitEnrolment.objects.filter(kind__in=list(RELIEF_KINDS), child_id__in=id_array(child_ids)).values_list(
                "household_id", "child_id", "kind", "start", "end"
            )
        )
    ):
        targets = [child_id] if child_id else households.get(household_id, [])
        for pk in targets:
            if pk in facts:
                facts[pk].relief.append(Relief(kind, start, end))
    return facts


def groups_refresh(
    *, child_ids: Iterable[int], today: dt.date, actor: Any = None, inserted_active: Collection[int] = ()
) -> int:
    """Re-derive the groups of ``child_ids`` on ``today``; returns how many children changed.

    Writes only differences: new groups, groups no longer met (with a timeline line each), changed
    explanations; moves a registered child with a group into 在册 and proposes exit for one with none.
    ``inserted_active``: children written in this transaction as 在册 before any group was derived (the
    import, where most new children have a group: updating the few without one back to 登记 is far cheaper
    than updating every other one to 在册). The result is the same as inserting them as 登记.
    """
    ids = sorted(set(child_ids))
    rs = ruleset()
    labels = dict(ChildGroup.Code.choices)
    changed_children = 0
    for chunk in _chunks(ids):
        with transaction.atomic():
            facts = load_facts(chunk)
            existing: dict[int, dict[str, ChildGroup]] = defaultdict(dict)
            for stored in ChildGroup.objects.filter(child_id__in=id_array(chunk)):
                existing[stored.child_id][stored.code] = stored
            states: dict[int, str] = {}
            proposals: dict[int, str] = {}
            for pk, state, proposal in Child.objects.filter(pk__in=id_array(chunk)).values_list(
                "pk", "status", "exit_proposal"
            ):
                states[pk], proposals[pk] = state, proposal
            add: list[tuple[Any, ...]] = []
            update: list[ChildGroup] = []
            remove: list[int] = []
            timeline: list[tuple[Any, ...]] = []
            to_active: list[int] = []
            to_registered: set[int] = set()  # new children without a group: back to 登记
            propose: dict[int, str] = {}
            clear_proposal: list[int] = []
            for pk, child_facts in facts.items():
                derived: dict[str, DerivedGroup] = {g.code: g for g in derive(child_facts, today, rs)}
                had = existing.get(pk, {})
                touched = False
                for code, g in derived.items():
                    old: ChildGroup | None = had.get(code)
                    if old is None:
                        add.append((pk, code, g.explanation, g.rule_id, g.rule_version, g.source, today))
                        timeline.append(
                            timeline_line(
                                timeline_row(
                                    child=pk,
                                    kind="group.add",
                                    actor=actor,
                                    summary=f"认定为{labels[code]}：{g.explanation}",
                                    detail={"rule": g.rule_id, "version": g.rule_version},
                                )
                            )
                        )
                        touched = True
                    elif (old.explanation, old.rule_version) != (g.explanation, g.rule_version):
                        old.explanation, old.rule_version, old.rule_id = g.explanation, g.rule_version, g.rule_id
                        old.source, old.derived_on = g.source, today
                        update.append(old)
                for code, gone in had.items():
                    if code not in derived:
                        remove.append(gone.pk)
                        timeline.append(
                            timeline_line(
                                timeline_row(
                                    child=pk,
                                    kind="group.remove",
                                    actor=actor,
                                    summary=f"不再属于{labels.get(code, code)}（原依据：{gone.explanation}）",
                                )
                            )
                        )
                        touched = True
                status = states.get(pk)
                if pk in inserted_active:
                    status = Child.Status.REGISTERED
                    if not derived:
                        to_registered.add(pk)
                    else:
                        touched = True
                elif derived and status == Child.Status.REGISTERED:
                    to_active.append(pk)
                    touched = True
                if status != Child.Status.EXITED:
                    if not derived and not proposals.get(pk):
                        propose[pk] = _exit_reason(child_facts, today)
                        timeline.append(
                            timeline_line(
                                timeline_row(
                                    child=pk,
                                    kind="exit.proposed",
                                    actor=actor,
                                    summary=f"已不属于任何关爱类别，建议退出：{propose[pk]}",
                                )
                            )
                        )
                        touched = True
                    elif derived and proposals.get(pk):
                        clear_proposal.append(pk)
                changed_children += touched
            ChildGroup.objects.filter(pk__in=remove).delete()
            bulk_insert(ChildGroup, GROUP_COLUMNS, add)
            ChildGroup.objects.bulk_update(
                update, ["explanation", "rule_version", "rule_id", "source", "derived_on"], batch_size=2000
            )
            bulk_insert(TimelineEvent, TIMELINE_COLUMNS, timeline)
            if to_active:
                Child.objects.filter(pk__in=id_array(to_active), status=Child.Status.REGISTERED).update(
                    status=Child.Status.ACTIVE
                )
            # One UPDATE per distinct reason, not per child: an import can propose thousands at once. A new child
            # without a group goes back to 登记 in the same statement (a new child always gets a proposal).
            by_reason: dict[tuple[str, bool], list[int]] = defaultdict(list)
            for pk, reason in propose.items():
                by_reason[reason, pk in to_registered].append(pk)
            for (reason, registered), pks in by_reason.items():
                changes: dict[str, str] = {"exit_proposal": reason}
                if registered:
                    changes["status"] = Child.Status.REGISTERED
                Child.objects.filter(pk__in=id_array(pks)).update(**changes)
            if clear_proposal:
                Child.objects.filter(pk__in=id_array(clear_proposal)).update(exit_proposal="")
            facts_changed.send(sender=Child, child_ids=chunk, today=today)
    return changed_children


def _exit_reason(facts: ChildFacts, today: dt.date) -> str:
    from guanai.lib.dates import age_on

    age = age_on(facts.birth_date, today)
    if age >= 18:
        return "年满18周岁"
    if age >= 16:
        return "年满16周岁"
    return "父母返乡或情况变化，不再符合关爱条件"


def children_due_for_refresh(today: dt.date) -> list[int]:
    """Children whose groups may change today with no fact edited: birthdays at 16 and 18, statuses that
    end today, and away / lost-contact periods that reach their 6 months today."""
    rs = ruleset()
    ids: set[int] = set()
    for age in (16, 18):
        year = today.year - age
        birthdays: list[dt.date] = []
        with suppress(ValueError):  # 29 February does not exist in every birth year
            birthdays.append(dt.date(year, today.month, today.day))
        if (today.month, today.day) == (3, 1):  # in a common year, 29 February birthdays fall on 1 March
            with suppress(ValueError):
                birthdays.append(dt.date(year, 2, 29))
        ids.update(Child.objects.filter(birth_date__in=birthdays).values_list("pk", flat=True))
    months = {rs.settings["away_min_months"], rs.settings["lost_contact_min_months"]}
    # The start dates whose "≥ N months" threshold is today (several, because month ends clamp).
    starts = [today - dt.timedelta(days=d) for d in range(150, 200)]
    thresholds = [s for s in starts for m in months if add_months(s, m) == today]
    persons = set(PersonStatus.objects.filter(until=today).values_list("person_id", flat=True))
    persons.update(
        PersonStatus.objects.filter(since__in=thresholds, kind__in=["working_away", "lost_contact"]).values_list(
            "person_id", flat=True
        )
    )
    persons.update(PersonStatus.objects.filter(since=today).values_list("person_id", flat=True))
    ids.update(ChildRelation.objects.filter(person_id__in=persons).values_list("child_id", flat=True))
    ids.update(
        BenefitEnrolment.objects.filter(end=today - dt.timedelta(days=1), child__isnull=False).values_list(
            "child_id", flat=True
        )
    )
    household_ids = BenefitEnrolment.objects.filter(end=today - dt.timedelta(days=1)).values_list("household_id")
    ids.update(Child.objects.filter(household_id__in=household_ids).values_list("pk", flat=True))
    return sorted(ids)
