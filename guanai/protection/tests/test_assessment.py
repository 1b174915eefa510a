"""The guardianship-capacity instrument: scoring, result actions, versions."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from guanai.lib.errors import DomainError, PermissionRefused
from guanai.protection import instrument as lib
from guanai.protection import services as svc
from guanai.protection.models import Assessment, Case
from guanai.protection.selectors import children_with_poor_guardianship, instrument_current
from guanai.protection.tests.conftest import NOW
from guanai.visits.models import Notification, Problem

TODAY = dt.date(2026, 3, 2)


def answers_for(version, **overrides):
    """Best option everywhere, then the overrides."""
    best = {i["id"]: max(i["options"], key=lambda o: o["score"])["value"] for i in lib.items_of(version.definition)}
    best.update(overrides)
    return best


def test_the_default_instrument_has_the_standards_structure(instrument):
    definition = instrument.definition
    assert [i["label"] for i in definition["indicators"]] == ["儿童成长", "监护能力", "监护保障"]
    level2 = [c["label"] for i in definition["indicators"] for c in i["children"]]
    assert level2 == [
        "身体健康",
        "心理健康",
        "安全",
        "教育",
        "社会参与",
        "监护人健康",
        "收入",
        "情感交流",
        "居住环境",
        "邻里关系",
        "亲属关系",
    ]
    assert all(2 <= len(c["items"]) <= 3 for i in definition["indicators"] for c in i["children"])
    assert [r["label"] for r in definition["results"]] == ["监护正常", "监护不足", "监护失当", "监护缺失"]


def test_a_filled_sample_scores_to_the_expected_level(instrument):
    # given a family that is poor, rarely in touch with the parents away, with little support around
    sample = answers_for(
        instrument,
        in_income="short",
        in_support="irregular",
        ec_parents="rarely",
        ec_daily="sometimes",
        ec_needs="partly",
        ed_support="sometimes",
        sp_activities="sometimes",
        kn_support="none",
        nb_help="sometimes",
        le_space="partly",
        mh_mood="low",
    )
    scored = lib.score(instrument.definition, sample)
    assert (scored.total, scored.max_total, scored.percent) == (72, 100, 72)
    assert (scored.result, scored.result_label) == ("insufficient", "监护不足")
    assert scored.vetoes == []


def test_a_veto_item_forces_guardianship_missing(instrument):
    scored = lib.score(instrument.definition, answers_for(instrument, sf_supervision="alone"))
    assert scored.percent == 96
    assert scored.result == "missing"
    assert "一票否决项" in scored.explanation


def test_unanswered_items_are_refused(instrument):
    sample = answers_for(instrument)
    del sample["ph_growth"]
    with pytest.raises(lib.InstrumentError) as exc:
        lib.score(instrument.definition, sample)
    assert "儿童营养和生长发育状况" in exc.value.message


def test_guardianship_missing_opens_a_case_and_notifies_civil_affairs(pcast, children, instrument):
    child = children["village"]
    a = svc.assessment_submit(
        actor=pcast["alice"],
        child_pk=child.pk,
        answers=answers_for(instrument, gh_physical="incapable"),
        assessed_on=TODAY,
        now=NOW,
    )
    assert a.result == "missing" and a.reassess_due == TODAY + dt.timedelta(days=30)
    case = Case.objects.get(assessment=a)
    assert (case.child, case.source) == (child, "assessment")
    assert Notification.objects.filter(user=pcast["charlie"], kind="assessment.missing").exists()
    assert children_with_poor_guardianship([child.pk], TODAY) == {child.pk}


def test_a_poor_result_creates_a_support_task_and_a_reassessment(pcast, children, instrument):
    child = children["village"]
    a = svc.assessment_submit(
        actor=pcast["alice"],
        child_pk=child.pk,
        answers=answers_for(instrument, sf_violence="abuse"),
        assessed_on=TODAY,
        now=NOW,
    )
    assert a.result == "improper"
    assert a.reassess_due == TODAY + dt.timedelta(days=90)
    assert a.support_problem_id is not None
    problem = Problem.objects.get(pk=a.support_problem_id)
    assert (problem.category, problem.owner, problem.due_date) == (
        "guardianship",
        pcast["alice"],
        TODAY + dt.timedelta(days=14),
    )
    assert not Case.objects.exists()


def test_a_normal_result_needs_no_follow_up(pcast, children, instrument):
    a = svc.assessment_submit(
        actor=pcast["alice"],
        child_pk=children["village"].pk,
        answers=answers_for(instrument),
        assessed_on=TODAY,
        now=NOW,
    )
    assert (a.result, a.reassess_due, a.support_problem) == ("normal", None, None)
    assert children_with_poor_guardianship([children["village"].pk], TODAY) == set()


def test_a_later_normal_result_ends_poor_guardianship(pcast, children, instrument):
    child = children["village"]
    svc.assessment_submit(
        actor=pcast["alice"],
        child_pk=child.pk,
        answers=answers_for(instrument, sf_violence="abuse"),
        assessed_on=TODAY - dt.timedelta(days=100),
        now=NOW,
    )
    svc.assessment_submit(
        actor=pcast["alice"], child_pk=child.pk, answers=answers_for(instrument), assessed_on=TODAY, now=NOW
    )
    assert children_with_poor_guardianship([child.pk], TODAY) == set()
    assert children_with_poor_guardianship([child.pk], TODAY - dt.timedelta(days=1)) == {child.pk}


def test_a_published_version_leaves_old_results_unchanged(pcast, children, instrument):
    old = svc.assessment_submit(
        actor=pcast["alice"],
        child_pk=children["village"].pk,
        answers=answers_for(instrument, in_income="short"),
        assessed_on=TODAY,
        now=NOW,
    )
    changed = json.loads(json.dumps(instrument.definition))
    changed["cutoffs"][0]["min_percent"] = 99  # stricter: 96% is no longer 监护正常
    new = svc.instrument_publish(actor=pcast["frank"], instrument="guardianship", items_json=json.dumps(changed))

    assert (new.version, instrument_current().pk) == (2, new.pk)
    old.refresh_from_db()
    assert (old.version_id, old.total, old.result) == (instrument.pk, 96, "normal")
    again = svc.assessment_submit(
        actor=pcast["alice"],
        child_pk=children["village"].pk,
        answers=answers_for(instrument, in_income="short"),
        assessed_on=TODAY,
        now=NOW,
    )
    assert (again.version, again.result) == (new, "insufficient")
    with pytest.raises(DomainError) as exc:
        svc.assessment_submit(
            actor=pcast["alice"],
            child_pk=children["village"].pk,
            answers=answers_for(instrument),
            assessed_on=TODAY,
            now=NOW,
            version_pk=instrument.pk,
        )
    assert exc.value.code == "stale_instrument"


def test_publishing_is_for_administrators_and_checks_the_json(pcast, instrument):
    with pytest.raises(PermissionRefused):
        svc.instrument_publish(actor=pcast["charlie"], instrument="guardianship", items_json="{}")
    with pytest.raises(DomainError) as exc:
        svc.instrument_publish(actor=pcast["frank"], instrument="guardianship", items_json="{not json")
    assert "JSON" in exc.value.message
    broken = json.loads(json.dumps(instrument.definition))
    broken["indicators"][0]["children"][0]["items"][0]["options"] = [{"value": "a", "label": "甲", "score": 1}]
    with pytest.raises(DomainError) as exc:
        svc.instrument_publish(actor=pcast["frank"], instrument="guardianship", items_json=json.dumps(broken))
    assert "至少需要两个选项" in exc.value.message
    assert Assessment.objects.count() == 0
