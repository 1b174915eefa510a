from __future__ import annotations

import datetime as dt

import pytest
from openpyxl import Workbook

from conftest import VILLAGE
from guanai.audit.models import AuditEvent
from guanai.discovery.importer import issues_report, roster_import
from guanai.discovery.models import RosterBatch, RosterRow
from guanai.discovery.tests.helpers import person_id, write_roster
from guanai.lib.errors import DomainError
from guanai.lib.rosters import TEMPLATES

KID = person_id(VILLAGE, dt.date(2015, 3, 7), 7, True)


def _edu(**over):
    row = {
        "姓名": "王小明",
        "性别": "男",
        "出生日期": "2015-03-07",
        "身份证号": KID,
        "学校名称": "虎威小学",
        "学校区划代码": VILLAGE,
        "年级": "五年级",
        "学籍状态": "在读",
        "状态日期": "2025-09-01",
    }
    return row | over


def test_it_normalises_dirty_values(db, tmp_path):
    rows = [
        _edu(),
        _edu(姓名="李 小 红", 出生日期="２０１４年９月１日", 身份证号=" ", 性别="女", 学籍状态="辍学"),
        _edu(姓名="张三", 出生日期="20140131", 身份证号=KID[:17] + "x" if KID.endswith("X") else KID.lower()),
        _edu(姓名="赵四", 出生日期="2014-13-05", 身份证号=""),
    ]
    result = roster_import(path=write_roster(tmp_path / "edu.csv", "education", rows), source="education")
    stored = {r.row_no: r for r in RosterRow.objects.all()}
    assert stored[1].id_state == "valid" and stored[1].id_number_mask.startswith(VILLAGE[:6])
    assert stored[2].name == "李小红" and stored[2].birth_date == dt.date(2014, 9, 1) and stored[2].status == "dropout"
    assert stored[2].id_state == "missing"
    assert stored[3].birth_date == dt.date(2014, 1, 31)
    assert stored[4].birth_date == dt.date(2014, 5, 13)  # month above 12: read as day and month swapped
    assert any(i.row_no == 4 and "颠倒" in i.reason for i in result.issues)
    assert stored[1].raw["姓名"] == "王小明" and "身份证号" not in stored[1].raw


def test_it_never_stores_a_plaintext_id_number(db, tmp_path):
    roster_import(
        path=write_roster(tmp_path / "edu.csv", "education", [_edu(身份证号=KID.lower())]), source="education"
    )
    row = RosterRow.objects.get()
    values = [str(v) for v in RosterRow.objects.values_list().get()]
    assert all(KID not in v and KID.lower() not in v for v in values)
    assert row.id_number_bidx and row.id_number_enc


def test_it_upgrades_legacy_15_digit_numbers(db, tmp_path):
    rows = [
        {
            "姓名": "张大山",
            "身份证号": "110105491231002",
            "外出地点": "广东",
            "外出日期": "2024-01-01",
            "是否跨县": "是",
        }
    ]
    result = roster_import(path=write_roster(tmp_path / "m.csv", "migrant", rows), source="migrant")
    row = RosterRow.objects.get()
    assert (
        row.id_state == "legacy15" and row.birth_date == dt.date(1949, 12, 31) and row.sex == "F"
    )  # sequence 002: even
    assert any("15位" in i.reason for i in result.issues)


def test_it_reports_bad_rows_and_imports_the_rest(db, tmp_path):
    rows = [_edu(), _edu(姓名=""), _edu(姓名="无证", 身份证号="", 出生日期="")]
    result = roster_import(path=write_roster(tmp_path / "edu.csv", "education", rows), source="education")
    assert result.batch.rows_total == 3 and result.batch.rows_kept == 1 and result.batch.rows_rejected == 2
    report = issues_report(result.batch)
    assert "2,姓名" in report and "3,身份证号" in report and "未导入" in report


def test_a_reimport_of_the_same_file_is_a_no_op(db, tmp_path):
    path = write_roster(tmp_path / "edu.csv", "education", [_edu()])
    first = roster_import(path=path, source="education")
    second = roster_import(path=path, source="education")
    assert first.created and not second.created and second.batch == first.batch
    assert RosterRow.objects.count() == 1 and RosterBatch.objects.count() == 1
    assert AuditEvent.objects.filter(action="roster.import").count() == 1


def test_it_reads_xlsx_with_columns_in_any_order_and_extras(db, tmp_path):
    headers = [*reversed([c.header for c in TEMPLATES["disability"]]), "备注"]
    book = Workbook()
    sheet = book.active
    sheet.append(headers)
    values = {
        "姓名": "王小明",
        "身份证号": KID,
        "残疾类别": "肢体残疾",
        "残疾等级": "二级",
        "发证日期": dt.datetime(2024, 5, 6),
        "备注": "x",
    }
    sheet.append([values[h] for h in headers])
    path = tmp_path / "d.xlsx"
    book.save(path)
    roster_import(path=path, source="disability")
    row = RosterRow.objects.get()
    assert (row.category, row.grade, row.start_date) == ("肢体", "2", dt.date(2024, 5, 6))


def test_it_refuses_a_file_without_the_template_columns(db, tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("姓名,性别\n张三,男\n", encoding="utf-8")
    with pytest.raises(DomainError, match="缺少必需的列"):
        roster_import(path=path, source="education")
    assert not RosterBatch.objects.exists()
