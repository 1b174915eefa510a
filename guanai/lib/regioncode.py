"""Statistical division codes (统计用区划代码): 12 digits, province 2 + city 2 + county 2 + township 3 + village 3.

Jurisdiction is a code prefix. Prefix queries are written as a closed range on the 12-digit code
(``code BETWEEN prefix000… AND prefix999…``) so that a plain B-tree index serves them on SQLite and
PostgreSQL alike, without LIKE and its collation caveats.
"""

from __future__ import annotations

LEVEL_PREFIX_LENGTH = {1: 2, 2: 4, 3: 6, 4: 9, 5: 12}
LEVEL_NAMES = {1: "省级", 2: "市级", 3: "区县级", 4: "乡镇级", 5: "村社区级"}


class RegionCodeError(ValueError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def normalise(code: str) -> str:
    """Accept 2/4/6/9/12-digit codes and return the 12-digit form."""
    text = "".join(ch for ch in str(code).strip() if not ch.isspace())
    if not text.isdigit():
        raise RegionCodeError(f"区划代码只能包含数字：{text!r}")
    if len(text) not in (2, 4, 6, 9, 12):
        raise RegionCodeError(f"区划代码应为12位（或2/4/6/9位），实际为{len(text)}位")
    return text.ljust(12, "0")


def level_of(code: str) -> int:
    """The level a 12-digit code denotes, read from its trailing zeros."""
    code = normalise(code)
    if code[9:] != "000":
        return 5
    if code[6:9] != "000":
        return 4
    if code[4:6] != "00":
        return 3
    if code[2:4] != "00":
        return 2
    return 1


def prefix(code: str, level: int | None = None) -> str:
    """The significant prefix of a code at its level (``500230101000`` → ``500230101``)."""
    code = normalise(code)
    return code[: LEVEL_PREFIX_LENGTH[level or level_of(code)]]


def prefix_range(prefix_value: str) -> tuple[str, str]:
    """Lowest and highest 12-digit codes that start with ``prefix_value``."""
    return prefix_value.ljust(12, "0"), prefix_value.ljust(12, "9")


def is_community(code: str) -> bool:
    """Village-level codes 001–199 are residents' committees (社区, urban); 200–399 village committees (村)."""
    return int(normalise(code)[9:]) < 200
