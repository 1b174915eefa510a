"""Matching order and explanations, referrals (area, capacity, eligibility), provider responses and visibility."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import DISTRICT, NEIGHBOUR_VILLAGE, OTHER_DISTRICT, TOWNSHIP, VILLAGE
from guanai.lib.errors import DomainError, NotFound, PermissionRefused
from guanai.registry.models import ChildGroup, TimelineEvent
from guanai.support.matching import match_services
from guanai.support.models import Need, Referral
from guanai.support.selectors import postings_for_provider, referral_for_provider, referrals_for_provider
from guanai.support.services import (
    need_post,
    need_take,
    referral_create,
    referral_deliver,
    referral_respond,
)
from guanai.support.tests.factories import make_need, make_provider, make_provider_user, make_service

ON = dt.date(2026, 3, 10)


@pytest.fixture
def provider(villages):
    return make_provider("阳光社工")


@pytest.fixture
def worker(provider):
    return make_provider_user(provider, "shegong")


def _names(suggestions):
    return [s.service_name for s in suggestions]


def test_it_ranks_by_need_fit_then_closeness_and_explains_each(cast, children, provider):
    child = children["village"]  # 11 years old, boy
    make_need(child, "psychological", 3)
    make_need(child, "education", 1)
    make_service(provider, "区心理辅导", domains=["psychological"], areas=[DISTRICT])
    make_service(provider, "村心理辅导", domains=["psychological"], areas=[VILLAGE])
    make_service(provider, "学业辅导", domains=["education"], areas=[TOWNSHIP])
    make_service(provider, "综合关爱", domains=["psychological", "education"], areas=[DISTRICT])
    make_service(provider, "安全教育", domains=["safety"], areas=[VILLAGE])  # meets no open need
    got = match_services(child=child, on=ON)
    assert _names(got) == ["综合关爱", "村心理辅导", "区心理辅导", "学业辅导"]
    assert got[0].reasons == ["满足需求：心理健康（严重）、教育学业（一般）", "服务范围覆盖本区县", "剩余名额10/10"]
    assert got[1].explanation == "满足需求：心理健康（严重）；服务范围覆盖本村（社区）；剩余名额10/10"


def test_full_services_drop_out_and_places_left_break_ties(cast, children, provider):
    child, other = children["village"], children["neighbour_village"]
    make_need(child, "psychological", 2)
    roomy = make_service(provider, "名额多", domains=["psychological"], areas=[TOWNSHIP], capacity=10)
    tight = make_service(provider, "名额少", domains=["psychological"], areas=[TOWNSHIP], capacity=2)
    full = make_service(provider, "已满", domains=["psychological"], areas=[TOWNSHIP], capacity=1)
    Referral.objects.create(child=other, service=full, provider=provider, created_by=cast["alice"])
    Referral.objects.create(child=other, service=tight, provider=provider, created_by=cast["alice"])
    got = match_services(child=child, on=ON)
    assert _names(got) == ["名额多", "名额少"]
    assert got[1].reasons[-1] == "剩余名额1/2"
    assert roomy.pk == got[0].service_id


def test_age_sex_and_group_limits_are_hard_conditions(cast, children, provider):
    child = children["village"]  # boy, 11
    make_need(child, "affection", 2)
    make_service(provider, "幼儿", domains=["affection"], areas=[DISTRICT], age_min=0, age_max=6)
    make_service(provider, "女童", domains=["affection"], areas=[DISTRICT], sex="F")
    orphans = make_service(provider, "孤儿专项", domains=["affection"], areas=[DISTRICT], groups=["orphan"])
    make_service(provider, "爱心妈妈", domains=["affection"], areas=[DISTRICT], programme="爱心妈妈")
    assert _names(match_services(child=child, on=ON)) == ["爱心妈妈"]
    ChildGroup.objects.create(
        child=child, code="orphan", explanation="x", rule_id="orphan", rule_version=1, source="s", derived_on=ON
    )
    got = match_services(child=child, on=ON)
    assert _names(got) == ["孤儿专项", "爱心妈妈"]
    assert "面向孤儿" in got[0].reasons and orphans.pk == got[0].service_id


def test_continuity_with_a_provider_already_involved_lifts_a_service(cast, children, provider):
    child = children["village"]
    other_provider = make_provider("红领巾志愿队", kind="volunteer")
    make_need(child, "psychological", 2)
    make_need(child, "recreation", 1)
    make_service(other_provider, "心理陪伴", domains=["psychological"], areas=[TOWNSHIP])
    make_service(provider, "心理小组", domains=["psychological"], areas=[TOWNSHIP])
    earlier = make_service(provider, "阅读活动", domains=["recreation"], areas=[TOWNSHIP])
    Referral.objects.create(
        child=child, service=earlier, provider=provider, created_by=cast["alice"], status="delivered"
    )
    got = match_services(child=child, on=ON)
    assert _names(got)[:2] == ["心理小组", "心理陪伴"]
    assert "该服务方已在为这名儿童服务，便于延续" in got[0].reasons


def test_a_child_without_open_needs_gets_no_suggestions(children, provider):
    make_service(provider, "心理辅导", domains=["psychological"], areas=[DISTRICT])
    assert match_services(child=children["village"], on=ON) == []


# --- referrals ------------------------------------------------------------------------------------------------
def test_a_referral_outside_the_services_area_is_refused(cast, children, provider):
    child = children["village"]
    service = make_service(provider, "邻村服务", domains=["psychological"], areas=[NEIGHBOUR_VILLAGE])
    with pytest.raises(DomainError, match="服务区域不包括") as err:
        referral_create(actor=cast["alice"], child_pk=child.pk, service_pk=service.pk, on=ON)
    assert err.value.code == "out_of_area"
    assert not Referral.objects.exists()


def test_a_referral_over_capacity_is_refused(cast, children, provider):
    child, other = children["village"], children["neighbour_village"]
    service = make_service(provider, "心理辅导", domains=["psychological"], areas=[TOWNSHIP], capacity=1)
    referral_create(actor=cast["bob"], child_pk=other.pk, service_pk=service.pk, on=ON)
    with pytest.raises(DomainError, match=r"名额已满（1/1）") as err:
        referral_create(actor=cast["alice"], child_pk=child.pk, service_pk=service.pk, on=ON)
    assert err.value.code == "over_capacity"


def test_a_declined_referral_frees_its_place_and_reopens_the_need(cast, children, provider, worker):
    child = children["village"]
    need = make_need(child, "psychological", 3)
    service = make_service(provider, "心理辅导", domains=["psychological"], areas=[TOWNSHIP], capacity=1)
    r = referral_create(actor=cast["alice"], child_pk=child.pk, service_pk=service.pk, need_pk=need.pk, on=ON)
    assert Need.objects.get(pk=need.pk).status == "in_progress"
    with pytest.raises(DomainError, match="须说明理由"):
        referral_respond(actor=worker, pk=r.pk, accept=False)
    referral_respond(actor=worker, pk=r.pk, accept=False, reason="本月人手不足")
    assert Need.objects.get(pk=need.pk).status == "open"
    referral_create(actor=cast["bob"], child_pk=children["neighbour_village"].pk, service_pk=service.pk, on=ON)


def test_the_provider_accepts_and_reports_delivery_which_meets_the_need(cast, children, provider, worker):
    child = children["village"]
    need = make_need(child, "psychological", 3)
    service = make_service(provider, "心理辅导", domains=["psychological"], areas=[TOWNSHIP])
    r = referral_create(actor=cast["alice"], child_pk=child.pk, service_pk=service.pk, need_pk=need.pk, on=ON)
    with pytest.raises(DomainError, match="只有已接收的转介"):
        referral_deliver(actor=worker, pk=r.pk, delivered_on=ON, note="x", today=ON)
    referral_respond(actor=worker, pk=r.pk, accept=True)
    referral_deliver(actor=worker, pk=r.pk, delivered_on=ON, note="完成6次个体辅导，情绪好转", sessions=6, today=ON)
    need.refresh_from_db()
    assert need.status == "met" and "完成6次个体辅导" in need.resolution
    lines = list(
        TimelineEvent.objects.filter(child=child, kind="support.referral")
        .order_by("id")
        .values_list("summary", flat=True)
    )
    assert lines == [
        "转介至阳光社工“心理辅导”（psychological需求）",
        "阳光社工接收转介“心理辅导”",
        "阳光社工完成服务“心理辅导”（6次）：完成6次个体辅导，情绪好转",
    ]


def test_only_the_workforce_refers_and_only_the_provider_responds(cast, children, provider, worker):
    child = children["village"]
    service = make_service(provider, "心理辅导", domains=["psychological"], areas=[TOWNSHIP])
    with pytest.raises(PermissionRefused):
        referral_create(actor=worker, child_pk=child.pk, service_pk=service.pk, on=ON)
    r = referral_create(actor=cast["alice"], child_pk=child.pk, service_pk=service.pk, on=ON)
    with pytest.raises(PermissionRefused):
        referral_respond(actor=cast["alice"], pk=r.pk, accept=True)
    stranger = make_provider_user(make_provider("别家机构"), "bie")
    with pytest.raises(NotFound):
        referral_respond(actor=stranger, pk=r.pk, accept=True)


# --- provider visibility --------------------------------------------------------------------------------------
def test_a_provider_sees_only_children_referred_to_it_and_loses_them_on_decline(cast, children, provider, worker):
    child, other = children["village"], children["neighbour_village"]
    mine = make_service(provider, "心理辅导", domains=["psychological"], areas=[TOWNSHIP])
    theirs = make_service(make_provider("别家机构"), "学业辅导", domains=["education"], areas=[TOWNSHIP])
    r1 = referral_create(actor=cast["alice"], child_pk=child.pk, service_pk=mine.pk, on=ON)
    r2 = referral_create(actor=cast["bob"], child_pk=other.pk, service_pk=theirs.pk, on=ON)
    assert list(referrals_for_provider(worker)) == [r1]
    with pytest.raises(NotFound):
        referral_for_provider(worker, r2.pk)
    referral_respond(actor=worker, pk=r1.pk, accept=False, reason="不在服务时间")
    assert list(referrals_for_provider(worker)) == []
    assert list(referrals_for_provider(cast["alice"])) == []  # a director is not a provider


def test_posted_needs_show_without_names_only_in_the_providers_area(cast, children, provider, worker):
    here, far = children["village"], children["other_district"]
    make_service(provider, "心理辅导", domains=["psychological"], areas=[TOWNSHIP])
    need_here = make_need(here, "psychological", 3, title="心理健康：情绪和行为异常")
    need_far = make_need(far, "psychological", 3)
    need_other_domain = make_need(here, "living", 3)
    assert postings_for_provider(worker, on=ON) == []  # nothing posted yet
    need_post(actor=cast["alice"], pk=need_here.pk)
    need_post(actor=cast["alice"], pk=need_other_domain.pk)
    Need.objects.filter(pk=need_far.pk).update(posted_at=need_here.posted_at)
    (posting,) = postings_for_provider(worker, on=ON)
    assert posting.need_id == need_here.pk and posting.village == "测试一村" and posting.age == 11
    assert not hasattr(posting, "name") and here.name not in str(posting)


def test_a_provider_takes_a_posted_need_and_then_sees_the_child(cast, children, provider, worker):
    child = children["village"]
    service = make_service(provider, "心理辅导", domains=["psychological"], areas=[TOWNSHIP])
    need = make_need(child, "psychological", 3)
    with pytest.raises(NotFound):
        need_take(actor=worker, need_pk=need.pk, service_pk=service.pk, on=ON)  # not posted
    need_post(actor=cast["alice"], pk=need.pk)
    r = need_take(actor=worker, need_pk=need.pk, service_pk=service.pk, on=ON)
    assert r.status == "accepted" and r.via_posting
    assert list(referrals_for_provider(worker)) == [r]
    assert postings_for_provider(worker, on=ON) == []


def test_a_provider_cannot_take_a_need_outside_its_area(cast, children, worker, provider):
    far = children["other_district"]
    service = make_service(provider, "心理辅导", domains=["psychological"], areas=[DISTRICT])
    need = make_need(far, "psychological", 3)
    Need.objects.filter(pk=need.pk).update(posted_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC))
    with pytest.raises(DomainError) as err:
        need_take(actor=worker, need_pk=need.pk, service_pk=service.pk, on=ON)
    assert err.value.code == "out_of_area" and OTHER_DISTRICT != DISTRICT
