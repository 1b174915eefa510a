"""Risk grading rules (rules/risk.yaml) applied to one child's facts. No Django here: the facts are loaded
set-wise by ``services.risk_refresh`` / ``selectors.risk_facts``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RiskFacts:
    open_reports: int = 0
    assessment_result: str = ""
    groups: frozenset[str] = frozenset()
    open_problems: int = 0
    overdue_problems: int = 0
    open_cases: int = 0


@dataclass(frozen=True)
class RiskGrade:
    grade: str
    label: str
    colour: str
    explanation: str
    rule_ids: list[str] = field(default_factory=list)


CONDITIONS: dict[str, Callable[[RiskFacts, Any], bool]] = {
    "open_reports_at_least": lambda f, n: f.open_reports >= int(n),
    "assessment_result_in": lambda f, codes: f.assessment_result in set(codes),
    "groups_any": lambda f, codes: bool(f.groups & set(codes)),
    "groups_count_at_least": lambda f, n: len(f.groups) >= int(n),
    "open_problems_at_least": lambda f, n: f.open_problems >= int(n),
    "overdue_problems_at_least": lambda f, n: f.overdue_problems >= int(n),
    "open_cases_at_least": lambda f, n: f.open_cases >= int(n),
}


def validate(rules: dict[str, Any]) -> dict[str, Any]:
    grades = rules["grades"]
    if rules["default"]["grade"] not in grades:
        raise ValueError("risk.yaml: default grade is not a known grade")
    for rule in rules["rules"]:
        if rule["grade"] not in grades:
            raise ValueError(f"risk.yaml: rule {rule['id']!r} has an unknown grade")
        unknown = set(rule["when"]) - set(CONDITIONS)
        if unknown or not rule["when"]:
            raise ValueError(f"risk.yaml: rule {rule['id']!r} has unknown conditions {sorted(unknown)}")
    return rules


def evaluate(rules: dict[str, Any], facts: RiskFacts) -> RiskGrade:
    """The highest grade among matching rules, explained by every matching rule, most serious first."""
    grades = rules["grades"]
    values = {
        "open_reports": facts.open_reports,
        "open_problems": facts.open_problems,
        "overdue_problems": facts.overdue_problems,
        "open_cases": facts.open_cases,
        "groups": len(facts.groups),
    }
    matched = [
        rule for rule in rules["rules"] if all(CONDITIONS[name](facts, arg) for name, arg in rule["when"].items())
    ]
    # Stable sort: within one grade the file's order (its own ranking of reasons) is kept.
    matched.sort(key=lambda r: -int(grades[r["grade"]]["rank"]))
    if matched:
        grade = matched[0]["grade"]
        reasons = [str(r["explanation"]).format(**values) for r in matched]
    else:
        grade = rules["default"]["grade"]
        reasons = [str(rules["default"]["explanation"])]
    spec = grades[grade]
    return RiskGrade(
        grade=grade,
        label=str(spec["label"]),
        colour=str(spec["colour"]),
        explanation=f"{spec['label']}风险：" + "；".join(reasons),
        rule_ids=[str(r["id"]) for r in matched],
    )
