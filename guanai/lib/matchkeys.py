"""Comparison keys and comparisons for Chinese person records (record linkage across department rosters).

Everything here is pure Python with no Django, and each comparison has a DuckDB SQL twin in
``guanai.discovery.comparisons`` that the probabilistic linker runs; tests check that both agree.

- Names: pinyin with a surname-reading table (pypinyin reads 曾 as ``ceng``, 单 as ``dan``; as surnames they are
  ``zeng``, ``shan``), so 曾/增 and 刘静/柳婧 share a key; a dialect-tolerant key for southwestern Mandarin, where
  n/l, zh/z, ch/c, sh/s and the finals -eng/-en, -ing/-in are not distinguished; and character edit distance.
- Dates: exact, day and month swapped (2015-03-07 typed as 2015-07-03), one part off.
- ID numbers: exact, one digit wrong, two adjacent digits swapped. GB 11643's MOD 11-2 check character detects
  every one of these errors, so a number that passes the check and differs from another is a different number;
  near-miss comparison is only ever needed for numbers that *fail* the check (see docs/discovery.md).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from pypinyin import Style, lazy_pinyin

# Surnames whose reading as a surname differs from pypinyin's default for the character. Two-character surnames
# first (they are matched before single characters). Sources: 《百家姓》 readings in 现代汉语词典 (7th ed.).
COMPOUND_SURNAMES: dict[str, str] = {
    "万俟": "moqi",
    "尉迟": "yuchi",
    "长孙": "zhangsun",
    "单于": "chanyu",
    "澹台": "tantai",
    "令狐": "linghu",
    "欧阳": "ouyang",
    "司马": "sima",
    "诸葛": "zhuge",
    "上官": "shangguan",
    "皇甫": "huangfu",
    "公孙": "gongsun",
}
SURNAME_READINGS: dict[str, str] = {
    "曾": "zeng",
    "单": "shan",
    "仇": "qiu",
    "解": "xie",
    "区": "ou",
    "查": "zha",
    "朴": "piao",
    "盖": "ge",
    "覃": "qin",
    "乐": "yue",
    "缪": "miao",
    "翟": "zhai",
    "柏": "bai",
    "秘": "bi",
    "尉": "yu",
    "员": "yun",
    "召": "shao",
    "种": "chong",
    "折": "she",
    "宓": "fu",
    "繁": "po",
    "重": "chong",
    "长": "chang",
    "参": "can",
    "沈": "shen",
    "褚": "chu",
    "那": "na",
    "都": "du",
    "华": "hua",
    "任": "ren",
    "纪": "ji",
    "隗": "wei",
    "句": "gou",
    "阚": "kan",
    "冼": "xian",
    "莘": "shen",
    "能": "nai",
    "黑": "he",
}


@lru_cache(maxsize=50_000)
def _syllable(ch: str) -> str:
    if "\u3400" <= ch <= "\u9fff":
        return lazy_pinyin(ch, style=Style.NORMAL, errors="ignore")[0]
    return ch.lower() if ch.isalnum() else ""


def clean_name(name: str) -> str:
    """A name without spaces, dots (少数民族 names use ·) or full-width forms."""
    import unicodedata

    text = unicodedata.normalize("NFKC", name or "")
    return "".join(ch for ch in text if not ch.isspace() and ch not in "·.•・-")


def name_syllables(name: str) -> list[str]:
    """Pinyin syllables of a name, the surname read as a surname (曾 → zeng, 单 → shan, 尉迟 → yu chi)."""
    text = clean_name(name)
    if not text:
        return []
    head = text[:2]
    if head in COMPOUND_SURNAMES:
        first = COMPOUND_SURNAMES[head]
        rest = text[2:]
        # Split the compound reading back into its two syllables for per-syllable keys.
        surname = [_syllable(text[0]), _syllable(text[1])]
        if "".join(surname) != first:
            surname = [first]
        return surname + [s for s in (_syllable(c) for c in rest) if s]
    first_syllable = SURNAME_READINGS.get(text[0], _syllable(text[0]))
    return [first_syllable] + [s for s in (_syllable(c) for c in text[1:]) if s]


def name_pinyin(name: str) -> str:
    """Toneless pinyin of a name with surname readings: 曾静 → ``zengjing``; 刘静 and 柳婧 → ``liujing``."""
    return "".join(name_syllables(name))


def _dialect(syllable: str) -> str:
    s = syllable
    if s.startswith(("zh", "ch", "sh")):
        s = s[0] + s[2:]
    elif s.startswith("n") and not s.startswith("ng"):
        s = "l" + s[1:]
    if (s.endswith("eng") and s != "eng") or s.endswith("ing"):
        s = s[:-1]
    return s


def dialect_key(name: str) -> str:
    """A key that southwestern Mandarin speakers hear as the same name: n/l, zh/z, ch/c, sh/s, -eng/-en and
    -ing/-in merged (刘 liu / 牛 niu → liu; 张 zhang / 藏 zang → zang; 陈 chen / 程 cheng → cen)."""
    return "".join(_dialect(s) for s in name_syllables(name))


def char_distance(a: str, b: str) -> int:
    """Levenshtein distance on characters (刘静/刘晶 → 1)."""
    a, b = clean_name(a), clean_name(b)
    if a == b:
        return 0
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def name_level(a: str, b: str) -> str:
    """The comparison level of two names, best first: ``exact``, ``pinyin`` (homophones, variant characters,
    surname readings), ``dialect``, ``one_char`` (one character different), ``else``."""
    if not a or not b:
        return "null"
    if clean_name(a) == clean_name(b):
        return "exact"
    if name_pinyin(a) == name_pinyin(b):
        return "pinyin"
    if dialect_key(a) == dialect_key(b):
        return "dialect"
    if char_distance(a, b) <= 1:
        return "one_char"
    return "else"


def date_level(a: dt.date | None, b: dt.date | None) -> str:
    """``exact``, ``swapped`` (day and month exchanged), ``one_part`` (year, month or day differs), ``else``."""
    if a is None or b is None:
        return "null"
    if a == b:
        return "exact"
    if a.year == b.year and a.month == b.day and a.day == b.month:
        return "swapped"
    if sum((a.year != b.year, a.month != b.month, a.day != b.day)) == 1:
        return "one_part"
    return "else"


def swap_day_month(day: dt.date) -> dt.date | None:
    """The date with day and month exchanged, when that is a real date and differs (3 July ↔ 7 March)."""
    if day.day > 12 or day.day == day.month:
        return None
    try:
        return day.replace(month=day.day, day=day.month)
    except ValueError:
        return None


def id_level(a: str, b: str) -> str:
    """``exact``, ``one_digit`` (one character wrong), ``transposed`` (two adjacent characters swapped),
    ``else``; ``null`` when either is missing or their lengths differ."""
    if not a or not b or len(a) != len(b):
        return "null"
    if a == b:
        return "exact"
    diffs = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    if len(diffs) == 1:
        return "one_digit"
    if len(diffs) == 2 and diffs[1] == diffs[0] + 1 and a[diffs[0]] == b[diffs[1]] and a[diffs[1]] == b[diffs[0]]:
        return "transposed"
    return "else"
