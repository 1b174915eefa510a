"""The group-derivation engine: facts about a child on a date, and the rule set in ``rules/groups.yaml``.

Pure Python over plain data (no ORM), so it is testable rule by rule and fast in bulk. The loader in
``registry.services`` turns database rows into ``ChildFacts``.

Date conventions (tested at their boundaries):
- ages are completed years on the derivation date (``lib.dates.age_on``); ``age_below: 16`` holds on the day
  before the 16th birthday and not on it;
- a status is in force from ``since`` (inclusive) until ``until`` (exclusive): a father imprisoned until
  2027-03-01 is released on that day;
- "≥ 6 months" means ``add_months(since, 6) <= day``: away since 2025-01-10 counts from 2025-07-10.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from guanai import rules
from guanai.lib.dates import add_months, age_on
from guanai.rules import Condition

# Disability types for which grades 3-4 also count as 重残 (民发〔2019〕62号).
MENTAL_INTELLECTUAL = {"精神", "智力"}
RELIEF_KINDS = {"urban_dibao": "城市低保", "rural_dibao": "农村低保", "tekun": "特困供养"}
GRADE_NAMES = {1: "一级", 2: "二级", 3: "三级", 4: "四级"}


@dataclass(frozen=True)
class Status:
    kind: str
    since: dt.date | None = None
    until: dt.date | None = None
    work_place: str = ""
    cross_county: bool | None = None
    disability_type: str = ""
    disability_grade: int | None = None

    def in_force(self, day: dt.date) -> bool:
        return (self.since is None or self.since <= day) and (self.until is None or day < self.until)


@dataclass(frozen=True)
class Relief:
    kind: str
    start: dt.date
    end: dt.date | None = None


@dataclass
class ChildFacts:
    birth_date: dt.date
    hukou_type: str  # agricultural | non_agricultural | resident
    village_code: str
    disability_type: str = ""
    disability_grade: int | None = None
    serious_illness: str = ""
    father: list[Status] | None = None  # None: no father recorded
    mother: list[Status] | None = None
    relief: list[Relief] = field(default_factory=list)


@dataclass(frozen=True)
class DerivedGroup:
    code: str
    explanation: str
    rule_id: str
    rule_version: int
    source: str


@dataclass(frozen=True)
class RuleSet:
    version: int
    settings: dict[str, int]
    rules: tuple[dict[str, Any], ...]
    conditions: tuple[Condition, ...] = ()  # each rule's ``when``, compiled (same order as ``rules``)


def _d(day: dt.date | None) -> str:
    return day.isoformat() if day else "日期不详"


class Facts:
    """Facts of one child on one day, computed lazily; each is (holds, Chinese explanation)."""

    def __init__(self, child: ChildFacts, day: dt.date, settings: dict[str, int]) -> None:
        self.child = child
        self.day = day
        self.settings = settings
        self._cache: dict[str, tuple[bool, str]] = {}

    def get(self, name: str) -> tuple[bool, str]:
        if name not in self._cache:
            subject, _, fact = name.partition(".")
            if subject in ("father", "mother"):
                statuses = getattr(self.child, subject)
                label = "父亲" if subject == "father" else "母亲"
                fn = PARENT_FACTS.get(fact)
                if fn is None:
                    raise KeyError(f"unknown fact {name!r}")
                self._cache[name] = fn(self, label, [s for s in (statuses or []) if s.in_force(self.day)])
            else:
                fn2 = CHILD_FACTS.get(name)
                if fn2 is None:
                    raise KeyError(f"unknown fact {name!r}")
                self._cache[name] = fn2(self)
        return self._cache[name]

    def months_since(self, since: dt.date | None, months: int) -> bool:
        return since is not None and add_months(since, months) <= self.day


# --- parent facts ------------------------------------------------------------------------------------------
ParentFact = Callable[[Facts, str, list[Status]], tuple[bool, str]]


def _away(f: Facts, who: str, active: list[Status]) -> tuple[bool, str]:
    months = f.settings["away_min_months"]
    for s in active:
        if s.kind == "working_away" and s.cross_county and f.months_since(s.since, months):
            place = f"，{s.work_place}" if s.work_place else ""
            return True, f"{who}外出务工已满{months}个月（跨县，自{_d(s.since)}{place}）"
    return False, ""


def _dead_or_missing(f: Facts, who: str, active: list[Status]) -> tuple[bool, str]:
    for s in active:
        if s.kind == "deceased":
            return True, f"{who}已死亡" + (f"（{_d(s.since)}）" if s.since else "")
        if s.kind == "missing":
            return True, f"{who}被宣告失踪" + (f"（{_d(s.since)}）" if s.since else "")
    return False, ""


def _severe_disability(s: Status) -> bool:
    grade = s.disability_grade
    return grade is not None and (grade <= 2 or (grade <= 4 and s.disability_type in MENTAL_INTELLECTUAL))


def _unsupported_condition(f: Facts, who: str, active: list[Status]) -> tuple[bool, str]:
    for s in active:
        if s.kind == "severe_disability" and _severe_disability(s):
            return True, f"{who}重度残疾（{s.disability_type}{GRADE_NAMES.get(s.disability_grade or 0, '')}）"
        if s.kind == "serious_illness":
            return True, f"{who}患重病"
        if s.kind in ("imprisoned", "compulsory_rehab"):
            months = f.settings["restriction_min_months"]
            start = s.since or f.day
            if s.until is None or add_months(start, months) <= s.until:
                what = "服刑在押" if s.kind == "imprisoned" else "强制隔离戒毒"
                return True, f"{who}{what}" + (f"至{_d(s.until)}" if s.until else "（期限不详）")
        if s.kind == "lost_contact":
            months = f.settings["lost_contact_min_months"]
            if f.months_since(s.since, months):
                return True, f"{who}失联已满{months}个月（自{_d(s.since)}）"
        if s.kind == "guardianship_revoked":
            return True, f"{who}被撤销监护资格"
        if s.kind == "deported":
            return True, f"{who}被遣送（驱逐）出境"
    return False, ""


def _cannot_guard(f: Facts, who: str, active: list[Status]) -> tuple[bool, str]:
    for fact in (_dead_or_missing, _unsupported_condition):
        ok, why = fact(f, who, active)
        if ok:
            return ok, why
    for s in active:
        if s.kind == "incapable":
            return True, f"{who}无监护能力"
        if s.kind == "severe_disability":
            return True, f"{who}残疾（{s.disability_type}{GRADE_NAMES.get(s.disability_grade or 0, '')}），无力监护"
    return False, ""


def _guardianship_revoked(f: Facts, who: str, active: list[Status]) -> tuple[bool, str]:
    for s in active:
        if s.kind == "guardianship_revoked":
            return True, f"{who}被撤销监护资格"
    return False, ""


def _absent(f: Facts, who: str, active: list[Status]) -> tuple[bool, str]:
    ok, why = _dead_or_missing(f, who, active)
    if ok:
        return ok, why
    for s in active:
        if s.kind == "divorced_absent":
            return True, f"{who}离异或不在家" + (f"（自{_d(s.since)}）" if s.since else "")
    return False, ""


PARENT_FACTS: dict[str, ParentFact] = {
    "away": _away,
    "dead_or_missing": _dead_or_missing,
    "unsupported_condition": _unsupported_condition,
    "cannot_guard": _cannot_guard,
    "guardianship_revoked": _guardianship_revoked,
    "absent": _absent,
}


# --- child and household facts -----------------------------------------------------------------------------
def _rural(f: Facts) -> tuple[bool, str]:
    c = f.child
    if c.hukou_type == "agricultural":
        return True, "农业户口"
    if c.hukou_type == "resident" and int(c.village_code[9:] or 0) >= 200:
        return True, "居民户口，居住在村"
    return False, ""


def _urban(f: Facts) -> tuple[bool, str]:
    if f.get("child.rural")[0]:
        return False, ""
    return True, "非农业户口" if f.child.hukou_type == "non_agricultural" else "居民户口，居住在社区"


def _disabled(f: Facts) -> tuple[bool, str]:
    c = f.child
    if c.disability_type:
        return True, f"儿童本人{c.disability_type}残疾{GRADE_NAMES.get(c.disability_grade or 0, '')}"
    return False, ""


def _seriously_ill(f: Facts) -> tuple[bool, str]:
    if f.child.serious_illness:
        return True, f"儿童本人患重病（{f.child.serious_illness}）"
    return False, ""


def _on_relief(f: Facts) -> tuple[bool, str]:
    for r in f.child.relief:
        if r.kind in RELIEF_KINDS and r.start <= f.day and (r.end is None or f.day <= r.end):
            return True, f"家庭享受{RELIEF_KINDS[r.kind]}（自{_d(r.start)}）"
    return False, ""


CHILD_FACTS: dict[str, Callable[[Facts], tuple[bool, str]]] = {
    "child.rural": _rural,
    "child.urban": _urban,
    "child.disabled": _disabled,
    "child.seriously_ill": _seriously_ill,
    "household.on_relief": _on_relief,
}


# --- rules -------------------------------------------------------------------------------------------------
def _known_fact(name: str) -> bool:
    subject, _, fact = name.partition(".")
    return fact in PARENT_FACTS if subject in ("father", "mother") else name in CHILD_FACTS


@cache
def ruleset() -> RuleSet:
    """The rule set, validated: every fact and operator named in the YAML must exist."""
    data = rules.load("groups")
    from guanai.registry.models import ChildGroup

    codes = set(ChildGroup.Code.values)
    for rule in data["rules"]:
        for key in ("id", "group", "version", "source", "age_below", "when"):
            if key not in rule:
                raise ValueError(f"rule {rule.get('id', '?')}: missing {key!r}")
        if rule["group"] not in codes:
            raise ValueError(f"rule {rule['id']}: unknown group {rule['group']!r}")
        rules.check_condition(rule["when"], rule["id"], _known_fact)
    return RuleSet(
        int(data["version"]),
        dict(data["settings"]),
        tuple(data["rules"]),
        tuple(rules.compile_condition(rule["when"]) for rule in data["rules"]),
    )


def derive(child: ChildFacts, day: dt.date, rule_set: RuleSet | None = None) -> list[DerivedGroup]:
    """The groups ``child`` belongs to on ``day``, each with the explanation of why."""
    rs = rule_set or ruleset()
    facts = Facts(child, day, rs.settings)
    age = age_on(child.birth_date, day)
    result: list[DerivedGroup] = []
    conditions = rs.conditions or tuple(rules.compile_condition(rule["when"]) for rule in rs.rules)
    for rule, condition in zip(rs.rules, conditions, strict=True):
        if age >= int(rule["age_below"]) or age < 0:
            continue
        ok, whys = condition(facts.get)
        if ok:
            text = "；".join(dict.fromkeys(whys)) or rule["group"]
            result.append(DerivedGroup(rule["group"], text, rule["id"], int(rule["version"]), rule["source"]))
    return result
