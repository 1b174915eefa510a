from __future__ import annotations

import datetime as dt
import io
import json

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from conftest import make_user
from guanai.audit.models import AuditEvent
from guanai.lib.errors import DomainError
from guanai.registry.models import Child
from guanai.visits import services as svc
from guanai.visits.models import CadencePeriod, Notification, Problem, Visit, VisitPhoto
from guanai.visits.selectors import completion_by_area, ledger_for, worklist_for

TZ = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2026, 11, 20, 15, 0, tzinfo=TZ)
TODAY = NOW.date()
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def roll(children):
    """The cast's children have been on the roll since 2025."""
    Child.objects.update(created_at=dt.datetime(2025, 1, 1, tzinfo=TZ))
    return {k: Child.objects.get(pk=c.pk) for k, c in children.items()}


def home(at=NOW, **kw) -> svc.VisitData:
    return svc.VisitData(mode="home", visited_at=at, met="祖母", **kw)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@time_machine.travel(NOW)
def test_recording_a_home_visit_moves_the_child_from_overdue_to_done(cast, roll):
    child = roll["village"]
    item = next(w for w in worklist_for(cast["alice"], today=TODAY) if w.child.pk == child.pk)
    assert item.state("contact") == "已逾期"
    assert item.state("home_visit") == "已逾期"

    visit = svc.visit_record(actor=cast["alice"], child_pk=child.pk, data=home(), now=NOW)
    item = next(w for w in worklist_for(cast["alice"], today=TODAY) if w.child.pk == child.pk)
    assert item.state("contact") == "已完成"  # the home visit is also the month's contact
    assert item.state("home_visit") == "已完成"
    assert AuditEvent.objects.filter(action="visit.record", object_id=str(visit.pk)).exists()
    assert child.timeline.filter(kind="visit.home").exists()


@time_machine.travel(NOW)
def test_the_worklist_puts_overdue_and_risky_children_first(cast, roll):
    svc.visit_record(actor=cast["bob"], child_pk=roll["neighbour_village"].pk, data=home(), now=NOW)
    items = worklist_for(cast["bob"], today=TODAY)
    assert [w.child.name for w in items] == ["王小明", "李小红"]


@time_machine.travel(NOW)
@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"visited_at": NOW + dt.timedelta(hours=2)}, "future"),
        ({"visited_at": NOW - dt.timedelta(days=8)}, "too_late"),
        ({"visited_at": NOW - dt.timedelta(days=3)}, "late_reason"),
        ({"mode": "carrier-pigeon"}, "bad_mode"),
        ({"checklist": {"safety": {"status": "很好"}}}, "bad_checklist"),
        ({"checklist": {"weather": {"status": "正常"}}}, "bad_checklist"),
    ],
)
def test_bad_visits_are_refused_with_a_reason_and_nothing_is_written(cast, roll, change, code):
    data = home()
    for key, value in change.items():
        setattr(data, key, value)
    with pytest.raises(DomainError) as err:
        svc.visit_record(actor=cast["alice"], child_pk=roll["village"].pk, data=data, now=NOW)
    assert err.value.code == code
    assert not Visit.objects.exists()


@time_machine.travel(NOW)
def test_a_late_entry_with_a_reason_is_accepted(cast, roll):
    visit = svc.visit_record(
        actor=cast["alice"],
        child_pk=roll["village"].pk,
        data=home(at=NOW - dt.timedelta(days=3), late_reason="山路断了，今天才有信号"),
        now=NOW,
    )
    assert visit.visited_on == TODAY - dt.timedelta(days=3)


@time_machine.travel(NOW)
def test_a_visit_outside_ones_village_or_on_an_exited_child_is_refused(cast, roll):
    with pytest.raises(DomainError) as err:
        svc.visit_record(actor=cast["alice"], child_pk=roll["neighbour_village"].pk, data=home(), now=NOW)
    assert err.value.status == 404
    Child.objects.filter(pk=roll["village"].pk).update(status="exited")
    with pytest.raises(DomainError) as err:
        svc.visit_record(actor=cast["alice"], child_pk=roll["village"].pk, data=home(), now=NOW)
    assert err.value.code == "exited"
    with pytest.raises(DomainError):
        svc.visit_record(actor=make_user("partner_police"), child_pk=roll["village"].pk, data=home(), now=NOW)


@time_machine.travel(NOW)
def test_a_double_submission_with_the_same_key_records_one_visit(cast, roll):
    first = svc.visit_record(
        actor=cast["alice"], child_pk=roll["village"].pk, data=home(), now=NOW, client_key="phone-7f3a"
    )
    again = svc.visit_record(
        actor=cast["alice"], child_pk=roll["village"].pk, data=home(), now=NOW, client_key="phone-7f3a"
    )
    assert first.pk == again.pk
    assert Visit.objects.count() == 1


@time_machine.travel(NOW)
def test_photos_are_checked_by_content_and_size(cast, roll):
    ok = svc.visit_record(
        actor=cast["alice"],
        child_pk=roll["village"].pk,
        data=home(),
        now=NOW,
        photos=[SimpleUploadedFile("a.png", PNG)],
    )
    assert VisitPhoto.objects.get(visit=ok).content_type == "image/png"
    with pytest.raises(DomainError) as err:
        svc.visit_record(
            actor=cast["alice"],
            child_pk=roll["village"].pk,
            data=home(),
            now=NOW,
            photos=[SimpleUploadedFile("evil.jpg", b"MZ\x90\x00 not an image")],
        )
    assert err.value.code == "photo_type"
    big = SimpleUploadedFile("big.png", PNG + b"\x00" * (10 * 1024 * 1024))
    with pytest.raises(DomainError) as err:
        svc.visit_record(actor=cast["alice"], child_pk=roll["village"].pk, data=home(), now=NOW, photos=[big])
    assert err.value.code == "photo_too_large"
    assert Visit.objects.count() == 1


@time_machine.travel(NOW)
def test_a_psychological_finding_raises_the_cadence_and_a_normal_one_ends_it(cast, roll):
    child = roll["village"]
    worry = home(checklist={"psychological": {"status": "有问题", "note": "沉默寡言，自伤倾向"}})
    svc.visit_record(actor=cast["alice"], child_pk=child.pk, data=worry, now=NOW)
    period = CadencePeriod.objects.get(child=child)
    assert period.reasons == ["child_psych_abnormal"] and period.until is None
    item = next(w for w in worklist_for(cast["alice"], today=TODAY) if w.child.pk == child.pk)
    assert item.raised_reasons == ["child_psych_abnormal"]
    svc.visit_record(
        actor=cast["alice"], child_pk=child.pk, now=NOW, data=home(checklist={"psychological": {"status": "正常"}})
    )
    assert CadencePeriod.objects.get(child=child).until == TODAY


@time_machine.travel(NOW)
def test_a_disability_recorded_in_the_registry_raises_the_cadence_from_that_day(cast, roll):
    from guanai.registry.services import child_update

    child = roll["village"]
    child_update(
        actor=cast["alice"],
        pk=child.pk,
        expected_version=child.version,
        changes={"disability_type": "肢体", "disability_grade": 3},
        today=TODAY,
    )
    period = CadencePeriod.objects.get(child=child)
    assert (period.since, period.reasons) == (TODAY, ["child_disability"])


class TestProblems:
    @time_machine.travel(NOW)
    def test_a_problem_found_on_a_visit_is_followed_until_solved(self, cast, roll):
        child = roll["village"]
        svc.visit_record(
            actor=cast["alice"],
            child_pk=child.pk,
            data=home(),
            now=NOW,
            problems=[svc.ProblemData("schooling", "连续两周未到校")],
        )
        problem = Problem.objects.get()
        assert (problem.owner, problem.status, problem.due_date) == (cast["alice"], "open", TODAY + dt.timedelta(14))
        svc.problem_update(actor=cast["alice"], problem_pk=problem.pk, status="in_progress", note="已联系学校")
        with pytest.raises(DomainError):
            svc.problem_update(actor=cast["alice"], problem_pk=problem.pk, status="solved")
        svc.problem_update(actor=cast["alice"], problem_pk=problem.pk, status="solved", solution="已劝返复学")
        with pytest.raises(DomainError):
            svc.problem_update(actor=cast["alice"], problem_pk=problem.pk, status="open")
        kinds = list(child.timeline.values_list("kind", flat=True))
        assert {"problem.open", "problem.in_progress", "problem.solved"} <= set(kinds)
        assert "已劝返复学" in child.timeline.get(kind="problem.solved").summary

    def test_overdue_problems_escalate_to_the_township_then_the_district_once(self, cast, roll):
        with time_machine.travel(NOW):
            svc.problem_open(
                actor=cast["alice"],
                child=roll["village"],
                today=TODAY,
                data=svc.ProblemData("safety", "房屋漏雨", TODAY + dt.timedelta(days=2)),
            )
        later = TODAY + dt.timedelta(days=3)
        assert svc.problems_escalate(today=later) == 1
        assert svc.problems_escalate(today=later) == 0
        assert Problem.objects.get().level == 1
        assert Notification.objects.filter(user=cast["bob"], kind="problem.escalate").count() == 1
        assert svc.problems_escalate(today=later + dt.timedelta(days=14)) == 1
        assert Problem.objects.get().level == 2
        assert Notification.objects.filter(user=cast["charlie"]).count() == 1


@time_machine.travel(NOW)
def test_reminders_are_idempotent(cast, roll):
    first = svc.reminders_run(today=TODAY)
    assert first >= 1
    assert svc.reminders_run(today=TODAY) == 0
    assert Notification.objects.filter(user=cast["alice"], kind="visit.overdue").count() == 1


@time_machine.travel(NOW)
def test_completion_by_township_and_the_ledger(cast, roll):
    svc.visit_record(actor=cast["bob"], child_pk=roll["village"].pk, data=home(), now=NOW)
    svc.visit_record(
        actor=cast["bob"],
        child_pk=roll["neighbour_village"].pk,
        now=NOW,
        data=svc.VisitData(mode="phone", visited_at=NOW),
    )
    svc.worklog_add(actor=cast["bob"], day=TODAY, content="走访虎威镇两名儿童", today=TODAY)
    table = {r["code"]: r for r in completion_by_area(cast["charlie"], today=TODAY, level=4)}
    huwei = table["500230101000"]
    assert (huwei["children"], huwei["contacted"], huwei["home_visited"]) == (2, 2, 1)
    assert huwei["contact_rate"] == 100.0 and huwei["home_rate"] == 50.0
    assert table["500230102000"]["contacted"] == 0
    ledger = ledger_for(cast["charlie"], month=TODAY)
    assert ledger == [
        {
            "visitor_id": cast["bob"].pk,
            "visitor": "bob",
            "children": 2,
            "contacts": 2,
            "home_visits": 1,
            "problems_found": 0,
            "problems_closed": 0,
            "worklog_entries": 1,
        }
    ]


@time_machine.travel(NOW)
def test_the_due_command_prints_obligations_as_json(cast, roll):
    out = io.StringIO()
    call_command("visits", "due", "--region", "500230101", "--on", "2026-11-20", "--format", "json", stdout=out)
    data = json.loads(out.getvalue())
    assert [c["child_no"] for c in data["children"]] == sorted(
        [roll["village"].child_no, roll["neighbour_village"].child_no]
    )
    first = data["children"][0]["obligations"][0]
    assert set(first) >= {"kind", "window_start", "window_end", "due", "state"}
    assert first["window_start"] == "2026-11-01" and first["due"] == "2026-11-30"


def test_the_due_command_refuses_a_bad_region(db):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="不存在"):
        call_command("visits", "due", "--region", "500230999", "--on", "2026-11-20")


@time_machine.travel(NOW)
def test_only_administrators_change_the_cadence_and_it_applies(cast, roll):
    with pytest.raises(DomainError):
        svc.visit_settings_update(actor=cast["charlie"], raised_home_visit_months=2, due_soon_days=7, late_entry_days=7)
    svc.visit_settings_update(actor=cast["frank"], raised_home_visit_months=2, due_soon_days=5, late_entry_days=3)
    with pytest.raises(DomainError) as err:
        svc.visit_record(
            actor=cast["alice"],
            child_pk=roll["village"].pk,
            data=home(at=NOW - dt.timedelta(days=4), late_reason="x"),
            now=NOW,
        )
    assert err.value.code == "too_late"
    assert AuditEvent.objects.filter(action="visits.settings").exists()


@time_machine.travel(NOW)
def test_the_worklist_puts_a_high_risk_child_first_within_the_same_urgency(cast, roll):
    from guanai.protection.models import ChildRisk

    ChildRisk.objects.update_or_create(
        child=roll["neighbour_village"],
        defaults={"grade": "high", "explanation": "测试：高风险", "rule_version": 1, "computed_at": NOW},
    )
    items = worklist_for(cast["bob"], today=TODAY)
    assert [w.child.name for w in items][:1] == ["李小红"]
    assert items[0].risk_grade == "high"
