from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from guanai.lib.errors import DomainError
from guanai.regions.services import regions_import


class Command(BaseCommand):
    help = "Administrative divisions. `regions import FILE` loads a 统计用区划代码 CSV (code,name,level,parent_code)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="import a CSV with header code,name,level,parent_code")
        imp.add_argument("file", type=Path)
        imp.add_argument("--demo", action="store_true", help="mark imported regions as demo data")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            result = regions_import(actor=None, path=path, is_demo=options["demo"])
        except DomainError as exc:
            raise CommandError(f"{exc.message} ({exc.code})") from None
        if result.errors:
            writer = csv.writer(sys.stderr)
            writer.writerow(["行号", "列", "值", "原因"])
            for e in result.errors:
                writer.writerow([e.line, e.column, e.value, e.reason])
            raise CommandError(f"{len(result.errors)} invalid row(s); nothing was imported (有错误，未导入任何数据)")
        self.stdout.write(
            f"导入完成 imported: {result.created} created, {result.updated} updated, {result.unchanged} unchanged"
        )
