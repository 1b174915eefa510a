from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from guanai.accounts import roles
from guanai.accounts.demo_users import demo_users_ensure
from guanai.accounts.models import User
from guanai.registry.demo import demo_proposals_processed
from guanai.registry.groups import groups_refresh
from guanai.registry.models import Child
from guanai.visits.demo import demo_visits_seed

DEMO_DISTRICTS = ["500230", "500101"]  # 丰都县 (rural) and 万州区 (urban and rural)


class Command(BaseCommand):
    help = "Everything for a first look: migrate, seed a small demo, create demo users, serve on 127.0.0.1:8000."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--children", type=int, default=3000)
        parser.add_argument("--addr", default="127.0.0.1:8000")
        parser.add_argument("--no-serve", action="store_true", help="prepare everything but do not start the server")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("guanai demo refuses to run with GUANAI_ENV=production (演示命令不能在生产环境运行)")
        self.stdout.write("1/4 迁移数据库 migrating …")
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("2/4 行政区划已随迁移加载 official regions loaded by migration")
        if Child.objects.filter(is_demo=True).exists():
            self.stdout.write("3/4 演示数据已存在，跳过生成 demo data present, not regenerated")
        else:
            self.stdout.write("3/4 生成演示数据 seeding demo data …")
            call_command("seed", children=options["children"], districts=",".join(DEMO_DISTRICTS), seed=2024)
        self.stdout.write("4/4 演示账号 demo accounts:")
        password = settings.GUANAI_DEMO_PASSWORD
        fresh = not User.objects.filter(is_demo=True).exists()
        rows = demo_users_ensure(DEMO_DISTRICTS)
        if fresh:
            # Derive every demo child's groups (and visit cadence), then give the district a visit history.
            today = timezone.localdate()
            # The demo district finished its census by 2024-06-30 (plan §三(二)); children are on the roll since.
            census = dt.datetime(2024, 6, 30, 9, tzinfo=dt.UTC)
            Child.objects.filter(is_demo=True, created_at__gt=census).update(created_at=census)
            ids = list(Child.objects.filter(is_demo=True).values_list("pk", flat=True))
            groups_refresh(child_ids=ids, today=today)
            demo_proposals_processed(today=today)
            demo_visits_seed(today=today)
        # Support (issue #7): a small service catalogue, needs, referrals and draft plans (idempotent).
        from guanai.support.demo import demo_support_seed

        demo_support_seed(today=timezone.localdate(), districts=DEMO_DISTRICTS)
        if fresh:
            # Department rosters for the demo population, imported and compared once (issue #6).
            from guanai.discovery.demo import demo_discovery_seed

            demo_discovery_seed(today=timezone.localdate())
            # Workforce ledger, trainings, organisations, milestones and six months of KPI snapshots (issue #8),
            # after support so that its needs and activities count.
            from guanai.oversight.demo import demo_oversight_seed

            demo_oversight_seed(today=timezone.localdate(), districts=DEMO_DISTRICTS)
        width = max(len(spec.username) for spec, _ in rows)
        for spec, region in rows:
            label = roles.get(spec.role).label
            self.stdout.write(f"  {spec.username.ljust(width)}  {password}  {label}（{region.name}）")
        if options["no_serve"]:
            return
        self.stdout.write(self.style.SUCCESS(f"打开 open http://{options['addr']}/ （Ctrl+C 停止）"))
        call_command("runserver", options["addr"], use_reloader=False)
