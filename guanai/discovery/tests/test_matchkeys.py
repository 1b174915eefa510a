"""The Chinese comparisons (guanai.lib.matchkeys) and their DuckDB SQL twins used by the linker agree."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from guanai.discovery.comparisons import COMPARISONS
from guanai.lib import matchkeys
from guanai.lib.idnumber import check_digit

NUMBER = "500230201503071234"[:17]
VALID = NUMBER + check_digit(NUMBER)


def test_it_reads_surnames_as_surnames():
    assert matchkeys.name_pinyin("曾静") == "zengjing"  # pypinyin alone says ceng
    assert matchkeys.name_pinyin("单伟") == "shanwei"  # not dan
    assert matchkeys.name_pinyin("仇明") == "qiuming"  # not chou
    assert matchkeys.name_pinyin("解放") == "xiefang"  # not jie
    assert matchkeys.name_pinyin("尉迟恭") == "yuchigong"


def test_it_matches_homophones_and_variant_characters():
    assert matchkeys.name_level("刘静", "柳婧") == "pinyin"
    assert matchkeys.name_level("曾小兵", "增小兵") == "pinyin"
    assert matchkeys.name_level("刘静", "刘静") == "exact"


def test_it_hears_southwestern_mandarin():
    assert matchkeys.name_level("刘小兰", "牛小兰") == "dialect"  # n/l
    assert matchkeys.name_level("张成", "藏成") != "dialect"  # zang vs cang: different initial
    assert matchkeys.dialect_key("张成") == matchkeys.dialect_key("臧岑")  # zh/z, -eng/-en
    assert matchkeys.dialect_key("陈明") == matchkeys.dialect_key("岑民")  # ch/c, -ing/-in
    assert matchkeys.dialect_key("王明") != matchkeys.dialect_key("黄明")


def test_it_counts_character_edits():
    assert matchkeys.char_distance("王小明", "王晓明") == 1
    assert matchkeys.name_level("王小明", "王晓明") == "pinyin"
    assert matchkeys.name_level("王小明", "王大明") == "one_char"
    assert matchkeys.name_level("王小明", "李华") == "else"


def test_it_recognises_swapped_day_and_month():
    assert matchkeys.date_level(dt.date(2015, 3, 7), dt.date(2015, 7, 3)) == "swapped"
    assert matchkeys.date_level(dt.date(2015, 3, 7), dt.date(2016, 3, 7)) == "one_part"
    assert matchkeys.date_level(dt.date(2015, 3, 7), dt.date(2016, 7, 3)) == "else"
    assert matchkeys.swap_day_month(dt.date(2015, 3, 7)) == dt.date(2015, 7, 3)
    assert matchkeys.swap_day_month(dt.date(2015, 3, 20)) is None


def test_it_recognises_one_digit_errors_and_transpositions():
    one = VALID[:10] + str((int(VALID[10]) + 1) % 10) + VALID[11:]
    swapped = VALID[:6] + VALID[7] + VALID[6] + VALID[8:]
    assert matchkeys.id_level(VALID, VALID) == "exact"
    assert matchkeys.id_level(VALID, one) == "one_digit"
    assert matchkeys.id_level(VALID, swapped) == "transposed"
    assert matchkeys.id_level(VALID, one[:3] + "9" + one[4:]) in ("else", "one_digit")
    assert matchkeys.id_level(VALID, VALID[:15]) == "null"


def _sql_level(output: str, left: dict, right: dict) -> str:
    comparison = next(c for c in COMPARISONS if c["output_column_name"] == output)
    con = duckdb.connect()
    cols = {**{f"{k}_l": v for k, v in left.items()}, **{f"{k}_r": v for k, v in right.items()}}
    select = ", ".join(f"$${v}$$::{'DATE' if isinstance(v, dt.date) else 'VARCHAR'} AS {k}" for k, v in cols.items())
    for level in comparison["comparison_levels"]:
        if level["sql_condition"] == "ELSE":
            return level["label_for_charts"]
        if con.execute(f"SELECT ({level['sql_condition']}) FROM (SELECT {select})").fetchone()[0]:
            return level["label_for_charts"]
    raise AssertionError("no level")


def _name_side(name: str) -> dict:
    return {"name": name, "name_pinyin": matchkeys.name_pinyin(name), "name_dialect": matchkeys.dialect_key(name)}


@pytest.mark.parametrize(
    ("a", "b", "level"),
    [
        ("刘静", "柳婧", "pinyin"),
        ("刘小兰", "牛小兰", "dialect"),
        ("王小明", "王大明", "one_char"),
        ("王小明", "李华", "else"),
    ],
)
def test_the_sql_name_comparison_agrees(a, b, level):
    labels = {"exact": "完全一致", "pinyin": "同音字", "dialect": "方音相近", "one_char": "一字之差", "else": "不同"}
    assert matchkeys.name_level(a, b) == level
    assert _sql_level("name", _name_side(a), _name_side(b)).startswith(labels[level])


def test_the_sql_date_and_id_comparisons_agree():
    a, b = dt.date(2015, 3, 7), dt.date(2015, 7, 3)
    assert (
        _sql_level("birth_date", {"birth_date": a, "birth_swapped": b}, {"birth_date": b, "birth_swapped": a})
        == "日、月颠倒"
    )
    one = VALID[:10] + str((int(VALID[10]) + 1) % 10) + VALID[11:]
    swapped = VALID[:6] + VALID[7] + VALID[6] + VALID[8:]
    assert _sql_level("id_plain", {"id_plain": VALID}, {"id_plain": one}) == "一位数字错误"
    assert _sql_level("id_plain", {"id_plain": VALID}, {"id_plain": swapped}) == "相邻两位颠倒"
