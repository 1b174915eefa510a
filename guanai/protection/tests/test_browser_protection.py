"""A school files a mandatory report on a phone, the police accept it and feed back the outcome, and the school
sees the outcome (chromium + Playwright)."""

from __future__ import annotations

import pytest

from conftest import BROWSER_TESTS, DISTRICT, TOWNSHIP, VILLAGE, phone
from guanai.protection.models import Report, ReportRouting

pytestmark = BROWSER_TESTS


@pytest.mark.django_db(transaction=True)
def test_a_school_reports_the_police_accept_and_the_school_sees_the_outcome(browser, live_server, pcast, tmp_path):
    # a school in 万州区 reports a child living in 丰都县
    school = phone(browser, live_server, "school")
    school.goto(live_server.url + "/protection/reports/new/")
    school.click("label.bigcheck:has-text('被遗弃或长期处于无人照料状态')")
    school.fill("#description", "学生连续一周无人接送，自述父母外出、家中无人")
    school.select_option("#district", DISTRICT)
    school.wait_for_selector(f"#township option[value='{TOWNSHIP}']", state="attached")
    school.select_option("#township", TOWNSHIP)
    school.wait_for_selector(f"#village option[value='{VILLAGE}']", state="attached")
    school.select_option("#village", VILLAGE)
    school.fill("#child_name", "小军")
    school.fill("#child_location", "测试一村五组")
    school.fill("#reporter_phone", "13800004444")
    school.screenshot(path=str(tmp_path / "report-form.png"), full_page=True)
    assert school.evaluate("document.documentElement.scrollWidth") <= 390
    school.click("button:has-text('立即报告')")
    school.wait_for_selector("text=已提交强制报告")
    report = Report.objects.get()
    assert report.region_id == VILLAGE
    assert set(report.routings.values_list("region_id", flat=True)) == {DISTRICT}

    # the police of 丰都县 accept it and feed back the outcome
    police = phone(browser, live_server, "police")
    police.goto(live_server.url + "/protection/reports/inbox/")
    police.click(f"text={report.number}")
    police.wait_for_selector("text=报告人（保密）")
    assert police.is_visible("text=13800004444")
    police.click("button:has-text('受理')")
    police.wait_for_selector("text=已受理")
    police.fill("textarea[name=text]", "已联系村委会，儿童由外祖母临时照料，已督促父母返乡")
    police.click("label:has-text('本部门已办结')")
    police.click("button:has-text('反馈处理结果')")
    police.wait_for_selector("text=已反馈处理结果")
    assert ReportRouting.objects.get(report=report, department="police").status == "concluded"

    # the school sees the outcome, and nothing of the handling
    school.goto(live_server.url + "/protection/reports/mine/")
    school.click(f"text={report.number}")
    school.wait_for_selector("text=处理结果反馈")
    assert school.is_visible("text=已联系村委会，儿童由外祖母临时照料，已督促父母返乡")
    assert not school.is_visible("text=学生连续一周无人接送")
    assert school.evaluate("document.documentElement.scrollWidth") <= 390
