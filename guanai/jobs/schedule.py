"""Daily and hourly jobs without cron: each is enqueued once per period, whoever notices first.

In the demo (``GUANAI_JOBS_MODE=thread``) the web process checks at most once a minute on a request; in
production every ``guanai jobs worker`` checks between jobs. A unique (name, day) row makes the enqueue
idempotent across processes, so a day's run happens once however many processes look.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from guanai.jobs.models import ScheduledRun
from guanai.jobs.runner import job_enqueue

log = logging.getLogger("guanai.jobs")

# (job kind, title, hour of day in Asia/Shanghai after which it runs)
DAILY: list[tuple[str, str, int]] = [
    ("registry.refresh", "每日更新儿童类别（生日、状况到期）", 0),
    ("visits.remind", "每日走访提醒和逾期问题督办", 7),
    ("support.needs_refresh", "每日从档案和救助保障比对发现需求", 1),
    # oversight (issue #8): KPI snapshots for the dashboards, then the annual report reminder (November only)
    ("oversight.kpi_refresh", "每日更新督导指标快照", 1),
    ("oversight.annual_remind", "年度工作进展报告报送提醒", 8),
]
# (job kind, title): enqueued once an hour — the 24-hour acceptance deadline of mandatory reports needs it.
HOURLY: list[tuple[str, str]] = [
    ("protection.deadlines", "强制报告期限检查、通知补发、复评和任务提醒"),
]
_last_tick = 0.0


def schedule_tick(now: dt.datetime | None = None) -> list[str]:
    """Enqueue the daily jobs that are due and not yet enqueued today. Returns the kinds enqueued."""
    local = timezone.localtime(now or timezone.now())
    started = []
    due = [
        (kind, kind, f"{title} {local.date()}", {"day": local.date().isoformat()})
        for kind, title, hour in DAILY
        if local.hour >= hour
    ]
    due += [(kind, f"{kind}@{local:%H}", f"{title} {local:%Y-%m-%d %H}:00", {}) for kind, title in HOURLY]
    for kind, run_name, title, params in due:
        try:
            with transaction.atomic():
                ScheduledRun.objects.create(name=run_name, day=local.date())
                job_enqueue(kind=kind, title=title, params=params)
        except IntegrityError:
            continue  # another process enqueued it already
        started.append(kind)
    return started


class ScheduleMiddleware:
    """In the embedded demo, let requests drive the daily schedule (checked at most once a minute)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        global _last_tick
        if settings.GUANAI_JOBS_MODE == "thread" and time.monotonic() - _last_tick > 60:
            _last_tick = time.monotonic()
            try:
                schedule_tick()
            except Exception:  # the schedule must never break a page
                log.exception("daily schedule check failed")
        return self.get_response(request)
