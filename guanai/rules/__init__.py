"""The policy as data: YAML rule files, each rule citing the clause it implements."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import yaml

RULES_DIR = Path(__file__).resolve().parent


@cache
def load(name: str) -> dict[str, Any]:
    """Load ``rules/<name>.yaml``. Rule files ship with the code and are validated by their consumers."""
    with (RULES_DIR / f"{name}.yaml").open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    if not isinstance(data, dict) or "version" not in data or "source" not in data:
        raise ValueError(f"rules/{name}.yaml must be a mapping with 'version' and 'source'")
    return data


Fact = Callable[[str], tuple[bool, str | None]]
Condition = Callable[[Fact], tuple[bool, list[str]]]


def compile_condition(cond: dict[str, Any]) -> Condition:
    """A rule's ``when`` turned once into nested closures: the same result as ``evaluate`` without walking the
    mapping for every child (an import derives groups for 100,000 children at once)."""
    ((op, arg),) = cond.items()
    if op == "fact":
        name = str(arg)

        def holds(fact: Fact) -> tuple[bool, list[str]]:
            ok, why = fact(name)
            return ok, [why] if ok and why else []

        return holds
    if op == "not":
        inner = compile_condition(arg)

        def negated(fact: Fact) -> tuple[bool, list[str]]:
            return not inner(fact)[0], []

        return negated
    if op not in ("all", "any"):
        raise ValueError(f"unknown condition operator {op!r}")
    parts = tuple(compile_condition(sub) for sub in arg)
    if op == "all":

        def every(fact: Fact) -> tuple[bool, list[str]]:
            whys: list[str] = []
            for part in parts:
                ok, sub_whys = part(fact)
                if not ok:
                    return False, []
                whys += sub_whys
            return True, whys

        return every

    def first(fact: Fact) -> tuple[bool, list[str]]:
        for part in parts:
            ok, sub_whys = part(fact)
            if ok:
                return True, sub_whys
        return False, []

    return first


def evaluate(cond: dict[str, Any], fact: Fact) -> tuple[bool, list[str]]:
    """Evaluate a rule's ``when``: ``{fact: name}``, ``{all: [...]}``, ``{any: [...]}`` or ``{not: ...}``.

    ``fact(name)`` says whether a named fact holds and, if so, why (a Chinese phrase). The result is whether the
    condition holds and the reasons of the facts that made it hold, in order, for the rule's explanation. Every
    rule family (group derivation, benefit eligibility…) uses this one evaluator over its own facts; a family
    that evaluates the same rules for many children compiles them once with ``compile_condition``.
    """
    return compile_condition(cond)(fact)


def check_condition(cond: Any, rule_id: str, known: Callable[[str], bool]) -> None:
    """Refuse a malformed ``when`` at load time: one operator per mapping, non-empty lists, only known facts."""
    if not isinstance(cond, dict) or len(cond) != 1:
        raise ValueError(f"rule {rule_id}: a condition must be a mapping with one key, got {cond!r}")
    ((op, arg),) = cond.items()
    if op == "fact":
        if not known(str(arg)):
            raise ValueError(f"rule {rule_id}: unknown fact {arg!r}")
    elif op in ("all", "any"):
        if not isinstance(arg, list) or not arg:
            raise ValueError(f"rule {rule_id}: '{op}' needs a non-empty list")
        for sub in arg:
            check_condition(sub, rule_id, known)
    elif op == "not":
        check_condition(arg, rule_id, known)
    else:
        raise ValueError(f"rule {rule_id}: unknown operator {op!r}")
