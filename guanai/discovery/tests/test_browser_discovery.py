"""A district officer imports rosters, runs discovery, reviews an uncertain link and confirms a finding that
registers a new child (chromium + Playwright, phone-sized)."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import BROWSER_TESTS, DISTRICT, VILLAGE, make_child, make_user, phone
from guanai.discovery.models import Finding, Link
from guanai.discovery.tests.helpers import person_id, write_roster
from guanai.registry.models import Child

pytestmark = BROWSER_TESTS


def _upload(page, live_server, source: str, path, shots, name: str) -> None:
    page.goto(live_server.url + "/discovery/")
    page.select_option("#id_source", source)
    page.set_input_files("#id_file", str(path))
    page.click("button:has-text('上传并导入')")
    page.wait_for_selector("text=已导入")
    page.screenshot(path=str(shots / f"{name}.png"), full_page=True)


@pytest.mark.django_db(transaction=True)
def test_a_district_officer_finds_reviews_and_registers(browser, live_server, villages, tmp_path):
    make_user("district_officer", DISTRICT, "charlie")
    registered = make_child(VILLAGE, "王小明", birth=dt.date(2014, 3, 7))
    father, mother, kid = (
        person_id(VILLAGE, dt.date(1988, 2, 3), 61, True),
        person_id(VILLAGE, dt.date(1990, 8, 9), 62, False),
        person_id(VILLAGE, dt.date(2016, 5, 20), 63, True),
    )
    household = write_roster(
        tmp_path / "户籍.csv",
        "household",
        [
            {
                "姓名": "张大山",
                "性别": "男",
                "出生日期": "1988-02-03",
                "身份证号": father,
                "户号": "H9",
                "与户主关系": "户主",
                "户籍区划代码": VILLAGE,
                "人员状态": "正常",
            },
            {
                "姓名": "刘静",
                "性别": "女",
                "出生日期": "1990-08-09",
                "身份证号": mother,
                "户号": "H9",
                "与户主关系": "妻",
                "户籍区划代码": VILLAGE,
                "人员状态": "正常",
            },
            {
                "姓名": "张小山",
                "性别": "男",
                "出生日期": "2016-05-20",
                "身份证号": kid,
                "户号": "H9",
                "与户主关系": "长子",
                "户籍区划代码": VILLAGE,
                "人员状态": "正常",
            },
            {
                "姓名": "",
                "性别": "男",
                "出生日期": "2016-05-20",
                "身份证号": "",
                "户号": "H10",
                "与户主关系": "子",
                "户籍区划代码": VILLAGE,
                "人员状态": "正常",
            },
        ],
    )
    migrant = write_roster(
        tmp_path / "务工.csv",
        "migrant",
        [
            {
                "姓名": "张大山",
                "身份证号": father,
                "外出地点": "广东省东莞市",
                "外出日期": "2025-01-10",
                "是否跨县": "是",
            },
            {
                "姓名": "柳婧",
                "身份证号": mother.lower(),
                "外出地点": "浙江省宁波市",
                "外出日期": "2025-03-01",
                "是否跨县": "是",
            },
        ],
    )
    education = write_roster(
        tmp_path / "学籍.csv",
        "education",
        [
            {
                "姓名": "王晓东",
                "性别": "男",
                "出生日期": "2014-03-07",
                "身份证号": "",
                "学校名称": "虎威小学",
                "学校区划代码": VILLAGE,
                "年级": "六年级",
                "学籍状态": "在读",
            },
        ],
    )
    shots = tmp_path
    page = phone(browser, live_server, "charlie")
    _upload(page, live_server, "household", household, shots, "import-household")
    assert page.is_visible("text=未导入1行")
    _upload(page, live_server, "migrant", migrant, shots, "import-migrant")
    _upload(page, live_server, "education", education, shots, "import-education")

    page.goto(live_server.url + "/discovery/")
    page.screenshot(path=str(shots / "discovery-home.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.click("button:has-text('开始比对')")
    page.wait_for_selector(".job-succeeded", timeout=120_000)
    page.screenshot(path=str(shots / "run.png"), full_page=True)

    page.goto(live_server.url + "/discovery/review/")
    page.wait_for_selector("text=王晓东")
    page.screenshot(path=str(shots / "review.png"), full_page=True)
    page.click("button:has-text('是同一人')")
    page.wait_for_selector("text=已确认是同一人")
    assert Link.objects.get(child=registered).method == "reviewed"

    page.goto(live_server.url + "/discovery/findings/")
    page.click("text=张小山")
    page.wait_for_selector("text=登记建档（按名册预填）")
    page.screenshot(path=str(shots / "finding.png"), full_page=True)
    page.select_option("#id_outcome", "registration")
    page.click("button:has-text('确认线索')")
    page.wait_for_selector("text=已登记建档")
    page.screenshot(path=str(shots / "registered.png"), full_page=True)
    child = Child.objects.get(name="张小山")
    assert Finding.objects.get(rule="UNREGISTERED_LEFT_BEHIND").registered_child == child
    assert child.groups.filter(code="rural_left_behind").exists()
