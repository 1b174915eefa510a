"""Real browser on a phone: a district officer opens the dashboard, drills down to a township and downloads the
annual report; the PDF's text is Chinese. Marked `browser`; skipped where Debian's chromium is absent."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from django.utils import timezone

from conftest import BROWSER_TESTS, NEIGHBOUR_VILLAGE, OTHER_TOWNSHIP_VILLAGE, VILLAGE, make_child, phone
from guanai.oversight.services import annual_report_save, kpi_refresh
from guanai.visits.models import Visit

pytestmark = BROWSER_TESTS


@pytest.mark.django_db(transaction=True)
def test_a_district_officer_drills_down_and_downloads_the_annual_report(browser, live_server, cast, tmp_path):
    today = timezone.localdate()
    for village, n, contacted in ((VILLAGE, 6, 5), (NEIGHBOUR_VILLAGE, 4, 1), (OTHER_TOWNSHIP_VILLAGE, 5, 2)):
        for i in range(n):
            child = make_child(village, f"童{village[-3:]}{i}")
            if i < contacted:
                Visit.objects.create(
                    child=child,
                    visited_at=timezone.now(),
                    visited_on=today,
                    mode="home",
                    visitor=cast["alice"],
                    visitor_name="李",
                )
    kpi_refresh(day=today, today=today)
    annual_report_save(
        actor=cast["charlie"], region="500230000000", year=today.year, problems="个别村走访滞后", measures="每月通报"
    )

    page = phone(browser, live_server, "charlie")
    page.goto(live_server.url + "/")
    page.click("nav.tabs >> text=督导评估")
    page.wait_for_selector("h1:has-text('督导评估')")
    # 15 children, 8 contacted: 53.3%; the worse township (社坛镇 2 of 5 = 40%) comes first
    assert "53.3%" in page.inner_text(".kpi-card.selected")
    page.wait_for_selector("#area-chart svg")  # ECharts drew the bars from the vendored file
    first = page.locator("table.area-table tbody tr").first
    assert "社坛镇" in first.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1

    page.click("a.drill:has-text('虎威镇')")
    page.wait_for_selector("h1:has-text('虎威镇')")
    assert "测试二村" in page.inner_text("table.area-table")  # its villages, worst first
    assert page.locator("table.area-table tbody tr").first.inner_text().startswith("测试二村")

    page.click("text=丰都县")  # back up the breadcrumb
    page.click("text=年度报告")
    page.wait_for_selector("h1:has-text('年度工作进展报告')")
    with page.expect_download() as info:
        page.click("#download-pdf")
    target = tmp_path / "report.pdf"
    info.value.save_as(target)
    assert target.read_bytes()[:4] == b"%PDF"
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(target), "-"], capture_output=True, check=True, text=True).stdout
        assert "丰都县" in text and "每月联系率" in text and "个别村走访滞后" in text
    else:
        pytest.skip("pdftotext (poppler-utils) is not installed; the PDF's text cannot be checked")
