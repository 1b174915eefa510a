"""Cases: opened from a report, a problem or by hand; stages; tasks; closing needs another manager's approval."""

from __future__ import annotations

import datetime as dt

import pytest

from guanai.lib.errors import DomainError, NotFound, PermissionRefused
from guanai.protection import services as svc
from guanai.protection.models import Case
from guanai.protection.selectors import cases_for
from guanai.protection.tests.conftest import NOW, file_report
from guanai.registry.models import TimelineEvent
from guanai.visits.services import ProblemData, problem_open

TODAY = dt.date(2026, 3, 2)


@pytest.fixture
def case(pcast, children):
    return svc.case_open(actor=pcast["bob"], child_pk=children["village"].pk, title="长期无人照料", now=NOW)


def test_a_case_opens_from_a_report(pcast, children):
    report = file_report(pcast["alice"], child_pk=children["village"].pk, region_code="")
    case = svc.case_open(actor=pcast["charlie"], source="report", report_pk=report.pk, now=NOW)
    assert (case.child, case.stage, case.report) == (children["village"], "accepted", report)
    assert case.title.startswith("强制报告：")
    with pytest.raises(DomainError) as exc:
        svc.case_open(actor=pcast["charlie"], source="report", report_pk=report.pk, now=NOW)
    assert exc.value.code == "duplicate_case"


def test_a_case_opens_from_a_visit_problem(pcast, children):
    problem = problem_open(
        actor=pcast["alice"], child=children["village"], data=ProblemData("guardianship", "祖父母无力照料"), today=TODAY
    )
    case = svc.case_open(actor=pcast["bob"], source="problem", problem_pk=problem.pk, now=NOW)
    assert case.problem == problem and "祖父母无力照料" in case.title


def test_a_case_about_an_unregistered_child(pcast):
    case = svc.case_open(
        actor=pcast["charlie"], subject="街头乞讨的男孩，约8岁", region_code="500230101000", title="组织乞讨", now=NOW
    )
    assert case.child is None and case.region_id == "500230101000"


def test_a_director_cannot_open_a_case(pcast, children):
    with pytest.raises(PermissionRefused):
        svc.case_open(actor=pcast["alice"], child_pk=children["village"].pk, title="x", now=NOW)


def test_a_supervisor_cannot_open_a_case_outside_the_township(pcast, children):
    with pytest.raises(NotFound):
        svc.case_open(actor=pcast["bob"], child_pk=children["other_township"].pk, title="x", now=NOW)


def test_stages_move_in_order_and_back_with_a_reason(pcast, case):
    with pytest.raises(DomainError):
        svc.case_stage_change(actor=pcast["bob"], case_pk=case.pk, stage="intervening", now=NOW)
    svc.case_stage_change(actor=pcast["bob"], case_pk=case.pk, stage="verifying", now=NOW)
    svc.case_stage_change(actor=pcast["bob"], case_pk=case.pk, stage="planning", now=NOW)
    with pytest.raises(DomainError) as exc:
        svc.case_stage_change(actor=pcast["bob"], case_pk=case.pk, stage="verifying", now=NOW)
    assert exc.value.detail == {"note": "退回上一阶段请说明原因"}
    with pytest.raises(DomainError):
        svc.case_stage_change(actor=pcast["bob"], case_pk=case.pk, stage="closed", now=NOW)
    case.refresh_from_db()
    assert case.stage == "planning"
    lines = TimelineEvent.objects.filter(child=case.child, kind="case.stage").values_list("summary", flat=True)
    assert any("受理 → 核查评估" in s for s in lines)


def test_closing_with_open_tasks_is_refused(pcast, case):
    task = svc.case_task_add(
        actor=pcast["bob"],
        case_pk=case.pk,
        title="联系外出务工的父母",
        owner_pk=pcast["alice"].pk,
        due_date=TODAY + dt.timedelta(days=7),
        today=TODAY,
        now=NOW,
    )
    with pytest.raises(DomainError) as exc:
        svc.case_close_request(actor=pcast["bob"], case_pk=case.pk, reason="父母已返乡照料", now=NOW)
    assert exc.value.code == "open_tasks"

    svc.case_task_complete(actor=pcast["alice"], task_pk=task.pk, result="母亲已返乡", now=NOW)
    svc.case_close_request(actor=pcast["bob"], case_pk=case.pk, reason="父母已返乡照料", now=NOW)
    case.refresh_from_db()
    assert case.close_requested_by == pcast["bob"] and case.stage != "closed"


def test_closing_needs_approval_by_someone_else(pcast, case):
    svc.case_close_request(actor=pcast["bob"], case_pk=case.pk, reason="风险已消除", now=NOW)
    with pytest.raises(PermissionRefused):
        svc.case_close_decide(actor=pcast["bob"], case_pk=case.pk, approve=True, now=NOW)
    with pytest.raises(PermissionRefused):
        svc.case_close_decide(actor=pcast["alice"], case_pk=case.pk, approve=True, now=NOW)

    svc.case_close_decide(actor=pcast["charlie"], case_pk=case.pk, approve=True, now=NOW)

    case.refresh_from_db()
    assert (case.stage, case.approved_by, case.close_reason) == ("closed", pcast["charlie"], "风险已消除")
    assert TimelineEvent.objects.filter(child=case.child, kind="case.close").exists()


def test_a_returned_close_request_keeps_the_case_open(pcast, case):
    svc.case_close_request(actor=pcast["charlie"], case_pk=case.pk, reason="已解决", now=NOW)
    svc.case_close_decide(actor=pcast["bob"], case_pk=case.pk, approve=False, note="还需回访一次", now=NOW)
    case.refresh_from_db()
    assert case.is_open and case.close_requested_at is None


def test_a_task_owner_must_work_where_the_child_lives(pcast, case):
    with pytest.raises(DomainError) as exc:
        svc.case_task_add(
            actor=pcast["bob"],
            case_pk=case.pk,
            title="x",
            owner_pk=pcast["police_wanzhou"].pk,
            due_date=TODAY,
            today=TODAY,
            now=NOW,
        )
    assert "owner" in exc.value.detail


def test_transfer_to_another_department(pcast, case):
    svc.case_transfer(actor=pcast["bob"], case_pk=case.pk, department="police", reason="涉嫌虐待，需公安调查", now=NOW)
    case.refresh_from_db()
    assert case.department == "police"
    assert case.notes.filter(kind="transfer").exists()


def test_notes_are_kept_and_in_the_timeline(pcast, case):
    svc.case_note_add(actor=pcast["bob"], case_pk=case.pk, text="已与学校班主任沟通", now=NOW)
    assert case.notes.filter(kind="note").count() == 1
    assert TimelineEvent.objects.filter(child=case.child, kind="case.note").exists()


def test_cases_are_scoped(pcast, case):
    assert list(cases_for(pcast["alice"])) == [case]  # the child's director sees it
    assert list(cases_for(pcast["police_wanzhou"])) == []
    assert Case.objects.count() == 1
