from __future__ import annotations

import csv
import datetime as dt

import pytest
from django.core.management import CommandError, call_command

from conftest import VILLAGE, make_child
from guanai.audit.models import AccessEvent, AuditEvent
from guanai.discovery.models import RosterRow
from guanai.discovery.tests.conftest import child_number
from guanai.discovery.tests.helpers import one_digit_wrong, write_roster


def _read(path):
    with path.open(encoding="utf-8") as fh:  # plain UTF-8: the header's first column is 来源/规则, no BOM
        return list(csv.reader(fh))


def test_the_commands_import_run_and_export(villages, tmp_path, capsys):
    a = make_child(VILLAGE, "王小明", birth=dt.date(2014, 3, 7))
    b = make_child(VILLAGE, "李小红", birth=dt.date(2013, 6, 21), male=False)
    path = write_roster(
        tmp_path / "edu.csv",
        "education",
        [
            {
                "姓名": "王小明",
                "性别": "男",
                "出生日期": "2014-03-07",
                "身份证号": child_number(a),
                "学校名称": "虎威小学",
                "学校区划代码": VILLAGE,
                "学籍状态": "在读",
            },
            {
                "姓名": "李小红",
                "性别": "女",
                "出生日期": "2013-06-21",
                "身份证号": one_digit_wrong(child_number(b)),
                "学校名称": "虎威小学",
                "学校区划代码": VILLAGE,
                "学籍状态": "辍学",
                "状态日期": "2026-03-01",
            },
        ],
    )
    call_command("rosters", "import", "--source", "education", str(path))
    call_command("rosters", "import", "--source", "education", str(path))
    assert RosterRow.objects.count() == 2
    call_command("discover", "run", "--date", "2026-06-01")
    out = capsys.readouterr().out
    assert "已导入" in out and "未重复导入" in out and "用时" in out

    call_command("discover", "export-links", "--out", str(tmp_path / "links.csv"))
    rows = _read(tmp_path / "links.csv")
    assert rows[0] == ["来源", "来源行号", "儿童身份证号", "匹配概率", "匹配方式"]
    assert sorted((r[0], r[1], r[2], r[4]) for r in rows[1:]) == [
        ("education", "1", child_number(a), "exact"),
        ("education", "2", child_number(b), "probabilistic"),
    ]
    assert AuditEvent.objects.filter(action="discovery.export_links").exists()
    assert AccessEvent.objects.filter(action="discovery.export_links", field="id_number").exists()

    call_command("discover", "export-findings", "--out", str(tmp_path / "findings.csv"))
    rows = _read(tmp_path / "findings.csv")
    assert rows[0] == ["规则", "身份证号", "姓名", "区划代码", "证据"]
    assert rows[1][:4] == ["DROPOUT", child_number(b), "李小红", VILLAGE] and "学籍第2行" in rows[1][4]


def test_an_unknown_source_or_bad_file_is_a_clear_error(db, tmp_path):
    bad = tmp_path / "x.txt"
    bad.write_text("x", encoding="utf-8")
    with pytest.raises(CommandError, match="不支持的文件类型"):
        call_command("rosters", "import", "--source", "education", str(bad))
    with pytest.raises(CommandError, match=r"导出文件应以\.csv结尾"):
        call_command("discover", "export-links", "--out", str(tmp_path / "x.xlsx"))
