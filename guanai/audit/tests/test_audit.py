from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from conftest import VILLAGE, client_for, make_user
from guanai.accounts.services import user_create
from guanai.audit.models import AccessEvent, AppendOnlyError, AuditEvent
from guanai.audit.services import audit_record
from guanai.lib.errors import DomainError


def test_it_writes_an_audit_event_in_the_same_transaction_as_the_change(cast):
    user = user_create(
        actor=cast["frank"],
        username="gina",
        password="a-long-passphrase-9",
        role="director",
        region_code=VILLAGE,
    )
    event = AuditEvent.objects.get(action="user.create", object_id=str(user.pk))
    assert event.actor == cast["frank"]
    after = event.after or {}
    assert after["role"] == "director"
    assert after["region_id"] == VILLAGE
    assert "password" not in after


def test_a_refused_change_leaves_neither_the_change_nor_an_event(cast):
    before = AuditEvent.objects.count()
    with pytest.raises(DomainError) as err:
        user_create(
            actor=cast["frank"],
            username="gina",
            password="a-long-passphrase-9",
            role="director",
            region_code="500230000000",
        )
    assert err.value.code == "region_level"
    assert "儿童主任" in err.value.message
    assert AuditEvent.objects.count() == before


def test_an_event_rolls_back_with_its_transaction(cast):
    before = AuditEvent.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record(actor=None, action="test.change", object_type="x", object_id=1)
        raise RuntimeError("the change failed")
    assert AuditEvent.objects.count() == before


@pytest.mark.django_db(transaction=True)
def test_it_refuses_to_record_outside_a_transaction():
    with pytest.raises(RuntimeError):
        audit_record(actor=None, action="test.change", object_type="x")


def test_audit_rows_cannot_be_edited_or_deleted_through_the_app(cast):
    with transaction.atomic():
        event = audit_record(actor=None, action="test.change", object_type="x", object_id=1)
    event.summary = "tampered"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(summary="tampered")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        AccessEvent.objects.all().delete()


def test_the_database_refuses_an_update_behind_the_apps_back(cast):
    with transaction.atomic():
        event = audit_record(actor=None, action="test.change", object_type="x", object_id=1)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
        cur.execute("UPDATE audit_auditevent SET summary = 'tampered' WHERE id = %s", [event.pk])
    event.refresh_from_db()
    assert event.summary == ""


def test_viewing_a_childs_file_writes_an_access_event_with_the_request_id(cast, children):
    child = children["village"]
    response = client_for(cast["alice"]).get(f"/api/v1/children/{child.pk}/", HTTP_X_REQUEST_ID="abcdef1234567890")
    assert response.status_code == 200
    event = AccessEvent.objects.get(action="child.view", object_id=str(child.pk))
    assert event.actor == cast["alice"]
    assert event.request_id == "abcdef1234567890"
    assert response["X-Request-ID"] == "abcdef1234567890"


def test_an_out_of_scope_attempt_is_not_recorded_as_a_view(cast, children):
    client_for(cast["alice"]).get(f"/api/v1/children/{children['other_district'].pk}/")
    assert not AccessEvent.objects.filter(object_id=str(children["other_district"].pk)).exists()


def test_an_auditor_can_search_events_and_others_cannot(cast, children):
    client_for(cast["alice"]).get(f"/api/v1/children/{children['village'].pk}/")
    auditor = client_for(cast["eve"])
    found = auditor.get("/api/v1/audit/access/", {"actor": "alice", "action": "child."}).json()
    assert [row["object_id"] for row in found["results"]] == [str(children["village"].pk)]
    assert auditor.get("/api/v1/audit/access/", {"actor": "nobody"}).json()["results"] == []
    page = auditor.get("/audit/", {"kind": "access", "actor": "alice"})
    assert page.status_code == 200
    assert "child.view" in page.content.decode()
    for name in ("alice", "charlie", "frank"):
        assert client_for(cast[name]).get("/api/v1/audit/events/").status_code == 403
        assert client_for(cast[name]).get("/audit/").status_code == 403


def test_an_auditor_finds_who_changed_a_record(cast):
    user_create(
        actor=cast["frank"],
        username="gina",
        password="a-long-passphrase-9",
        role="director",
        region_code=VILLAGE,
    )
    rows = client_for(cast["eve"]).get("/api/v1/audit/events/", {"action": "user."}).json()["results"]
    assert rows[0]["actor_username"] == "frank"
    assert "gina" in rows[0]["summary"]


def test_the_auditor_cannot_read_childrens_files(cast, children):
    assert client_for(make_user("auditor")).get(f"/api/v1/children/{children['village'].pk}/").status_code == 404


def test_the_audit_pages_next_link_keeps_the_filters_once(cast, children):
    child = children["village"]
    alice = client_for(cast["alice"])
    for _ in range(55):
        alice.get(f"/api/v1/children/{child.pk}/")
    body = client_for(cast["eve"]).get("/audit/", {"kind": "access", "actor": "alice"}).content.decode()
    assert "第 1 / 2 页" in body
    assert 'href="?actor=alice&amp;kind=access&amp;page=2"' in body
