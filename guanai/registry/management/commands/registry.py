from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from tqdm import tqdm

from guanai.lib.parse import ParseError, parse_date
from guanai.registry.groups import CHUNK, children_due_for_refresh, groups_refresh
from guanai.registry.models import Child


class Command(BaseCommand):
    help = (
        "Registry maintenance. `registry refresh` re-derives the groups of children whose birthdays or parents' "
        "statuses cross a boundary today (run daily, e.g. from cron at 00:30); `--all` re-derives everyone "
        "(after a rule change)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        refresh = sub.add_parser("refresh", help="re-derive groups that change with the passing of time")
        refresh.add_argument("--date", help="derivation date (default: today in Asia/Shanghai)")
        refresh.add_argument("--all", action="store_true", help="re-derive every child not exited")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            today: dt.date = parse_date(options["date"]) if options["date"] else timezone.localdate()
        except ParseError as exc:
            raise CommandError(exc.message) from None
        if options["all"]:
            ids = list(Child.objects.exclude(status=Child.Status.EXITED).values_list("pk", flat=True))
        else:
            ids = children_due_for_refresh(today)
        changed = 0
        with tqdm(total=len(ids), unit="children", disable=None) as bar:
            for start in range(0, len(ids), CHUNK):
                chunk = ids[start : start + CHUNK]
                changed += groups_refresh(child_ids=chunk, today=today)
                bar.update(len(chunk))
        self.stdout.write(f"{today}: {len(ids)} child(ren) re-derived, {changed} changed")
