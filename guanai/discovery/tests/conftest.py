from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from conftest import VILLAGE, make_child
from guanai import privacy
from guanai.discovery.importer import roster_import
from guanai.discovery.tests.helpers import person_id, write_roster
from guanai.registry.models import Child

ON = dt.date(2026, 6, 1)


def child_number(child: Child) -> str:
    return privacy.reveal(child.id_number_enc)


@pytest.fixture
def roster(tmp_path: Path):
    """``roster(source, rows)`` writes a CSV and imports it."""
    counter = iter(range(1000))

    def make(source: str, rows: list[dict], *, name: str | None = None):
        path = write_roster(tmp_path / (name or f"{source}-{next(counter)}.csv"), source, rows)
        return roster_import(path=path, source=source)

    return make


@pytest.fixture
def left_behind_household():
    """An unregistered child whose parents both work away across county lines since 2025-01."""
    kid = dt.date(2016, 5, 20)
    father, mother = dt.date(1988, 2, 3), dt.date(1990, 8, 9)
    ids = {
        "kid": person_id(VILLAGE, kid, 41, True),
        "father": person_id(VILLAGE, father, 42, True),
        "mother": person_id(VILLAGE, mother, 43, False),
    }
    household = [
        {
            "姓名": "张大山",
            "性别": "男",
            "出生日期": father,
            "身份证号": ids["father"],
            "户号": "H900",
            "与户主关系": "户主",
            "户籍区划代码": VILLAGE,
            "人员状态": "正常",
        },
        {
            "姓名": "刘静",
            "性别": "女",
            "出生日期": mother,
            "身份证号": ids["mother"],
            "户号": "H900",
            "与户主关系": "妻",
            "户籍区划代码": VILLAGE,
            "人员状态": "正常",
        },
        {
            "姓名": "张小山",
            "性别": "男",
            "出生日期": kid,
            "身份证号": ids["kid"],
            "户号": "H900",
            "与户主关系": "长子",
            "户籍区划代码": VILLAGE,
            "人员状态": "正常",
        },
    ]
    migrant = [
        {
            "姓名": "张大山",
            "身份证号": ids["father"],
            "外出地点": "广东省东莞市",
            "外出日期": "2025-01-10",
            "是否跨县": "是",
        },
        {
            "姓名": "柳婧",
            "身份证号": ids["mother"].lower(),
            "外出地点": "浙江省宁波市",
            "外出日期": "2025/3/1",
            "是否跨县": "是",
        },
    ]
    return ids, household, migrant


__all__ = ["ON", "child_number", "make_child"]
