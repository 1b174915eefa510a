from __future__ import annotations

import datetime as dt

from guanai.jobs.models import Job, ScheduledRun
from guanai.jobs.schedule import DAILY, schedule_tick

TZ = dt.timezone(dt.timedelta(hours=8))


def _daily(first: int, last: int) -> list[str]:
    """The daily jobs whose hour is in [first, last], in schedule order."""
    return [kind for kind, _title, hour in DAILY if first <= hour <= last]


def test_daily_jobs_are_enqueued_once_per_day_after_their_hour(db):
    assert "registry.refresh" in _daily(0, 6) and "visits.remind" in _daily(7, 8)
    assert schedule_tick(dt.datetime(2026, 11, 29, 6, 0, tzinfo=TZ)) == [*_daily(0, 6), "protection.deadlines"]
    assert schedule_tick(dt.datetime(2026, 11, 29, 6, 40, tzinfo=TZ)) == []
    assert schedule_tick(dt.datetime(2026, 11, 29, 8, 0, tzinfo=TZ)) == [*_daily(7, 8), "protection.deadlines"]
    assert schedule_tick(dt.datetime(2026, 11, 29, 8, 59, tzinfo=TZ)) == []
    assert ScheduledRun.objects.count() == len(_daily(0, 8)) + 2
    assert set(Job.objects.values_list("status", flat=True)) == {"succeeded"}  # inline in tests
    assert schedule_tick(dt.datetime(2026, 11, 30, 8, 0, tzinfo=TZ)) == [*_daily(0, 8), "protection.deadlines"]


def test_the_daily_refresh_job_reports_what_it_did(db):
    schedule_tick(dt.datetime(2026, 11, 29, 6, 0, tzinfo=TZ))
    job = Job.objects.get(kind="registry.refresh")
    assert job.result == {"日期": "2026-11-29", "检查儿童": 0, "类别变化": 0}
