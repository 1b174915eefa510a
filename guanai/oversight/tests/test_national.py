"""Exports for the national system: a stable field list, scoped, full ID numbers only for officers, logged."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.core.management import call_command

from conftest import DISTRICT, OTHER_DISTRICT_COMMUNITY, VILLAGE, client_for, make_child
from guanai import privacy
from guanai.audit.models import AccessEvent
from guanai.oversight.national import CHILD_FIELDS, DIRECTOR_FIELDS, FIELDS_VERSION
from guanai.workforce import services as wf

pytestmark = [pytest.mark.django_db]

CHILD_HEADER = [
    "字段版本",
    "儿童编号",
    "姓名",
    "性别",
    "出生日期",
    "年龄",
    "民族",
    "公民身份号码",
    "户籍性质",
    "行政区划代码",
    "所在村（社区）",
    "户籍地址",
    "现住址",
    "健康状况",
    "残疾类别",
    "残疾等级",
    "重病名称",
    "就学情况",
    "学校名称",
    "儿童类别",
    "儿童类别代码",
    "状态",
    "退出原因",
    "退出日期",
]


def test_the_field_lists_are_stable():
    # Changing a column is a contract change: bump FIELDS_VERSION and update docs/oversight.md.
    assert [h for h, _ in CHILD_FIELDS] == CHILD_HEADER
    assert [h for h, _ in DIRECTOR_FIELDS][:3] == ["字段版本", "台账编号", "姓名"]
    assert FIELDS_VERSION == "guanai-national-1"


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def test_the_district_officer_downloads_children_of_the_district_with_full_id_numbers(cast, villages):
    mine = make_child(VILLAGE, "王小明")
    make_child(OTHER_DISTRICT_COMMUNITY, "刘小芳")
    response = client_for(cast["charlie"]).get("/oversight/national/?kind=children")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    data = rows(b"".join(response.streaming_content).decode("utf-8"))
    assert [r["姓名"] for r in data] == ["王小明"]
    assert data[0]["公民身份号码"] == privacy.reveal(mine.id_number_enc)
    assert data[0]["字段版本"] == FIELDS_VERSION
    assert AccessEvent.objects.filter(action="national.export.children", actor=cast["charlie"]).exists()
    assert client_for(cast["alice"]).get("/oversight/national/?kind=children").status_code == 403


def test_the_command_exports_directors(cast, villages, tmp_path):
    wf.staff_register(
        actor=cast["charlie"],
        kind="director",
        name="李春梅",
        region=VILLAGE,
        start=dt.date(2025, 1, 1),
        phone="13812345678",
    )
    out = tmp_path / "directors.csv"
    call_command("national", "export", "--kind", "directors", "--region", DISTRICT, "--out", str(out))
    data = rows(out.read_text(encoding="utf-8-sig"))
    assert [(r["姓名"], r["负责区域代码"], r["联系电话"]) for r in data] == [("李春梅", VILLAGE, "13812345678")]


def test_the_city_exports_one_district_at_a_time_and_nothing_outside_its_jurisdiction(cast, villages):
    make_child(VILLAGE, "王小明")
    make_child(OTHER_DISTRICT_COMMUNITY, "刘小芳")
    response = client_for(cast["diana"]).get(f"/oversight/national/?kind=children&region={DISTRICT}")
    assert [r["姓名"] for r in rows(b"".join(response.streaming_content).decode("utf-8"))] == ["王小明"]
    outside = client_for(cast["charlie"]).get("/oversight/national/?kind=children&region=500101000000")
    assert outside.status_code == 404
