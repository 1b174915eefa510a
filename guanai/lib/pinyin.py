"""Pinyin keys for Chinese names: full pinyin without tones (``wangxiaoming``) and initials (``wxm``)."""

from __future__ import annotations

from functools import lru_cache

from pypinyin import Style, lazy_pinyin


@lru_cache(maxsize=20000)
def _char(ch: str) -> str:
    return lazy_pinyin(ch, style=Style.NORMAL, errors="ignore")[0] if "\u4e00" <= ch <= "\u9fff" else ch.lower()


def full(name: str) -> str:
    # Per-character lookups are cached; heteronyms in names are rare enough that context does not pay.
    return "".join(_char(ch) for ch in name if not ch.isspace())


def initials(name: str) -> str:
    return "".join(p[0] for p in (_char(ch) for ch in name if not ch.isspace()) if p)
