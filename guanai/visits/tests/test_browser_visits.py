"""A director records a home visit on a phone in the real browser (chromium + Playwright)."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import BROWSER_TESTS, phone
from guanai.registry.models import Child
from guanai.visits.models import Problem, Visit

pytestmark = BROWSER_TESTS
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.mark.django_db(transaction=True)
def test_a_director_records_a_home_visit_with_a_photo_and_a_problem(
    browser, live_server, cast, children, tmp_path, settings
):
    settings.MEDIA_ROOT = tmp_path / "media"
    Child.objects.update(created_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
    photo = tmp_path / "visit.png"
    photo.write_bytes(PNG)

    page = phone(browser, live_server, "alice")
    page.goto(live_server.url + "/visits/?tab=overdue")
    row = page.locator(f"#w-{children['village'].pk}")
    assert "已逾期" in row.inner_text()

    row.locator("text=记录走访").click()
    page.wait_for_selector("text=走访清单")
    page.click("label.chip:has-text('入户走访')")
    page.fill("#met", "祖母")
    page.click("label:has(input[name=c_psychological][value='需关注'])")
    page.set_input_files("#photos", str(photo))
    page.click("summary:has-text('发现问题')")
    page.select_option("select[name=problem_category]", "schooling")
    page.fill("textarea[name=problem_description]", "本周两天未到校")
    page.screenshot(path=str(tmp_path / "visit-form.png"), full_page=True)
    page.click("button:has-text('保存走访记录')")
    page.wait_for_selector("text=已保存走访记录")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    page.goto(live_server.url + "/visits/?tab=done")
    assert "已完成" in page.locator(f"#w-{children['village'].pk}").inner_text()
    visit = Visit.objects.get()
    assert (visit.mode, visit.photos.count()) == ("home", 1)
    assert Problem.objects.get().description == "本周两天未到校"

    supervisor = phone(browser, live_server, "bob")
    supervisor.goto(live_server.url + "/visits/problems/")
    assert supervisor.is_visible("text=本周两天未到校")
