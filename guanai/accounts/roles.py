"""Roles and the permission matrix, read from ``rules/permissions.yaml``."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from guanai import rules


@dataclass(frozen=True)
class Role:
    code: str
    label: str
    levels: frozenset[int]
    home: str
    permissions: frozenset[str]


@dataclass(frozen=True)
class Matrix:
    version: int
    permissions: dict[str, str]
    roles: dict[str, Role]


@cache
def matrix() -> Matrix:
    data = rules.load("permissions")
    known = dict(data["permissions"])
    roles: dict[str, Role] = {}
    for code, spec in data["roles"].items():
        unknown = set(spec["permissions"]) - set(known)
        if unknown:
            raise ValueError(f"role {code!r} names unknown permissions: {sorted(unknown)}")
        levels = frozenset(int(x) for x in spec["levels"])
        if not levels or not levels <= {1, 2, 3, 4, 5}:
            raise ValueError(f"role {code!r} has invalid levels {spec['levels']!r}")
        roles[code] = Role(code, spec["label"], levels, spec["home"], frozenset(spec["permissions"]))
    return Matrix(int(data["version"]), known, roles)


def get(code: str) -> Role:
    try:
        return matrix().roles[code]
    except KeyError:
        raise KeyError(code) from None


def choices() -> list[tuple[str, str]]:
    return [(r.code, r.label) for r in matrix().roles.values()]
