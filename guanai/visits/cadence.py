"""Which children get the raised home-visit cadence (§8 加大走访频次), kept as dated periods.

Triggers are computed set-wise for a batch of children whenever their facts change (the registry's
``facts_changed`` signal), when a visit records a psychological finding, and by the daily job.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.db.models import Q

from guanai.bulk import id_array
from guanai.registry.models import Child, ChildGroup, ChildRelation, PersonStatus
from guanai.visits.models import CadencePeriod, ChildFlag
from guanai.visits.obligations import visit_rules

PSYCH = "child_psych_abnormal"


def triggers_for(child_ids: list[int], today: dt.date) -> dict[int, list[str]]:
    """The trigger ids that apply to each child on ``today`` (children with none are absent)."""
    found: dict[int, set[str]] = defaultdict(set)
    for pk in Child.objects.filter(pk__in=id_array(child_ids)).exclude(disability_type="").values_list("pk", flat=True):
        found[pk].add("child_disability")
    severe = (
        PersonStatus.objects.filter(
            Q(disability_grade__lte=2) | Q(disability_grade__lte=4, disability_type__in=["智力", "精神"]),
            kind="severe_disability",
        )
        .filter(Q(since__isnull=True) | Q(since__lte=today))
        .filter(Q(until__isnull=True) | Q(until__gt=today))
    )
    for pk in ChildRelation.objects.filter(
        child_id__in=id_array(child_ids), relation__in=["father", "mother"], person__in=severe.values("person_id")
    ).values_list("child_id", flat=True):
        found[pk].add("parent_severe_disability")
    for pk in ChildFlag.objects.filter(child_id__in=id_array(child_ids), kind=PSYCH, until__isnull=True).values_list(
        "child_id", flat=True
    ):
        found[pk].add(PSYCH)
    for pk in ChildGroup.objects.filter(child_id__in=id_array(child_ids), code="rural_single_parent").values_list(
        "child_id", flat=True
    ):
        found[pk].add("rural_single_parent")
    from guanai.protection.selectors import children_with_poor_guardianship

    for pk in children_with_poor_guardianship(child_ids, today):
        found[pk].add("guardianship_poor")
    order = [t["id"] for t in visit_rules().triggers]
    return {pk: sorted(ids, key=order.index) for pk, ids in found.items()}


def cadence_refresh(child_ids: list[int], today: dt.date) -> int:
    """Open, close or update raised-cadence periods so they match today's triggers. Returns changes made."""
    triggers = triggers_for(child_ids, today)
    open_periods = {
        p.child_id: p for p in CadencePeriod.objects.filter(child_id__in=id_array(child_ids), until__isnull=True)
    }
    new: list[CadencePeriod] = []
    changed = 0
    for pk in child_ids:
        reasons = triggers.get(pk, [])
        current = open_periods.get(pk)
        if reasons and current is None:
            new.append(CadencePeriod(child_id=pk, since=today, reasons=reasons))
        elif current is not None and not reasons:
            current.until = today
            current.save(update_fields=["until"])
            changed += 1
        elif current is not None and current.reasons != reasons:
            current.reasons = reasons
            current.save(update_fields=["reasons"])
            changed += 1
    CadencePeriod.objects.bulk_create(new)
    return changed + len(new)


def on_facts_changed(sender: Any, *, child_ids: list[int], today: dt.date, **kwargs: Any) -> None:
    cadence_refresh(child_ids, today)
