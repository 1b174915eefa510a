"""Each KPI on a small hand-built data set; the expected numbers are worked out in the comments.

Regions (conftest): 丰都县 500230 — 虎威镇 500230101 (测试一村 …201, 测试二村 …202), 社坛镇 500230102 (社坛测试村 …201);
万州区 500101 — 高笋塘街道 500101001 (测试社区 …001). Today is 2026-11-20.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from conftest import (
    CITY,
    DISTRICT,
    NEIGHBOUR_VILLAGE,
    OTHER_DISTRICT,
    OTHER_DISTRICT_COMMUNITY,
    OTHER_TOWNSHIP,
    OTHER_TOWNSHIP_VILLAGE,
    TOWNSHIP,
    VILLAGE,
    make_child,
    make_user,
)
from guanai.oversight.models import KpiSnapshot, SpotCheck
from guanai.oversight.services import kpi_refresh
from guanai.registry.models import ChildGroup, ChildRelation, Person
from guanai.visits.models import Problem, Visit
from guanai.workforce.models import Appointment, SocialOrganisation, StaffProfile, TrainingAttendance, TrainingEvent

TODAY = dt.date(2026, 11, 20)
NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("villages")]


def at(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(10)))


def visit(child, day: dt.date, mode: str = "phone") -> None:
    user = make_user("director", child.village_id, f"v{child.pk}-{day}-{mode}")
    Visit.objects.create(child=child, visited_at=at(day), visited_on=day, mode=mode, visitor=user, visitor_name="测试")


def snap(kpi: str, code: str, period: str) -> tuple[int, int | None, float | None]:
    row = KpiSnapshot.objects.get(kpi=kpi, region_code=code, period=period)
    return row.numerator, row.denominator, row.value


def refresh(*only: str) -> None:
    kpi_refresh(day=TODAY, today=TODAY, only=only)


@time_machine.travel(NOW, tick=False)
def test_contact_rate_counts_children_contacted_this_month_per_region():
    a1, a2, a3 = (make_child(VILLAGE, n) for n in ("甲", "乙", "丙"))
    b1 = make_child(NEIGHBOUR_VILLAGE, "丁")
    c1 = make_child(OTHER_TOWNSHIP_VILLAGE, "戊")
    gone = make_child(OTHER_TOWNSHIP_VILLAGE, "己")
    gone.status, gone.exit_date = "exited", dt.date(2026, 11, 1)
    gone.save()
    d1 = make_child(OTHER_DISTRICT_COMMUNITY, "庚")
    visit(a1, dt.date(2026, 11, 3))
    visit(a2, dt.date(2026, 11, 15), "home")
    visit(a3, dt.date(2026, 10, 30))  # last month: not this month's contact
    visit(b1, dt.date(2026, 11, 1), "video")
    visit(gone, dt.date(2026, 11, 5))  # exited before today: off the roll
    visit(d1, dt.date(2026, 11, 20), "school")
    assert c1.pk

    refresh("contact_rate")

    # 测试一村 2 of 3; 测试二村 1 of 1; 虎威镇 3 of 4; 社坛镇 0 of 1 (the exited child is not counted);
    # 丰都县 3 of 5; 万州区 1 of 1; the city 4 of 6.
    assert snap("contact_rate", VILLAGE, "2026-11") == (2, 3, 66.67)
    assert snap("contact_rate", NEIGHBOUR_VILLAGE, "2026-11") == (1, 1, 100.0)
    assert snap("contact_rate", TOWNSHIP, "2026-11") == (3, 4, 75.0)
    assert snap("contact_rate", OTHER_TOWNSHIP, "2026-11") == (0, 1, 0.0)
    assert snap("contact_rate", DISTRICT, "2026-11") == (3, 5, 60.0)
    assert snap("contact_rate", OTHER_DISTRICT, "2026-11") == (1, 1, 100.0)
    assert snap("contact_rate", CITY, "2026-11") == (4, 6, 66.67)


@time_machine.travel(NOW, tick=False)
def test_home_visit_rate_counts_home_visits_in_the_quarter():
    a1, a2, a3 = (make_child(VILLAGE, n) for n in ("甲", "乙", "丙"))
    visit(a1, dt.date(2026, 11, 3), "home")
    visit(a2, dt.date(2026, 10, 1), "home")  # first day of Q4
    visit(a3, dt.date(2026, 9, 30), "home")  # Q3
    visit(a3, dt.date(2026, 11, 4), "phone")  # a call is not a home visit

    refresh("home_visit_rate")

    # Q4 so far: 甲 and 乙 visited at home, 丙 not: 2 of 3.
    assert snap("home_visit_rate", VILLAGE, "2026-Q4") == (2, 3, 66.67)
    assert snap("home_visit_rate", CITY, "2026-Q4") == (2, 3, 66.67)


@time_machine.travel(NOW, tick=False)
def test_archive_completeness_needs_every_element():
    def complete(child, *, guardian=True, address="重庆市丰都县虎威镇", schooling="在校"):
        child.current_address, child.schooling = address, schooling
        child.save()
        person = Person.objects.create(name="监护人")
        ChildRelation.objects.create(child=child, person=person, relation="grandparent", is_guardian=guardian)

    full = make_child(VILLAGE, "全")
    complete(full)
    visit(full, dt.date(2026, 9, 1))  # within the last three months
    no_guardian = make_child(VILLAGE, "缺监护")
    complete(no_guardian, guardian=False)
    visit(no_guardian, dt.date(2026, 11, 1))
    no_school = make_child(VILLAGE, "缺就学")
    complete(no_school, schooling="")
    visit(no_school, dt.date(2026, 11, 1))
    stale = make_child(VILLAGE, "久未走访")
    complete(stale)
    visit(stale, dt.date(2026, 8, 19))  # more than three months before today

    refresh("archive_completeness")

    # Only 全 has every element: 1 of 4.
    assert snap("archive_completeness", VILLAGE, "2026-11") == (1, 4, 25.0)


@time_machine.travel(NOW, tick=False)
def test_problems_closed_in_time():
    child = make_child(VILLAGE)
    owner = make_user("director", VILLAGE, "owner")

    def problem(due: dt.date, status: str = "open", closed: dt.date | None = None) -> None:
        Problem.objects.create(
            child=child,
            category="safety",
            description="问题",
            due_date=due,
            status=status,
            created_by=owner,
            closed_at=at(closed) if closed else None,
        )

    problem(dt.date(2026, 11, 10), "solved", dt.date(2026, 11, 9))  # in time
    problem(dt.date(2026, 11, 10), "referred", dt.date(2026, 11, 10))  # in time (on the due day)
    problem(dt.date(2026, 11, 5), "solved", dt.date(2026, 11, 12))  # late
    problem(dt.date(2026, 11, 15))  # still open, overdue
    problem(dt.date(2026, 11, 25))  # not yet due: not counted
    problem(dt.date(2026, 10, 31), "solved", dt.date(2026, 10, 1))  # due last month: not counted

    refresh("problems_closed_in_time")

    # Due in November by today: 4; closed by their due date: 2.
    assert snap("problems_closed_in_time", VILLAGE, "2026-11") == (2, 4, 50.0)


@time_machine.travel(NOW, tick=False)
def test_reports_timely_needs_acceptance_and_first_result_within_their_deadlines():
    from guanai.protection.models import Report, ReportRouting

    reporter = make_user("reporter_school", DISTRICT, "school")
    report = Report.objects.create(
        situations=["abandoned"],
        description="情况",
        region_id=VILLAGE,
        reporter=reporter,
        reporter_kind="school",
        reporter_identity_enc="x",
        filed_at=at(dt.date(2026, 11, 2)),
    )

    def routing(created: dt.date, *, accepted: int | None, result: int | None, transferred: bool = False) -> None:
        start = at(created)
        ReportRouting.objects.create(
            report=report,
            department="police",
            region_id=DISTRICT,
            created_at=start,
            accept_due=start + dt.timedelta(hours=24),
            result_due=start + dt.timedelta(days=7),
            accepted_at=start + dt.timedelta(hours=accepted) if accepted is not None else None,
            first_result_at=start + dt.timedelta(hours=result) if result is not None else None,
            transferred_at=start + dt.timedelta(hours=1) if transferred else None,
        )

    routing(dt.date(2026, 11, 2), accepted=3, result=48)  # timely
    routing(dt.date(2026, 11, 3), accepted=30, result=60)  # accepted late
    routing(dt.date(2026, 11, 4), accepted=2, result=None)  # result overdue (due 11-11)
    routing(dt.date(2026, 11, 18), accepted=2, result=None)  # result not due until 11-25: not counted yet
    routing(dt.date(2026, 11, 5), accepted=None, result=None, transferred=True)  # transferred: not counted
    routing(dt.date(2026, 10, 20), accepted=1, result=10)  # last month

    refresh("reports_timely")

    # Counted: the first three; timely: the first only.
    assert snap("reports_timely", VILLAGE, "2026-11") == (1, 3, 33.33)
    assert snap("reports_timely", DISTRICT, "2026-11") == (1, 3, 33.33)


def _director_profile(name: str, village: str, *, start=dt.date(2025, 1, 1), end=None) -> StaffProfile:
    profile = StaffProfile.objects.create(kind="director", name=name, home_region_id=village[:6].ljust(12, "0"))
    Appointment.objects.create(profile=profile, region_id=village, start=start, end=end)
    return profile


@time_machine.travel(NOW, tick=False)
def test_villages_with_director_counts_appointments_and_accounts_without_a_profile():
    make_user("director", VILLAGE, "account-only")  # no ledger profile: counts for 测试一村
    _director_profile("社坛主任", OTHER_TOWNSHIP_VILLAGE)
    _director_profile("已离任", NEIGHBOUR_VILLAGE, end=dt.date(2026, 6, 30))
    with_profile = make_user("director", OTHER_DISTRICT_COMMUNITY, "with-profile")
    StaffProfile.objects.create(
        kind="director", name="账号有台账但无任职", user=with_profile, home_region_id=OTHER_DISTRICT
    )

    refresh("villages_with_director")

    # 测试一村 yes (account), 测试二村 no (appointment ended), 社坛测试村 yes, 测试社区 no (her profile has no
    # appointment, so the account does not count): 丰都县 2 of 3, 虎威镇 1 of 2, the city 2 of 4.
    assert snap("villages_with_director", DISTRICT, "2026-11") == (2, 3, 66.67)
    assert snap("villages_with_director", TOWNSHIP, "2026-11") == (1, 2, 50.0)
    assert snap("villages_with_director", NEIGHBOUR_VILLAGE, "2026-11") == (0, 1, 0.0)
    assert snap("villages_with_director", CITY, "2026-11") == (2, 4, 50.0)


@time_machine.travel(NOW, tick=False)
def test_villages_staffed_enough_wants_a_second_director_above_30_care_children():
    for i in range(31):
        child = make_child(VILLAGE, f"童{i}")
        ChildGroup.objects.create(
            child=child,
            code="rural_left_behind",
            explanation="x",
            rule_id="r",
            rule_version=1,
            source="s",
            derived_on=TODAY,
        )
    _director_profile("一村主任", VILLAGE)
    _director_profile("社坛主任", OTHER_TOWNSHIP_VILLAGE)

    refresh("villages_staffed_enough")

    # 测试一村: 31 care children → needs 2, has 1; 测试二村: none; 社坛测试村: needs 1, has 1 → 丰都县 1 of 3.
    assert snap("villages_staffed_enough", VILLAGE, "2026-11") == (0, 1, 0.0)
    assert snap("villages_staffed_enough", DISTRICT, "2026-11") == (1, 3, 33.33)


@time_machine.travel(NOW, tick=False)
def test_directors_trained_this_year_and_on_single_parent_care():
    p1 = _director_profile("甲主任", VILLAGE)
    p2 = _director_profile("乙主任", NEIGHBOUR_VILLAGE)
    make_user("director", OTHER_TOWNSHIP_VILLAGE, "no-ledger")  # a director without a profile: untrained

    def training(day: dt.date, topics: list[str], *people: StaffProfile) -> None:
        event = TrainingEvent.objects.create(
            title="培训", level="district", region_id=DISTRICT, held_on=day, topics=topics
        )
        for p in people:
            TrainingAttendance.objects.create(event=event, profile=p)

    training(dt.date(2026, 3, 1), ["single_parent", "visits"], p1)
    training(dt.date(2026, 5, 1), ["policy"], p2)
    training(dt.date(2025, 12, 1), ["single_parent"], p2)  # last year

    refresh("directors_trained", "directors_trained_single_parent")

    # 丰都县 has 3 serving directors; trained in 2026: 甲 and 乙 (2 of 3); with single-parent content: 甲 (1 of 3).
    assert snap("directors_trained", DISTRICT, "2026") == (2, 3, 66.67)
    assert snap("directors_trained_single_parent", DISTRICT, "2026") == (1, 3, 33.33)
    assert snap("directors_trained", OTHER_TOWNSHIP, "2026") == (0, 1, 0.0)


@time_machine.travel(NOW, tick=False)
def test_counts_of_demonstration_trainings_organisations_and_spot_checks():
    for day in (dt.date(2026, 4, 1), dt.date(2026, 9, 1), dt.date(2025, 9, 1)):
        TrainingEvent.objects.create(title="示范", level="city", region_id=CITY, held_on=day, topics=["policy"])
    for year in (2026, 2026, 2025):
        SocialOrganisation.objects.create(name=f"社工{year}", district_id=DISTRICT, cultivated_year=year)
    officer = make_user("district_officer", DISTRICT, "officer")
    for status in ("closed", "open"):
        SpotCheck.objects.create(
            district_id=DISTRICT,
            year=2026,
            seed=1,
            size=1,
            population=1,
            drawn_on=TODAY,
            status=status,
            rule_version=1,
            created_by=officer,
        )

    refresh("city_demo_trainings", "orgs_cultivated", "spot_checks_done")

    # Two city trainings in 2026; 丰都县 cultivated 2 organisations in 2026, 万州区 none (listed with 0);
    # one closed spot check in 丰都县.
    assert snap("city_demo_trainings", CITY, "2026") == (2, None, 2.0)
    assert snap("orgs_cultivated", DISTRICT, "2026") == (2, None, 2.0)
    assert snap("orgs_cultivated", OTHER_DISTRICT, "2026") == (0, None, 0.0)
    assert snap("orgs_cultivated", CITY, "2026") == (2, None, 2.0)
    assert snap("spot_checks_done", DISTRICT, "2026") == (1, None, 1.0)


@time_machine.travel(NOW, tick=False)
def test_refresh_replaces_a_periods_rows_and_records_the_rule_version():
    child = make_child(VILLAGE)
    refresh("contact_rate")
    assert snap("contact_rate", VILLAGE, "2026-11") == (0, 1, 0.0)
    visit(child, dt.date(2026, 11, 19))

    refresh("contact_rate")

    assert snap("contact_rate", VILLAGE, "2026-11") == (1, 1, 100.0)
    assert KpiSnapshot.objects.filter(kpi="contact_rate", region_code=VILLAGE).count() == 1
    assert KpiSnapshot.objects.get(kpi="contact_rate", region_code=VILLAGE).rule_version == 1


@time_machine.travel(NOW, tick=False)
def test_benefit_coverage_uses_the_one_eligibility_implementation():
    from guanai.registry.models import BenefitEnrolment

    def orphan(village: str, name: str):
        child = make_child(village, name)
        ChildGroup.objects.create(
            child=child,
            code="orphan",
            explanation="父母均已死亡",
            rule_id="orphan",
            rule_version=1,
            source="s",
            derived_on=TODAY,
        )
        return child

    covered = orphan(VILLAGE, "甲")
    BenefitEnrolment.objects.create(child=covered, kind="orphan_allowance", start=dt.date(2025, 1, 1))
    orphan(VILLAGE, "乙")  # no allowance: a gap
    lapsed = orphan(NEIGHBOUR_VILLAGE, "丙")
    BenefitEnrolment.objects.create(
        child=lapsed, kind="orphan_allowance", start=dt.date(2025, 1, 1), end=dt.date(2026, 10, 31)
    )
    make_child(VILLAGE, "丁")  # eligible for nothing: not in the denominator

    refresh("benefit_coverage")

    # Eligible: 甲, 乙 (测试一村), 丙 (测试二村); covered on 11-20: 甲 only.
    assert snap("benefit_coverage", VILLAGE, "2026-11") == (1, 2, 50.0)
    assert snap("benefit_coverage", NEIGHBOUR_VILLAGE, "2026-11") == (0, 1, 0.0)
    assert snap("benefit_coverage", TOWNSHIP, "2026-11") == (1, 3, 33.33)


def test_pending_kpis_are_not_computed(monkeypatch):
    import dataclasses

    from guanai.lib.errors import DomainError
    from guanai.oversight.kpis import kpis

    # Every KPI of the current rule file is computed; a definition whose facts are not recorded yet would be pending.
    pending = dataclasses.replace(kpis()["dropouts_returned"], status="pending", pending_reason="待记录")
    monkeypatch.setitem(kpis(), "dropouts_returned", pending)
    with pytest.raises(DomainError) as exc:
        kpi_refresh(day=TODAY, today=TODAY, only=["dropouts_returned"])
    assert "dropouts_returned" in exc.value.message


@time_machine.travel(NOW, tick=False)
def test_safety_education_events_are_counted_per_district_for_the_year():
    from guanai.support.models import Activity

    officer = make_user("district_officer", DISTRICT, "officer")

    def activity(kind: str, region: str, day: dt.date) -> None:
        Activity.objects.create(
            title="活动", kind=kind, region_id=region, starts_on=day, ends_on=day, created_by=officer
        )

    activity("safety", VILLAGE, dt.date(2026, 6, 1))  # counts
    activity("safety", TOWNSHIP, dt.date(2026, 7, 1))  # counts: held in the township
    activity("safety", DISTRICT, dt.date(2026, 7, 2))  # a district-level lecture is not 进村（社区）
    activity("safety", VILLAGE, dt.date(2025, 12, 30))  # last year
    activity("safety", VILLAGE, dt.date(2026, 12, 5))  # not held yet on 2026-11-20
    activity("holiday", VILLAGE, dt.date(2026, 8, 1))  # not safety education

    refresh("safety_events")

    # 丰都县: 2 events; 万州区: none, listed with 0 so that it shows first; the city: 2.
    assert snap("safety_events", DISTRICT, "2026") == (2, None, 2.0)
    assert snap("safety_events", OTHER_DISTRICT, "2026") == (0, None, 0.0)
    assert snap("safety_events", CITY, "2026") == (2, None, 2.0)


@time_machine.travel(NOW, tick=False)
def test_dropouts_returned_counts_confirmed_dropout_findings_per_child():
    from guanai.discovery.models import Finding

    def finding(child, status: str, outcome: str, closed: dt.date | None, key: str) -> None:
        Finding.objects.create(
            key=key,
            rule="DROPOUT",
            rule_version=1,
            source_clause="§10",
            child=child,
            name=child.name,
            region_code=child.village_id,
            explanation="学籍状态为辍学",
            responsible_role="director",
            responsible_region=child.village_id,
            status=status,
            outcome=outcome,
            closed_at=at(closed) if closed else None,
            first_seen=dt.date(2026, 3, 1),
            last_seen=dt.date(2026, 3, 1),
        )

    back, still_out, twice = make_child(VILLAGE, "甲"), make_child(VILLAGE, "乙"), make_child(NEIGHBOUR_VILLAGE, "丙")
    finding(back, "confirmed", "school_return", dt.date(2026, 4, 1), "a")
    finding(still_out, "confirmed", "update", dt.date(2026, 5, 1), "b")
    finding(twice, "confirmed", "update", dt.date(2026, 3, 1), "c")  # confirmed, then returned: counted once
    finding(twice, "confirmed", "school_return", dt.date(2026, 9, 1), "d")
    finding(make_child(VILLAGE, "丁"), "rejected", "", dt.date(2026, 6, 1), "e")  # not a dropout
    finding(make_child(VILLAGE, "戊"), "open", "", None, "f")  # not yet checked
    finding(make_child(VILLAGE, "己"), "confirmed", "school_return", dt.date(2025, 12, 1), "g")  # last year

    refresh("dropouts_returned")

    # 测试一村: 甲 returned, 乙 not (1 of 2); 测试二村: 丙 returned (1 of 1); 虎威镇: 2 of 3.
    assert snap("dropouts_returned", VILLAGE, "2026") == (1, 2, 50.0)
    assert snap("dropouts_returned", NEIGHBOUR_VILLAGE, "2026") == (1, 1, 100.0)
    assert snap("dropouts_returned", TOWNSHIP, "2026") == (2, 3, 66.67)
