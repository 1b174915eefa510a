from __future__ import annotations

import datetime as dt

from conftest import VILLAGE, make_child
from guanai.registry.demo import demo_proposals_processed
from guanai.registry.models import Child, TimelineEvent


def test_most_demo_exit_proposals_are_processed_with_their_reason_and_one_in_eight_kept(villages):
    kids = [make_child(VILLAGE, f"儿童{i}") for i in range(16)]
    Child.objects.filter(pk__in=[c.pk for c in kids]).update(is_demo=True, exit_proposal="年满16周岁")
    Child.objects.filter(pk=kids[0].pk).update(exit_proposal="父母返乡或情况变化，不再符合关爱条件")
    today = dt.date(2026, 11, 29)

    done = demo_proposals_processed(today=today)

    kept = Child.objects.exclude(status=Child.Status.EXITED)
    assert done == 16 - kept.count()
    assert set(kept.values_list("pk", flat=True)) == {c.pk for c in kids if c.pk % 8 == 0}
    assert set(kept.values_list("exit_proposal", flat=True)) <= {"年满16周岁", "父母返乡或情况变化，不再符合关爱条件"}
    exited = Child.objects.filter(status=Child.Status.EXITED)
    assert all(c.exit_proposal == "" and c.exit_date is not None and c.exit_date < today for c in exited)
    reasons = {c.pk: c.exit_reason for c in exited}
    assert reasons.get(kids[0].pk, "父母返乡") == "父母返乡"
    assert set(reasons.values()) <= {"年满16周岁", "父母返乡"}
    assert TimelineEvent.objects.filter(kind="child.exit", child__in=exited).count() == exited.count()
