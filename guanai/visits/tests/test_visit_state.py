"""The per-child visit summary stays equal to a recomputation from the visits, whatever writes them."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from conftest import NEIGHBOUR_VILLAGE, VILLAGE, make_child
from guanai.registry.models import Child
from guanai.visits import services as svc
from guanai.visits.models import VISIT_MODES, ChildVisitState, Visit
from guanai.visits.selectors import completion_by_area
from guanai.visits.summary import state_mismatches, state_rebuild

TZ = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2026, 11, 20, 15, 0, tzinfo=TZ)
TODAY = NOW.date()


@pytest.fixture
def roll(children):
    Child.objects.update(created_at=dt.datetime(2025, 1, 1, tzinfo=TZ))
    return {k: Child.objects.get(pk=c.pk) for k, c in children.items()}


def state(child: Child) -> ChildVisitState:
    return ChildVisitState.objects.get(child=child)


def raw_visit(child: Child, user, day: dt.date, mode: str) -> Visit:
    at = dt.datetime.combine(day, dt.time(10), tzinfo=TZ)
    return Visit.objects.create(child=child, visited_at=at, visited_on=day, mode=mode, visitor=user, visitor_name="x")


def test_every_visit_mode_has_a_summary_column():
    assert set(VISIT_MODES) == set(Visit.Mode.values)
    names = {f.name for f in ChildVisitState._meta.get_fields()}
    assert {f"last_{m}_on" for m in VISIT_MODES} <= names


def test_a_new_child_gets_a_summary_row_and_follows_moves_and_exit(cast, villages):
    child = make_child(VILLAGE, "赵小东")
    row = state(child)
    assert (row.village_code, row.on_roll, row.last_home_on) == (VILLAGE, True, None)
    Child.objects.filter(pk=child.pk).update(village_id=NEIGHBOUR_VILLAGE)
    assert state(child).village_code == NEIGHBOUR_VILLAGE
    child.refresh_from_db()
    child.status = Child.Status.EXITED
    child.save()
    assert state(child).on_roll is False
    assert state_mismatches() == []


@time_machine.travel(NOW)
def test_recorded_late_edited_and_deleted_visits_keep_the_summary_exact(cast, roll):
    child, other = roll["village"], roll["neighbour_village"]
    svc.visit_record(actor=cast["alice"], child_pk=child.pk, data=svc.VisitData("phone", NOW), now=NOW)
    assert state(child).last_phone_on == TODAY
    # A late entry (earlier day) does not move the latest date back.
    late = NOW - dt.timedelta(days=3)
    svc.visit_record(
        actor=cast["alice"], child_pk=child.pk, data=svc.VisitData("phone", late, late_reason="山路中断"), now=NOW
    )
    assert state(child).last_phone_on == TODAY
    home = raw_visit(child, cast["alice"], TODAY - dt.timedelta(days=40), "home")
    assert state(child).last_home_on == TODAY - dt.timedelta(days=40)
    # Edits move the dates both ways; moving a visit to another child updates both children.
    Visit.objects.filter(pk=home.pk).update(visited_on=TODAY - dt.timedelta(days=50))
    assert state(child).last_home_on == TODAY - dt.timedelta(days=50)
    Visit.objects.filter(pk=home.pk).update(child_id=other.pk, mode="school")
    assert state(child).last_home_on is None
    assert state(other).last_school_on == TODAY - dt.timedelta(days=50)
    # Deleting the latest visit falls back to the one before it.
    Visit.objects.filter(child=child, visited_on=TODAY).delete()
    assert state(child).last_phone_on == late.date()
    Visit.objects.filter(child=child).delete()
    assert state(child).last_phone_on is None
    assert state_mismatches() == []


def test_a_broken_summary_is_found_and_rebuilt(cast, roll):
    raw_visit(roll["village"], cast["alice"], TODAY, "video")
    ChildVisitState.objects.filter(child=roll["village"]).update(last_video_on=None)
    assert state_mismatches() == [roll["village"].pk]
    assert state_rebuild() == Child.objects.count()
    assert state_mismatches() == []


@time_machine.travel(NOW)
def test_completion_on_a_past_day_ignores_later_visits_but_counts_earlier_ones(cast, roll):
    child = roll["village"]
    raw_visit(child, cast["alice"], dt.date(2026, 10, 5), "home")
    raw_visit(child, cast["alice"], dt.date(2026, 11, 2), "home")  # after the day asked about
    table = {r["code"]: r for r in completion_by_area(cast["charlie"], today=dt.date(2026, 10, 20), level=4)}
    huwei = table["500230101000"]
    assert (huwei["children"], huwei["contacted"], huwei["home_visited"]) == (2, 1, 1)
    table = {r["code"]: r for r in completion_by_area(cast["charlie"], today=dt.date(2026, 10, 4), level=4)}
    assert (table["500230101000"]["contacted"], table["500230101000"]["home_visited"]) == (0, 0)
    table = {r["code"]: r for r in completion_by_area(cast["charlie"], today=TODAY, level=4)}
    assert (table["500230101000"]["contacted"], table["500230101000"]["home_visited"]) == (1, 1)


@time_machine.travel(NOW)
def test_the_worklist_from_the_summary_equals_obligations_over_all_visits(cast, roll):
    from guanai.visits.obligations import obligations_on
    from guanai.visits.selectors import effective_settings, schedules, worklist_for

    child, other = roll["village"], roll["neighbour_village"]
    for day, mode in [
        (dt.date(2026, 8, 14), "home"),
        (dt.date(2026, 9, 30), "phone"),
        (dt.date(2026, 10, 3), "school"),
        (dt.date(2026, 10, 28), "home"),
        (dt.date(2026, 11, 18), "video"),
    ]:
        raw_visit(child, cast["alice"], day, mode)
    raw_visit(other, cast["alice"], dt.date(2026, 11, 1), "home")
    for today in (dt.date(2026, 9, 15), dt.date(2026, 10, 1), dt.date(2026, 10, 27), dt.date(2026, 11, 2), TODAY):
        rows = list(Child.objects.filter(pk__in=[child.pk, other.pk]))
        plans = schedules(rows, today)
        expected = {
            c.pk: obligations_on(
                plans[c.pk],
                [(v.visited_on, v.mode) for v in Visit.objects.filter(child=c)],
                today,
                effective_settings(),
            )
            for c in rows
        }
        got = {w.child.pk: w.obligations for w in worklist_for(cast["bob"], today=today)}
        assert got[child.pk] == expected[child.pk], today
        assert got[other.pk] == expected[other.pk], today
