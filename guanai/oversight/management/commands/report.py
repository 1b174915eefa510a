from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from guanai.lib.errors import DomainError


class Command(BaseCommand):
    help = (
        "Reports. `report annual --year YYYY --region CODE --out FILE` writes the annual progress report of a district "
        "(or, with the city's code 500000000000, of the city rolling up all districts) due to the city by 1 December. "
        "FILE ending in .pdf gives the PDF, .xlsx the Excel workbook; --also-xlsx/--also-pdf writes the other one "
        "beside it. --shared writes the 对外 edition (small counts suppressed)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        annual = sub.add_parser("annual", help="the annual progress report (PDF or Excel)")
        annual.add_argument("--year", type=int, required=True)
        annual.add_argument("--region", required=True, help="district code (6 or 12 digits) or the city's code")
        annual.add_argument("--out", required=True, help="FILE.pdf or FILE.xlsx")
        annual.add_argument("--shared", action="store_true", help="suppress counts < 5 (对外版)")
        annual.add_argument("--also-other", action="store_true", help="write the other format beside FILE too")

    def handle(self, *args: Any, **options: Any) -> None:
        from guanai.oversight.annual import annual_report_data, annual_report_pdf, annual_report_xlsx, report_region

        out = Path(options["out"])
        suffix = out.suffix.lower()
        if suffix not in (".pdf", ".xlsx"):
            raise CommandError(f"输出文件应以 .pdf 或 .xlsx 结尾：{out}")
        try:
            region = report_region(options["region"])
            data = annual_report_data(region, options["year"], today=timezone.localdate(), shared=options["shared"])
            targets = [out]
            if options["also_other"]:
                targets.append(out.with_suffix(".xlsx" if suffix == ".pdf" else ".pdf"))
            for target in targets:
                body = annual_report_pdf(data) if target.suffix.lower() == ".pdf" else annual_report_xlsx(data)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(body)
                self.stdout.write(f"{target}: {len(body)} bytes ({region.name} {options['year']})")
        except DomainError as exc:
            raise CommandError(exc.message) from None
