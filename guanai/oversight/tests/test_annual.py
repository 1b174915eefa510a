"""The annual progress report: the command (PDF/Excel by extension), the PDF renders Chinese, the narrative and
its submission, the November reminder."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess

import openpyxl
import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError

from conftest import CITY, DISTRICT, VILLAGE, client_for, make_child
from guanai.lib.errors import DomainError
from guanai.oversight.models import AnnualReport
from guanai.oversight.services import annual_report_remind, annual_report_save, annual_report_submit, kpi_refresh
from guanai.visits.models import Notification, Visit

NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 11, 20)
needs_pdftotext = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) missing")
pytestmark = [pytest.mark.django_db]


@pytest.fixture
def figures(villages, cast):
    with time_machine.travel(NOW, tick=False):
        child = make_child(VILLAGE, "王小明")
        Visit.objects.create(
            child=child, visited_at=NOW, visited_on=TODAY, mode="home", visitor=cast["alice"], visitor_name="李"
        )
        make_child(VILLAGE, "李小红")
        kpi_refresh(day=TODAY, today=TODAY)
        annual_report_save(
            actor=cast["charlie"], region=DISTRICT, year=2026, problems="部分村走访不及时", measures="加强督导"
        )


def pdf_text(path) -> str:
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True, text=True).stdout


@needs_pdftotext
@time_machine.travel(NOW, tick=False)
def test_the_command_writes_a_pdf_with_chinese_text_and_the_figures(figures, tmp_path):
    out = tmp_path / "report.pdf"
    call_command("report", "annual", "--year", "2026", "--region", DISTRICT, "--out", str(out))
    text = pdf_text(out)
    assert "丰都县" in text and "工作进展报告" in text
    assert "每月联系率" in text and "50.0%" in text  # 1 of 2 children contacted in November
    assert "虎威镇" in text  # the table by township
    assert "部分村走访不及时" in text and "加强督导" in text


@time_machine.travel(NOW, tick=False)
def test_the_command_writes_excel_for_xlsx_and_refuses_other_extensions(figures, tmp_path):
    out = tmp_path / "report.xlsx"
    call_command("report", "annual", "--year", "2026", "--region", "500230", "--out", str(out))
    book = openpyxl.load_workbook(out)
    assert "主要指标" in book.sheetnames and "分乡镇" in book.sheetnames
    rows = list(book["主要指标"].iter_rows(values_only=True))
    contact = next(r for r in rows if r[0] == "每月联系率")
    assert (contact[2], contact[3], contact[4]) == (50.0, 1, 2)
    with pytest.raises(CommandError):
        call_command("report", "annual", "--year", "2026", "--region", DISTRICT, "--out", str(tmp_path / "r.doc"))
    with pytest.raises(CommandError):
        call_command("report", "annual", "--year", "2026", "--region", VILLAGE, "--out", str(tmp_path / "r.pdf"))


@needs_pdftotext
@time_machine.travel(NOW, tick=False)
def test_the_city_version_rolls_up_the_districts(figures, tmp_path):
    out = tmp_path / "city.pdf"
    call_command("report", "annual", "--year", "2026", "--region", CITY, "--out", str(out))
    text = pdf_text(out)
    assert "重庆市" in text and "分区县情况" in text and "丰都县" in text


@time_machine.travel(NOW, tick=False)
def test_without_snapshots_it_says_what_to_run(villages, tmp_path):
    with pytest.raises(CommandError) as exc:
        call_command("report", "annual", "--year", "2026", "--region", DISTRICT, "--out", str(tmp_path / "r.pdf"))
    assert "guanai kpi refresh" in str(exc.value)


@time_machine.travel(NOW, tick=False)
def test_the_page_downloads_both_formats_and_records_the_download(figures, cast):
    client = client_for(cast["charlie"])
    pdf = client.get(f"/oversight/annual/download/?region={DISTRICT}&year=2026&format=pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf" and pdf.content[:4] == b"%PDF"
    xlsx = client.get(f"/oversight/annual/download/?region={DISTRICT}&year=2026&format=xlsx")
    assert openpyxl.load_workbook(io.BytesIO(xlsx.content))
    from guanai.audit.models import AccessEvent

    assert AccessEvent.objects.filter(action="annual_report.download.pdf", actor=cast["charlie"]).exists()
    assert client_for(cast["alice"]).get(f"/oversight/annual/?region={DISTRICT}").status_code == 403


@time_machine.travel(NOW, tick=False)
def test_submission_needs_problems_and_measures_and_then_freezes(villages, cast):
    charlie = cast["charlie"]
    with pytest.raises(DomainError):
        annual_report_submit(actor=charlie, region=DISTRICT, year=2026)
    annual_report_save(actor=charlie, region=DISTRICT, year=2026, problems="问题", measures="措施")
    annual_report_submit(actor=charlie, region=DISTRICT, year=2026)
    assert AnnualReport.objects.get().submitted_at is not None
    with pytest.raises(DomainError):
        annual_report_save(actor=charlie, region=DISTRICT, year=2026, problems="改")


def test_the_reminder_starts_in_november_and_stops_once_submitted(villages, cast):
    assert annual_report_remind(today=dt.date(2026, 10, 31)) == 0
    assert annual_report_remind(today=dt.date(2026, 11, 1)) == 1  # charlie, the district officer
    assert annual_report_remind(today=dt.date(2026, 11, 2)) == 0  # once a week
    notice = Notification.objects.get()
    assert notice.user == cast["charlie"] and "12月1日" in notice.title
    with time_machine.travel(NOW, tick=False):
        annual_report_save(actor=cast["charlie"], region=DISTRICT, year=2026, problems="p", measures="m")
        annual_report_submit(actor=cast["charlie"], region=DISTRICT, year=2026)
    assert annual_report_remind(today=dt.date(2026, 11, 23)) == 0
    assert annual_report_remind(today=dt.date(2026, 12, 2)) == 0
