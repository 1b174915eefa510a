from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from guanai.accounts.models import User
from guanai.audit.services import access_record
from guanai.lib import regioncode
from guanai.regions.models import Region


class Command(BaseCommand):
    help = (
        "Exports for the national child-welfare information system: `national export --kind children|directors "
        "--region CODE --out FILE.csv`. The field list is ours (the official interface is not public): see "
        "guanai/oversight/national.py and docs/oversight.md. Children's files carry full ID numbers; every export is "
        "recorded in the access log."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        export = sub.add_parser("export")
        export.add_argument("--kind", choices=["children", "directors"], required=True)
        export.add_argument("--region", required=True)
        export.add_argument("--out", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        from guanai.oversight.national import export_children, export_directors
        from guanai.registry.selectors import children_for

        try:
            code = regioncode.normalise(options["region"])
        except regioncode.RegionCodeError as exc:
            raise CommandError(exc.message) from None
        region = Region.objects.filter(code=code).first()
        if region is None:
            raise CommandError(f"区划代码{code}不存在 (unknown region)")
        out = Path(options["out"])
        today = timezone.localdate()
        operator = User(username="cli", role="city_officer", region=region, is_active=True)
        with out.open("w", encoding="utf-8-sig", newline="") as fh:
            if options["kind"] == "children":
                n = export_children(fh, children_for(operator), today=today)
            else:
                n = export_directors(fh, region.prefix, today=today)
        with transaction.atomic():
            access_record(actor=None, action=f"national.export.{options['kind']}", object_type="region", object_id=code)
        self.stdout.write(f"{out}: {n} rows ({options['kind']}, {region.name})")
