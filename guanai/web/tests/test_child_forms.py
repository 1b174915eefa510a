"""The registry's forms: registering, editing with a version, duplicates, family statuses, exit and re-entry."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine

from conftest import NEIGHBOUR_VILLAGE, OTHER_DISTRICT_COMMUNITY, VILLAGE, client_for, make_id_number, make_user
from guanai.audit.models import AccessEvent
from guanai.registry import services as svc
from guanai.registry.models import Child, ChildGroup, PersonStatus
from guanai.registry.timeline import timeline_add

TODAY = dt.date(2026, 11, 29)
NOW = dt.datetime(2026, 11, 29, 10, tzinfo=dt.UTC)
BIRTH = dt.date(2016, 4, 12)
pytestmark = pytest.mark.usefixtures("frozen")


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def form(**overrides: str | None) -> dict[str, str]:
    """A registration as the page posts it: a girl whose parents both work away in other counties."""
    data: dict[str, str | None] = {
        "name": "张小雨",
        "sex": "F",
        "birth_date": BIRTH.isoformat(),
        "id_number": make_id_number(VILLAGE, BIRTH, male=False),
        "ethnicity": "汉族",
        "hukou_type": "agricultural",
        "village_code": VILLAGE,
        "hukou_address": "重庆市丰都县虎威镇测试一村2组8号",
        "health_status": "健康",
        "schooling": "在读",
        "school_name": "虎威镇中心小学",
        "grade": "四年级",
        "father-name": "张大军",
        "father-is_guardian": "on",
        "father-kind": "working_away",
        "father-since": "2025-01-10",
        "father-work_place": "广东省东莞市",
        "father-cross_county": "1",
        "mother-name": "刘小琴",
        "mother-is_guardian": "on",
        "mother-phone": "139 1234 5678",
        "mother-kind": "working_away",
        "mother-since": "2025/1/10",
        "mother-work_place": "浙江省宁波市",
        "mother-cross_county": "1",
        "carer-name": "张奶奶",
        "carer-relation": "grandparent",
        "carer-kind": "at_home",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def field_block(html: str, name: str) -> str:
    """The markup of the form field named ``name``: its label, control, errors and help."""
    at = html.index(f'name="{name}"')
    start = html.rindex('<div class="field', 0, at)
    end = html.find('<div class="field', at)
    return html[start : end if end != -1 else len(html)]


def register(user, **overrides) -> Child:
    data = svc.ChildData(
        name=overrides.pop("name", "王小明"),
        sex="M",
        birth_date=dt.date(2015, 3, 7),
        village_code=overrides.pop("village_code", VILLAGE),
        hukou_type="agricultural",
        id_number=overrides.pop("id_number", ""),
    )
    away = svc.StatusData("working_away", since=dt.date(2025, 1, 10), work_place="广东省东莞市", cross_county=True)
    family = overrides.pop(
        "family",
        [
            svc.PersonData("father", "王大山", is_guardian=True, statuses=[away]),
            svc.PersonData("mother", "李秀兰", phone="13812345678", is_guardian=True, statuses=[away]),
        ],
    )
    return svc.child_register(actor=user, data=data, family=family, today=TODAY, **overrides)


def test_the_registration_form_offers_the_directors_village_only(cast):
    body = client_for(cast["alice"]).get("/children/new/").content.decode()
    assert "测试一村" in body and "测试二村" not in body
    assert 'type="date"' in body
    bob_form = client_for(cast["bob"]).get("/children/new/").content.decode()
    assert "测试一村" in bob_form and "测试二村" in bob_form and "社坛测试村" not in bob_form


def test_registering_lands_on_the_archive_with_the_group_explained(cast):
    client = client_for(cast["alice"])
    response = client.post("/children/new/", form())
    assert response.status_code == 302, response.content.decode()[:2000]
    child = Child.objects.get(name="张小雨")
    assert response["Location"] == f"/children/{child.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert "农村留守儿童" in page
    assert "父亲外出务工已满6个月（跨县，自2025-01-10，广东省东莞市）" in page
    assert "张大军" in page and "张奶奶" in page and "委托照料人" in page
    assert "139****5678" in page and "13912345678" not in page
    assert child.status == Child.Status.ACTIVE
    assert child.relations.count() == 3
    mother_status = PersonStatus.objects.get(person__name="刘小琴")
    assert mother_status.since == dt.date(2025, 1, 10) and mother_status.cross_county is True


def test_each_form_error_is_shown_next_to_its_field(cast):
    response = client_for(cast["alice"]).post(
        "/children/new/",
        form(name="", sex=None, birth_date="2016-02-30", id_number="50023020160412123", **{"mother-phone": "12"}),
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "请修改下面标出的内容" in html
    assert "该字段是必填项" in field_block(html, "name")
    assert "该字段是必填项" in field_block(html, "sex")
    assert "日期不存在" in field_block(html, "birth_date")
    assert "身份证号应为18位" in field_block(html, "id_number")
    assert "电话号码应为7至12位数字" in field_block(html, "mother-phone")
    assert Child.objects.count() == 0


def test_the_services_refusals_are_put_next_to_their_fields(cast):
    wrong_birth = make_id_number(VILLAGE, dt.date(2016, 5, 1), male=False)
    html = (
        client_for(cast["alice"])
        .post("/children/new/", form(id_number=wrong_birth, disability_type="肢体"))
        .content.decode()
    )
    assert "身份证号中的出生日期（2016-05-01）与填写的出生日期不一致" in field_block(html, "id_number")
    assert "残疾类别和残疾等级应同时填写" in field_block(html, "disability_grade")
    future = client_for(cast["alice"]).post("/children/new/", form(id_number="", birth_date="2027-01-01"))
    assert "出生日期不能晚于今天" in field_block(future.content.decode(), "birth_date")
    assert Child.objects.count() == 0


def test_a_parent_block_that_is_started_must_be_named(cast):
    response = client_for(cast["alice"]).post("/children/new/", form(**{"father-name": ""}))
    assert response.status_code == 400
    assert "请填写姓名" in field_block(response.content.decode(), "father-name")
    assert "张小雨" in response.content.decode()  # the input is kept


@pytest.mark.parametrize(
    "bad",
    [
        {"sex": "X"},
        {"village_code": "999"},
        {"village_code": OTHER_DISTRICT_COMMUNITY},
        {"disability_type": "翅膀", "disability_grade": "9"},
        {"birth_date": "abc", "father-since": "明天"},
        {"hukou_type": "<script>"},
        {"father-cross_county": "maybe", "father-kind": "flying"},
        {"name": "名" * 80},
    ],
)
def test_bad_input_is_a_form_error_never_a_500(cast, bad):
    response = client_for(cast["alice"]).post("/children/new/", form(**bad))
    assert response.status_code == 400
    assert Child.objects.count() == 0


def test_a_possible_duplicate_needs_an_explicit_confirmation(cast):
    first = register(cast["alice"], name="张小雨", family=[])
    Child.objects.filter(pk=first.pk).update(birth_date=BIRTH, sex="F")
    client = client_for(cast["bob"])
    data = form(id_number="", village_code=NEIGHBOUR_VILLAGE)
    warned = client.post("/children/new/", data)
    assert warned.status_code == 400
    html = warned.content.decode()
    assert "同一乡镇已有同名同出生日期的儿童" in html and first.child_no in html
    assert f"/children/{first.pk}/" in html  # bob supervises both villages: he can open the other file
    assert 'name="confirm_similar"' in html and "确认不是同一人，继续登记" in html
    assert Child.objects.count() == 1
    confirmed = client.post("/children/new/", {**data, "confirm_similar": "on"})
    assert confirmed.status_code == 302
    assert Child.objects.filter(name="张小雨").count() == 2


def test_a_known_id_number_points_to_the_existing_child(cast):
    number = make_id_number(VILLAGE, BIRTH, male=False)
    client = client_for(cast["alice"])
    assert client.post("/children/new/", form(id_number=number)).status_code == 302
    existing = Child.objects.get()
    again = client.post("/children/new/", form(id_number=number, name="张晓雨"))
    assert again.status_code == 400
    html = again.content.decode()
    assert f"该身份证号已登记，儿童编号{existing.child_no}" in field_block(html, "id_number")
    assert f'href="/children/{existing.pk}/"' in html
    assert 'name="confirm_similar"' not in html


def test_an_edit_is_saved_and_appears_in_the_timeline(cast):
    child = register(cast["alice"])
    client = client_for(cast["alice"])
    page = client.get(f"/children/{child.pk}/edit/").content.decode()
    assert 'name="version" value="1"' in page and 'value="王小明"' in page
    assert child.id_number_mask in page or "尚未登记" in page
    data = {
        "version": "1",
        "name": "王小明",
        "sex": "M",
        "birth_date": "2015-03-07",
        "ethnicity": "汉族",
        "hukou_type": "agricultural",
        "village_code": VILLAGE,
        "health_status": "健康",
        "grade": "五年级",
        "current_address": "虎威镇新街5号",
    }
    response = client.post(f"/children/{child.pk}/edit/", data)
    assert response.status_code == 302
    archive = client.get(response["Location"]).content.decode()
    assert "档案已保存" in archive
    assert "修改档案：" in archive and "年级：空 → 五年级" in archive and "现住址：空 → 虎威镇新街5号" in archive
    child.refresh_from_db()
    assert (child.version, child.grade) == (2, "五年级")


def test_an_unchanged_edit_saves_nothing(cast):
    child = register(cast["alice"])
    client = client_for(cast["alice"])
    initial = {
        "version": "1",
        "name": "王小明",
        "sex": "M",
        "birth_date": "2015-03-07",
        "ethnicity": "汉族",
        "hukou_type": "agricultural",
        "village_code": VILLAGE,
        "health_status": "健康",
    }
    response = client.post(f"/children/{child.pk}/edit/", initial, follow=True)
    assert "没有修改任何内容" in response.content.decode()
    child.refresh_from_db()
    assert child.version == 1


def test_a_stale_edit_names_what_changed_and_keeps_the_users_input(cast):
    child = register(cast["alice"])
    svc.child_update(actor=cast["bob"], pk=child.pk, expected_version=1, changes={"grade": "五年级"}, today=TODAY)
    data = {
        "version": "1",
        "name": "王晓明",
        "sex": "M",
        "birth_date": "2015-03-07",
        "ethnicity": "汉族",
        "hukou_type": "agricultural",
        "village_code": VILLAGE,
        "health_status": "健康",
    }
    response = client_for(cast["alice"]).post(f"/children/{child.pk}/edit/", data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "该档案已被他人修改，请刷新后重新编辑（已修改：年级）" in html
    assert 'value="王晓明"' in html  # what she typed is still there
    assert 'name="version" value="1"' in html  # and a second press cannot overwrite bob's change
    assert f'href="/children/{child.pk}/edit/"' in html
    child.refresh_from_db()
    assert (child.name, child.grade, child.version) == ("王小明", "五年级", 2)


def test_recording_a_parents_return_rederives_the_groups(cast):
    child = register(cast["alice"])
    father = child.relations.get(relation="father").person
    client = client_for(cast["alice"])
    response = client.post(
        f"/children/{child.pk}/family/{father.pk}/status/",
        {f"st{father.pk}-kind": "at_home", f"st{father.pk}-since": "2026-11-20"},
    )
    assert response.status_code == 302
    assert not ChildGroup.objects.filter(child=child).exists()
    page = client.get(f"/children/{child.pk}/").content.decode()
    assert "已登记新状况：在家" in page
    assert "王大山状况变更为在家" in page
    assert "系统建议退出" in page
    assert "不再属于农村留守儿童" in page


def test_a_status_form_error_reopens_that_form_on_the_archive(cast):
    child = register(cast["alice"])
    father = child.relations.get(relation="father").person
    response = client_for(cast["alice"]).post(
        f"/children/{child.pk}/family/{father.pk}/status/",
        {
            f"st{father.pk}-kind": "imprisoned",
            f"st{father.pk}-since": "2026-01-01",
            f"st{father.pk}-until": "2025-01-01",
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert f'id="status-{father.pk}" open' in html
    assert "截止日期应晚于起始日期" in field_block(html, f"st{father.pk}-until")
    assert PersonStatus.objects.filter(person=father).count() == 1


def test_adding_an_entrusted_carer(cast):
    child = register(cast["alice"])
    client = client_for(cast["alice"])
    response = client.post(
        f"/children/{child.pk}/family/",
        {
            "member-relation": "grandparent",
            "member-name": "王奶奶",
            "member-is_entrusted_carer": "on",
            "member-kind": "at_home",
        },
    )
    assert response.status_code == 302
    assert child.relations.get(person__name="王奶奶").is_entrusted_carer
    bad = client.post(f"/children/{child.pk}/family/", {"member-relation": "grandparent", "member-name": ""})
    assert bad.status_code == 400
    assert 'id="member" open' in bad.content.decode()


def test_a_proposed_exit_is_carried_out_and_reversed_from_the_archive(cast):
    child = register(cast["alice"], family=[])
    client = client_for(cast["alice"])
    page = client.get(f"/children/{child.pk}/").content.decode()
    assert "系统建议退出" in page
    for reason in svc.EXIT_REASONS:
        assert f'<option value="{reason}"' in page
    too_late = client.post(f"/children/{child.pk}/exit/", {"reason": "迁出本地", "on": "2026-12-31"})
    assert too_late.status_code == 400
    assert "退出日期不能晚于今天" in too_late.content.decode()
    done = client.post(f"/children/{child.pk}/exit/", {"reason": "迁出本地", "on": "2026-11-28", "note": "随父母迁居"})
    assert done.status_code == 302
    child.refresh_from_db()
    assert (child.status, child.exit_reason, child.exit_date) == ("exited", "迁出本地", dt.date(2026, 11, 28))
    exited = client.get(f"/children/{child.pk}/").content.decode()
    assert "已退出" in exited and "重新纳入" in exited and "编辑档案" not in exited
    again = client.post(f"/children/{child.pk}/exit/", {"reason": "迁出本地", "on": "2026-11-28"})
    assert again.status_code == 400 and "该儿童已退出" in again.content.decode()
    back = client.post(f"/children/{child.pk}/reenter/", {"note": "返回本村"})
    assert back.status_code == 302
    child.refresh_from_db()
    assert child.status == Child.Status.REGISTERED
    assert "重新纳入：返回本村" in client.get(f"/children/{child.pk}/").content.decode()


def test_the_timeline_shows_every_area_newest_first(cast):
    child = register(cast["alice"])
    timeline_add(child=child, kind="visit.home", summary="入户走访：孩子在家写作业", actor=cast["alice"])
    timeline_add(child=child, kind="something.new", summary="今后的新记录类型", actor=cast["alice"])
    html = client_for(cast["alice"]).get(f"/children/{child.pk}/").content.decode()
    timeline = html[html.index('id="timeline"') :]
    assert timeline.index("今后的新记录类型") < timeline.index("入户走访") < timeline.index("登记建档")
    assert re.search(r'class="tl tl-visit">\s*<span class="tl-icon"[^>]*>访</span>', timeline)
    assert 'class="tl tl-other"' in timeline and 'class="tl tl-group"' in timeline


def test_opening_an_archive_is_recorded(cast):
    child = register(cast["alice"])
    client_for(cast["bob"]).get(f"/children/{child.pk}/")
    assert AccessEvent.objects.filter(action="child.view", actor=cast["bob"], object_id=str(child.pk)).exists()


def test_out_of_scope_children_are_404_on_every_page(cast, children):
    other = children["other_district"].pk
    client = client_for(cast["alice"])
    for url in ["", "edit/", "archive.pdf", "archive.xlsx"]:
        assert client.get(f"/children/{other}/{url}").status_code == 404, url
    for url, data in [
        ("exit/", {"reason": "其他", "on": "2026-11-29"}),
        ("reenter/", {}),
        ("family/", {"member-relation": "father", "member-name": "某某"}),
        ("reveal/", {}),
    ]:
        assert client.post(f"/children/{other}/{url}", data).status_code == 404, url
    assert not AccessEvent.objects.filter(object_id=str(other)).exists()


def test_partner_roles_read_the_archive_without_any_edit_control(cast):
    partner = make_user("partner_education")
    child = register(cast["alice"])
    client = client_for(partner)
    page = client.get(f"/children/{child.pk}/").content.decode()
    assert "王小明" in page and "农村留守儿童" in page
    for control in ["编辑档案", "登记新状况", "添加家庭成员", "办理退出", "显示</button>", "/exit/"]:
        assert control not in page, control
    roster = client.get("/children/").content.decode()
    assert "王小明" in roster and "导出Excel" in roster
    assert "登记儿童" not in roster and "批量导入" not in roster
    assert client.get("/children/new/").status_code == 403
    assert client.get(f"/children/{child.pk}/edit/").status_code == 403
    assert client.post(f"/children/{child.pk}/exit/", {"reason": "其他", "on": "2026-11-29"}).status_code == 403
    assert client.post("/children/new/", form()).status_code == 403


def test_odd_requests_on_the_archive_are_answered_not_crashed(cast):
    child = register(cast["alice"])
    client = client_for(cast["alice"])
    huge = "99999999999999999999"
    assert client.post(f"/children/{child.pk}/family/{huge}/status/", {f"st{huge}-kind": "at_home"}).status_code == 404
    assert client.post(f"/children/{child.pk}/family/{huge}/reveal/phone/").status_code == 404
    father = child.relations.get(relation="father").person
    assert client.post(f"/children/{child.pk}/family/{father.pk}/reveal/password/").status_code == 400
    assert client.post("/children/new/", {}).status_code == 400
    assert client.post(f"/children/{child.pk}/edit/", {"version": huge}).status_code == 400
    assert client.get(f"/children/{child.pk}/exit/").status_code == 405


def test_the_archives_edit_forms_load_when_opened(cast):
    child = register(cast["alice"])
    father = child.relations.get(relation="father").person
    client = client_for(cast["alice"])
    page = client.get(f"/children/{child.pk}/").content.decode()
    # The page carries a loader per form, not the forms' fields.
    assert f'data-src="/children/{child.pk}/forms/status-{father.pk}/"' in page
    assert f'data-src="/children/{child.pk}/forms/member/"' in page
    assert f'name="st{father.pk}-kind"' not in page and 'name="member-relation"' not in page
    part = client.get(f"/children/{child.pk}/forms/status-{father.pk}/").content.decode()
    assert f'name="st{father.pk}-kind"' in part and f'action="/children/{child.pk}/family/{father.pk}/status/"' in part
    assert 'name="member-relation"' in client.get(f"/children/{child.pk}/forms/member/").content.decode()
    assert 'name="reason"' in client.get(f"/children/{child.pk}/forms/exit/").content.decode()
    # Without JavaScript the loader's link opens the page with that form in place.
    opened = client.get(f"/children/{child.pk}/?open=member").content.decode()
    assert 'id="member" open' in opened and 'name="member-relation"' in opened
    # Someone else's family member, another child, another role: nothing.
    other = register(cast["alice"], name="李小红")
    other_father = other.relations.get(relation="father").person
    assert client.get(f"/children/{child.pk}/forms/status-{other_father.pk}/").status_code == 404
    assert client.get(f"/children/{child.pk}/forms/nonsense/").status_code == 404
    assert client_for(make_user("partner_education")).get(f"/children/{child.pk}/forms/member/").status_code == 403
    outsider = register(cast["bob"], village_code=NEIGHBOUR_VILLAGE, name="赵小东")
    assert client.get(f"/children/{outsider.pk}/forms/member/").status_code == 404
