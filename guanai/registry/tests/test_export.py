"""Roster export (registry issue, item 7): the columns, full IDs from the command, masked IDs on the web for a
role without reveal, formula-injection guard, access/audit records, round trip back through the import."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from conftest import DISTRICT, OTHER_TOWNSHIP_VILLAGE, VILLAGE, client_for, make_id_number, make_user
from guanai import privacy
from guanai.audit.models import AccessEvent, AuditEvent
from guanai.registry.exporter import EXPORT_HEADERS, children_export, neutralise
from guanai.registry.importer import HEADERS, children_import
from guanai.registry.models import Child

TODAY = dt.date(2026, 11, 29)
CONTRACT = [
    "姓名",
    "性别",
    "出生日期",
    "身份证号",
    "民族",
    "户籍性质",
    "户籍地址",
    "现住址",
    "村社区代码",
    "健康状况",
    "残疾类别",
    "残疾等级",
    "就学情况",
    "学校名称",
    "父亲姓名",
    "父亲身份证号",
    "父亲状况",
    "父亲状况起始日期",
    "父亲外出地点",
    "父亲是否跨县",
    "母亲姓名",
    "母亲身份证号",
    "母亲状况",
    "母亲状况起始日期",
    "母亲外出地点",
    "母亲是否跨县",
    "监护人姓名",
    "监护人与儿童关系",
    "监护人电话",
    "委托照料人姓名",
    "委托照料人关系",
    "委托照料人电话",
]


def _row(name: str, birth: dt.date, village: str, *, male: bool = True, **kw: str) -> dict[str, str]:
    data = {
        "姓名": name,
        "性别": "男" if male else "女",
        "出生日期": birth.isoformat(),
        "身份证号": make_id_number(village, birth, male),
        "户籍性质": "农业",
        "村社区代码": village,
        "父亲姓名": "王大山",
        "父亲身份证号": make_id_number(village, dt.date(1985, 1, 1), True),
        "父亲状况": "外出务工",
        "父亲状况起始日期": "2024-01-10",
        "父亲外出地点": "广东省东莞市",
        "父亲是否跨县": "是",
        "母亲姓名": "李秀兰",
        "母亲状况": "死亡",
        "母亲状况起始日期": "2022-05-01",
        "监护人姓名": "王奶奶",
        "监护人与儿童关系": "奶奶",
        "监护人电话": "13812345678",
        "委托照料人姓名": "王奶奶",
        "委托照料人关系": "奶奶",
    }
    data.update(kw)
    return data


@pytest.fixture
def roster(villages, tmp_path) -> list[dict[str, str]]:
    rows = [
        _row("王小明", dt.date(2015, 3, 7), VILLAGE, 现住址='=HYPERLINK("http://evil","点我")'),
        _row(
            "张小军", dt.date(2013, 8, 1), OTHER_TOWNSHIP_VILLAGE, 学校名称="-社坛镇小学", 残疾类别="肢体", 残疾等级="2"
        ),
    ]
    path = tmp_path / "roster.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, HEADERS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    result = children_import(path=path, today=TODAY)
    assert result.ok, result.errors
    return rows


def _sheet(data: bytes | Path) -> list[tuple]:
    book = openpyxl.load_workbook(io.BytesIO(data) if isinstance(data, bytes) else data, read_only=True)
    rows = [tuple("" if v is None else v for v in r) for r in book.worksheets[0].iter_rows(values_only=True)]
    book.close()
    return rows


def _body(response: Any) -> bytes:
    """The body of a streamed (file) response."""
    return b"".join(response.streaming_content)


def test_the_export_columns_are_the_contract(db):
    assert HEADERS == CONTRACT
    assert [*CONTRACT, "儿童编号", "儿童类别", "状态"] == EXPORT_HEADERS


def test_command_export_writes_full_ids_groups_status_and_records_the_export(roster, tmp_path):
    out = tmp_path / "exports" / "roster.xlsx"
    stdout = io.StringIO()
    call_command("children", "export", "--out", str(out), stdout=stdout)
    assert "已导出2名儿童" in stdout.getvalue() and not (tmp_path / "exports" / "roster.xlsx.partial").exists()
    rows = _sheet(out)
    assert list(rows[0]) == EXPORT_HEADERS
    by_name = {r[0]: dict(zip(EXPORT_HEADERS, r, strict=True)) for r in rows[1:]}
    ming = by_name["王小明"]
    assert ming["身份证号"] == roster[0]["身份证号"], "the command writes full ID numbers"
    assert ming["父亲身份证号"] == roster[0]["父亲身份证号"]
    assert ming["监护人电话"] == "13812345678"
    assert ming["性别"] == "男" and ming["户籍性质"] == "农业" and ming["出生日期"] == "2015-03-07"
    assert (ming["父亲状况"], ming["父亲状况起始日期"], ming["父亲是否跨县"]) == ("外出务工", "2024-01-10", "是")
    assert ming["母亲状况"] == "死亡"
    assert (ming["监护人姓名"], ming["监护人与儿童关系"]) == ("王奶奶", "祖父母/外祖父母")
    assert ming["委托照料人姓名"] == "王奶奶"
    child = Child.objects.get(name="王小明")
    assert ming["儿童编号"] == child.child_no and ming["状态"] == "在册"
    assert ming["儿童类别"] == "农村留守儿童;农村单亲家庭儿童"
    jun = by_name["张小军"]
    assert jun["儿童类别"] == "农村留守儿童;困境儿童（身心困境）;农村单亲家庭儿童"
    assert (jun["残疾类别"], jun["残疾等级"]) == ("肢体", "2")
    access = AccessEvent.objects.get(action="children.export")
    assert access.actor is None and access.object_type == "export" and access.field == "id_number"
    audit = AuditEvent.objects.get(action="children.export")
    assert audit.after is not None and audit.after["rows"] == 2 and audit.after["reveal"] is True


def test_formula_injection_cells_are_neutralised(roster, tmp_path):
    out = tmp_path / "roster.xlsx"
    call_command("children", "export", "--out", str(out), stdout=io.StringIO())
    rows = {r[0]: dict(zip(EXPORT_HEADERS, r, strict=True)) for r in _sheet(out)[1:]}
    assert rows["王小明"]["现住址"] == '\'=HYPERLINK("http://evil","点我")'
    assert rows["张小军"]["学校名称"] == "'-社坛镇小学"
    for text in ("=1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert neutralise(text) == "'" + text
    assert neutralise("王小明") == "王小明" and neutralise("") == ""


def test_an_exported_roster_imports_back_unchanged(roster, tmp_path):
    out = tmp_path / "roster.xlsx"
    call_command("children", "export", "--out", str(out), stdout=io.StringIO())
    versions = dict(Child.objects.values_list("pk", "version"))
    result = children_import(path=out, today=TODAY)
    assert result.ok and (result.created, result.updated, result.unchanged) == (0, 0, 2), result.errors
    assert dict(Child.objects.values_list("pk", "version")) == versions
    assert Child.objects.get(name="王小明").current_address.startswith("=HYPERLINK"), "the guard is undone on import"


def test_command_export_by_region(roster, tmp_path):
    out = tmp_path / "roster.xlsx"
    call_command("children", "export", "--out", str(out), "--region", "500230102", stdout=io.StringIO())
    assert [r[0] for r in _sheet(out)[1:]] == ["张小军"]
    with pytest.raises(CommandError, match="区划代码"):
        call_command("children", "export", "--out", str(out), "--region", "5002309999", stdout=io.StringIO())
    with pytest.raises(CommandError, match=r"\.xlsx"):
        call_command("children", "export", "--out", str(tmp_path / "roster.csv"), stdout=io.StringIO())


def test_web_export_masks_ids_for_a_role_without_reveal_and_is_logged(roster):
    viewer = make_user("partner_education", DISTRICT, "edu")
    assert viewer.can("child.view") and not viewer.can("child.reveal")
    response = client_for(viewer).get(reverse("registry_io:export"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = _sheet(_body(response))
    assert list(rows[0]) == EXPORT_HEADERS
    for r in rows[1:]:
        data = dict(zip(EXPORT_HEADERS, r, strict=True))
        assert "*" in data["身份证号"] and len(data["身份证号"]) == 18
        assert data["监护人电话"] == "138****5678" and "*" in data["父亲身份证号"]
    numbers = {r["身份证号"] for r in roster}
    assert not any(cell in numbers for r in rows for cell in r)
    access = AccessEvent.objects.get(action="children.export")
    assert access.actor == viewer and access.field == "" and "（2名）" in access.object_id


def test_web_export_reveals_for_a_role_that_may_and_follows_scope_and_filters(roster, cast):
    bob = client_for(cast["bob"])  # 虎威镇 supervisor: sees only 王小明
    rows = _sheet(_body(bob.get(reverse("registry_io:export"))))
    assert [r[0] for r in rows[1:]] == ["王小明"]
    assert rows[1][3] == roster[0]["身份证号"]
    assert AccessEvent.objects.get(action="children.export", actor=cast["bob"]).field == "id_number"
    charlie = client_for(cast["charlie"])
    filtered = charlie.get(reverse("registry_io:export"), {"region": "500230102", "status": "active"})
    assert [r[0] for r in _sheet(_body(filtered))[1:]] == ["张小军"]
    none = charlie.get(reverse("registry_io:export"), {"group": "orphan"})
    assert len(_sheet(_body(none))) == 1, "the header row only"


def test_web_export_refuses_roles_without_view_and_too_large_rosters(roster, cast, monkeypatch):
    from guanai.registry import import_views

    assert client_for(cast["frank"]).get(reverse("registry_io:export")).status_code == 403
    monkeypatch.setattr(import_views, "WEB_EXPORT_LIMIT", 1)
    response = client_for(cast["charlie"]).get(reverse("registry_io:export"))
    assert response.status_code == 400 and "导出范围过大" in response.content.decode()
    assert not AccessEvent.objects.filter(action="children.export").exists()


def test_children_export_writes_to_a_file_object_and_counts(roster):
    buffer = io.BytesIO()
    assert children_export(Child.objects.all(), buffer, reveal=False) == 2
    rows = _sheet(buffer.getvalue())
    assert len(rows) == 3 and all(privacy.reveal(c.id_number_enc) not in str(rows) for c in Child.objects.all())
