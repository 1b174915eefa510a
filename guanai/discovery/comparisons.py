"""The Splink model for Chinese person records: comparisons, blocking rules and prior probabilities.

Each comparison level is the SQL twin of a function in ``guanai.lib.matchkeys`` (tests run both on the same
pairs). Columns on both sides: ``name``, ``name_pinyin``, ``name_dialect`` (computed at import/load time with the
surname-reading table), ``birth_date``, ``birth_swapped`` (day and month exchanged, or null), ``sex``,
``region_code``, ``id_mask`` (6 + 4 visible characters, for blocking only) and ``id_plain`` — the ID number,
decrypted only inside the run's private DuckDB session for the rows that need it (see docs/discovery.md).

Priors (``m``/``u``) are the starting values: training replaces the name, date, sex and region ones per source
type; the ID-number levels stay fixed, because the pairs the probabilistic pass sees are exactly those whose
number failed its check, which no labelled sample represents (exact-ID pairs never do).
"""

from __future__ import annotations

import copy
from typing import Any


def _transposed(a: str, b: str, length: int = 18) -> str:
    """Two adjacent characters swapped, written out position by position so that the same SQL runs on DuckDB
    and on Spark (which has no Damerau–Levenshtein): equal before the pair, crossed at the pair, equal after."""
    clauses = []
    for i in range(1, length):
        parts = [
            f"substr({a}, {i}, 1) = substr({b}, {i + 1}, 1)",
            f"substr({a}, {i + 1}, 1) = substr({b}, {i}, 1)",
            f"substr({a}, {i}, 1) <> substr({b}, {i}, 1)",
            f"substr({a}, {i + 2}) = substr({b}, {i + 2})",
        ]
        if i > 1:
            parts.insert(0, f"substr({a}, 1, {i - 1}) = substr({b}, 1, {i - 1})")
        clauses.append("(" + " AND ".join(parts) + ")")
    return f"length({a}) = {length} AND length({b}) = {length} AND (" + " OR ".join(clauses) + ")"


TRANSPOSED = _transposed("id_plain_l", "id_plain_r")


def _level(sql: str, label: str, m: float, u: float, *, null: bool = False, fixed: bool = False) -> dict[str, Any]:
    level: dict[str, Any] = {"sql_condition": sql, "label_for_charts": label}
    if null:
        level["is_null_level"] = True
        return level
    level.update({"m_probability": m, "u_probability": u})
    if fixed:
        level.update({"fix_m_probability": True, "fix_u_probability": True})
    return level


COMPARISONS: list[dict[str, Any]] = [
    {
        "output_column_name": "name",
        "comparison_description": "姓名",
        "comparison_levels": [
            _level("name_l IS NULL OR name_r IS NULL", "缺失", 0, 0, null=True),
            _level("name_l = name_r", "完全一致", 0.875, 0.0005),
            _level("name_pinyin_l = name_pinyin_r", "同音字（拼音一致，含姓氏读音）", 0.06, 0.0004),
            _level("name_dialect_l = name_dialect_r", "方音相近（n/l、平翘舌、前后鼻音）", 0.03, 0.0008),
            _level("levenshtein(name_l, name_r) <= 1", "一字之差", 0.03, 0.004),
            _level("ELSE", "不同", 0.005, 0.995),
        ],
    },
    {
        "output_column_name": "birth_date",
        "comparison_description": "出生日期",
        "comparison_levels": [
            _level("birth_date_l IS NULL OR birth_date_r IS NULL", "缺失", 0, 0, null=True),
            _level("birth_date_l = birth_date_r", "一致", 0.93, 0.0003),
            _level("birth_date_l = birth_swapped_r", "日、月颠倒", 0.03, 0.0002),
            _level(
                "(CASE WHEN year(birth_date_l) = year(birth_date_r) THEN 0 ELSE 1 END"
                " + CASE WHEN month(birth_date_l) = month(birth_date_r) THEN 0 ELSE 1 END"
                " + CASE WHEN day(birth_date_l) = day(birth_date_r) THEN 0 ELSE 1 END) = 1",
                "年、月、日有一项不同",
                0.03,
                0.02,
            ),
            _level("ELSE", "不同", 0.01, 0.98),
        ],
    },
    {
        "output_column_name": "sex",
        "comparison_description": "性别",
        "comparison_levels": [
            _level("sex_l IS NULL OR sex_r IS NULL", "缺失", 0, 0, null=True),
            _level("sex_l = sex_r", "一致", 0.98, 0.5),
            _level("ELSE", "不同", 0.02, 0.5),
        ],
    },
    {
        "output_column_name": "region_code",
        "comparison_description": "区划",
        "comparison_levels": [
            _level("region_code_l IS NULL OR region_code_r IS NULL", "缺失", 0, 0, null=True),
            _level("region_code_l = region_code_r", "同村（社区）", 0.7, 0.002),
            _level("left(region_code_l, 9) = left(region_code_r, 9)", "同乡镇", 0.15, 0.01),
            _level("left(region_code_l, 6) = left(region_code_r, 6)", "同区县", 0.1, 0.1),
            _level("ELSE", "不同区县", 0.05, 0.888),
        ],
    },
    {
        "output_column_name": "id_plain",
        "comparison_description": "身份证号",
        "comparison_levels": [
            _level("id_plain_l IS NULL OR id_plain_r IS NULL", "缺失", 0, 0, null=True),
            _level("id_plain_l = id_plain_r", "一致", 0.05, 1e-7, fixed=True),
            _level(
                "length(id_plain_l) = length(id_plain_r) AND levenshtein(id_plain_l, id_plain_r) = 1",
                "一位数字错误",
                0.6,
                2e-7,
                fixed=True,
            ),
            _level(TRANSPOSED, "相邻两位颠倒", 0.25, 1e-7, fixed=True),
            _level("ELSE", "不同", 0.1, 0.9999996, fixed=True),
        ],
    },
]

# Candidate pairs: any of these, on columns that hold no plaintext ID number.
BLOCKING_RULES: list[str] = [
    "l.name_pinyin = r.name_pinyin AND l.birth_date = r.birth_date",
    "l.name_dialect = r.name_dialect AND l.birth_date = r.birth_date",
    "l.name_pinyin = r.name_pinyin AND l.birth_date = r.birth_swapped",
    "l.id_mask = r.id_mask",
    "l.birth_date = r.birth_date AND l.sex = r.sex AND left(l.region_code, 9) = left(r.region_code, 9)",
    "l.name_pinyin = r.name_pinyin AND l.region_code = r.region_code",
    # Rosters without a birth date or region column (migrant, disability): the same name and the same place code
    # at the head of the ID number (a one-digit error in the birth date part leaves it intact).
    "l.name_pinyin = r.name_pinyin AND substr(l.id_mask, 1, 6) = substr(r.id_mask, 1, 6)",
]


def settings_dict(*, prior: float) -> dict[str, Any]:
    """Fresh Splink settings for a link-only job between a roster's rows and their targets."""
    return {
        "link_type": "link_only",
        "unique_id_column_name": "unique_id",
        "probability_two_random_records_match": prior,
        "comparisons": copy.deepcopy(COMPARISONS),
        "blocking_rules_to_generate_predictions": [{"blocking_rule": r} for r in BLOCKING_RULES],
        "retain_matching_columns": True,
        "retain_intermediate_calculation_columns": True,
        "additional_columns_to_retain": [],
        "max_iterations": 10,
    }


def sane(settings: dict[str, Any]) -> dict[str, Any]:
    """Training on a small roster can leave a level with no observations (m or u of 0 or missing): fall back to
    the prior so that no single field can give an infinite weight."""
    priors = {c["output_column_name"]: c["comparison_levels"] for c in COMPARISONS}
    for comparison in settings["comparisons"]:
        base = priors.get(comparison["output_column_name"], [])
        for i, level in enumerate(comparison["comparison_levels"]):
            if level.get("is_null_level"):
                continue
            prior = base[i] if i < len(base) else {}
            for key in ("m_probability", "u_probability"):
                value = level.get(key)
                if value is None or not (1e-9 <= float(value) <= 1):
                    level[key] = prior.get(key, 0.5)
    return settings
