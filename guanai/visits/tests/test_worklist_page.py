"""The worklist ordered and paged in SQL agrees with the Python reference (obligations_on per child) on many
generated children: on-roll dates, raised periods and latest visits around month and quarter boundaries."""

from __future__ import annotations

import datetime as dt
import random
from itertools import count

import pytest
import time_machine

from conftest import NEIGHBOUR_VILLAGE, VILLAGE, make_child
from guanai.protection.models import ChildRisk
from guanai.registry.models import Child, ChildGroup
from guanai.visits.models import VISIT_MODES, CadencePeriod, Visit, VisitSettings
from guanai.visits.obligations import STATE_ORDER, visit_rules
from guanai.visits.selectors import (
    TABS,
    _worklist_children,
    effective_settings,
    worklist_for,
    worklist_page,
)
from guanai.visits.urgency import URGENCY, annotate_states, state_field

TZ = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2027, 2, 10, 9, 0, tzinfo=TZ)
# Days on and around the boundaries of months and quarters, and ordinary days.
TODAYS = [
    dt.date(2026, 9, 30),
    dt.date(2026, 10, 1),
    dt.date(2026, 11, 2),
    dt.date(2026, 11, 24),
    dt.date(2026, 12, 31),
    dt.date(2027, 1, 1),
]
NAMES = ["王小明", "李小红", "张伟", "王芳", "刘洋", "陈静", "杨磊", "Zhao", "赵丽", "黄强"]
_serial = count()


def _near(rng: random.Random, today: dt.date) -> dt.date:
    """A day up to ~5 months before ``today`` (not after it), often on or next to the first or last day of a
    month."""
    day = today - dt.timedelta(days=rng.randint(0, 150))
    first = day.replace(day=1)
    return min(today, rng.choice([day, first, first - dt.timedelta(days=1), first + dt.timedelta(days=1), today]))


def _generate(rng: random.Random, kids: list[Child], today: dt.date, director) -> None:
    """Fresh on-roll dates, raised periods, visits, groups and stored risk grades for ``kids``."""
    Visit.objects.all().delete()
    CadencePeriod.objects.all().delete()
    ChildGroup.objects.all().delete()
    ChildRisk.objects.all().delete()
    visits, periods, groups, risks = [], [], [], []
    for child in kids:
        on_roll = _near(rng, today) if rng.random() < 0.5 else today - dt.timedelta(days=rng.randint(150, 700))
        if rng.random() < 0.05:
            on_roll = today + dt.timedelta(days=1)  # not on the roll yet
        hour = rng.choice([0, 7, 23])  # local midnight and late evening: the on-roll date is the local one
        created = dt.datetime.combine(on_roll, dt.time(hour, rng.choice([0, 30])), tzinfo=TZ)
        Child.objects.filter(pk=child.pk).update(created_at=created)
        for _ in range(rng.choice([0, 1, 2, 3, 5])):
            day = _near(rng, today)
            at = dt.datetime.combine(day, dt.time(10), tzinfo=TZ)
            visits.append(
                Visit(child=child, visited_at=at, visited_on=day, mode=rng.choice(VISIT_MODES), visitor=director)
            )
        shape = rng.random()
        reasons = ["child_disability"]
        if shape < 0.25:
            periods.append(CadencePeriod(child=child, since=_near(rng, today), reasons=reasons))
        elif shape < 0.4:
            since = _near(rng, today)
            until = min(today + dt.timedelta(days=rng.randint(-30, 10)), since + dt.timedelta(days=rng.randint(1, 90)))
            periods.append(CadencePeriod(child=child, since=since, until=max(until, since), reasons=reasons))
        elif shape < 0.55:
            # Closed and opened again the same day (the trigger changed): the cadence goes on.
            since, switch = sorted([_near(rng, today), _near(rng, today)])
            periods.append(CadencePeriod(child=child, since=since, until=switch, reasons=reasons))
            periods.append(CadencePeriod(child=child, since=switch, reasons=["rural_single_parent"]))
        elif shape < 0.6:
            periods.append(CadencePeriod(child=child, since=today + dt.timedelta(days=3), reasons=reasons))
        for code in rng.sample(list(ChildGroup.Code.values), rng.choice([0, 0, 1, 2, 3])):
            groups.append(
                ChildGroup(
                    child=child,
                    code=code,
                    explanation="测试",
                    rule_id="t",
                    rule_version=1,
                    source="t",
                    derived_on=today,
                )
            )
        if rng.random() < 0.8:
            risks.append(
                ChildRisk(
                    child=child,
                    grade=rng.choice(["high", "medium", "low", "low"]),
                    explanation="测试",
                    computed_at=NOW,
                    rule_version=1,
                )
            )
    Visit.objects.bulk_create(visits)
    CadencePeriod.objects.bulk_create(periods)
    ChildGroup.objects.bulk_create(groups)
    ChildRisk.objects.bulk_create(risks)


def _in_tab(tab: str, w) -> bool:
    if tab == "contact":
        return w.state("contact") != "已完成"
    if tab == "home":
        return w.state("home_visit") != "已完成"
    return {"todo": w.urgency < 3, "overdue": w.urgency == 0, "done": w.urgency == 3}.get(tab, True)


@pytest.fixture
def kids(villages) -> list[Child]:
    return [
        make_child(VILLAGE if i % 3 else NEIGHBOUR_VILLAGE, NAMES[i % len(NAMES)], birth=dt.date(2012, 1, 1))
        for i in range(90)
    ]


@pytest.mark.parametrize(("raised_months", "due_soon_days"), [(1, 7), (3, 7), (2, 10)])
@time_machine.travel(NOW)
def test_the_sql_states_order_counts_and_pages_equal_the_python_reference(cast, kids, raised_months, due_soon_days):
    VisitSettings.objects.create(pk=1, raised_home_visit_months=raised_months, due_soon_days=due_soon_days)
    rng = random.Random(2026 + raised_months)
    bob = cast["bob"]  # the township: both villages
    kinds = [r["id"] for r in visit_rules().obligations]
    for today in TODAYS:
        _generate(rng, kids, today, cast["alice"])
        reference = worklist_for(bob, today=today)
        # Each child's state of each obligation, and its urgency.
        annotated = annotate_states(_worklist_children(bob, ""), today=today, cfg=effective_settings())
        got = {row["pk"]: row for row in annotated.values("pk", URGENCY, *(state_field(k) for k in kinds))}
        assert set(got) == {w.child.pk for w in reference}, today
        for w in reference:
            expected = {state_field(o.kind): STATE_ORDER[o.state] for o in w.obligations}
            assert {k: got[w.child.pk][k] for k in expected} == expected, (today, w)
            assert got[w.child.pk][URGENCY] == w.urgency, (today, w)
        # Each tab: the counts, and its pages in order.
        counts = {tab: sum(1 for w in reference if _in_tab(tab, w)) for tab in TABS}
        for tab in (*TABS, "all"):
            shown = [w for w in reference if _in_tab(tab, w)]
            pages, number = [], 1
            while True:
                page = worklist_page(bob, today=today, tab=tab, page=number, per_page=7)
                assert (page.count, page.total, page.counts) == (len(shown), len(reference), counts), (today, tab)
                pages += page.items
                if number >= page.num_pages:
                    break
                number += 1
            assert [w.child.pk for w in pages] == [w.child.pk for w in shown], (today, tab)
            assert [w.obligations for w in pages] == [w.obligations for w in shown], (today, tab)
            assert [(w.urgency, w.risk, w.risk_grade) for w in pages] == [
                (w.urgency, w.risk, w.risk_grade) for w in shown
            ]


@time_machine.travel(NOW)
def test_a_page_past_the_last_is_the_last_and_a_past_day_with_later_visits_agrees(cast, kids):
    rng = random.Random(7)
    today = dt.date(2026, 11, 20)
    _generate(rng, kids, today, cast["alice"])
    last = worklist_page(cast["bob"], today=today, tab="all", page=99, per_page=40)
    assert last.number == last.num_pages == 3
    assert len(last.items) == last.count - 80
    # Asked for an earlier day, visits after it exist: the Python path answers, the same as the reference.
    earlier = dt.date(2026, 10, 31)
    reference = worklist_for(cast["bob"], today=earlier)
    page = worklist_page(cast["bob"], today=earlier, tab="all", page=1, per_page=500)
    assert [w.child.pk for w in page.items] == [w.child.pk for w in reference]
    assert [w.obligations for w in page.items] == [w.obligations for w in reference]


@time_machine.travel(NOW)
def test_a_worklist_cut_at_its_limit_keeps_the_same_children_as_the_reference(cast, kids):
    today = dt.date(2026, 11, 20)
    _generate(random.Random(11), kids, today, cast["alice"])
    for i, child in enumerate(kids):  # distinct names: the cut (by village and name) has no ties
        Child.objects.filter(pk=child.pk).update(name=f"{NAMES[i % len(NAMES)]}{i:02d}")
    reference = worklist_for(cast["bob"], today=today, limit=30)
    page = worklist_page(cast["bob"], today=today, tab="all", per_page=100, limit=30)
    assert [w.child.pk for w in page.items] == [w.child.pk for w in reference]
    assert page.total == len(reference)
