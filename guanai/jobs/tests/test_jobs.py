from __future__ import annotations

import pytest
from django.test import override_settings

from conftest import client_for
from guanai.jobs.models import Job
from guanai.jobs.runner import JobContext, job_enqueue, job_kind, job_retry, worker_loop
from guanai.lib.errors import DomainError

CALLS: list[dict] = []


@job_kind("test.count")
def count_job(ctx: JobContext) -> dict:
    CALLS.append(ctx.params)
    if ctx.params.get("fail") == "domain":
        raise DomainError("bad_file", "文件为空")
    if ctx.params.get("fail") == "crash":
        raise ZeroDivisionError
    for i in range(1, 4):
        ctx.progress(i, 3, f"处理第{i}项")
    return {"处理": 3}


def test_an_inline_job_runs_and_records_its_result(cast):
    job = job_enqueue(kind="test.count", title="测试", params={"n": 3}, actor=cast["charlie"])
    assert job.status == Job.Status.SUCCEEDED
    assert job.percent == 100
    assert job.result == {"处理": 3}
    assert job.finished_at is not None


def test_a_domain_failure_says_why_in_chinese(cast):
    job = job_enqueue(kind="test.count", title="测试", params={"fail": "domain"}, actor=cast["charlie"])
    assert job.status == Job.Status.FAILED
    assert job.error == "文件为空"


def test_a_crash_fails_the_job_without_leaking_details_and_can_be_rerun(cast):
    job = job_enqueue(kind="test.count", title="测试", params={"fail": "crash"}, actor=cast["charlie"])
    assert job.status == Job.Status.FAILED
    assert "可重新运行" in job.error
    again = job_retry(job=job, actor=cast["charlie"])
    assert again.retry_of == job
    assert again.params == job.params


def test_only_failed_jobs_can_be_rerun(cast):
    job = job_enqueue(kind="test.count", title="测试", params={}, actor=cast["charlie"])
    with pytest.raises(DomainError):
        job_retry(job=job, actor=cast["charlie"])


def test_an_unknown_kind_is_refused(cast):
    with pytest.raises(DomainError):
        job_enqueue(kind="nope", title="x", params={}, actor=cast["charlie"])


@override_settings(GUANAI_JOBS_MODE="worker")
def test_a_worker_claims_queued_jobs(cast):
    job = job_enqueue(kind="test.count", title="测试", params={}, actor=cast["charlie"])
    assert job.status == Job.Status.QUEUED
    assert worker_loop(once=True, schedule=False) == 1
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED


def test_the_job_page_shows_progress_and_polls_until_done(cast):
    with override_settings(GUANAI_JOBS_MODE="worker"):
        job = job_enqueue(kind="test.count", title="导入测试", params={}, actor=cast["charlie"])
    client = client_for(cast["charlie"])
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert "排队中" in page and 'hx-trigger="every 1s"' in page
    worker_loop(once=True, schedule=False)
    fragment = client.get(f"/jobs/{job.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert "已完成" in fragment and "every 1s" not in fragment


def test_someone_elses_job_is_not_found(cast):
    job = job_enqueue(kind="test.count", title="测试", params={}, actor=cast["charlie"])
    assert client_for(cast["alice"]).get(f"/jobs/{job.pk}/").status_code == 404


def test_a_failed_job_page_offers_a_rerun(cast):
    job = job_enqueue(kind="test.count", title="测试", params={"fail": "domain"}, actor=cast["charlie"])
    client = client_for(cast["charlie"])
    assert "重新运行" in client.get(f"/jobs/{job.pk}/").content.decode()
    response = client.post(f"/jobs/{job.pk}/rerun/")
    assert response.status_code == 302
    assert Job.objects.filter(retry_of=job).count() == 1
