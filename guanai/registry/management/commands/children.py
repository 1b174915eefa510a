"""``guanai children import FILE [--dry-run]`` and ``guanai children export --out FILE.xlsx [--region CODE]``.

The operator's tool: imports any village and exports full ID numbers; every export is recorded in the audit and
access logs. The template and rules are in docs/import-children.md.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, transaction
from django.utils import timezone
from tqdm import tqdm

from guanai.accounts.scope import in_prefix
from guanai.audit.services import access_record, audit_record
from guanai.lib import regioncode
from guanai.lib.parse import ParseError, parse_date
from guanai.regions.models import Region
from guanai.registry.exporter import children_export
from guanai.registry.importer import children_import
from guanai.registry.models import Child

SHOWN_ERRORS = 20


class Command(BaseCommand):
    help = (
        "Children's roster. `children import FILE` loads a .csv/.xlsx with the Chinese template headers (all rows "
        "valid or nothing is written; errors go to FILE.errors.csv); `children export --out FILE.xlsx` writes the "
        "roster with full ID numbers (recorded in the audit log)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="import a roster (.csv or .xlsx)")
        imp.add_argument("file", type=Path)
        imp.add_argument("--dry-run", action="store_true", help="validate only; never write to the database")
        imp.add_argument("--date", help="date the groups are derived on (default: today in Asia/Shanghai)")
        exp = sub.add_parser("export", help="export the roster as .xlsx (full ID numbers)")
        exp.add_argument("--out", required=True, type=Path, help="output file, .xlsx")
        exp.add_argument("--region", default="", help="only children under this region code (e.g. 500230)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "import":
            self._import(options["file"], dry_run=options["dry_run"], date=options["date"])
        else:
            self._export(options["out"], region=options["region"])

    def _today(self, text: str | None) -> dt.date:
        if not text:
            return timezone.localdate()
        try:
            return parse_date(text)
        except ParseError as exc:
            raise CommandError(exc.message) from None

    def _import(self, path: Path, *, dry_run: bool, date: str | None) -> None:
        today = self._today(date)
        bar = tqdm(total=0, unit="行", disable=None, file=sys.stderr)

        def progress(done: int, total: int, message: str) -> None:
            bar.total = total
            bar.set_description(message)
            bar.update(max(0, done - bar.n))

        try:
            result = children_import(path=path, actor=None, today=today, dry_run=dry_run, progress=progress)
        except DatabaseError as exc:
            raise CommandError(f"写入数据库失败，未导入任何数据（{type(exc).__name__}）") from exc
        finally:
            bar.close()
        if result.errors:
            for e in result.errors[:SHOWN_ERRORS]:
                where = f"第{e.line}行" + (f" {e.column}" if e.column else "")
                self.stderr.write(f"{where}：{e.reason}" + (f"（{e.value}）" if e.value else ""))
            if len(result.errors) > SHOWN_ERRORS:
                self.stderr.write(f"……另有{len(result.errors) - SHOWN_ERRORS}处错误，见错误报告")
            raise CommandError(result.summary())
        self.stdout.write(result.summary())

    def _export(self, out: Path, *, region: str) -> None:
        if out.suffix.lower() != ".xlsx":
            raise CommandError("导出文件应以.xlsx结尾")
        qs = Child.objects.all()
        prefix = ""
        if region:
            try:
                code = regioncode.normalise(region)
            except regioncode.RegionCodeError as exc:
                raise CommandError(exc.message) from None
            if not Region.objects.filter(code=code).exists():
                raise CommandError(f"区划代码{code}不存在")
            prefix = regioncode.prefix(code)
            qs = qs.filter(in_prefix("village_id", prefix))
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = out.with_name(out.name + ".partial")
        total = qs.count()
        with tqdm(total=total, unit="名", disable=None, file=sys.stderr, desc="导出儿童名册"):
            count = children_export(qs, partial, reveal=True)
        os.replace(partial, out)  # readers never see a half-written file
        with transaction.atomic():
            access_record(
                actor=None, action="children.export", object_type="export", object_id=out.name[:64], field="id_number"
            )
            audit_record(
                actor=None,
                action="children.export",
                object_type="export",
                object_id=out.name[:64],
                summary=f"命令行导出儿童名册 {out.name}：{count}名（含完整身份证号）"
                + (f"，区划{prefix}" if prefix else ""),
                after={"file": str(out), "rows": count, "region": prefix, "reveal": True},
            )
        self.stdout.write(f"已导出{count}名儿童到{out}（含完整身份证号和电话，请妥善保管）")
