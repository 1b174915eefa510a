"""A director assesses needs after a visit, accepts a suggested service, the provider accepts the referral and
records delivery, and the care plan shows progress (chromium + Playwright, phone-sized)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from conftest import BROWSER_TESTS, TOWNSHIP, VILLAGE, make_child, make_user, phone
from guanai.support.models import CarePlan, Need, Referral
from guanai.support.tests.factories import make_provider, make_provider_user, make_service
from guanai.visits.models import Visit

pytestmark = BROWSER_TESTS


@pytest.mark.django_db(transaction=True)
def test_assess_refer_accept_deliver_and_the_plan_shows_progress(browser, live_server, villages, tmp_path):
    director = make_user("director", VILLAGE, "zhuren")
    child = make_child(VILLAGE, "王小明")
    provider = make_provider("阳光社会工作服务中心")
    make_provider_user(provider, "shegong")
    make_service(
        provider, "儿童心理辅导", domains=["psychological"], areas=[TOWNSHIP], capacity=10, programme="童心相伴"
    )
    make_service(provider, "防溺水课堂", domains=["safety"], areas=[TOWNSHIP])
    today = timezone.localdate()
    visit = Visit.objects.create(
        child=child,
        visited_at=timezone.now() - dt.timedelta(hours=2),
        visited_on=today,
        mode="home",
        visitor=director,
        visitor_name="李春梅",
        checklist={
            "psychological": {"status": "有问题", "note": "孩子情绪低落，想念父母"},
            "safety": {"status": "正常"},
        },
    )

    # The director assesses needs after the visit: the form is pre-filled from the visit's checklist.
    page = phone(browser, live_server, "zhuren")
    page.goto(f"{live_server.url}/support/children/{child.pk}/assess/?visit={visit.pk}")
    page.wait_for_selector("text=已根据")
    assert page.is_checked("input[name=score_psy_mood][value='3']")
    page.fill("input[name=evidence_psy_mood]", "走访时孩子哭泣，说想念外出务工的父母")
    page.check("input[name=score_edu_study][value='1']")
    page.screenshot(path=str(tmp_path / "assess.png"), full_page=True)
    page.click("button:has-text('保存评估')")
    page.wait_for_selector("text=需求评估已保存")
    assert Need.objects.filter(child=child, domain="psychological", severity=3, status="open").exists()

    # The suggested service is explained; the director accepts it and a referral goes to the provider.
    suggestion = page.locator(".sugg", has_text="儿童心理辅导")
    assert suggestion.locator("text=满足需求：心理健康（严重）").count() == 1
    page.screenshot(path=str(tmp_path / "child.png"), full_page=True)
    suggestion.locator("button:has-text('转介')").click()
    page.wait_for_selector("text=已发出转介")
    referral = Referral.objects.get(child=child)
    assert referral.status == "sent"
    page.click("button:has-text('生成帮扶方案')")
    page.wait_for_selector("text=已根据需求和推荐服务生成方案草稿")
    page.click("button:has-text('启动实施')")
    page.wait_for_selector("text=方案已启动实施")
    assert page.inner_text("#progress") == "0%"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    # The provider accepts the referral and records delivery; it sees the child's name, not the ID number.
    worker = phone(browser, live_server, "shegong")
    worker.goto(live_server.url + "/support/provider/")
    card = worker.locator(f"#referral-{referral.pk}")
    assert card.locator("text=王小明").count() == 1
    assert child.id_number_mask not in worker.content()
    card.locator("button:has-text('接收')").click()
    worker.wait_for_selector("text=已接收转介")
    card = worker.locator(f"#referral-{referral.pk}")
    card.locator("input[name=note]").fill("完成4次个体心理辅导，情绪明显好转")
    card.locator("input[name=sessions]").fill("4")
    worker.screenshot(path=str(tmp_path / "provider.png"), full_page=True)
    card.locator("button:has-text('登记服务完成')").click()
    worker.wait_for_selector("text=已登记服务完成")
    assert Referral.objects.get(pk=referral.pk).status == "delivered"

    # The care plan shows the referral done and the progress.
    plan = CarePlan.objects.get(child=child)
    page.goto(f"{live_server.url}/support/plans/{plan.pk}/")
    action = page.locator(".need", has_text="儿童心理辅导")
    assert action.locator(".st-done").inner_text() == "已完成"
    assert page.inner_text("#progress") != "0%"
    page.screenshot(path=str(tmp_path / "plan.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
