"""The protection API: the error shape, the reporter's limited view, identity for handlers only."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from conftest import VILLAGE, client_for
from guanai.audit.models import AccessEvent
from guanai.protection.models import Report
from guanai.protection.tests.test_assessment import answers_for

REPORT = {
    "situations": ["abandoned"],
    "description": "一名约6岁女孩连续三天独自在家",
    "reporter_phone": "13800002222",
    "reporter_name": "王老师",
    "region_code": VILLAGE,
    "child_name": "小花",
    "child_sex": "F",
    "child_age": 6,
}


def test_it_files_a_report_and_the_reporter_sees_only_status_and_feedback(pcast):
    school = client_for(pcast["school"])
    response = school.post("/api/v1/protection/reports/", REPORT, content_type="application/json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "routed" and body["situation_labels"] == ["被遗弃或长期处于无人照料状态"]
    assert "description" not in body and "routings" not in body

    detail = school.get(f"/api/v1/protection/reports/{body['id']}/").json()
    assert set(detail) == {"id", "number", "filed_at", "situation_labels", "status", "status_label", "feedback"}
    assert [r["id"] for r in school.get("/api/v1/protection/reports/").json()] == [body["id"]]


def test_a_report_with_no_situation_is_refused_with_the_error_shape(pcast):
    response = client_for(pcast["hospital"]).post(
        "/api/v1/protection/reports/", {**REPORT, "situations": []}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "invalid",
        "message": "请至少勾选一种需要报告的情形",
        "detail": {"situations": "请至少勾选一种需要报告的情形"},
    }
    assert not Report.objects.exists()


def test_the_reporters_identity_is_hidden_from_a_director_not_handling_it(pcast):
    pk = (
        client_for(pcast["school"])
        .post("/api/v1/protection/reports/", REPORT, content_type="application/json")
        .json()["id"]
    )

    director = client_for(pcast["alice"]).get(f"/api/v1/protection/reports/{pk}/")
    police = client_for(pcast["police"]).get(f"/api/v1/protection/reports/{pk}/")

    assert director.status_code == 200
    assert director.json()["reporter"] is None and director.json()["description"] == REPORT["description"]
    assert "王老师" not in director.content.decode() and "13800002222" not in director.content.decode()
    assert director.json()["reporter_kind"] == "" and police.json()["reporter_kind"] == "school"
    assert police.json()["reporter"] == {"name": "王老师", "unit": "万州区第一中学", "phone": "13800002222"}
    assert len(police.json()["can_handle"]) == 1
    assert client_for(pcast["police_wanzhou"]).get(f"/api/v1/protection/reports/{pk}/").status_code == 404
    assert AccessEvent.objects.filter(action="report.view", object_id=str(pk)).count() == 2


def test_accept_transfer_and_feedback_through_the_api(pcast):
    pk = (
        client_for(pcast["hospital"])
        .post("/api/v1/protection/reports/", REPORT, content_type="application/json")
        .json()["id"]
    )
    police = client_for(pcast["police"])
    inbox = police.get("/api/v1/protection/reports/inbox/").json()
    [routing] = [r for r in inbox if r["report"] == pk]

    outsider = client_for(pcast["police_wanzhou"]).post(f"/api/v1/protection/routings/{routing['id']}/accept/")
    assert outsider.status_code == 403 and outsider.json()["error"]["code"] == "permission_denied"

    assert police.post(f"/api/v1/protection/routings/{routing['id']}/accept/").json()["status"] == "accepted"
    feedback = police.post(
        f"/api/v1/protection/routings/{routing['id']}/feedback/",
        {"text": "已出警，孩子已由村委会临时照料", "concludes": True},
        content_type="application/json",
    )
    assert feedback.status_code == 201

    mine = client_for(pcast["hospital"]).get(f"/api/v1/protection/reports/{pk}/").json()
    assert mine["feedback"][0]["text"] == "已出警，孩子已由村委会临时照料"
    assert mine["feedback"][0]["department"] == "公安机关"


def test_cases_through_the_api(pcast, children):
    bob = client_for(pcast["bob"])
    case = bob.post(
        "/api/v1/protection/cases/",
        {"child": children["village"].pk, "title": "长期无人照料"},
        content_type="application/json",
    ).json()
    task = bob.post(
        f"/api/v1/protection/cases/{case['id']}/tasks/",
        {"title": "入户核实", "owner": pcast["alice"].pk, "due_date": "2099-01-01"},
        content_type="application/json",
    ).json()
    refused = bob.post(
        f"/api/v1/protection/cases/{case['id']}/close/", {"reason": "已解决"}, content_type="application/json"
    )
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "open_tasks"

    done = client_for(pcast["alice"]).post(
        f"/api/v1/protection/tasks/{task['id']}/complete/", {"result": "已核实"}, content_type="application/json"
    )
    assert done.json()["status"] == "done"
    assert (
        bob.post(
            f"/api/v1/protection/cases/{case['id']}/close/", {"reason": "已解决"}, content_type="application/json"
        ).status_code
        == 200
    )
    closed = client_for(pcast["charlie"]).post(
        f"/api/v1/protection/cases/{case['id']}/close-decision/", {"approve": True}, content_type="application/json"
    )
    assert closed.json()["stage"] == "closed"
    detail = bob.get(f"/api/v1/protection/cases/{case['id']}/").json()
    assert [t["status"] for t in detail["tasks"]] == ["done"]
    assert client_for(pcast["police_wanzhou"]).get(f"/api/v1/protection/cases/{case['id']}/").status_code == 404


def test_a_legal_action_with_a_document(pcast, children, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    charlie = client_for(pcast["charlie"])
    case = charlie.post(
        "/api/v1/protection/cases/",
        {"child": children["village"].pk, "title": "家庭暴力"},
        content_type="application/json",
    ).json()
    response = charlie.post(
        f"/api/v1/protection/cases/{case['id']}/legal-actions/",
        {
            "kind": "protection_order",
            "body": "丰都县人民法院",
            "filed_on": "2026-01-05",
            "document": SimpleUploadedFile("裁定书.pdf", b"%PDF-1.7\n" + b"x" * 50),
        },
    )
    assert response.status_code == 201, response.content
    assert response.json()["document_url"].endswith("/document/")
    download = charlie.get(response.json()["document_url"])
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"%PDF")
    bad = charlie.post(
        f"/api/v1/protection/cases/{case['id']}/legal-actions/",
        {"kind": "no_such", "body": "x", "filed_on": "2026-01-05"},
    )
    assert bad.status_code == 400 and bad.json()["error"]["detail"] == {"kind": "措施类型无效"}


def test_assessment_through_the_api(pcast, children, instrument):
    alice = client_for(pcast["alice"])
    current = alice.get("/api/v1/protection/instruments/guardianship/").json()
    assert current["version"] == 1 and len(current["definition"]["indicators"]) == 3
    response = alice.post(
        "/api/v1/protection/assessments/",
        {
            "child": children["village"].pk,
            "answers": answers_for(instrument, in_income="short"),
            "version": current["id"],
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert (response.json()["result_label"], response.json()["total"]) == ("监护正常", 96)
    assert alice.get(f"/api/v1/protection/assessments/{response.json()['id']}/").status_code == 200
    other = client_for(pcast["alice"]).post(
        "/api/v1/protection/assessments/",
        {"child": children["other_district"].pk, "answers": {}},
        content_type="application/json",
    )
    assert other.status_code == 404


def test_risk_is_served_for_children_in_scope_only(pcast, children):
    alice = client_for(pcast["alice"])
    ids = f"{children['village'].pk},{children['other_district'].pk}"
    rows = alice.get(f"/api/v1/protection/risk/?child={ids}").json()
    assert rows == [
        {
            "child": children["village"].pk,
            "grade": "low",
            "label": "低",
            "colour": "green",
            "explanation": "低风险：未发现风险因素",
        }
    ]
    assert alice.get("/api/v1/protection/risk/?child=abc").status_code == 400


def test_carer_check_through_the_api(pcast, children):
    from guanai.protection.selectors import carer_checklist

    answers = {i["id"]: True for i in carer_checklist()} | {"safe_home": False}
    response = client_for(pcast["alice"]).post(
        "/api/v1/protection/carer-checks/",
        {"child": children["village"].pk, "carer_name": "王奶奶", "answers": answers, "action": "help_carer"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["passed"] is False and response.json()["actions"][0]["kind"] == "help_carer"
