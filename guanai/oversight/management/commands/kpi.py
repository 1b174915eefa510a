from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from tqdm import tqdm

from guanai.lib.dates import add_months
from guanai.lib.errors import DomainError
from guanai.oversight.kpis import kpis, parse_period


class Command(BaseCommand):
    help = (
        "KPI snapshots. `kpi refresh [--period YYYY-MM|YYYY-Qn|YYYY] [--since YYYY-MM] [--only ID,ID]` computes every "
        "active indicator of rules/kpis.yaml for all regions (city, districts, townships, villages) for the periods "
        "containing the given month (default: today) — or for every month from --since to today — and replaces their "
        "snapshot rows. `kpi list` prints the definitions."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        refresh = sub.add_parser("refresh", help="recompute the snapshots")
        refresh.add_argument("--period", help="YYYY-MM, YYYY-Qn or YYYY (default: the current month)")
        refresh.add_argument("--since", help="YYYY-MM: backfill every month from this one to today")
        refresh.add_argument("--only", default="", help="comma-separated KPI ids")
        refresh.add_argument("--no-progress", action="store_true")
        sub.add_parser("list", help="the KPI definitions")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "list":
            for k in kpis().values():
                state = "" if k.active else f"  [待计算：{k.pending_reason}]"
                self.stdout.write(f"{k.id:32} {k.period:8} {k.label}（{k.source}）{state}")
            return
        from guanai.oversight.services import kpi_refresh

        today = timezone.localdate()
        days = self._days(options, today)
        only = [x.strip() for x in options["only"].split(",") if x.strip()]
        bar = (
            None
            if options["no_progress"]
            else tqdm(total=len(days) * len([k for k in kpis().values() if k.active]), unit="kpi", desc="KPI snapshots")
        )
        seen = 0

        def progress(done: int, total: int, message: str) -> None:
            nonlocal seen
            if bar is not None:
                bar.set_postfix_str(message[-30:])
                bar.update(max(0, done - seen))
                seen = done

        rows = 0
        try:
            for day in days:
                seen = 0
                result = kpi_refresh(day=day, today=today, only=only, progress=progress)
                rows += result["rows"]
        except DomainError as exc:
            raise CommandError(exc.message) from None
        finally:
            if bar is not None:
                bar.close()
        self.stdout.write(f"{len(days)} period(s), {rows} snapshot rows written")

    def _days(self, options: dict[str, Any], today: dt.date) -> list[dt.date]:
        try:
            if options.get("since"):
                kind, start = parse_period(options["since"])
                if kind != "month":
                    raise ValueError("--since 应为月份 YYYY-MM")
                days, day = [], start
                while day <= today:
                    days.append(min(add_months(day, 1) - dt.timedelta(days=1), today))
                    day = add_months(day, 1)
                return days
            if options.get("period"):
                kind, start = parse_period(options["period"])
                end = {"month": add_months(start, 1), "quarter": add_months(start, 3), "year": add_months(start, 12)}[
                    kind
                ]
                day = min(end - dt.timedelta(days=1), today)
                if day < start:
                    raise ValueError(f"期间{options['period']}尚未开始")
                return [day]
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        return [today]
