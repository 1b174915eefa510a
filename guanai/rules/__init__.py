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


def evaluate(cond: dict[str, Any], fact: Callable[[str], tuple[bool, str | None]]) -> tuple[bool, list[str]]:
    """Evaluate a rule's ``when``: ``{fact: name}``, ``{all: [...]}``, ``{any: [...]}`` or ``{not: ...}``.

    ``fact(name)`` says whether a named fact holds and, if so, why (a Chinese phrase). The result is whether the
    condition holds and the reasons of the facts that made it hold, in order, for the rule's explanation. Every
    rule family (group derivation, benefit eligibility…) uses this one evaluator over its own facts.
    """
    ((op, arg),) = cond.items()
    if op == "fact":
        ok, why = fact(arg)
        return ok, [why] if ok and why else []
    if op == "all":
        whys: list[str] = []
        for sub in arg:
            ok, sub_whys = evaluate(sub, fact)
            if not ok:
                return False, []
            whys += sub_whys
        return True, whys
    if op == "any":
        for sub in arg:
            ok, sub_whys = evaluate(sub, fact)
            if ok:
                return True, sub_whys
        return False, []
    if op == "not":
        ok, _ = evaluate(arg, fact)
        return not ok, []
    raise ValueError(f"unknown condition operator {op!r}")


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
