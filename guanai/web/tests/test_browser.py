"""Real browser: Debian's chromium driven by Playwright. Marked `browser`; skipped where chromium is absent."""

from __future__ import annotations

import pytest

from conftest import BROWSER_TESTS, PASSWORD
from guanai import privacy
from guanai.audit.models import AccessEvent

pytestmark = BROWSER_TESTS


@pytest.mark.django_db(transaction=True)
def test_a_director_logs_in_on_a_phone_opens_a_child_and_reveals_the_id(page, live_server, cast, children):
    child = children["village"]
    page.goto(live_server.url + "/")
    assert "/login/" in page.url
    page.fill("#id_username", "alice")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("text=我的工作台")
    assert page.is_visible("text=王小明")
    assert not page.is_visible("text=李小红")  # the neighbouring village's child

    page.click("a[href='/children/']")  # the roster tab
    page.click(f"a[href='/children/{child.pk}/']")
    page.wait_for_selector("text=基本信息")
    assert page.inner_text("#id-number").startswith(child.id_number_mask)
    page.click("#id-number button")
    page.wait_for_selector(".revealed")
    assert page.inner_text(".revealed") == privacy.reveal(child.id_number_enc)
    assert AccessEvent.objects.filter(action="child.reveal", actor=cast["alice"]).count() == 1
    # Nothing overflows a phone screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


@pytest.mark.django_db(transaction=True)
def test_an_out_of_scope_child_is_a_404_page_in_the_browser(page, live_server, cast, children):
    page.goto(live_server.url + "/login/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("text=我的工作台")
    response = page.goto(live_server.url + f"/children/{children['other_district'].pk}/")
    assert response is not None and response.status == 404
    assert page.is_visible("text=未找到")
