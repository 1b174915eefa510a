"""The review queue: uncertain links wait for a district officer; decisions survive later runs; revocable."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from conftest import VILLAGE, make_child
from guanai.audit.models import AuditEvent
from guanai.discovery.engine import discovery_run
from guanai.discovery.models import Link, LinkDecision
from guanai.discovery.selectors import review_queue
from guanai.discovery.services import link_decide, link_decision_revoke
from guanai.discovery.tests.conftest import ON, child_number
from guanai.discovery.tests.helpers import one_digit_wrong, transposed
from guanai.lib.errors import NotFound, PermissionRefused


def _edu(name, birth, number="", status="在读"):
    return {
        "姓名": name,
        "性别": "男",
        "出生日期": birth,
        "身份证号": number,
        "学校名称": "虎威小学",
        "学校区划代码": VILLAGE,
        "学籍状态": status,
    }


@pytest.fixture
def uncertain(villages, roster):
    """A pupil with the registry child's birth date, sex and village but another name and no ID number."""
    child = make_child(VILLAGE, "王小明", birth=dt.date(2014, 3, 7))
    roster("education", [_edu("王晓东", "2014-03-07")])
    discovery_run(on=ON)
    return child


def test_an_uncertain_pair_waits_in_the_district_review_queue(uncertain, cast):
    link = Link.objects.get()
    assert link.state == "pending" and link.child == uncertain and 0.6 <= link.probability < 0.97
    fields = {e["field"]: e["level"] for e in link.explanation}
    assert fields["姓名"] == "不同" and fields["出生日期"] == "一致" and fields["区划"] == "同村（社区）"
    assert list(review_queue(cast["charlie"])) == [link]
    assert list(review_queue(cast["alice"])) == []  # directors do not review links


def test_an_accepted_link_survives_a_rerun(uncertain, cast):
    link_decide(actor=cast["charlie"], link_pk=Link.objects.get().pk, decision="accept")
    discovery_run(on=ON)
    link = Link.objects.get()
    assert (link.state, link.method, link.child) == ("accepted", "reviewed", uncertain)
    assert AuditEvent.objects.filter(action="link.accept").exists()


def test_a_rejected_link_stays_rejected_in_later_runs(uncertain, cast):
    link_decide(actor=cast["charlie"], link_pk=Link.objects.get().pk, decision="reject", note="不是同一人")
    discovery_run(on=ON)
    assert not Link.objects.exists()


def test_a_revoked_decision_returns_the_pair_to_the_machine(uncertain, cast):
    decision = link_decide(actor=cast["charlie"], link_pk=Link.objects.get().pk, decision="reject")
    link_decision_revoke(actor=cast["charlie"], decision_pk=decision.pk)
    discovery_run(on=ON)
    assert Link.objects.get().state == "pending"
    assert LinkDecision.objects.get().revoked_at is not None


def test_only_district_officers_in_scope_review(uncertain, cast):
    from conftest import OTHER_DISTRICT, make_user

    link = Link.objects.get()
    with pytest.raises(PermissionRefused):
        link_decide(actor=cast["alice"], link_pk=link.pk, decision="accept")
    with pytest.raises(NotFound):
        link_decide(actor=make_user("district_officer", OTHER_DISTRICT), link_pk=link.pk, decision="accept")


def test_id_typos_and_transpositions_link_probabilistically(villages, roster):
    a = make_child(VILLAGE, "王小明", birth=dt.date(2014, 3, 7))
    b = make_child(VILLAGE, "李小红", birth=dt.date(2013, 6, 21), male=False)
    c = make_child(VILLAGE, "曾静", birth=dt.date(2012, 4, 9), male=False)
    number_b = child_number(b)
    position = next(i for i in range(8, 16) if number_b[i] != number_b[i + 1])
    roster(
        "education",
        [
            _edu("王小明", "2014-03-07", one_digit_wrong(child_number(a), 12)),
            _edu("李晓红", "2013-06-21", transposed(number_b, position)),
            _edu("增静", "2012-09-04"),  # variant surname character, day and month swapped, no number
        ],
    )
    discovery_run(on=ON)
    linked = dict(Link.objects.filter(state="accepted").values_list("child", "method"))
    assert linked == {a.pk: "probabilistic", b.pk: "probabilistic", c.pk: "probabilistic"}
    explained = {e["field"]: e["level"] for e in Link.objects.get(child=b).explanation}
    assert explained["身份证号"] == "相邻两位颠倒"
    assert (
        json.dumps(list(Link.objects.values_list("explanation", flat=True)), ensure_ascii=False).count("日、月颠倒")
        == 1
    )
