"""The workforce ledger (§16–§17): registration, appointments over time, training archive, evaluation,
organisations, and the staffing rules."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import (
    DISTRICT,
    NEIGHBOUR_VILLAGE,
    OTHER_DISTRICT,
    OTHER_TOWNSHIP_VILLAGE,
    TOWNSHIP,
    VILLAGE,
    client_for,
    make_child,
    make_user,
)
from guanai.audit.models import AuditEvent
from guanai.lib.errors import DomainError, PermissionRefused
from guanai.registry.models import ChildGroup
from guanai.workforce import services as svc
from guanai.workforce.models import StaffProfile, TrainingAttendance
from guanai.workforce.selectors import directors_by_village, responsible_director, staffing_gaps

pytestmark = [pytest.mark.django_db]
DAY = dt.date(2026, 3, 1)


def test_it_registers_a_director_with_a_masked_phone_and_an_appointment(cast):
    profile = svc.staff_register(
        actor=cast["charlie"],
        kind="director",
        name="李春梅",
        region=VILLAGE,
        start=DAY,
        user=cast["alice"],
        phone="13812345678",
        employment="full_time",
        monthly_allowance="400",
        certificates=["社会工作者职业资格"],
    )
    assert profile.home_region_id == DISTRICT
    assert profile.phone_mask != "13812345678" and "13812345678" not in profile.phone_enc
    assert profile.appointments.get().region_id == VILLAGE
    assert AuditEvent.objects.filter(action="staff.register", object_id=str(profile.pk)).exists()
    assert directors_by_village(DAY)[VILLAGE] == 1


def test_it_refuses_other_districts_wrong_levels_and_roles_without_the_right(cast, villages):
    with pytest.raises(PermissionRefused):
        svc.staff_register(actor=cast["charlie"], kind="director", name="甲", region="500101001001", start=DAY)
    with pytest.raises(DomainError) as exc:
        svc.staff_register(actor=cast["charlie"], kind="director", name="甲", region=TOWNSHIP, start=DAY)
    assert "村社区" in exc.value.message
    with pytest.raises(PermissionRefused):
        svc.staff_register(actor=cast["bob"], kind="director", name="甲", region=VILLAGE, start=DAY)
    assert not StaffProfile.objects.exists()


def test_appointments_keep_their_history_and_the_last_ending_makes_the_person_leave(cast):
    charlie = cast["charlie"]
    profile = svc.staff_register(actor=charlie, kind="director", name="甲", region=NEIGHBOUR_VILLAGE, start=DAY)
    second = svc.appointment_start(actor=charlie, profile=profile, region=OTHER_TOWNSHIP_VILLAGE, start=DAY)
    first = profile.appointments.get(region_id=NEIGHBOUR_VILLAGE)
    svc.appointment_end(actor=charlie, appointment=first, end=dt.date(2026, 6, 1), reason="调整分工")
    assert directors_by_village(dt.date(2026, 5, 31)).get(NEIGHBOUR_VILLAGE) == 1
    assert directors_by_village(dt.date(2026, 6, 1)).get(NEIGHBOUR_VILLAGE) is None
    profile.refresh_from_db()
    assert profile.status == "serving"
    svc.appointment_end(actor=charlie, appointment=second, end=dt.date(2026, 7, 1), reason="离任")
    profile.refresh_from_db()
    assert profile.status == "left" and profile.appointments.count() == 2
    with pytest.raises(DomainError):
        svc.appointment_end(actor=charlie, appointment=second, end=dt.date(2026, 8, 1), reason="x")


def test_a_training_enters_each_attendees_archive(cast):
    charlie = cast["charlie"]
    a = svc.staff_register(actor=charlie, kind="director", name="甲", region=VILLAGE, start=DAY)
    b = svc.staff_register(actor=charlie, kind="director", name="乙", region=OTHER_TOWNSHIP_VILLAGE, start=DAY)
    event = svc.training_record(
        actor=charlie,
        title="全覆盖培训",
        level="district",
        region=DISTRICT,
        held_on=DAY,
        topics=["single_parent", "visits"],
        attendees=[a, b, a],
        hours=8,
    )
    assert TrainingAttendance.objects.filter(event=event).count() == 2
    assert [t.event.title for t in a.trainings.all()] == ["全覆盖培训"]
    with pytest.raises(DomainError):
        svc.training_record(
            actor=charlie,
            title="x",
            level="district",
            region=DISTRICT,
            held_on=DAY,
            topics=["astrology"],
            attendees=[a],
        )
    with pytest.raises(DomainError):  # a district officer does not run the city's demonstration training
        svc.training_record(
            actor=charlie, title="x", level="city", region=DISTRICT, held_on=DAY, topics=["policy"], attendees=[]
        )
    city = svc.training_record(
        actor=cast["diana"],
        title="示范培训",
        level="city",
        region="500000000000",
        held_on=DAY,
        topics=["policy"],
        attendees=[a],
    )
    assert city.attendances.count() == 1


def test_one_evaluation_a_year_corrected_in_place(cast):
    charlie = cast["charlie"]
    profile = svc.staff_register(actor=charlie, kind="director", name="甲", region=VILLAGE, start=DAY)
    svc.evaluation_record(actor=charlie, profile=profile, year=2025, grade="competent", score="86")
    svc.evaluation_record(actor=charlie, profile=profile, year=2025, grade="excellent", exemplary=True)
    assert [(e.year, e.grade, e.exemplary) for e in profile.evaluations.all()] == [(2025, "excellent", True)]
    with pytest.raises(DomainError):
        svc.evaluation_record(actor=charlie, profile=profile, year=2025, grade="superb")


def test_staffing_gaps_list_villages_without_a_director_then_those_needing_another(cast):
    charlie = cast["charlie"]
    # alice, the village's director, on the ledger: she counts once (through her appointment)
    svc.staff_register(actor=charlie, kind="director", name="甲", region=VILLAGE, start=DAY, user=cast["alice"])
    for i in range(31):
        child = make_child(VILLAGE, f"童{i}")
        ChildGroup.objects.create(
            child=child,
            code="rural_left_behind",
            explanation="x",
            rule_id="r",
            rule_version=1,
            source="s",
            derived_on=DAY,
        )
    rows = staffing_gaps(charlie, on=DAY)
    assert [(r.code, r.have, r.needed, r.rule_id) for r in rows] == [
        (NEIGHBOUR_VILLAGE, 0, 1, "village_has_director"),
        (OTHER_TOWNSHIP_VILLAGE, 0, 1, "village_has_director"),
        (VILLAGE, 1, 2, "village_extra_director"),
    ]
    assert "31人" in rows[2].explanation and "超过30人" in rows[2].explanation
    assert staffing_gaps(cast["alice"], on=DAY) == []  # a director has no workforce.view


def test_the_responsible_director_is_the_appointed_one_with_an_account(cast):
    charlie = cast["charlie"]
    other = make_user("director", VILLAGE, "other-director")
    svc.staff_register(actor=charlie, kind="director", name="另一位", region=VILLAGE, start=DAY, user=other)
    assert responsible_director(VILLAGE, DAY) == other
    assert responsible_director(NEIGHBOUR_VILLAGE, DAY) is None


def test_organisations_are_registered_per_district_with_projects(cast):
    charlie = cast["charlie"]
    org = svc.organisation_register(
        actor=charlie,
        name="阳光社工",
        district=DISTRICT,
        cultivated_year=2026,
        mode="incubation",
        services=["心理辅导"],
        in_alliance=True,
    )
    svc.project_add(actor=charlie, organisation=org, name="童心相伴", region=DISTRICT, start=DAY, children_reached=120)
    assert org.projects.get().children_reached == 120
    with pytest.raises(PermissionRefused):
        svc.organisation_register(actor=charlie, name="外区", district=OTHER_DISTRICT, cultivated_year=2026)
    with pytest.raises(DomainError):
        svc.organisation_register(actor=charlie, name="x", district=DISTRICT, cultivated_year=2026, credit_code="123")


def test_the_pages_show_the_ledger_and_register_a_person(cast):
    client = client_for(cast["charlie"])
    page = client.get("/workforce/")
    assert page.status_code == 200 and "未配备儿童主任" in page.content.decode()
    response = client.post(
        "/workforce/staff/new/",
        {"kind": "director", "name": "新主任", "region": VILLAGE, "start": "2026-03-01", "employment": "part_time"},
    )
    profile = StaffProfile.objects.get(name="新主任")
    assert response.status_code == 302 and response["Location"] == f"/workforce/staff/{profile.pk}/"
    assert "新主任" in client.get(f"/workforce/staff/{profile.pk}/").content.decode()
    bad = client.post("/workforce/staff/new/", {"kind": "director", "name": "", "region": VILLAGE})
    assert bad.status_code == 200 and "请填写姓名" in bad.content.decode()
    assert client_for(cast["alice"]).get("/workforce/").status_code == 403
    assert client_for(cast["bob"]).get("/workforce/").status_code == 200
    assert client.get("/workforce/trainings/").status_code == 200
    assert client.get("/workforce/organisations/").status_code == 200


def test_volunteers_are_registered_with_a_masked_phone(cast):
    charlie = cast["charlie"]
    org = svc.organisation_register(actor=charlie, name="阳光社工", district=DISTRICT, cultivated_year=2026)
    volunteer = svc.volunteer_register(
        actor=charlie,
        name="志愿者甲",
        district=DISTRICT,
        registered_on=DAY,
        organisation=org,
        skills="课业辅导",
        phone="13812345678",
    )
    assert volunteer.phone_mask and volunteer.phone_mask != "13812345678"
    assert "志愿者" in client_for(charlie).get("/workforce/organisations/").content.decode()
    with pytest.raises(DomainError):
        svc.volunteer_register(actor=charlie, name="", district=DISTRICT, registered_on=DAY)
