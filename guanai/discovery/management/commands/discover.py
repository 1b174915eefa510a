"""``guanai discover run [--region CODE]``, ``guanai discover export-links --out FILE.csv`` and
``guanai discover export-findings --out FILE.csv``. The operator's tools: the link export holds full ID numbers
and is recorded in the audit and access logs."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from tqdm import tqdm

from guanai.discovery.engine import discovery_run
from guanai.discovery.exports import findings_export, links_export
from guanai.lib.errors import DomainError
from guanai.lib.parse import ParseError, parse_date


class Command(BaseCommand):
    help = "Cross-department comparison (数据比对) and proactive discovery: run, export-links, export-findings."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        run = sub.add_parser("run", help="link the imported rosters and apply the discovery rules")
        run.add_argument("--region", default="", help="only findings under this region code (e.g. 500230)")
        run.add_argument("--date", help="the day the rules are applied on (default: today, Asia/Shanghai)")
        run.add_argument("--retrain", action="store_true", help="retrain the per-source linkage models")
        links = sub.add_parser("export-links", help="export the links (full ID numbers; audited)")
        links.add_argument("--out", required=True, type=Path)
        findings = sub.add_parser("export-findings", help="export the findings")
        findings.add_argument("--out", required=True, type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "run":
            self._run(options)
        elif action == "export-links":
            self._export(options["out"], links_export, "条链接（含完整身份证号，请妥善保管）")
        else:
            self._export(options["out"], findings_export, "条线索")

    def _run(self, options: dict[str, Any]) -> None:
        try:
            on = parse_date(options["date"]) if options.get("date") else timezone.localdate()
        except ParseError as exc:
            raise CommandError(exc.message) from None
        bar = tqdm(total=5, disable=None, file=sys.stderr)

        def progress(done: int, total: int, message: str) -> None:
            bar.set_description(message)
            bar.update(max(0, done - bar.n))

        try:
            run = discovery_run(on=on, region=options["region"], retrain=options["retrain"], progress=progress)
        except DomainError as exc:
            raise CommandError(exc.message) from None
        finally:
            bar.close()
        self.stdout.write(run.stats["summary"])
        self.stdout.write("用时（秒）：" + "，".join(f"{k} {v}" for k, v in run.timings.items()))

    def _export(self, out: Path, fn: Any, unit: str) -> None:
        if out.suffix.lower() != ".csv":
            raise CommandError("导出文件应以.csv结尾")
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = out.with_name(out.name + ".partial")
        count = fn(partial, actor=None)
        os.replace(partial, out)
        self.stdout.write(f"已导出{count}{unit}到{out}")
