"""Mandatory reports: filing, routing by the child's location, acceptance, transfer, feedback, confidentiality."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import DISTRICT, OTHER_DISTRICT, VILLAGE
from guanai.audit.models import AccessEvent, AuditEvent
from guanai.lib.errors import DomainError, NotFound, PermissionRefused
from guanai.protection import services as svc
from guanai.protection.models import Report, ReportRouting
from guanai.protection.selectors import reports_filed_by, routings_inbox
from guanai.protection.tests.conftest import NOW, file_report
from guanai.registry.models import TimelineEvent
from guanai.visits.models import Notification

LATER = NOW + dt.timedelta(hours=1)


def test_it_routes_to_the_jurisdiction_of_the_childs_location_not_the_reporters(
    pcast, django_capture_on_commit_callbacks
):
    # given a school in 万州区 reporting a child who lives in 丰都县
    with django_capture_on_commit_callbacks(execute=True):
        report = file_report(pcast["school"])

    routings = {r.department: r.region_id for r in report.routings.all()}
    assert routings == {"police": DISTRICT, "civil_affairs": DISTRICT, "education": DISTRICT}
    assert report.school_involved and report.reporter_kind == "school"
    notified = set(Notification.objects.filter(kind="report.received").values_list("user__username", flat=True))
    assert notified == {"police", "charlie", "charlie2", "education"}
    assert not routings_inbox(pcast["police_wanzhou"]).exists()
    assert routings_inbox(pcast["police"]).count() == 1


def test_a_registry_child_routes_by_the_childs_village(pcast, children):
    report = file_report(pcast["alice"], child_pk=children["village"].pk, region_code="")
    assert report.region_id == VILLAGE
    assert {r.department for r in report.routings.all()} == {"police", "civil_affairs"}
    line = TimelineEvent.objects.get(child=children["village"], kind="report.file")
    assert line.actor_username == "系统"  # the child's file does not name the reporter


def test_a_reporter_cannot_pick_a_child_outside_their_scope(pcast, children):
    with pytest.raises(NotFound):
        file_report(pcast["alice"], child_pk=children["other_district"].pk)


def test_it_refuses_a_report_with_no_situation_ticked(pcast):
    with pytest.raises(DomainError) as exc:
        file_report(pcast["hospital"], situations=[])
    assert exc.value.detail == {"situations": "请至少勾选一种需要报告的情形"}
    assert not Report.objects.exists()


def test_it_refuses_a_role_without_report_file(pcast):
    with pytest.raises(PermissionRefused):
        file_report(pcast["police"])


def test_a_resubmission_with_the_same_key_returns_the_first_report(pcast):
    first = file_report(pcast["hospital"], client_key="k-1")
    again = file_report(pcast["hospital"], client_key="k-1")
    assert first.pk == again.pk and Report.objects.count() == 1


def test_the_reporters_identity_is_stored_encrypted(pcast):
    report = file_report(pcast["hospital"], reporter_name="张医生", reporter_phone="13912345678")
    assert "13912345678" not in report.reporter_identity_enc
    assert "张医生" not in report.reporter_identity_enc
    assert "13912345678" not in str(AuditEvent.objects.get(action="report.file").after)


def test_a_report_is_durable_even_if_notification_fails(pcast, monkeypatch, django_capture_on_commit_callbacks):
    def broken(*args, **kwargs):
        raise RuntimeError("notification store unavailable")

    monkeypatch.setattr(svc, "_notify_users", broken)
    with django_capture_on_commit_callbacks(execute=True):
        report = file_report(pcast["hospital"])

    assert Report.objects.filter(pk=report.pk).exists()
    assert ReportRouting.objects.filter(report=report, notified_at__isnull=True).count() == 2
    assert not Notification.objects.exists()

    # the deadline job retries until delivered
    monkeypatch.undo()
    assert svc.reports_escalate(now=LATER) == {"delivered": 2, "escalated": 0}
    assert not ReportRouting.objects.filter(report=report, notified_at__isnull=True).exists()
    assert Notification.objects.filter(user=pcast["police"], kind="report.received").count() == 1
    assert svc.reports_escalate(now=LATER)["delivered"] == 0


def test_with_no_district_account_the_city_receives_the_report(pcast, django_capture_on_commit_callbacks):
    pcast["police"].delete()
    with django_capture_on_commit_callbacks(execute=True):
        file_report(pcast["hospital"])
    assert Notification.objects.filter(user=pcast["police_city"], kind="report.received").exists()


def test_police_of_the_district_accepts(pcast):
    report = file_report(pcast["hospital"])
    routing = report.routings.get(department="police")
    svc.report_accept(actor=pcast["police"], routing_pk=routing.pk, now=LATER)
    routing.refresh_from_db()
    report.refresh_from_db()
    assert (routing.status, routing.accepted_by) == ("accepted", pcast["police"])
    assert report.status == "accepted"
    assert AuditEvent.objects.filter(action="report.accept", object_id=str(routing.pk)).exists()


@pytest.mark.parametrize("who", ["police_wanzhou", "charlie", "alice", "school"])
def test_acceptance_outside_the_jurisdiction_or_department_is_refused(pcast, who):
    report = file_report(pcast["hospital"])
    routing = report.routings.get(department="police")
    with pytest.raises(PermissionRefused):
        svc.report_accept(actor=pcast[who], routing_pk=routing.pk, now=LATER)
    routing.refresh_from_db()
    assert routing.status == "pending"


def test_a_routing_cannot_be_accepted_twice(pcast):
    routing = file_report(pcast["hospital"]).routings.get(department="police")
    svc.report_accept(actor=pcast["police"], routing_pk=routing.pk, now=LATER)
    with pytest.raises(DomainError) as exc:
        svc.report_accept(actor=pcast["police"], routing_pk=routing.pk, now=LATER)
    assert exc.value.code == "not_pending"


def test_a_transfer_to_another_jurisdiction_creates_a_new_routing(pcast, django_capture_on_commit_callbacks):
    routing = file_report(pcast["hospital"]).routings.get(department="police")
    with django_capture_on_commit_callbacks(execute=True):
        new = svc.report_transfer(
            actor=pcast["police"],
            routing_pk=routing.pk,
            reason="儿童已随父母到万州区居住",
            region_code=OTHER_DISTRICT,
            now=LATER,
        )
    routing.refresh_from_db()
    assert (routing.status, routing.transferred_to) == ("transferred", new)
    assert (new.department, new.region_id, new.status) == ("police", OTHER_DISTRICT, "pending")
    assert new.accept_due == LATER + dt.timedelta(hours=24)
    assert Notification.objects.filter(user=pcast["police_wanzhou"], kind="report.received").exists()
    svc.report_accept(actor=pcast["police_wanzhou"], routing_pk=new.pk, now=LATER)


def test_a_transfer_needs_a_reason(pcast):
    routing = file_report(pcast["hospital"]).routings.get(department="police")
    with pytest.raises(DomainError) as exc:
        svc.report_transfer(actor=pcast["police"], routing_pk=routing.pk, reason=" ", department="education", now=LATER)
    assert exc.value.detail == {"reason": "请填写转交理由"}


def test_feedback_is_visible_to_the_reporter_and_concludes_the_report(pcast, django_capture_on_commit_callbacks):
    report = file_report(pcast["school"])
    for routing in report.routings.all():
        handler = {"police": "police", "civil_affairs": "charlie", "education": "education"}[routing.department]
        svc.report_accept(actor=pcast[handler], routing_pk=routing.pk, now=LATER)
        with django_capture_on_commit_callbacks(execute=True):
            svc.report_feedback(
                actor=pcast[handler],
                routing_pk=routing.pk,
                text=f"{routing.department}已处置",
                concludes=True,
                now=LATER,
            )

    view = svc.report_view(user=pcast["school"], pk=report.pk)
    assert view.report.status == "concluded"
    assert [f.text for f in view.feedback] == ["police已处置", "civil_affairs已处置", "education已处置"]
    assert view.identity is None
    assert Notification.objects.filter(user=pcast["school"], kind="report.feedback").count() == 3
    assert list(reports_filed_by(pcast["school"])) == [report]


def test_feedback_before_acceptance_is_refused(pcast):
    routing = file_report(pcast["hospital"]).routings.get(department="police")
    with pytest.raises(DomainError) as exc:
        svc.report_feedback(actor=pcast["police"], routing_pk=routing.pk, text="已处理", now=LATER)
    assert exc.value.code == "not_accepted"


def test_the_reporters_identity_is_shown_to_handlers_only(pcast, children):
    report = file_report(pcast["hospital"], child_pk=None, reporter_name="张医生")

    handler = svc.report_view(user=pcast["police"], pk=report.pk)
    director = svc.report_view(user=pcast["alice"], pk=report.pk)
    supervisor = svc.report_view(user=pcast["bob"], pk=report.pk)

    assert handler.identity is not None and handler.identity["name"] == "张医生"
    assert handler.identity["phone"] == "13800001111"
    assert director.identity is None and director.access.content
    assert supervisor.identity is None
    with pytest.raises(NotFound):
        svc.report_view(user=pcast["police_wanzhou"], pk=report.pk)
    with pytest.raises(NotFound):
        svc.report_view(user=pcast["eve"], pk=report.pk)


def test_every_view_of_a_report_is_audited(pcast):
    report = file_report(pcast["hospital"])
    svc.report_view(user=pcast["police"], pk=report.pk)
    svc.report_view(user=pcast["alice"], pk=report.pk)
    svc.report_view(user=pcast["hospital"], pk=report.pk)

    views = list(
        AccessEvent.objects.filter(object_type="report", object_id=str(report.pk), action="report.view")
        .order_by("id")
        .values_list("actor_username", flat=True)
    )
    assert views == ["police", "alice", "hospital"]
    reveals = AccessEvent.objects.filter(action="report.reporter", object_id=str(report.pk))
    assert list(reveals.values_list("actor_username", flat=True)) == ["police"]
