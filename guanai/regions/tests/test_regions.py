from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conftest import client_for
from guanai.audit.models import AuditEvent
from guanai.lib import regioncode
from guanai.regions.models import Region
from guanai.regions.selectors import region_path, regions_under

HEADER = "code,name,level,parent_code\n"


def write(tmp_path: Path, body: str, name: str = "regions.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_text(body, encoding=encoding)
    return path


def test_official_chongqing_divisions_are_present_after_migrate(db):
    assert Region.objects.get(code="500000000000").name == "重庆市"
    counties = Region.objects.filter(level=3, is_active=True)
    assert counties.count() == 37
    assert Region.objects.get(code="500157000000").name == "两江新区"
    assert 1000 <= Region.objects.filter(level=4).count() <= 1100
    assert Region.objects.get(code="500230101000").parent_id == "500230000000"


def test_jiangbei_and_yubei_are_kept_as_historical_codes(db):
    for code in ("500105000000", "500112000000"):
        region = Region.objects.get(code=code)
        assert not region.is_active
        assert region.successor_id == "500157000000"


def test_it_imports_villages_and_is_idempotent(db, tmp_path):
    path = write(tmp_path, HEADER + "500230101201,三元村,5,500230101000\n500230101001,虎威社区,5,500230101000\n")
    call_command("regions", "import", str(path))
    assert Region.objects.get(code="500230101201").parent_id == "500230101000"
    events = AuditEvent.objects.filter(action="region.import").count()

    call_command("regions", "import", str(path))
    assert Region.objects.filter(level=5).count() == 2
    assert AuditEvent.objects.filter(action="region.import").count() == events  # nothing changed, nothing logged


def test_a_renamed_village_is_updated_on_reimport(db, tmp_path):
    call_command("regions", "import", str(write(tmp_path, HEADER + "500230101201,三元村,5,500230101000\n")))
    call_command("regions", "import", str(write(tmp_path, HEADER + "500230101201,新三元村,5,500230101000\n")))
    assert Region.objects.get(code="500230101201").name == "新三元村"


def test_an_official_file_with_city_level_groupings_imports(db, tmp_path):
    body = HEADER + "500200000000,县,2,500000000000\n500230000000,丰都县,3,500200000000\n"
    call_command("regions", "import", str(write(tmp_path, body)))
    assert Region.objects.get(code="500230000000").parent_id == "500200000000"


def test_parents_defined_later_in_the_same_file_are_accepted(db, tmp_path):
    body = HEADER + "500230199201,新村,5,500230199000\n500230199000,新镇,4,500230000000\n"
    call_command("regions", "import", str(write(tmp_path, body)))
    assert Region.objects.get(code="500230199201").parent_id == "500230199000"


@pytest.mark.parametrize(
    ("row", "column", "reason"),
    [
        ("50023010120,三元村,5,500230101000", "code", "12位"),
        ("500230101201,,5,500230101000", "name", "不能为空"),
        ("500230101201,三元村,7,500230101000", "level", "1至5"),
        ("500230101201,三元村,4,500230101000", "level", "级别与区划代码不符"),
        ("500230101201,三元村,5,500230999000", "parent_code", "不存在"),
        ("500230101201,三元村,5,500101001000", "parent_code", "不以上级区划代码开头"),
        ("500230101201,三元村,5,", "parent_code", "缺少上级"),
    ],
)
def test_a_bad_row_is_reported_and_nothing_is_written(db, tmp_path, capsys, row, column, reason):
    path = write(tmp_path, HEADER + "500230101202,好村,5,500230101000\n" + row + "\n")
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("regions", "import", str(path))
    report = capsys.readouterr().err
    assert f"3,{column}," in report
    assert reason in report
    assert not Region.objects.filter(level=5).exists()


def test_a_duplicate_code_in_the_file_is_an_error(db, tmp_path, capsys):
    path = write(tmp_path, HEADER + "500230101201,甲村,5,500230101000\n500230101201,乙村,5,500230101000\n")
    with pytest.raises(CommandError):
        call_command("regions", "import", str(path))
    assert "与第2行重复" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        ("", "empty.csv", "文件为空"),
        ("code,name\n500230101201,三元村\n", "short.csv", "缺少必需的列"),
        ("whatever", "regions.txt", "不支持的文件类型"),
    ],
)
def test_bad_files_get_a_clear_error(db, tmp_path, content, name, message):
    with pytest.raises(CommandError, match=message):
        call_command("regions", "import", str(write(tmp_path, content, name)))


def test_garbage_bytes_are_refused(db, tmp_path):
    path = tmp_path / "garbage.csv"
    path.write_bytes(bytes(range(256)) * 100)
    with pytest.raises(CommandError):
        call_command("regions", "import", str(path))


def test_a_gb18030_file_with_bom_free_chinese_headers_imports(db, tmp_path):
    path = write(tmp_path, HEADER + "500230101201,三元村,5,500230101000\n", encoding="gb18030")
    call_command("regions", "import", str(path))
    assert Region.objects.get(code="500230101201").name == "三元村"


def test_prefix_helpers():
    assert regioncode.normalise("500230") == "500230000000"
    assert regioncode.level_of("500230101201") == 5
    assert regioncode.level_of("500230101000") == 4
    assert regioncode.level_of("500100000000") == 2
    assert regioncode.prefix("500230101000") == "500230101"
    assert regioncode.prefix_range("500230") == ("500230000000", "500230999999")
    assert regioncode.is_community("500101001001")
    assert not regioncode.is_community("500230101201")
    with pytest.raises(regioncode.RegionCodeError):
        regioncode.normalise("50023x")


def test_prefix_lookups_use_the_index(db):
    qs = regions_under("500230", level=4)
    assert qs.filter(code="500230101000").exists()
    with connection.cursor() as cur:
        sql, params = qs.query.sql_with_params()
        explain = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
        cur.execute(explain + sql, params)
        plan = " ".join(str(r) for r in cur.fetchall()).lower()
    assert "index" in plan or "scan using" in plan or "bitmap" in plan


def test_region_path_runs_from_the_city_down(db):
    township = Region.objects.get(code="500230101000")
    with CaptureQueriesContext(connection) as queries:
        path = region_path(township)
    assert [r.name for r in path] == ["重庆市", "丰都县", "虎威镇"]
    assert len(queries) == 1


def test_the_api_lists_regions_by_parent_and_rejects_bad_codes(cast):
    client = client_for(cast["alice"])
    rows = client.get("/api/v1/regions/", {"parent": "500230", "level": "4"}).json()
    assert rows["count"] > 20
    assert all(r["parent"] == "500230000000" for r in rows["results"])
    bad = client.get("/api/v1/regions/", {"parent": "50x"})
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "bad_region_code"
    assert client.get("/api/v1/regions/", {"level": "9"}).json()["error"]["message"] == "级别应为1至5"
