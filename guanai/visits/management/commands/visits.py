from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from guanai.accounts.models import User
from guanai.lib import regioncode
from guanai.lib.parse import ParseError, parse_date
from guanai.regions.models import Region
from guanai.visits.selectors import worklist_for
from guanai.visits.services import reminders_run


class Command(BaseCommand):
    help = (
        "Visits. `visits due --region CODE --on YYYY-MM-DD --format json|text` prints each child in scope with its "
        "obligations (kind, window start/end, due date, state); `visits remind [--on DATE]` creates reminders and "
        "escalations (idempotent; run daily)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        due = sub.add_parser("due", help="obligations of the children in a region on a date")
        due.add_argument("--region", required=True, help="region code (village, township, district…)")
        due.add_argument("--on", help="date (default: today)")
        due.add_argument("--format", choices=["json", "text"], default="text")
        remind = sub.add_parser("remind", help="create reminders and escalate overdue problems")
        remind.add_argument("--on", help="date (default: today)")

    def _day(self, value: str | None) -> Any:
        try:
            return parse_date(value) if value else timezone.localdate()
        except ParseError as exc:
            raise CommandError(exc.message) from None

    def handle(self, *args: Any, **options: Any) -> None:
        day = self._day(options.get("on"))
        if options["action"] == "remind":
            self.stdout.write(f"{day}: {reminders_run(today=day)} notification(s) created")
            return
        try:
            code = regioncode.normalise(options["region"])
        except regioncode.RegionCodeError as exc:
            raise CommandError(exc.message) from None
        region = Region.objects.filter(code=code).first()
        if region is None:
            raise CommandError(f"区划代码{code}不存在 (unknown region)")
        # An unsaved operator account scoped to the region, so the CLI reads through the same selectors.
        operator = User(username="cli", role="city_officer", region=region, is_active=True)
        rows: list[dict[str, Any]] = []
        for item in worklist_for(operator, today=day, limit=None):
            rows.append(
                {
                    "child_id": item.child.pk,
                    "child_no": item.child.child_no,
                    "village": item.child.village_id,
                    "raised_cadence_reasons": item.raised_reasons,
                    "obligations": [
                        {
                            "kind": o.kind,
                            "label": o.label,
                            "window_start": o.window_start.isoformat(),
                            "window_end": o.window_end.isoformat(),
                            "due": o.due.isoformat(),
                            "state": o.state,
                            "done_on": o.done_on.isoformat() if o.done_on else None,
                            "overdue_since": o.overdue_since.isoformat() if o.overdue_since else None,
                        }
                        for o in item.obligations
                    ],
                }
            )
        rows.sort(key=lambda r: r["child_id"])
        if options["format"] == "json":
            self.stdout.write(
                json.dumps({"region": code, "on": day.isoformat(), "children": rows}, ensure_ascii=False, indent=1)
            )
            return
        for r in rows:
            states = "  ".join(f"{o['label']}:{o['state']}(截止{o['due']})" for o in r["obligations"])
            self.stdout.write(f"{r['child_no']}  {states}")
