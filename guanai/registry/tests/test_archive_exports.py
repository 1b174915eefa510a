"""One child's archive as PDF (embedded CJK font) and as the Excel 登记表: content, masking, audit, scope."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess

import pytest
import time_machine
from django.test import override_settings
from openpyxl import load_workbook

from conftest import VILLAGE, client_for, make_id_number, make_user
from guanai import privacy
from guanai.audit.models import AccessEvent
from guanai.registry import archive_pdf as pdf_module
from guanai.registry import services as svc
from guanai.registry.archive_pdf import PdfFontMissing, archive_pdf
from guanai.registry.archive_xlsx import archive_xlsx
from guanai.registry.models import Child
from guanai.registry.selectors import child_relations

TODAY = dt.date(2026, 11, 29)
BIRTH = dt.date(2015, 3, 7)
FATHER_ID = make_id_number("500230", dt.date(1985, 6, 1), male=True)
needs_pdftotext = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="pdftotext (Debian poppler-utils) is not installed"
)
pytestmark = pytest.mark.usefixtures("frozen")


@pytest.fixture
def frozen():
    with time_machine.travel(dt.datetime(2026, 11, 29, 10, tzinfo=dt.UTC), tick=False):
        yield


@pytest.fixture
def child(cast) -> Child:
    away = svc.StatusData("working_away", since=dt.date(2025, 1, 10), work_place="广东省东莞市", cross_county=True)
    registered = svc.child_register(
        actor=cast["alice"],
        data=svc.ChildData(
            name="王小明",
            sex="M",
            birth_date=BIRTH,
            village_code=VILLAGE,
            hukou_type="agricultural",
            id_number=make_id_number(VILLAGE, BIRTH, male=True),
            hukou_address="重庆市丰都县虎威镇测试一村3组12号",
            schooling="在读",
            school_name="虎威镇中心小学",
            grade="五年级",
        ),
        family=[
            svc.PersonData("father", "王大山", id_number=FATHER_ID, phone="13812345678", statuses=[away]),
            svc.PersonData("mother", "李秀兰", statuses=[away]),
            svc.PersonData("grandparent", "王奶奶", is_entrusted_carer=True),
        ],
        today=TODAY,
    )
    return svc.child_update(
        actor=cast["alice"], pk=registered.pk, expected_version=1, changes={"grade": "六年级"}, today=TODAY
    )


def build(builder, child: Child, user, *, reveal: bool) -> bytes:
    return builder(
        child=child,
        relations=list(child_relations(user, child)),
        groups=list(child.groups.all()),
        timeline=list(child.timeline.all()),
        reveal=reveal,
        place="重庆市 › 丰都县 › 虎威镇 › 测试一村",
        printed_by="alice",
    )


def pdf_text(data: bytes) -> str:
    """The PDF's text as poppler extracts it, without white space (table layout splits lines anywhere)."""
    result = subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True)
    return "".join(result.stdout.decode().split())


def test_the_pdf_embeds_its_cjk_font(cast, child):
    data = build(archive_pdf, child, cast["alice"], reveal=False)
    assert data.startswith(b"%PDF-")
    assert b"/FontFile" in data  # the font program is inside the file, not referenced
    assert b"/ToUnicode" in data  # and text can be extracted and searched


@needs_pdftotext
def test_the_pdf_holds_the_whole_archive(cast, child):
    text = pdf_text(build(archive_pdf, child, cast["alice"], reveal=False))
    assert "王小明" in text
    for expected in [
        "关爱·儿童档案（一人一档）",
        "内部资料注意保密",
        child.child_no,
        "打印日期2026-11-29",
        "农村留守儿童",
        "父亲外出务工已满6个月",
        "王大山",
        "委托照料人",
        "登记建档",
        "修改档案：年级：五年级→六年级",
        "第1/1页",
    ]:
        assert expected in text, expected


@needs_pdftotext
def test_the_pdf_masks_identifiers_unless_revealed(cast, child):
    clear = privacy.reveal(child.id_number_enc)
    masked = pdf_text(build(archive_pdf, child, cast["alice"], reveal=False))
    assert child.id_number_mask in masked and clear not in masked
    assert "138****5678" in masked and "13812345678" not in masked and FATHER_ID not in masked
    revealed = pdf_text(build(archive_pdf, child, cast["alice"], reveal=True))
    assert clear in revealed and FATHER_ID in revealed and "13812345678" in revealed


def cells(data: bytes, sheet: str) -> list[str]:
    book = load_workbook(io.BytesIO(data))
    return [str(c.value) for row in book[sheet].iter_rows() for c in row if c.value is not None]


def test_the_workbook_is_the_registration_form_then_the_timeline(cast, child):
    data = build(archive_xlsx, child, cast["alice"], reveal=False)
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["信息登记表", "档案记录"]
    form = cells(data, "信息登记表")
    assert form[0] == "农村留守儿童/困境儿童信息登记表"
    for expected in ["王小明", "身份证号", child.id_number_mask, "农村留守儿童", "王大山", "138****5678", "王奶奶"]:
        assert expected in form, expected
    assert any("父亲外出务工已满6个月" in c for c in form)
    assert "内部资料 注意保密" in book["信息登记表"].oddHeader.right.text
    timeline = list(book["档案记录"].iter_rows(values_only=True))
    assert timeline[0] == ("时间", "类型", "内容", "操作人")
    assert len(timeline) - 1 == child.timeline.count()
    assert timeline[1][1:] == ("档案", "登记建档", "alice")  # oldest first, as an archive reads


def test_the_workbook_masks_identifiers_unless_revealed(cast, child):
    clear = privacy.reveal(child.id_number_enc)
    masked = cells(build(archive_xlsx, child, cast["alice"], reveal=False), "信息登记表")
    assert clear not in masked and FATHER_ID not in masked and "13812345678" not in masked
    revealed = cells(build(archive_xlsx, child, cast["alice"], reveal=True), "信息登记表")
    assert clear in revealed and FATHER_ID in revealed and "13812345678" in revealed


@pytest.mark.parametrize(
    ("suffix", "action", "content_type"),
    [
        ("pdf", "child.export_pdf", "application/pdf"),
        ("xlsx", "child.export_xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ],
)
def test_each_export_is_recorded(cast, child, suffix, action, content_type):
    response = client_for(cast["alice"]).get(f"/children/{child.pk}/archive.{suffix}")
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert child.child_no in response["Content-Disposition"]
    assert response["Cache-Control"] == "no-store"
    event = AccessEvent.objects.get(action=action)
    assert (event.actor, event.object_type, event.object_id) == (cast["alice"], "child", str(child.pk))


@needs_pdftotext
def test_a_partner_gets_a_masked_pdf_and_a_director_the_full_one(cast, child):
    clear = privacy.reveal(child.id_number_enc)
    partner = make_user("partner_police")
    masked = pdf_text(client_for(partner).get(f"/children/{child.pk}/archive.pdf").content)
    assert child.id_number_mask in masked and clear not in masked
    full = pdf_text(client_for(cast["alice"]).get(f"/children/{child.pk}/archive.pdf").content)
    assert clear in full
    assert AccessEvent.objects.get(actor=partner).field == ""
    assert AccessEvent.objects.get(actor=cast["alice"]).field == "id_number,phone"


def test_a_partner_gets_a_masked_workbook(cast, child):
    partner = make_user("partner_women")
    response = client_for(partner).get(f"/children/{child.pk}/archive.xlsx")
    form = cells(response.content, "信息登记表")
    assert child.id_number_mask in form and privacy.reveal(child.id_number_enc) not in form


def test_exports_outside_the_jurisdiction_or_role_are_refused(cast, child, children):
    other = children["other_district"].pk
    assert client_for(cast["alice"]).get(f"/children/{other}/archive.pdf").status_code == 404
    assert client_for(cast["frank"]).get(f"/children/{child.pk}/archive.xlsx").status_code == 404
    assert client_for(make_user("director", "500230101202")).get(f"/children/{child.pk}/archive.pdf").status_code == 404
    assert not AccessEvent.objects.filter(action__startswith="child.export").exists()


def test_a_missing_cjk_font_is_a_clear_chinese_page_and_an_english_log(cast, child, caplog):
    pdf_module.cjk_font.cache_clear()
    try:
        with override_settings(GUANAI_PDF_FONTS=[{"regular": "/nonexistent/font.ttc"}]):
            with pytest.raises(PdfFontMissing):
                build(archive_pdf, child, cast["alice"], reveal=False)
            response = client_for(cast["alice"]).get(f"/children/{child.pk}/archive.pdf")
    finally:
        pdf_module.cjk_font.cache_clear()
    assert response.status_code == 503
    assert "服务器未安装中文字体" in response.content.decode()
    assert "No CJK font found for PDF archives" in caplog.text
    assert not AccessEvent.objects.filter(action="child.export_pdf").exists()
