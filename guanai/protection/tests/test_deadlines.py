"""Deadlines: a routing not accepted within 24 hours, or without a first result within 7 days, goes up a level."""

from __future__ import annotations

import datetime as dt

import time_machine

from guanai.audit.models import AuditEvent
from guanai.jobs.models import Job
from guanai.jobs.runner import job_enqueue
from guanai.protection import services as svc
from guanai.protection.tests.conftest import NOW, file_report
from guanai.visits.models import Notification


def escalations(user):
    return list(Notification.objects.filter(user=user, kind="report.escalate").values_list("title", flat=True))


def test_a_missed_acceptance_deadline_escalates_to_the_city(pcast):
    report = file_report(pcast["hospital"])
    police = report.routings.get(department="police")
    civil = report.routings.get(department="civil_affairs")
    svc.report_accept(actor=pcast["charlie"], routing_pk=civil.pk, now=NOW + dt.timedelta(hours=2))

    with time_machine.travel(NOW + dt.timedelta(hours=23), tick=False):
        job_enqueue(kind="protection.deadlines", title="期限检查", params={})
    assert escalations(pcast["police_city"]) == []

    with time_machine.travel(NOW + dt.timedelta(hours=25), tick=False):
        job = job_enqueue(kind="protection.deadlines", title="期限检查", params={})
        assert job.status == Job.Status.SUCCEEDED, job.error
        assert job.result["超期上报"] == 1

    police.refresh_from_db()
    assert police.accept_escalated_at == NOW + dt.timedelta(hours=25)
    [title] = escalations(pcast["police_city"])
    assert "超过24小时未受理" in title
    assert escalations(pcast["diana"]) == []  # civil affairs accepted in time
    assert escalations(pcast["police_wanzhou"]) == []
    assert AuditEvent.objects.filter(action="report.escalate", object_id=str(police.pk)).count() == 1

    with time_machine.travel(NOW + dt.timedelta(hours=30), tick=False):
        assert svc.reports_escalate(now=NOW + dt.timedelta(hours=30))["escalated"] == 0  # once only


def test_no_first_result_within_seven_days_escalates(pcast):
    report = file_report(pcast["hospital"])
    civil = report.routings.get(department="civil_affairs")
    svc.report_accept(actor=pcast["charlie"], routing_pk=civil.pk, now=NOW + dt.timedelta(hours=1))

    result = svc.reports_escalate(now=NOW + dt.timedelta(days=7, minutes=1))

    civil.refresh_from_db()
    assert civil.result_escalated_at is not None
    assert any("超过7天未反馈处理结果" in t for t in escalations(pcast["diana"]))
    assert result["escalated"] == 3  # police: acceptance and result; civil affairs: result


def test_a_first_result_in_time_prevents_escalation(pcast):
    report = file_report(pcast["hospital"])
    for routing, who in (
        (report.routings.get(department="police"), "police"),
        (report.routings.get(department="civil_affairs"), "charlie"),
    ):
        svc.report_accept(actor=pcast[who], routing_pk=routing.pk, now=NOW + dt.timedelta(hours=1))
        svc.report_feedback(
            actor=pcast[who], routing_pk=routing.pk, text="已核实，正在处理", now=NOW + dt.timedelta(days=2)
        )
    assert svc.reports_escalate(now=NOW + dt.timedelta(days=8))["escalated"] == 0
