"""Parsing the values people type into forms and spreadsheets: dates in several formats, yes/no."""

from __future__ import annotations

import datetime as dt
import re

from guanai.lib.text import normalise_text

_DATE_PATTERNS = [
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
]


class ParseError(ValueError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def parse_date(value: object) -> dt.date:
    """2015-03-07, 2015/3/7, 2015.3.7, 20150307, 2015年3月7日, full-width digits, and Excel dates."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = normalise_text(value).replace(" ", "")
    text = re.sub(r"[T ]?00:00(:00)?$", "", text)  # a date cell exported as "2015-03-07 00:00:00"
    for pattern in _DATE_PATTERNS:
        m = pattern.match(text)
        if m:
            try:
                return dt.date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError:
                raise ParseError(f"日期不存在：{text}") from None
    raise ParseError(f"日期格式无法识别：{text}（可用格式如2015-03-07、2015/3/7、20150307、2015年3月7日）")


YES = {"是", "y", "yes", "true", "1", "跨县"}
NO = {"否", "n", "no", "false", "0", "不跨县"}


def parse_bool(value: object) -> bool | None:
    text = normalise_text(value).lower()
    if not text:
        return None
    if text in YES:
        return True
    if text in NO:
        return False
    raise ParseError(f"应填写“是”或“否”，实际为：{text}")
