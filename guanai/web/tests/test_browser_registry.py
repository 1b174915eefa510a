"""Real browser on a phone-sized screen: a director registers a left-behind child, edits the archive, and
downloads its PDF. Marked `browser`; skipped where Debian's chromium is absent."""

from __future__ import annotations

import pytest

from conftest import BROWSER_TESTS, PASSWORD
from guanai.audit.models import AccessEvent
from guanai.registry.models import Child

pytestmark = BROWSER_TESTS


def fits_the_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= 390


def parent_away(page, prefix: str, name: str, place: str) -> None:
    page.fill(f"#id_{prefix}-name", name)
    assert not page.is_visible(f"#id_{prefix}-work_place")  # shown only for 外出务工
    page.select_option(f"#id_{prefix}-kind", "working_away")
    page.fill(f"#id_{prefix}-since", "2025-01-10")
    page.fill(f"#id_{prefix}-work_place", place)
    page.select_option(f"#id_{prefix}-cross_county", "1")


@pytest.mark.django_db(transaction=True)
def test_a_director_registers_edits_and_prints_a_left_behind_child(page, live_server, cast):
    page.goto(live_server.url + "/login/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("text=我的工作台")

    page.click("text=登记儿童")
    page.wait_for_selector("h1:has-text('登记儿童')")
    assert fits_the_phone(page)
    page.fill("#id_name", "张小雨")
    page.check("#id_sex_1")
    page.fill("#id_birth_date", "2016-04-12")
    page.fill("#id_hukou_address", "重庆市丰都县虎威镇测试一村2组8号")
    parent_away(page, "father", "张大军", "广东省东莞市")
    parent_away(page, "mother", "刘小琴", "浙江省宁波市")
    page.fill("#id_carer-name", "张奶奶")
    page.click("form.form button[type=submit]")

    page.wait_for_selector("text=关爱类别及认定依据")
    assert "已登记 张小雨" in page.inner_text(".notice")
    assert page.is_visible(".profile .gtag:has-text('农村留守儿童')")
    explanation = page.inner_text("#groups .explanation")
    assert "父亲外出务工已满6个月（跨县，自2025-01-10，广东省东莞市）" in explanation
    assert "母亲外出务工已满6个月" in explanation
    assert fits_the_phone(page)
    child = Child.objects.get(name="张小雨")

    page.click("text=编辑档案")
    page.wait_for_selector("h1:has-text('修改档案')")
    page.fill("#id_grade", "五年级")
    page.fill("#id_school_name", "虎威镇中心小学")
    page.click("form.form button[type=submit]")
    page.wait_for_selector("text=档案已保存")
    first_event = page.inner_text("#timeline .tl:first-child .tl-summary")
    assert "年级：空 → 五年级" in first_event and "学校名称：空 → 虎威镇中心小学" in first_event

    href = page.get_attribute("a:has-text('档案PDF')", "href")
    assert href == f"/children/{child.pk}/archive.pdf"
    response = page.request.get(live_server.url + href)  # the browser's own session
    assert response.status == 200
    body = response.body()
    assert body.startswith(b"%PDF-") and b"/FontFile" in body
    assert AccessEvent.objects.filter(action="child.export_pdf", actor=cast["alice"]).count() == 1

    # The family member's status form loads when its section is opened, with its conditional fields working.
    father = child.relations.get(relation="father").person
    page.click(f"#status-{father.pk} summary")
    page.wait_for_selector(f"#id_st{father.pk}-kind")
    page.wait_for_selector(f"#id_st{father.pk}-work_place", state="hidden")  # shown only for 外出务工
    page.select_option(f"#id_st{father.pk}-kind", "at_home")
    page.fill(f"#id_st{father.pk}-since", "2026-11-20")
    page.click(f"#status-{father.pk} button[type=submit]")
    page.wait_for_selector("text=已登记新状况：在家")
