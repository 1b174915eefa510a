"""Pages and API: every page renders for its roles, refusals come back as messages, and a provider never sees a
child it was not referred — in the API and in the pages."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from conftest import DISTRICT, TOWNSHIP, VILLAGE, client_for
from guanai.audit.models import AccessEvent
from guanai.support.models import Need, Referral
from guanai.support.services import need_post, referral_create
from guanai.support.tests.factories import make_need, make_provider, make_provider_user, make_service

NOW = dt.datetime(2026, 3, 10, 2, tzinfo=dt.UTC)
ON = dt.date(2026, 3, 10)
pytestmark = pytest.mark.usefixtures("freeze")


@pytest.fixture
def freeze():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def world(cast, children):
    provider = make_provider("阳光社工")
    worker = make_provider_user(provider, "shegong")
    service = make_service(
        provider, "心理辅导", domains=["psychological"], areas=[TOWNSHIP], capacity=5, programme="童心港湾"
    )
    other = make_provider_user(make_provider("别家机构"), "bie")
    need = make_need(children["village"], "psychological", 3, title="情绪低落")
    return {"provider": provider, "worker": worker, "service": service, "other": other, "need": need}


def test_the_support_pages_render_for_the_director(cast, children, world):
    c = client_for(cast["alice"])
    child = children["village"]
    for url in [
        "/support/",
        f"/support/children/{child.pk}/",
        f"/support/children/{child.pk}/assess/",
        "/support/services/",
        "/support/standards/",
        "/support/activities/",
    ]:
        response = c.get(url)
        assert response.status_code == 200, url
    page = c.get(f"/support/children/{child.pk}/").content.decode()
    assert "阳光社工 · 心理辅导" in page and "满足需求：心理健康（严重）" in page
    assert "精准帮扶" in c.get(f"/children/{child.pk}/").content.decode()


def test_a_director_refers_from_the_page_and_a_full_service_says_so(cast, children, world):
    c = client_for(cast["alice"])
    child = children["village"]
    world["service"].capacity = 0
    world["service"].save()
    response = c.post(
        f"/support/children/{child.pk}/refer/", {"service": world["service"].pk, "need": world["need"].pk}, follow=True
    )
    assert "名额已满（0/0）" in response.content.decode()
    assert not Referral.objects.exists()


def test_a_director_cannot_open_a_child_outside_her_village(cast, children, world):
    assert client_for(cast["alice"]).get(f"/support/children/{children['other_township'].pk}/").status_code == 404


def test_the_provider_page_lists_only_its_referrals(cast, children, world):
    child = children["village"]
    referral_create(
        actor=cast["alice"], child_pk=child.pk, service_pk=world["service"].pk, need_pk=world["need"].pk, on=ON
    )
    mine = client_for(world["worker"]).get("/support/provider/").content.decode()
    theirs = client_for(world["other"]).get("/support/provider/").content.decode()
    assert child.name in mine and "情绪低落" in mine and child.id_number_mask not in mine
    assert child.name not in theirs
    assert AccessEvent.objects.filter(actor=world["worker"], action="provider.view", object_id=str(child.pk)).exists()
    # The registry stays closed to providers.
    assert client_for(world["worker"]).get(f"/children/{child.pk}/").status_code in (403, 404)
    assert client_for(world["worker"]).get(f"/support/children/{child.pk}/").status_code == 403


def test_the_provider_accepts_and_delivers_through_the_page(cast, children, world):
    child = children["village"]
    r = referral_create(
        actor=cast["alice"], child_pk=child.pk, service_pk=world["service"].pk, need_pk=world["need"].pk, on=ON
    )
    c = client_for(world["worker"])
    c.post(f"/support/provider/referrals/{r.pk}/accept/")
    response = c.post(
        f"/support/provider/referrals/{r.pk}/deliver/",
        {"delivered_on": "2026-03-10", "note": "完成3次辅导", "sessions": "3", "need_met": "1"},
        follow=True,
    )
    assert "已登记服务完成" in response.content.decode()
    assert Need.objects.get(pk=world["need"].pk).status == "met"
    # Another provider cannot act on it.
    assert client_for(world["other"]).post(f"/support/provider/referrals/{r.pk}/accept/").status_code == 404


def test_posted_needs_on_the_provider_page_hide_the_childs_name(cast, children, world):
    child = children["village"]
    need_post(actor=cast["alice"], pk=world["need"].pk)
    page = client_for(world["worker"]).get("/support/provider/").content.decode()
    assert "情绪低落" in page and child.name not in page


# --- API -------------------------------------------------------------------------------------------------------
def test_api_provider_sees_its_referral_with_the_minimum_and_nothing_else(cast, children, world):
    child = children["village"]
    r = referral_create(
        actor=cast["alice"], child_pk=child.pk, service_pk=world["service"].pk, need_pk=world["need"].pk, on=ON
    )
    items = client_for(world["worker"]).get("/api/v1/support/referrals/").json()
    assert [i["id"] for i in items] == [r.pk]
    assert items[0]["child"] == {"name": child.name, "sex": "男", "age": 11, "village": "测试一村"}
    assert "id_number" not in str(items[0]) and child.id_number_mask not in str(items[0])
    assert client_for(world["other"]).get("/api/v1/support/referrals/").json() == []
    assert client_for(world["other"]).get(f"/api/v1/support/referrals/{r.pk}/").status_code == 404
    assert client_for(world["worker"]).get(f"/api/v1/children/{child.pk}/").status_code in (403, 404)
    assert client_for(world["worker"]).get(f"/api/v1/support/children/{child.pk}/needs/").status_code == 404


def test_api_matching_referral_and_errors(cast, children, world):
    child = children["village"]
    c = client_for(cast["alice"])
    matches = c.get(f"/api/v1/support/children/{child.pk}/matches/").json()
    assert matches[0]["service_name"] == "心理辅导" and matches[0]["reasons"][0] == "满足需求：心理健康（严重）"
    far = make_service(world["provider"], "万州服务", domains=["psychological"], areas=["500101000000"])
    response = c.post(
        "/api/v1/support/referrals/", {"child": child.pk, "service": far.pk}, content_type="application/json"
    )
    assert response.status_code == 409 and response.json()["error"]["code"] == "out_of_area"
    ok = c.post(
        "/api/v1/support/referrals/",
        {"child": child.pk, "service": world["service"].pk, "need": world["need"].pk},
        content_type="application/json",
    )
    assert ok.status_code == 201 and ok.json()["status"] == "sent"


def test_api_assessment_benefits_and_plan(cast, children, world):
    child = children["village"]
    c = client_for(cast["alice"])
    response = c.post(
        f"/api/v1/support/children/{child.pk}/assessments/",
        {"answers": {"edu_study": {"score": 2, "evidence": "数学不及格"}}},
        content_type="application/json",
    )
    assert response.status_code == 201
    assert {n["domain"] for n in response.json()} == {"psychological", "education"}
    bad = c.post(
        f"/api/v1/support/children/{child.pk}/assessments/",
        {"answers": {"edu_study": {"score": 9}}},
        content_type="application/json",
    )
    assert bad.status_code == 400 and "得分应为0至3" in bad.json()["error"]["message"]
    benefits = c.get(f"/api/v1/support/children/{child.pk}/benefits/").json()
    assert set(benefits) == {"enrolments", "eligible", "gaps"}
    plan = c.post(f"/api/v1/support/children/{child.pk}/plan/").json()
    assert plan["status"] == "draft" and plan["progress"] == 0 and len(plan["actions"]) >= 2
    no_owner = c.post(
        f"/api/v1/support/plans/{plan['id']}/actions/",
        {"kind": "other", "title": "x", "due_on": "2026-04-01"},
        content_type="application/json",
    )
    assert no_owner.status_code == 400 and no_owner.json()["error"]["code"] == "owner_required"


def test_api_benefit_overlap_is_a_409(cast, children, world):
    child = children["village"]
    c = client_for(cast["alice"])
    first = c.post(
        f"/api/v1/support/children/{child.pk}/benefits/",
        {"kind": "temporary", "start": "2026-03-01", "end": "2026-03-01", "lump_sum": "1500"},
        content_type="application/json",
    )
    assert first.status_code == 201 and first.json()["lump_sum"] == "1500.00"
    again = c.post(
        f"/api/v1/support/children/{child.pk}/benefits/",
        {"kind": "temporary", "start": "2026-03-01"},
        content_type="application/json",
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "benefit_overlap"


def test_api_catalogue_refuses_an_area_outside_the_officers_district(cast, children, world):
    c = client_for(cast["charlie"])
    body = {
        "provider": world["provider"].pk,
        "name": "万州服务",
        "domains": ["safety"],
        "areas": ["500101000000"],
        "capacity": 3,
    }
    response = c.post("/api/v1/support/services/", body, content_type="application/json")
    assert response.status_code == 403 and response.json()["error"]["code"] == "out_of_scope"
    ok = c.post(
        "/api/v1/support/services/",
        {**body, "name": "防溺水", "areas": [DISTRICT, VILLAGE]},
        content_type="application/json",
    )
    assert ok.status_code == 201 and sorted(ok.json()["areas"]) == ["500230", "500230101201"]
    assert (
        client_for(cast["alice"]).post("/api/v1/support/services/", body, content_type="application/json").status_code
        == 403
    )


def test_api_a_district_officer_ties_a_social_worker_to_a_provider(cast, children, world):
    from conftest import make_user

    newcomer = make_user("social_worker", DISTRICT, "xinren")
    c = client_for(cast["charlie"])
    url = f"/api/v1/support/providers/{world['provider'].pk}/members/"
    assert c.post(url, {"user": newcomer.pk}, content_type="application/json").status_code == 201
    assert c.post(url, {"user": cast["alice"].pk}, content_type="application/json").status_code == 400
    assert (
        client_for(cast["alice"]).post(url, {"user": newcomer.pk}, content_type="application/json").status_code == 403
    )
    assert client_for(newcomer).get("/api/v1/support/referrals/").json() == []


def test_a_district_officer_makes_a_social_worker_staff_of_a_provider(cast):
    from conftest import DISTRICT, OTHER_DISTRICT, make_user
    from guanai.audit.models import AuditEvent
    from guanai.support.models import ProviderMember
    from guanai.support.tests.factories import make_provider

    provider = make_provider()
    worker = make_user("social_worker", DISTRICT, "xiaochen")
    elsewhere = make_user("social_worker", OTHER_DISTRICT, "wanzhou")
    officer = client_for(cast["charlie"])

    response = officer.post("/support/providers/members/new/", {"provider": provider.pk, "username": "xiaochen"})
    assert response.status_code == 302
    assert ProviderMember.objects.get(user=worker).provider == provider
    assert AuditEvent.objects.filter(action="provider.member", object_id=str(provider.pk)).exists()

    # An account of another district would read this provider's referred children: refused, nothing written.
    refused = officer.post("/support/providers/members/new/", {"provider": provider.pk, "username": "wanzhou"})
    assert refused.status_code == 404
    assert not ProviderMember.objects.filter(user=elsewhere).exists()
    # A director cannot do it at all.
    assert client_for(cast["alice"]).post(
        "/support/providers/members/new/", {"provider": provider.pk, "username": "xiaochen"}
    ).status_code in (302, 403)
    assert ProviderMember.objects.filter(provider=provider).count() == 1


def test_the_catalogue_filters_by_domain_before_paging(cast, children, world):
    for i in range(35):
        make_service(world["provider"], f"安全教育{i:02d}", domains=["safety"], areas=[TOWNSHIP])
    c = client_for(cast["alice"])
    page = c.get("/support/services/", {"domain": "psychological"}).content.decode()
    assert "心理辅导" in page and "安全教育" not in page and "下一页" not in page
    safety = c.get("/support/services/", {"domain": "safety", "q": "安全"}).content.decode()
    assert safety.count("安全教育") >= 30 and "心理辅导" not in safety
    assert "q=%E5%AE%89%E5%85%A8&amp;domain=safety&amp;page=2" in safety
