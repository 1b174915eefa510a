from __future__ import annotations

import datetime as dt

import time_machine

from conftest import client_for
from guanai.registry.models import Child
from guanai.visits.models import Notification, Problem, Visit

NOW = dt.datetime(2026, 11, 20, 7, 0, tzinfo=dt.UTC)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@time_machine.travel(NOW)
def test_the_director_records_a_visit_from_the_worklist(cast, children, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    Child.objects.update(created_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
    client = client_for(cast["alice"])
    page = client.get("/visits/").content.decode()
    assert "王小明" in page and "已逾期" in page and "李小红" not in page
    child = children["village"]
    form = client.get(f"/visits/new/{child.pk}/").content.decode()
    assert "走访清单" in form and "心理状况" in form
    response = client.post(
        f"/visits/new/{child.pk}/",
        {
            "client_key": "form-1",
            "mode": "home",
            "visited_at": "2026-11-20T14:30",
            "met": "祖母",
            "c_safety": "正常",
            "c_psychological": "需关注",
            "notes": "孩子想念父母",
            "problem_category": "psychological",
            "problem_description": "情绪低落",
            "photos": [SimpleUploadedFile("a.png", PNG)],
        },
    )
    assert response.status_code == 302
    visit = Visit.objects.get()
    assert visit.checklist["psychological"]["status"] == "需关注"
    assert visit.photos.count() == 1
    assert Problem.objects.get().description == "情绪低落"
    assert "已完成" in client.get("/visits/?tab=done").content.decode()


@time_machine.travel(NOW)
def test_a_bad_visit_form_shows_the_reason_and_keeps_the_key(cast, children):
    client = client_for(cast["alice"])
    response = client.post(
        f"/visits/new/{children['village'].pk}/",
        {"client_key": "form-2", "mode": "home", "visited_at": "2026-12-20T14:30"},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "走访时间不能晚于现在" in body and 'value="form-2"' in body
    assert (
        client.post(f"/visits/new/{children['village'].pk}/", {"mode": "home", "visited_at": "garbage"}).status_code
        == 400
    )


@time_machine.travel(NOW)
def test_one_tap_contact_is_idempotent(cast, children):
    client = client_for(cast["alice"])
    for _ in range(2):
        response = client.post(
            f"/visits/contact/{children['village'].pk}/", {"client_key": "tap-1"}, HTTP_HX_REQUEST="true"
        )
        assert "已记录电话联系" in response.content.decode()
    assert Visit.objects.filter(mode="phone").count() == 1


@time_machine.travel(NOW)
def test_supervisor_sees_problems_and_district_sees_completion(cast, children):
    from guanai.visits import services as svc

    svc.problem_open(
        actor=cast["alice"], child=children["village"], today=NOW.date(), data=svc.ProblemData("safety", "房屋漏雨")
    )
    assert "房屋漏雨" in client_for(cast["bob"]).get("/visits/problems/").content.decode()
    problem = Problem.objects.get()
    read_only = client_for(cast["diana"]).get(f"/visits/problems/{problem.pk}/")
    assert read_only.status_code == 200  # the city sees the problem but does not handle it
    assert "处理进展" not in read_only.content.decode()
    assert "处理进展" in client_for(cast["bob"]).get(f"/visits/problems/{problem.pk}/").content.decode()
    response = client_for(cast["bob"]).post(f"/visits/problems/{problem.pk}/", {"status": "solved"})
    assert "办结问题须填写解决方案" in response.content.decode()
    client_for(cast["bob"]).post(f"/visits/problems/{problem.pk}/", {"status": "solved", "solution": "已修缮"})
    assert Problem.objects.get().status == "solved"
    table = client_for(cast["charlie"]).get("/visits/completion/").content.decode()
    assert "虎威镇" in table and "本月联系率" in table
    assert client_for(cast["alice"]).get(f"/visits/problems/{problem.pk}/").status_code == 200


@time_machine.travel(NOW)
def test_ledger_worklog_settings_and_notifications_pages(cast, children):
    bob = client_for(cast["bob"])
    bob.post("/visits/worklog/", {"day": "2026-11-20", "content": "培训村儿童主任"})
    assert "培训村儿童主任" in bob.get("/visits/worklog/").content.decode()
    assert bob.get("/visits/ledger/", {"month": "2026-11"}).status_code == 200
    xlsx = bob.get("/visits/ledger.xlsx", {"month": "2026-11"})
    assert xlsx.content[:2] == b"PK"
    assert bob.get("/visits/ledger/", {"month": "nonsense"}).status_code == 400
    assert client_for(cast["alice"]).get("/visits/settings/").status_code == 403
    frank = client_for(cast["frank"])
    frank.post("/visits/settings/", {"raised_home_visit_months": "2", "due_soon_days": "5", "late_entry_days": "3"})
    assert 'value="2"' in frank.get("/visits/settings/").content.decode()
    Notification.objects.create(user=cast["alice"], kind="x", title="3名儿童的走访已逾期", dedupe_key="k")
    assert "已逾期" in client_for(cast["alice"]).get("/visits/notifications/").content.decode()


@time_machine.travel(NOW)
def test_home_pages_show_this_months_visits_and_rates(cast, children):
    Child.objects.update(created_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
    home = client_for(cast["alice"]).get("/").content.decode()
    assert "本月走访" in home and "已逾期" in home and "已电话联系" in home
    area = client_for(cast["charlie"]).get("/").content.decode()
    assert "本月联系率" in area and "虎威镇" in area
    nav = client_for(cast["alice"]).get("/").content.decode()
    assert "走访任务" in nav and "完成情况" not in nav  # a village has no sub-areas
    assert "完成情况" in area
