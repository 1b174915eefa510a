from __future__ import annotations

import datetime as dt

import pytest

from conftest import make_user
from guanai import privacy
from guanai.registry.models import Child, ChildGroup
from guanai.registry.selectors import children_search

TODAY = dt.date(2026, 11, 29)


@pytest.fixture
def named(children):
    keys = {
        "village": ("wangxiaoming", "wxm"),
        "neighbour_village": ("lixiaohong", "lxh"),
        "other_township": ("zhangxiaojun", "zxj"),
        "other_district": ("liuxiaofang", "lxf"),
    }
    for key, (full, initials) in keys.items():
        Child.objects.filter(pk=children[key].pk).update(name_pinyin=full, name_initials=initials)
    return children


def names(qs) -> set[str]:
    return set(qs.values_list("name", flat=True))


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("王小明", {"王小明"}),
        ("王", {"王小明"}),
        ("小", set()),
        ("小明", {"王小明"}),
        ("wangxiao", {"王小明"}),
        ("WXM", {"王小明"}),
        ("lx", {"李小红"}),
        ("  王 小明 ", {"王小明"}),
    ],
)
def test_search_by_characters_pinyin_and_initials_stays_in_scope(cast, named, q, expected):
    assert names(children_search(cast["charlie"], q=q)) == expected


def test_search_by_id_number_uses_the_blind_index(cast, named):
    child = named["village"]
    plain = privacy.reveal(child.id_number_enc)
    assert names(children_search(cast["alice"], q=plain.lower())) == {"王小明"}
    # Out of scope: the same exact lookup finds nothing for a director elsewhere.
    other = make_user("director", "500230101202", "grace")
    assert names(children_search(other, q=plain)) == set()


def test_filters_by_region_group_status_and_age_band(cast, named):
    ChildGroup.objects.create(
        child=named["village"],
        code="rural_left_behind",
        explanation="x",
        rule_id="r",
        rule_version=1,
        source="s",
        derived_on=TODAY,
    )
    charlie = cast["charlie"]
    assert names(children_search(charlie, region="500230101000")) == {"王小明", "李小红"}
    assert names(children_search(charlie, group="rural_left_behind")) == {"王小明"}
    assert names(children_search(charlie, status="exited")) == set()
    assert names(children_search(charlie, age_band="6-11", today=TODAY)) == {"王小明", "李小红", "张小军"}
    assert names(children_search(charlie, age_band="0-5", today=TODAY)) == set()
    assert names(children_search(charlie, age_band="nonsense")) == set()
    assert names(children_search(charlie, region="50x")) == set()


@pytest.mark.parametrize(
    ("birth", "band"),
    [
        (dt.date(2020, 11, 30), "0-5"),
        (dt.date(2020, 11, 29), "6-11"),
        (dt.date(2010, 11, 30), "12-15"),
        (dt.date(2010, 11, 29), "16-17"),
        (dt.date(2008, 11, 30), "16-17"),
    ],
)
def test_age_band_boundaries(cast, named, birth, band):
    Child.objects.filter(pk=named["village"].pk).update(birth_date=birth)
    assert "王小明" in names(children_search(cast["alice"], age_band=band, today=TODAY))


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("欧阳", {"欧阳小明"}),
        ("小明", {"欧阳小明", "王小明"}),
        ("阳小", {"欧阳小明"}),
        ("王小", {"王小明"}),
        ("明", set()),
    ],
)
def test_two_characters_match_anywhere_in_a_name(cast, named, q, expected):
    from conftest import VILLAGE, make_child

    make_child(VILLAGE, "欧阳小明")
    assert names(children_search(cast["alice"], q=q)) == expected
