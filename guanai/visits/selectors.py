"""Scoped reads of the director's work: worklists, completion tables, ledgers, problems, visits."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

from django.db import connection
from django.db.models import Case, Count, Exists, F, Func, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce, Collate, Substr
from django.utils import timezone

from guanai.accounts.models import User
from guanai.accounts.scope import in_prefix, region_prefix, scoped
from guanai.lib.dates import month_end, month_start
from guanai.lib.errors import NotFound, PermissionRefused
from guanai.lib.regioncode import LEVEL_PREFIX_LENGTH
from guanai.regions.models import Region
from guanai.registry.models import Child, ChildGroup
from guanai.registry.selectors import children_for
from guanai.visits.models import (
    VISIT_MODES,
    CadencePeriod,
    ChildVisitState,
    Problem,
    Visit,
    VisitSettings,
    WorkLogEntry,
)
from guanai.visits.obligations import (
    DONE,
    STATE_ORDER,
    Obligation,
    Schedule,
    earliest_needed,
    obligations_on,
    period,
    visit_rules,
)
from guanai.visits.summary import COLUMNS as STATE_COLUMNS
from guanai.visits.urgency import LATER, URGENCY, annotate_states, done_field

# Worklists are for one village or township; a bigger scope uses the completion tables (set-based SQL).
WORKLIST_LIMIT = 3000


def effective_settings() -> dict[str, int]:
    """rules/visits.yaml defaults with the administrator's overrides."""
    cfg = dict(visit_rules().settings)
    row = VisitSettings.objects.filter(pk=1).first()
    if row is not None:
        cfg.update(
            raised_home_visit_months=row.raised_home_visit_months,
            due_soon_days=row.due_soon_days,
            late_entry_days=row.late_entry_days,
        )
    return cfg


def visits_for(user: User) -> QuerySet[Visit]:
    return scoped(Visit.objects.all(), user, field="child__village_id", permission="visit.view")


def problems_for(user: User) -> QuerySet[Problem]:
    return scoped(Problem.objects.all(), user, field="child__village_id", permission="visit.view")


def problem_get(user: User, pk: int | str) -> Problem:
    try:
        return problems_for(user).select_related("child").get(pk=int(pk))
    except (Problem.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


@dataclass(frozen=True)
class WorkVillage:
    code: str
    name: str


@dataclass(frozen=True)
class WorkChild:
    """The columns of a child a worklist shows or sorts by (a worklist reads no more of the child's row)."""

    id: int
    name: str
    child_no: str
    village_id: str
    village: WorkVillage
    created_at: dt.datetime

    @property
    def pk(self) -> int:
        return self.id


@dataclass
class WorkItem:
    child: WorkChild
    obligations: list[Obligation]
    urgency: int
    risk: int
    raised_reasons: list[str]
    risk_grade: str = ""
    risk_explanation: str = ""

    def state(self, kind: str) -> str:
        return next(o.state for o in self.obligations if o.kind == kind)


class _OnRoll(Protocol):
    @property
    def pk(self) -> Any: ...

    @property
    def created_at(self) -> dt.datetime: ...


def schedules(child_rows: Sequence[_OnRoll], today: dt.date, *, ids: Any = None) -> dict[int, Schedule]:
    """Each child's schedule. ``ids``: the children's ids, or a subquery selecting them (default: the rows')."""
    ids = [c.pk for c in child_rows] if ids is None else ids
    raised: dict[int, list[tuple[dt.date, dt.date | None]]] = defaultdict(list)
    reasons: dict[int, list[str]] = {}
    for child_id, since, until, why in (
        CadencePeriod.objects.filter(child_id__in=ids)
        .order_by("since")
        .values_list("child_id", "since", "until", "reasons")
    ):
        raised[child_id].append((since, until))
        if until is None:
            reasons[child_id] = list(why)
    tz = timezone.get_current_timezone()
    return {
        c.pk: Schedule(
            on_roll_since=c.created_at.astimezone(tz).date(),
            raised=tuple(raised.get(c.pk, ())),
            reasons=tuple(reasons.get(c.pk, ())),
        )
        for c in child_rows
    }


def _recent_visits(
    ids: Any, today: dt.date, states: QuerySet[ChildVisitState] | None = None
) -> dict[int, list[tuple[dt.date, str]]]:
    """Per child, the visits the obligations on ``today`` can depend on.

    From the maintained summary (visits.ChildVisitState, one row per child): the latest day of each mode. For the
    windows ``obligations_on`` looks at (the current one up to ``today`` and the one before it) this decides
    exactly as the full list of visits would, as long as no visit lies after ``today``; the few children with
    such a visit (a worklist asked for a past day) are read from visits_visit."""
    visits: dict[int, list[tuple[dt.date, str]]] = defaultdict(list)
    later: list[int] = []
    states = ChildVisitState.objects.filter(child_id__in=ids) if states is None else states
    for row in states.values_list("child_id", *STATE_COLUMNS):
        latest = [(day, mode) for day, mode in zip(row[1:], VISIT_MODES, strict=True) if day is not None]
        if any(day > today for day, _ in latest):
            later.append(row[0])
        else:
            visits[row[0]] = latest
    if later:
        for child_id, day, mode in Visit.objects.filter(
            child_id__in=later, visited_on__gte=earliest_needed(today), visited_on__lte=today
        ).values_list("child_id", "visited_on", "mode"):
            visits[child_id].append((day, mode))
    return visits


def _worklist_children(user: User, region: str) -> QuerySet[Child]:
    """The children a worklist covers: on the roll, in scope (and under ``region``)."""
    if not user.can("visit.view"):
        raise PermissionRefused("您的角色无权查看走访任务")
    qs = children_for(user).exclude(status=Child.Status.EXITED)
    if region:
        qs = qs.filter(in_prefix("village_id", region))
    return qs


def _work_items(
    rows: list[WorkChild],
    today: dt.date,
    cfg: dict[str, int],
    *,
    scope: Any = None,
    states: Any = None,
    risks: dict[int, int] | None = None,
) -> tuple[list[WorkItem], dict[str, int]]:
    """The WorkItems of ``rows`` (unordered; children not on the roll by ``today`` left out), and the rank of
    each risk grade met. ``scope``: the children's ids or a subquery selecting them; ``states``: their
    ChildVisitState rows when a cheaper query than by ids selects them; ``risks``: WorkItem.risk when known."""
    ids = [c.pk for c in rows]
    if risks is None:
        n_groups = dict(
            ChildGroup.objects.filter(child_id__in=ids if scope is None else scope)
            .values("child_id")
            .annotate(n=Count("id"))
            .values_list("child_id", "n")
        )
    plans = schedules(rows, today, ids=ids)
    visits = _recent_visits(ids, today, states)
    from guanai.protection.selectors import risk_for, risk_rank

    grades = risk_for(ids, today)
    ranks: dict[str, int] = {}
    items = []
    for child in rows:
        obligations = obligations_on(plans[child.pk], visits.get(child.pk, []), today, cfg)
        if not obligations:
            continue
        urgency = min(STATE_ORDER[o.state] for o in obligations)
        risk = (
            risks[child.pk] if risks is not None else n_groups.get(child.pk, 0) + (2 if plans[child.pk].reasons else 0)
        )
        grade, why = grades.get(child.pk, ("", ""))
        if grade not in ranks:
            ranks[grade] = risk_rank(grade)
        items.append(WorkItem(child, obligations, urgency, risk, list(plans[child.pk].reasons), grade, why))
    return items, ranks


def _work_child(pk: int, name: str, child_no: str, code: str, village_name: str, created_at: dt.datetime) -> WorkChild:
    return WorkChild(pk, name, child_no, code, WorkVillage(code, village_name), created_at)


WORK_CHILD_COLUMNS = ("id", "name", "child_no", "village_id", "village__name", "created_at")


def worklist_for(user: User, *, today: dt.date, region: str = "", limit: int | None = WORKLIST_LIMIT) -> list[WorkItem]:
    """The children in scope with this period's obligations, most urgent first (overdue, then due soon),
    then by the risk grade, then by the number of derived groups and a raised cadence.

    The whole list, computed in Python (``obligations_on`` per child): for the CLI and the reminders job, and the
    reference that ``worklist_page`` (ordered and paged in SQL) agrees with."""
    qs = _worklist_children(user, region)
    ordered = qs.order_by("village_id", "name").values_list(*WORK_CHILD_COLUMNS)
    villages: dict[str, WorkVillage] = {}
    rows = []
    for pk, name, child_no, code, village_name, created_at in ordered[:limit] if limit else ordered:
        village = villages.get(code) or villages.setdefault(code, WorkVillage(code, village_name))
        rows.append(WorkChild(pk, name, child_no, code, village, created_at))
    ids = [c.pk for c in rows]
    # The other reads select the same children by the scope's subquery rather than a list of a thousand ids
    # (unless the list was cut at ``limit``).
    scope: Any = ids if limit and len(rows) >= limit else qs.values("id")
    # The summary rows of the same children, by the summary's own village index (covering).
    states = None
    if not isinstance(scope, list):
        states = scoped(
            ChildVisitState.objects.filter(on_roll=True), user, field="village_code", permission="child.view"
        )
        if region:
            states = states.filter(in_prefix("village_code", region))
    items, ranks = _work_items(rows, today, effective_settings(), scope=scope, states=states)
    # Most urgent first; within the same urgency, the protection risk grade (§4-§7), then the number of groups;
    # then by name (code points, as the SQL order of worklist_page), village and id.
    items.sort(key=lambda w: (w.urgency, -ranks[w.risk_grade], -w.risk, w.child.name, w.child.village_id, w.child.pk))
    return items


# The worklist's tabs: the children each shows. "contact" and "home": that obligation is not done this period.
TABS = ("todo", "overdue", "contact", "home", "done")
_TAB_OBLIGATION = {"contact": "contact", "home": "home_visit"}
_DONE = STATE_ORDER[DONE]


def _in_tab(tab: str, urgency: int, done: dict[str, bool]) -> bool:
    """Whether a child with this urgency and these obligations done is shown under ``tab``."""
    if tab in _TAB_OBLIGATION:
        return not done[_TAB_OBLIGATION[tab]]
    return {"todo": urgency < _DONE, "overdue": urgency == 0, "done": urgency == _DONE}.get(tab, True)


@dataclass
class WorklistPage:
    """One page of a worklist: its items in order, the children in the tab (``count``) and on the worklist
    (``total``), and the count of each tab."""

    items: list[WorkItem]
    number: int
    per_page: int
    count: int
    total: int
    counts: dict[str, int]

    @property
    def num_pages(self) -> int:
        return _num_pages(self.count, self.per_page)


def _key_in_tab(tab: str, key: tuple[int, tuple[bool, ...]], kinds: list[str]) -> bool:
    urgency, flags = key
    return _in_tab(tab, urgency, dict(zip(kinds, flags, strict=True)))


def _num_pages(count: int, per_page: int) -> int:
    return max(1, -(-count // per_page))


def _paged(shown: list[Any], page: int, per_page: int) -> tuple[int, list[Any]]:
    """The number of page ``page`` (below the first: the first; beyond the last: the last) and its part of
    ``shown``."""
    number = min(max(1, page), _num_pages(len(shown), per_page))
    offset = (number - 1) * per_page
    return number, shown[offset : offset + per_page]


def worklist_page(
    user: User,
    *,
    today: dt.date,
    tab: str = "todo",
    page: int = 1,
    per_page: int = 50,
    region: str = "",
    limit: int | None = WORKLIST_LIMIT,
) -> WorklistPage:
    """One page of the worklist (order as ``worklist_for``), at a cost that follows the page, not the village.

    One query computes each child's obligation states (visits.urgency, generated from the rules), risk rank and
    group count and orders the children in SQL, returning only ids and states; the tab counts and the page are
    taken from that list, and obligations are computed in Python (``obligations_on``) for the page's children
    only. ``page`` beyond the last is the last. A tab not in TABS shows every child."""
    qs = _worklist_children(user, region)
    cfg = effective_settings()
    kinds = [str(rule["id"]) for rule in visit_rules().obligations]
    fields = [done_field(k) for k in kinds]
    # The expressions depend on the day and the settings only: built once, then scoped per request.
    annotated = scoped(
        _ordered_base(today, tuple(sorted(cfg.items()))), user, field="village_id", permission="child.view"
    )
    # The same children by the summary's own village index too, so that the join to it reads the village's rows
    # (every child has a summary row: triggers insert it with the child).
    annotated = scoped(annotated, user, field="visit_state__village_code", permission="child.view")
    if region:
        annotated = annotated.filter(in_prefix("village_id", region), in_prefix("visit_state__village_code", region))
    if limit and qs.order_by().values_list("pk", flat=True)[limit : limit + 1]:
        annotated = annotated.filter(pk__in=qs.order_by("village_id", "name").values("pk")[:limit])
    rows = _ordered(annotated, fields)
    if any(row[2] for row in rows):
        # A day in the past with visits after it: the latest day per mode does not tell; the Python path does.
        return _worklist_page_python(user, today=today, tab=tab, page=page, per_page=per_page, region=region)
    ungraded = [row[0] for row in rows if row[3] is None]
    if ungraded:
        # Never graded (rare: grades are stored when facts change): graded on the fly as risk_for does.
        from guanai.protection.selectors import risk_compute, risk_rank

        computed = {pk: risk_rank(g.grade) for pk, g in risk_compute(ungraded, today).items()}
        rows = _ordered(annotated.annotate(wl_rank=_risk_rank(computed)), fields)
    # Children with the same urgency and done flags fall in the same tabs: count by those (a handful of keys).
    keys = [(row[1], row[4 : 4 + len(kinds)]) for row in rows]
    by_key = Counter(keys)
    counts = {name: sum(n for key, n in by_key.items() if _key_in_tab(name, key, kinds)) for name in TABS}
    in_tab = {key: _key_in_tab(tab, key, kinds) for key in by_key}
    shown = [row[0] for row, key in zip(rows, keys, strict=True) if in_tab[key]]
    number, ids = _paged(shown, page, per_page)
    children = {row[0]: _work_child(*row) for row in Child.objects.filter(pk__in=ids).values_list(*WORK_CHILD_COLUMNS)}
    # The groups-and-cadence count as the query computed it (WorkItem.risk): no second read of the groups.
    risks = {row[0]: row[-1] for row in rows}
    page_rows = [children[pk] for pk in ids if pk in children]  # (a child deleted meanwhile is left out)
    items, _ = _work_items(page_rows, today, cfg, risks={c.pk: risks[c.pk] for c in page_rows})
    return WorklistPage(items, number, per_page, len(shown), len(rows), counts)


@lru_cache(maxsize=8)
def _ordered_base(today: dt.date, cfg: tuple[tuple[str, int], ...]) -> QuerySet[Child]:
    """Children on the roll with their obligation states, risk rank and groups-and-cadence count on ``today``
    (not yet scoped: the caller scopes it)."""
    on_roll = Child.objects.exclude(status=Child.Status.EXITED).filter(visit_state__on_roll=True)
    annotated = annotate_states(on_roll, today=today, cfg=dict(cfg))
    return annotated.annotate(wl_rank=_risk_rank({}), wl_risk=_groups_and_raised())


def _ordered(annotated: QuerySet[Child], fields: list[str]) -> list[tuple[Any, ...]]:
    """(id, urgency, later, stored risk grade, whether each obligation is done, rank, risk) of every child, in the
    worklist's order: urgency, risk rank, groups and raised cadence, name (by code point, as Python orders it),
    village, id. The sort keys are selected, so that ORDER BY names them rather than computing them again."""
    return list(
        annotated.order_by(
            F(URGENCY).asc(),
            F("wl_rank").desc(),
            F("wl_risk").desc(),
            Collate("name", _CODEPOINT_COLLATION[connection.vendor]).asc(),
            "village_id",
            "pk",
        ).values_list("pk", URGENCY, LATER, "risk__grade", *fields, "wl_rank", "wl_risk")
    )


def _worklist_page_python(
    user: User, *, today: dt.date, tab: str, page: int, per_page: int, region: str
) -> WorklistPage:
    items = worklist_for(user, today=today, region=region)
    counts = {name: sum(1 for w in items if _in_tab(name, w.urgency, _done(w))) for name in TABS}
    shown = [w for w in items if _in_tab(tab, w.urgency, _done(w))]
    number, page_items = _paged(shown, page, per_page)
    return WorklistPage(page_items, number, per_page, len(shown), len(items), counts)


def _done(item: WorkItem) -> dict[str, bool]:
    return {o.kind: o.state == DONE for o in item.obligations}


# Python orders names by code point; so does this collation of each engine.
_CODEPOINT_COLLATION = {"postgresql": "C", "sqlite": "BINARY"}


def _risk_rank(computed: dict[int, int]) -> Case:
    """The rank of each child's stored risk grade (protection.ChildRisk, rules/risk.yaml); ``computed``: the
    ranks of children without one."""
    from guanai.protection.selectors import risk_rank, risk_rules

    whens = [When(risk__grade=grade, then=Value(risk_rank(grade))) for grade in risk_rules()["grades"]]
    by_rank: dict[int, list[int]] = defaultdict(list)
    for pk, rank in computed.items():
        by_rank[rank].append(pk)
    whens += [When(pk__in=ids, then=Value(rank)) for rank, ids in by_rank.items()]
    return Case(*whens, default=Value(0), output_field=IntegerField())


def _groups_and_raised() -> Any:
    """The number of the child's derived groups, plus 2 when a raised cadence is open (WorkItem.risk)."""
    # COUNT as a plain function: an aggregate over the child's rows without GROUP BY (one row, 0 when none).
    groups = ChildGroup.objects.filter(child_id=OuterRef("pk")).order_by().annotate(n=Func(F("pk"), function="COUNT"))
    # A LIMIT 1 subquery rather than EXISTS: an index probe per child, never a hashed scan of every period.
    raised = CadencePeriod.objects.filter(child_id=OuterRef("pk"), until__isnull=True).exclude(reasons=[])
    return Subquery(groups.values("n"), output_field=IntegerField()) + Coalesce(
        Subquery(raised.annotate(two=Value(2)).values("two")[:1]), 0
    )


def _modes_of(kind: str) -> list[str]:
    return list(next(o for o in visit_rules().obligations if o["id"] == kind)["satisfied_by"])


# A visit may be dated up to this far ahead of the clock (services.visit_record's tolerance).
CLOCK_SKEW = dt.timedelta(minutes=5)


def _done_in(modes: list[str], start: dt.date, today: dt.date) -> Q:
    """On ChildVisitState: a visit of one of ``modes`` on a day in [start, today]. The summary keeps the latest
    day per mode, so when visits after ``today`` can exist (``today`` is a past day) a child with such a later
    visit is checked against visits_visit itself; for the current day that cannot happen and the condition is
    a plain comparison of dates."""
    later_possible = today < timezone.localdate(timezone.now() + CLOCK_SKEW)
    exact = Exists(
        Visit.objects.filter(
            child_id=OuterRef("child_id"), mode__in=modes, visited_on__gte=start, visited_on__lte=today
        )
    )
    done = Q()
    for m in modes:
        done |= Q(**{f"last_{m}_on__gte": start, f"last_{m}_on__lte": today})
        if later_possible:
            done |= Q(**{f"last_{m}_on__gt": today}) & Q(exact)
    return done


def completion_by_area(user: User, *, today: dt.date, level: int) -> list[dict[str, Any]]:
    """Per area at ``level``: children on the roll, contacted this month, home-visited this quarter — one
    aggregate over the maintained per-child summary (visits.ChildVisitState), no per-child Python."""
    if not user.can("visit.view"):
        raise PermissionRefused("您的角色无权查看完成情况")
    n = LEVEL_PREFIX_LENGTH[level]
    m_start, q_start = month_start(today), period(today, 3)[0]
    states = scoped(ChildVisitState.objects.filter(on_roll=True), user, field="village_code", permission="child.view")
    rows = (
        states.annotate(area=Substr("village_code", 1, n))
        .values("area")
        .annotate(
            children=Count("pk"),
            contacted=Count("pk", filter=_done_in(_modes_of("contact"), m_start, today)),
            home=Count("pk", filter=_done_in(_modes_of("home_visit"), q_start, today)),
        )
        .order_by("area")
    )
    names = dict(Region.objects.filter(code__in=[r["area"].ljust(12, "0") for r in rows]).values_list("code", "name"))
    result = []
    for r in rows:
        code = r["area"].ljust(12, "0")
        total = r["children"] or 1
        result.append(
            {
                "code": code,
                "name": names.get(code, code),
                "children": r["children"],
                "contacted": r["contacted"],
                "home_visited": r["home"],
                "contact_rate": round(100 * r["contacted"] / total, 1),
                "home_rate": round(100 * r["home"] / total, 1),
            }
        )
    return result


def ledger_for(user: User, *, month: dt.date) -> list[dict[str, Any]]:
    """工作台账: per director (visitor) in scope and per month — children visited, contacts, home visits,
    problems found and their states."""
    if not user.can("visit.view"):
        raise PermissionRefused("您的角色无权查看工作台账")
    start, end = month_start(month), month_end(month)
    visits = visits_for(user).filter(visited_on__gte=start, visited_on__lte=end)
    rows = (
        visits.values("visitor_id", "visitor_name")
        .annotate(children=Count("child", distinct=True), contacts=Count("id"), home=Count("id", filter=Q(mode="home")))
        .order_by("visitor_name")
    )
    problems = problems_for(user).filter(created_at__date__gte=start, created_at__date__lte=end)
    by_owner: dict[int, Any] = {
        r["created_by_id"]: r
        for r in problems.values("created_by_id").annotate(
            found=Count("id"), solved=Count("id", filter=Q(status__in=["solved", "referred"]))
        )
    }
    logs = dict(
        WorkLogEntry.objects.filter(author_id__in=[r["visitor_id"] for r in rows], day__gte=start, day__lte=end)
        .values("author_id")
        .annotate(n=Count("id"))
        .values_list("author_id", "n")
    )
    return [
        {
            "visitor_id": r["visitor_id"],
            "visitor": r["visitor_name"],
            "children": r["children"],
            "contacts": r["contacts"],
            "home_visits": r["home"],
            "problems_found": by_owner.get(r["visitor_id"], {}).get("found", 0),
            "problems_closed": by_owner.get(r["visitor_id"], {}).get("solved", 0),
            "worklog_entries": logs.get(r["visitor_id"], 0),
        }
        for r in rows
    ]


def open_problems_for(user: User) -> QuerySet[Problem]:
    """Problems a user should act on: at their level of escalation or below, inside their jurisdiction."""
    prefix = region_prefix(user)
    level = {12: 0, 9: 1, 6: 2}.get(len(prefix or ""), 2)
    return (
        problems_for(user)
        .filter(status__in=["open", "in_progress"], level__lte=level)
        .select_related("child")
        .order_by("due_date")
    )


def problem_categories_list() -> list[tuple[str, str]]:
    from guanai import rules

    return list(rules.load("visits")["problems"]["categories"].items())
