"""Loading division codes: the official list shipped with the code, and 统计用区划代码 CSV imports."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction

from guanai.audit.services import audit_record
from guanai.lib import regioncode
from guanai.lib.errors import DomainError
from guanai.lib.tabular import TabularError, read_table
from guanai.regions.models import Region

OFFICIAL_FILE = Path(__file__).resolve().parent / "data" / "chongqing_divisions.csv"
COLUMNS = ["code", "name", "level", "parent_code"]
# Historical county codes kept so that old ID numbers and old records still resolve (merged into 两江新区).
HISTORICAL = [("500105000000", "江北区"), ("500112000000", "渝北区")]
LIANGJIANG = "500157000000"


@dataclass
class RowError:
    line: int
    column: str
    value: str
    reason: str


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)


@dataclass(frozen=True)
class DivisionRow:
    line: int
    code: str
    name: str
    level: int
    parent_code: str | None


def official_rows() -> list[DivisionRow]:
    with OFFICIAL_FILE.open(encoding="utf-8") as fh:
        return [
            DivisionRow(n, r["code"], r["name"], int(r["level"]), r["parent_code"] or None)
            for n, r in enumerate(csv.DictReader(fh), start=2)
        ]


def load_official(region_model: Any) -> int:
    """Insert the official Chongqing divisions missing from the table. Used by the data migration."""
    existing = set(region_model.objects.values_list("code", flat=True))
    todo = [r for r in official_rows() if r.code not in existing]
    region_model.objects.bulk_create(
        [region_model(code=r.code, name=r.name, level=r.level, source="official") for r in todo],
        batch_size=500,
    )
    for r in todo:
        if r.parent_code:
            region_model.objects.filter(code=r.code).update(parent_id=r.parent_code)
    for code, name in HISTORICAL:
        if code not in existing:
            region_model.objects.create(
                code=code,
                name=name,
                level=3,
                parent_id="500000000000",
                is_active=False,
                successor_id=LIANGJIANG,
                source="historical",
            )
    return len(todo)


def _validate(rows: list[DivisionRow], known: dict[str, int]) -> list[RowError]:
    errors: list[RowError] = []
    levels = dict(known)
    seen: dict[str, int] = {}
    for r in rows:
        levels.setdefault(r.code, r.level)
    for r in rows:
        if r.code in seen:
            errors.append(RowError(r.line, "code", r.code, f"区划代码与第{seen[r.code]}行重复"))
            continue
        seen[r.code] = r.line
        if regioncode.level_of(r.code) != r.level and not (r.level == 2 and regioncode.level_of(r.code) <= 2):
            errors.append(
                RowError(
                    r.line,
                    "level",
                    str(r.level),
                    f"级别与区划代码不符（代码表示{regioncode.level_of(r.code)}级）",
                )
            )
        if r.level == 1:
            if r.parent_code:
                errors.append(RowError(r.line, "parent_code", r.parent_code, "省级区划不应有上级"))
            continue
        if not r.parent_code:
            errors.append(RowError(r.line, "parent_code", "", "缺少上级区划代码"))
            continue
        parent_level = levels.get(r.parent_code)
        if parent_level is None:
            errors.append(
                RowError(r.line, "parent_code", r.parent_code, "上级区划代码不存在（既不在系统中也不在文件中）")
            )
        elif parent_level >= r.level:
            errors.append(RowError(r.line, "parent_code", r.parent_code, "上级区划的级别应高于本级"))
        elif not r.code.startswith(regioncode.prefix(r.parent_code, parent_level)):
            errors.append(RowError(r.line, "parent_code", r.parent_code, "区划代码不以上级区划代码开头"))
    return errors


def _parse(table_rows: list[tuple[int, dict[str, str]]]) -> tuple[list[DivisionRow], list[RowError]]:
    rows: list[DivisionRow] = []
    errors: list[RowError] = []
    for line, raw in table_rows:
        code, name, level_text, parent = raw["code"], raw["name"], raw["level"], raw["parent_code"]
        ok = True
        if not (len(code) == 12 and code.isdigit()):
            errors.append(RowError(line, "code", code, "区划代码应为12位数字"))
            ok = False
        if not name:
            errors.append(RowError(line, "name", name, "名称不能为空"))
            ok = False
        elif len(name) > 100:
            errors.append(RowError(line, "name", name[:20], "名称过长（最多100字）"))
            ok = False
        if level_text not in {"1", "2", "3", "4", "5"}:
            errors.append(RowError(line, "level", level_text, "级别应为1至5（1省 2市 3区县 4乡镇 5村社区）"))
            ok = False
        if parent and not (len(parent) == 12 and parent.isdigit()):
            errors.append(RowError(line, "parent_code", parent, "上级区划代码应为12位数字"))
            ok = False
        if ok:
            rows.append(DivisionRow(line, code, name, int(level_text), parent or None))
    return rows, errors


def regions_import(*, actor: Any, path: Path, is_demo: bool = False) -> ImportResult:
    """Load a 统计用区划代码 CSV (``code,name,level,parent_code``). All rows are valid or nothing is written;
    re-importing the same file changes nothing."""
    try:
        table = read_table(path, required=COLUMNS)
    except TabularError as exc:
        raise DomainError("bad_file", exc.message) from None
    rows, errors = _parse(table.rows)
    known = dict(Region.objects.values_list("code", "level"))
    errors += _validate(rows, known)
    result = ImportResult(errors=sorted(errors, key=lambda e: e.line))
    if errors:
        return result
    with transaction.atomic():
        existing = {r.code: r for r in Region.objects.filter(code__in=[r.code for r in rows])}
        new: list[Region] = []
        changed: list[Region] = []
        for r in sorted(rows, key=lambda r: r.level):
            region = existing.get(r.code)
            if region is None:
                new.append(
                    Region(
                        code=r.code,
                        name=r.name,
                        level=r.level,
                        parent_id=r.parent_code,
                        is_demo=is_demo,
                        source="demo" if is_demo else "import",
                    )
                )
            elif (region.name, region.level, region.parent_id) != (r.name, r.level, r.parent_code):
                region.name, region.level, region.parent_id = r.name, r.level, r.parent_code
                changed.append(region)
        # Parents first: rows are sorted by level, and a file's own parents are inserted before children.
        Region.objects.bulk_create(new, batch_size=1000)
        Region.objects.bulk_update(changed, ["name", "level", "parent"], batch_size=1000)
        result.created, result.updated = len(new), len(changed)
        result.unchanged = len(rows) - len(new) - len(changed)
        if new or changed:
            audit_record(
                actor=actor,
                action="region.import",
                object_type="region",
                summary=f"导入区划 {path.name}：新增{result.created}，更新{result.updated}",
                after={"file": path.name, "created": result.created, "updated": result.updated},
            )
    return result
