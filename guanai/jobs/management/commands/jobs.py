from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from guanai.jobs.runner import worker_loop


class Command(BaseCommand):
    help = "Background jobs. `guanai jobs worker` runs queued jobs (production: GUANAI_JOBS_MODE=worker)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        worker = sub.add_parser("worker", help="run queued jobs until stopped")
        worker.add_argument("--once", action="store_true", help="exit when no queued job is left")

    def handle(self, *args: Any, **options: Any) -> None:
        n = worker_loop(once=options["once"])
        self.stdout.write(f"ran {n} job(s)")
