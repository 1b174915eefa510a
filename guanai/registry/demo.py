"""Demo data for the registry's lifecycle: the generator makes whole families, so many of its children fall in no care
group once derived. A real roll has few of those at any time: directors process exit proposals as they arise."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from guanai.bulk import bulk_insert
from guanai.registry.groups import TIMELINE_COLUMNS, timeline_line
from guanai.registry.models import Child, TimelineEvent
from guanai.registry.timeline import timeline_row

# Proposal text (registry.groups._exit_reason) -> the plan's exit reason.
REASONS = {"年满18周岁": "年满18周岁", "年满16周岁": "年满16周岁"}


@transaction.atomic
def demo_proposals_processed(*, today: dt.date, keep_one_in: int = 8) -> int:
    """Exit most demo children with an exit proposal, as if their directors had done it over the last months (with
    the proposal's reason, the history kept and a timeline line); one in ``keep_one_in`` stays proposed so that the
    建议退出 list has something to show."""
    rows = list(
        Child.objects.filter(is_demo=True)
        .exclude(status=Child.Status.EXITED)
        .exclude(exit_proposal="")
        .values_list("pk", "exit_proposal")
    )
    done = [(pk, proposal) for pk, proposal in rows if pk % keep_one_in]
    by_reason: dict[tuple[str, dt.date], list[int]] = {}
    timeline = []
    for pk, proposal in done:
        reason = REASONS.get(proposal, "父母返乡")
        on = today - dt.timedelta(days=20 + pk % 150)
        by_reason.setdefault((reason, on), []).append(pk)
        at = timezone.make_aware(dt.datetime.combine(on, dt.time(10)))
        timeline.append(
            timeline_line(timeline_row(child=pk, kind="child.exit", summary=f"退出：{reason}（演示数据）", at=at))
        )
    for (reason, on), pks in by_reason.items():
        Child.objects.filter(pk__in=pks).update(
            status=Child.Status.EXITED, exit_reason=reason, exit_date=on, exit_proposal=""
        )
    bulk_insert(TimelineEvent, TIMELINE_COLUMNS, timeline)
    return len(done)
