"""``guanai rosters import --source SOURCE FILE``: import a department roster (templates in docs/rosters.md)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError
from tqdm import tqdm

from guanai.discovery.importer import roster_import
from guanai.lib.errors import DomainError
from guanai.lib.rosters import SOURCES

SHOWN_ISSUES = 20


class Command(BaseCommand):
    help = "Department rosters for discovery. `rosters import --source SOURCE FILE` (.csv/.xlsx, Chinese headers)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="import a roster file")
        imp.add_argument("--source", required=True, choices=list(SOURCES), help="roster source")
        imp.add_argument("file", type=Path)
        imp.add_argument("--report", type=Path, help="write the bad-row report (CSV) here")

    def handle(self, *args: Any, **options: Any) -> None:
        bar = tqdm(total=0, unit="行", disable=None, file=sys.stderr)

        def progress(done: int, total: int, message: str) -> None:
            bar.total = total
            bar.set_description(message)
            bar.update(max(0, done - bar.n))

        try:
            result = roster_import(path=options["file"], source=options["source"], progress=progress)
        except DomainError as exc:
            raise CommandError(exc.message) from None
        except DatabaseError as exc:
            raise CommandError(f"写入数据库失败，未导入任何数据（{type(exc).__name__}）") from exc
        finally:
            bar.close()
        for issue in result.issues[:SHOWN_ISSUES]:
            state = "未导入" if issue.rejected else "已导入"
            self.stderr.write(f"第{issue.row_no}行 {issue.column}：{issue.reason}（{state}）")
        if len(result.issues) > SHOWN_ISSUES:
            self.stderr.write(f"……另有{len(result.issues) - SHOWN_ISSUES}处问题，见问题报告（--report）")
        if options.get("report") and result.created:
            from guanai.discovery.importer import issues_report

            options["report"].write_text("\ufeff" + issues_report(result.batch), encoding="utf-8")
        self.stdout.write(result.summary())
