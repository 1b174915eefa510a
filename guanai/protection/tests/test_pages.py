"""Protection pages: each renders for the roles it serves, forms post to the services, errors stay on the form."""

from __future__ import annotations

import pytest

from conftest import DISTRICT, TOWNSHIP, VILLAGE, client_for
from guanai.protection import services as svc
from guanai.protection.models import Assessment, CarerCheck, Case, Report
from guanai.protection.tests.conftest import NOW, file_report
from guanai.protection.tests.test_assessment import answers_for

FORM = {
    "situations": ["forced_begging", "other_danger"],
    "description": "车站附近有两名儿童被成年人带着乞讨",
    "district": DISTRICT,
    "township": TOWNSHIP,
    "village": VILLAGE,
    "child_location": "车站广场",
    "reporter_phone": "13800003333",
    "client_key": "page-key-1",
}


def test_the_report_form_shows_the_nine_situations_as_checkboxes(pcast):
    body = client_for(pcast["school"]).get("/protection/reports/new/").content.decode()
    assert body.count('name="situations"') == 9
    assert "被组织乞讨" in body and "立即报告" in body
    assert 'value="school" selected' in body


def test_a_school_files_a_report_from_the_form(pcast):
    response = client_for(pcast["school"]).post("/protection/reports/new/", FORM, follow=True)
    assert response.status_code == 200
    report = Report.objects.get()
    assert report.region_id == VILLAGE and report.situations == ["forced_begging", "other_danger"]
    body = response.content.decode()
    assert "已分送公安机关、民政部门、教育行政部门" in body
    assert "车站附近" not in body  # the reporter's page shows status and feedback only


def test_a_form_without_situations_stays_on_the_form(pcast):
    response = client_for(pcast["school"]).post("/protection/reports/new/", {**FORM, "situations": []})
    assert response.status_code == 400
    body = response.content.decode()
    assert "请至少勾选一种需要报告的情形" in body and "车站附近有两名儿童" in body
    assert not Report.objects.exists()


def test_the_place_picker_loads_villages(pcast):
    body = client_for(pcast["school"]).get(f"/protection/regions/?township={TOWNSHIP}").content.decode()
    assert VILLAGE in body and "测试一村" in body


def test_police_accept_and_feed_back_on_the_page(pcast):
    report = file_report(pcast["school"])
    routing = report.routings.get(department="police")
    police = client_for(pcast["police"])
    inbox = police.get("/protection/reports/inbox/").content.decode()
    assert report.number in inbox

    detail = police.get(f"/protection/reports/{report.pk}/").content.decode()
    assert "万州区第一中学" in detail and "13800001111" in detail
    police.post(f"/protection/routings/{routing.pk}/accept/")
    police.post(f"/protection/routings/{routing.pk}/feedback/", {"text": "已立案侦查", "concludes": "1"})
    routing.refresh_from_db()
    assert routing.status == "concluded"

    mine = client_for(pcast["school"]).get(f"/protection/reports/{report.pk}/").content.decode()
    assert "已立案侦查" in mine and "孩子身上多处淤青" not in mine


def test_a_director_sees_the_content_but_not_the_reporter(pcast):
    report = file_report(pcast["school"])
    body = client_for(pcast["alice"]).get(f"/protection/reports/{report.pk}/").content.decode()
    assert "孩子身上多处淤青" in body
    assert "万州区第一中学" not in body and "13800001111" not in body and "报告人（保密）" not in body
    assert "受理" not in body.split("处理结果反馈")[1]  # no handling forms for her


def test_an_outsider_gets_not_found(pcast):
    report = file_report(pcast["school"])
    assert client_for(pcast["police_wanzhou"]).get(f"/protection/reports/{report.pk}/").status_code == 404
    assert (
        client_for(pcast["police_wanzhou"])
        .post(f"/protection/routings/{report.routings.first().pk}/accept/")
        .status_code
        == 403
    )


def test_a_case_page_and_its_forms(pcast, children):
    bob = client_for(pcast["bob"])
    bob.post("/protection/cases/new/", {"source": "manual", "child": children["village"].pk, "title": "无人照料"})
    case = Case.objects.get()
    bob.post(f"/protection/cases/{case.pk}/stage/", {"stage": "verifying"})
    bob.post(
        f"/protection/cases/{case.pk}/task/",
        {"title": "入户核实", "owner": pcast["alice"].pk, "due_date": "2099-01-01"},
    )
    refused = bob.post(f"/protection/cases/{case.pk}/close/", {"reason": "已解决"}, follow=True).content.decode()
    assert "还有1项任务未完成，不能结案" in refused
    bob.post(
        f"/protection/cases/{case.pk}/placement/",
        {"kind": "relative", "responsible_body": "外祖母", "start": "2026-01-02"},
    )
    page = bob.get(f"/protection/cases/{case.pk}/").content.decode()
    assert "核查评估" in page and "入户核实" in page and "委托亲属抚养" in page
    case.refresh_from_db()
    assert case.stage == "verifying"
    assert "入户核实" in client_for(pcast["alice"]).get("/protection/cases/").content.decode()


def test_the_assessment_form_renders_the_instrument_and_shows_the_result(pcast, children, instrument):
    alice = client_for(pcast["alice"])
    form = alice.get(f"/protection/assess/{children['village'].pk}/").content.decode()
    assert "儿童成长" in form and "亲属关系" in form and form.count('type="radio"') > 60
    data = {f"q_{k}": v for k, v in answers_for(instrument, sf_supervision="alone").items()}
    data["version"] = instrument.pk
    response = alice.post(f"/protection/assess/{children['village'].pk}/", data, follow=True)
    body = response.content.decode()
    assert "监护缺失" in body and "已立案" in body
    assert Assessment.objects.get().result == "missing"


def test_an_incomplete_assessment_stays_on_the_form(pcast, children, instrument):
    response = client_for(pcast["alice"]).post(f"/protection/assess/{children['village'].pk}/", {"q_ph_growth": "good"})
    assert response.status_code == 400 and "还有题目未回答" in response.content.decode()


def test_the_carer_check_page(pcast, children):
    from guanai.protection.selectors import carer_checklist

    data = {f"c_{i['id']}": "1" for i in carer_checklist()} | {
        "c_willing": "0",
        "carer_name": "王爷爷",
        "action": "inform_parents",
    }
    response = client_for(pcast["alice"]).post(f"/protection/carer/{children['village'].pk}/", data, follow=True)
    assert "不具备照护能力" in response.content.decode()
    assert CarerCheck.objects.get().passed is False


def test_the_administrator_publishes_a_version_on_the_page(pcast, instrument):
    import json

    frank = client_for(pcast["frank"])
    page = frank.get("/protection/instruments/").content.decode()
    assert "现行第1版" in page
    bad = frank.post("/protection/instruments/", {"instrument": "guardianship", "items_json": "[]"})
    assert bad.status_code == 400 and "评估工具应为一个JSON对象" in bad.content.decode()
    frank.post(
        "/protection/instruments/", {"instrument": "guardianship", "items_json": json.dumps(instrument.definition)}
    )
    assert "现行第2版" in frank.get("/protection/instruments/").content.decode()
    assert client_for(pcast["charlie"]).get("/protection/instruments/").status_code == 403


def test_the_risk_list(pcast, children):
    file_report(pcast["alice"], child_pk=children["village"].pk, region_code="")
    body = client_for(pcast["bob"]).get("/protection/risk/").content.decode()
    assert "王小明" in body and "有未办结的强制报告" in body and "risk-red" in body


@pytest.mark.parametrize(
    ("who", "landing"),
    [("school", "/protection/reports/mine/"), ("police", "/protection/reports/inbox/"), ("bob", "/protection/cases/")],
)
def test_the_index_sends_each_role_to_its_work(pcast, who, landing):
    assert client_for(pcast[who]).get("/protection/")["Location"] == landing


def test_a_legal_document_is_served_only_in_scope(pcast, children, tmp_path, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    case = svc.case_open(actor=pcast["charlie"], child_pk=children["village"].pk, title="家暴", now=NOW)
    action = svc.legal_action_record(
        actor=pcast["charlie"],
        case_pk=case.pk,
        kind="protection_order",
        body="丰都县人民法院",
        filed_on=NOW.date(),
        today=NOW.date(),
        now=NOW,
        document=SimpleUploadedFile("a.png", b"\x89PNG\r\n\x1a\n" + b"0" * 20),
    )
    assert client_for(pcast["bob"]).get(f"/protection/legal/{action.pk}/document/").status_code == 200
    assert client_for(pcast["police_wanzhou"]).get(f"/protection/legal/{action.pk}/document/").status_code == 404
