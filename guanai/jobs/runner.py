"""Background jobs without an extra service.

Job kinds register a function with ``@job_kind("name")``. ``job_enqueue`` stores a Job row; how it runs depends
on ``GUANAI_JOBS_MODE``:
- ``thread`` (the demo default): a daemon thread in the web process starts once the enqueueing transaction
  commits;
- ``inline`` (tests): runs at once in the caller's thread;
- ``worker`` (production): ``guanai jobs worker`` processes claim queued rows from the database
  (``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL), so any number of workers can run beside the web servers.

A job function must be idempotent: a failed job is rerun by enqueueing the same parameters again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.utils import timezone

from guanai.jobs.models import Job
from guanai.lib.errors import DomainError

log = logging.getLogger("guanai.jobs")
JobFn = Callable[["JobContext"], dict[str, Any] | None]
KINDS: dict[str, JobFn] = {}


def job_kind(name: str) -> Callable[[JobFn], JobFn]:
    def register(fn: JobFn) -> JobFn:
        KINDS[name] = fn
        return fn

    return register


@dataclass
class JobContext:
    job: Job
    _last_write: float = 0.0

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.job.params)

    def progress(self, done: int, total: int | None = None, message: str = "", *, force: bool = False) -> None:
        """Record progress; written at most every half second unless forced, to keep writes cheap."""
        self.job.progress = done
        if total is not None:
            self.job.total = total
        if message:
            self.job.message = message[:300]
        now = time.monotonic()
        if force or now - self._last_write >= 0.5:
            Job.objects.filter(pk=self.job.pk).update(
                progress=self.job.progress, total=self.job.total, message=self.job.message
            )
            self._last_write = now


def job_enqueue(
    *, kind: str, title: str, params: dict[str, Any], actor: Any = None, retry_of: Job | None = None
) -> Job:
    if kind not in KINDS:
        raise DomainError("unknown_job", f"未知的任务类型：{kind}")
    job = Job.objects.create(
        kind=kind,
        title=title,
        params=params,
        retry_of=retry_of,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    mode = getattr(settings, "GUANAI_JOBS_MODE", "thread")
    if mode == "inline":
        job_run(job.pk)
        job.refresh_from_db()
    elif mode == "thread":
        transaction.on_commit(lambda: _start_thread(job.pk))
    return job


def job_retry(*, job: Job, actor: Any) -> Job:
    if job.status != Job.Status.FAILED:
        raise DomainError("not_failed", "只有失败的任务可以重新运行")
    return job_enqueue(kind=job.kind, title=job.title, params=job.params, actor=actor, retry_of=job)


def _start_thread(job_id: Any) -> None:
    def target() -> None:
        try:
            job_run(job_id)
        finally:
            connection.close()

    threading.Thread(target=target, name=f"job-{job_id}", daemon=True).start()


def job_run(job_id: Any) -> None:
    """Run one queued job to its end, recording success or the reason for failure."""
    claimed = Job.objects.filter(pk=job_id, status=Job.Status.QUEUED).update(
        status=Job.Status.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        return
    job = Job.objects.get(pk=job_id)
    ctx = JobContext(job)
    try:
        result = KINDS[job.kind](ctx)
    except DomainError as exc:
        _finish(job, Job.Status.FAILED, error=exc.message, result=exc.detail if isinstance(exc.detail, dict) else None)
    except Exception as exc:
        log.exception("job %s (%s) failed", job.pk, job.kind)
        _finish(job, Job.Status.FAILED, error=f"系统错误，任务未完成，可重新运行（{type(exc).__name__}）")
    else:
        _finish(job, Job.Status.SUCCEEDED, result=result)


def _finish(job: Job, status: str, *, error: str = "", result: dict[str, Any] | None = None) -> None:
    Job.objects.filter(pk=job.pk).update(
        status=status,
        error=error,
        result=result,
        finished_at=timezone.now(),
        progress=job.progress,
        total=job.total,
        message=job.message,
    )


def worker_loop(*, once: bool = False, idle_sleep: float = 1.0, schedule: bool = True) -> int:
    """Claim and run queued jobs until stopped (or until none is left, with ``once``)."""
    done = 0
    while True:
        if not connection.in_atomic_block:  # inside a test's transaction the connection must stay open
            close_old_connections()
        if schedule:
            from guanai.jobs.schedule import schedule_tick

            schedule_tick()
        with transaction.atomic():
            qs = Job.objects.filter(status=Job.Status.QUEUED).order_by("created_at")
            if connection.vendor == "postgresql":
                qs = qs.select_for_update(skip_locked=True)
            job = qs.first()
        if job is None:
            if once:
                return done
            time.sleep(idle_sleep)
            continue
        job_run(job.pk)
        done += 1
