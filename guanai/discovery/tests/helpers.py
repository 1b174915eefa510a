"""Building small roster files for tests."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

from guanai.lib.rosters import TEMPLATES


def write_roster(path: Path, source: str, rows: list[dict[str, Any]]) -> Path:
    headers = [c.header for c in TEMPLATES[source]]
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(headers)
        for row in rows:
            writer.writerow([_text(row.get(h, "")) for h in headers])
    return path


def _text(value: Any) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    return "" if value is None else str(value)


def person_id(county: str, birth: dt.date, serial: int, male: bool) -> str:
    from guanai.lib import idnumber

    body = f"{county[:6]}{birth:%Y%m%d}{serial % 100:02d}{2 * (serial % 5) + (1 if male else 0)}"
    return body + idnumber.check_digit(body)


def one_digit_wrong(number: str, position: int = 10) -> str:
    digit = number[position]
    return number[:position] + str((int(digit) + 3) % 10) + number[position + 1 :]


def transposed(number: str, position: int = 12) -> str:
    a, b = number[position], number[position + 1]
    assert a != b, "pick a position with two different digits"
    return number[:position] + b + a + number[position + 2 :]
