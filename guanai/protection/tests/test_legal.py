"""Placements and court/procuratorate actions; a revoked guardian changes the child's derived groups."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from guanai.audit.models import AccessEvent
from guanai.lib.errors import DomainError
from guanai.protection import services as svc
from guanai.protection.tests.conftest import NOW
from guanai.registry.models import ChildGroup, PersonStatus
from guanai.registry.services import PersonData, StatusData, family_member_add

TODAY = dt.date(2026, 3, 2)
PDF = b"%PDF-1.4\n%test\n" + b"0" * 100


@pytest.fixture
def family_case(pcast, children):
    child = children["village"]
    father = family_member_add(
        actor=pcast["charlie"],
        child_pk=child.pk,
        today=TODAY,
        member=PersonData(relation="father", name="王大", is_guardian=True, statuses=[StatusData("at_home")]),
    )
    family_member_add(
        actor=pcast["charlie"],
        child_pk=child.pk,
        today=TODAY,
        member=PersonData(relation="mother", name="李二", is_guardian=True, statuses=[StatusData("at_home")]),
    )
    case = svc.case_open(actor=pcast["charlie"], child_pk=child.pk, title="父亲长期殴打儿童", now=NOW)
    return case, father


def test_a_revoked_guardian_changes_the_childs_groups(pcast, family_case, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    case, father = family_case
    assert not ChildGroup.objects.filter(child=case.child, code="difficulty_guardianship").exists()

    action = svc.legal_action_record(
        actor=pcast["charlie"],
        case_pk=case.pk,
        kind="revoke_guardianship",
        body="丰都县人民法院",
        filed_on=TODAY - dt.timedelta(days=30),
        decided_on=TODAY,
        result="判决撤销王大的监护人资格",
        person_pk=father.pk,
        effective_on=TODAY,
        today=TODAY,
        now=NOW,
        document=SimpleUploadedFile("判决书.pdf", PDF, content_type="application/pdf"),
    )

    assert action.document.name.startswith("protection/")
    assert (action.document_type, action.document_size) == ("application/pdf", len(PDF))
    status = PersonStatus.objects.get(person=father, until__isnull=True)
    assert (status.kind, status.since) == ("guardianship_revoked", TODAY)
    group = ChildGroup.objects.get(child=case.child, code="difficulty_guardianship")
    assert "撤销" in group.explanation


def test_a_revocation_decided_later_updates_the_registry_then(pcast, family_case):
    case, father = family_case
    action = svc.legal_action_record(
        actor=pcast["charlie"],
        case_pk=case.pk,
        kind="revoke_guardianship",
        body="丰都县人民检察院支持起诉",
        filed_on=TODAY,
        person_pk=father.pk,
        today=TODAY,
        now=NOW,
    )
    assert not ChildGroup.objects.filter(child=case.child, code="difficulty_guardianship").exists()
    svc.legal_action_decide(
        actor=pcast["charlie"],
        action_pk=action.pk,
        decided_on=TODAY,
        result="撤销监护人资格",
        effective_on=TODAY,
        today=TODAY,
        now=NOW,
    )
    assert ChildGroup.objects.filter(child=case.child, code="difficulty_guardianship").exists()


def test_a_document_is_checked_by_its_content(pcast, family_case, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    case, _ = family_case
    with pytest.raises(DomainError) as exc:
        svc.legal_action_record(
            actor=pcast["charlie"],
            case_pk=case.pk,
            kind="protection_order",
            body="丰都县人民法院",
            filed_on=TODAY,
            today=TODAY,
            now=NOW,
            document=SimpleUploadedFile("order.pdf", b"MZ\x90\x00 not a pdf"),
        )
    assert "不是PDF或图片" in exc.value.message


def test_opening_a_document_is_recorded(pcast, family_case, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    case, _ = family_case
    action = svc.legal_action_record(
        actor=pcast["charlie"],
        case_pk=case.pk,
        kind="protection_order",
        body="丰都县人民法院",
        filed_on=TODAY,
        today=TODAY,
        now=NOW,
        document=SimpleUploadedFile("保护令.pdf", PDF),
    )
    svc.legal_document_open(user=pcast["bob"], pk=action.pk)
    assert AccessEvent.objects.filter(action="legal.document", actor_username="bob").exists()


def test_placements_have_dates_and_one_is_open_at_a_time(pcast, family_case):
    case, _ = family_case
    first = svc.placement_add(
        actor=pcast["charlie"],
        case_pk=case.pk,
        kind="protection_centre",
        start=TODAY,
        responsible_body="丰都县未成年人救助保护中心",
        now=NOW,
    )
    with pytest.raises(DomainError) as exc:
        svc.placement_add(
            actor=pcast["charlie"], case_pk=case.pk, kind="relative", start=TODAY, responsible_body="外祖母", now=NOW
        )
    assert exc.value.code == "open_placement"
    svc.placement_end(actor=pcast["charlie"], placement_pk=first.pk, end=TODAY + dt.timedelta(days=10), now=NOW)
    second = svc.placement_add(
        actor=pcast["charlie"],
        case_pk=case.pk,
        kind="relative",
        start=TODAY + dt.timedelta(days=10),
        responsible_body="外祖母",
        now=NOW,
    )
    assert [p.get_kind_display() for p in case.placements.all()] == ["委托亲属抚养", "未成年人救助保护机构"]
    assert second.end is None
