"""Shared test cast: real Chongqing townships with test villages, users of every role, children in and out
of each jurisdiction. Names follow the role: alice the village director of 虎威镇一村, bob the township
supervisor of 虎威镇, charlie the 丰都县 district officer, diana the city officer."""

from __future__ import annotations

import datetime as dt
import itertools
import os
from pathlib import Path

import pytest
from django.test import Client

from guanai import privacy
from guanai.accounts import roles
from guanai.accounts.models import User
from guanai.lib import idnumber
from guanai.regions.models import Region
from guanai.regions.services import load_official
from guanai.registry.models import Child

CITY = "500000000000"
DISTRICT = "500230000000"  # 丰都县
TOWNSHIP = "500230101000"  # 虎威镇
OTHER_TOWNSHIP = "500230102000"  # 社坛镇
OTHER_DISTRICT = "500101000000"  # 万州区
OTHER_DISTRICT_TOWNSHIP = "500101001000"  # 高笋塘街道
VILLAGE = "500230101201"
NEIGHBOUR_VILLAGE = "500230101202"
OTHER_TOWNSHIP_VILLAGE = "500230102201"
OTHER_DISTRICT_COMMUNITY = "500101001001"

PASSWORD = "correct-horse-battery"
_serial = itertools.count(1)


def make_id_number(county: str, birth: dt.date, male: bool) -> str:
    seq = next(_serial)
    body = f"{county[:6]}{birth:%Y%m%d}{seq % 100:02d}{2 * (seq % 5) + (1 if male else 0)}"
    return body + idnumber.check_digit(body)


@pytest.fixture
def villages(db: None) -> dict[str, Region]:
    if not Region.objects.filter(code=CITY).exists():
        # A transactional test's flush empties the table the data migration filled; put it back.
        load_official(Region)
    made = {}
    for code, parent, name in [
        (VILLAGE, TOWNSHIP, "测试一村"),
        (NEIGHBOUR_VILLAGE, TOWNSHIP, "测试二村"),
        (OTHER_TOWNSHIP_VILLAGE, OTHER_TOWNSHIP, "社坛测试村"),
        (OTHER_DISTRICT_COMMUNITY, OTHER_DISTRICT_TOWNSHIP, "测试社区"),
    ]:
        made[code] = Region.objects.create(code=code, name=name, level=5, parent_id=parent, is_demo=True)
    return made


def make_child(village: str, name: str = "王小明", *, birth: dt.date = dt.date(2015, 3, 7), male: bool = True) -> Child:
    number = make_id_number(village, birth, male)
    p = privacy.protect_id_number(number)
    return Child.objects.create(
        child_no=f"T{next(_serial):011d}",
        name=name,
        sex="M" if male else "F",
        birth_date=birth,
        id_number_enc=p.enc,
        id_number_bidx=p.bidx,
        id_number_mask=p.mask,
        village_id=village,
        hukou_type="agricultural",
        status="active",
    )


@pytest.fixture
def children(villages: dict[str, Region]) -> dict[str, Child]:
    return {
        "village": make_child(VILLAGE, "王小明"),
        "neighbour_village": make_child(NEIGHBOUR_VILLAGE, "李小红", male=False),
        "other_township": make_child(OTHER_TOWNSHIP_VILLAGE, "张小军"),
        "other_district": make_child(OTHER_DISTRICT_COMMUNITY, "刘小芳", male=False),
    }


# Where each role's cast member sits: the lowest level the role allows, inside 丰都县/虎威镇/测试一村.
ROLE_REGION = {1: CITY, 2: CITY, 3: DISTRICT, 4: TOWNSHIP, 5: VILLAGE}


def make_user(role: str, region: str | None = None, username: str | None = None) -> User:
    spec = roles.get(role)
    region = region or ROLE_REGION[max(spec.levels)]
    user = User.objects.create(username=username or f"{role}-{region}", role=role, region_id=region)
    user.set_password(PASSWORD)
    user.save()
    return user


@pytest.fixture
def cast(villages: dict[str, Region]) -> dict[str, User]:
    return {
        "alice": make_user("director", VILLAGE, "alice"),
        "bob": make_user("supervisor", TOWNSHIP, "bob"),
        "charlie": make_user("district_officer", DISTRICT, "charlie"),
        "diana": make_user("city_officer", CITY, "diana"),
        "eve": make_user("auditor", CITY, "eve"),
        "frank": make_user("admin", CITY, "frank"),
    }


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- real browser (Debian chromium driven by Playwright) ------------------------------------------------------
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BROWSER_TESTS = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed (.ci/run installs it)"),
]
PHONE = {"viewport": {"width": 390, "height": 844}, "locale": "zh-CN", "is_mobile": True, "has_touch": True}


@pytest.fixture
def browser():
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are still synchronous.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def page(browser):
    """A fresh page in a phone-sized context."""
    return browser.new_context(**PHONE).new_page()


def phone(browser, live_server, username: str, password: str = PASSWORD):
    """A phone-sized page logged in as ``username``."""
    page = browser.new_context(**PHONE).new_page()
    page.goto(live_server.url + "/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page
