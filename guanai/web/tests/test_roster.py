"""The roster (花名册) and the director's home: filters through the search selector, group tags, links."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from conftest import NEIGHBOUR_VILLAGE, VILLAGE, client_for, make_child
from guanai import privacy
from guanai.registry.models import Child, ChildGroup
from guanai.registry.services import ChildData, PersonData, StatusData, child_register

TODAY = dt.date(2026, 11, 29)
pytestmark = pytest.mark.usefixtures("frozen")


@pytest.fixture
def frozen():
    with time_machine.travel(dt.datetime(2026, 11, 29, 10, tzinfo=dt.UTC), tick=False):
        yield


def left_behind(user, name: str, village: str = VILLAGE, birth: dt.date = dt.date(2015, 3, 7)) -> Child:
    away = StatusData("working_away", since=dt.date(2025, 1, 10), work_place="广东省", cross_county=True)
    return child_register(
        actor=user,
        data=ChildData(name=name, sex="M", birth_date=birth, village_code=village, hukou_type="agricultural"),
        family=[PersonData("father", "父亲", statuses=[away]), PersonData("mother", "母亲", statuses=[away])],
        today=TODAY,
    )


def test_rows_show_age_village_masked_id_status_and_group_tags(cast, children):
    child = left_behind(cast["alice"], "赵小花")
    body = client_for(cast["alice"]).get("/children/").content.decode()
    row = body[body.index("赵小花") - 600 : body.index("赵小花") + 900]
    assert "11岁" in row and "测试一村" in row and "在册" in row
    assert 'class="gtag g-rural_left_behind">农村留守儿童' in row
    assert children["village"].id_number_mask in body
    assert privacy.reveal(children["village"].id_number_enc) not in body
    assert f'href="/children/{child.pk}/"' in body


def test_each_filter_goes_through_the_search_selector(cast, children):
    kid = left_behind(cast["bob"], "钱小宝", village=NEIGHBOUR_VILLAGE, birth=dt.date(2022, 6, 1))
    client = client_for(cast["bob"])

    def names(**params: str) -> str:
        return client.get("/children/", params).content.decode()

    assert "钱小宝" in names(group="rural_left_behind") and "王小明" not in names(group="rural_left_behind")
    assert "钱小宝" in names(age_band="0-5") and "王小明" not in names(age_band="0-5")
    assert "王小明" in names(age_band="6-11")
    assert "钱小宝" in names(region=NEIGHBOUR_VILLAGE) and "王小明" not in names(region=NEIGHBOUR_VILLAGE)
    assert "王小明" in names(status="active") and "钱小宝" in names(status="active")
    assert "钱小宝" in names(q=kid.child_no) and "王小明" not in names(q=kid.child_no)
    full_id = privacy.reveal(children["village"].id_number_enc)
    assert "王小明" in names(q=full_id) and "钱小宝" not in names(q=full_id)
    assert "钱小宝" in names(q="qxb") and "钱小宝" in names(q="钱")


@pytest.mark.parametrize(
    "params",
    [{"region": "abc"}, {"group": "nope"}, {"age_band": "99"}, {"status": "<b>"}, {"page": "x"}, {"q": "%" * 300}],
)
def test_garbage_filters_are_an_empty_or_plain_page_never_a_500(cast, children, params):
    response = client_for(cast["charlie"]).get("/children/", params)
    assert response.status_code == 200


def test_the_export_link_carries_the_filters_and_editors_get_import_and_register(cast, children):
    body = client_for(cast["charlie"]).get("/children/", {"group": "orphan", "q": "王", "page": "1"}).content.decode()
    assert 'href="/children/export/?q=%E7%8E%8B&amp;group=orphan"' in body
    assert 'href="/children/import/"' in body and 'href="/children/new/"' in body
    region_select = body[body.index('name="region"') : body.index("</select>", body.index('name="region"'))]
    assert "虎威镇" in region_select and "测试一村" in region_select and "万州区" not in region_select


def test_pages_keep_the_filters(cast, villages):
    for i in range(35):
        make_child(VILLAGE, f"孙{i:02d}", birth=dt.date(2014, 1, 1) + dt.timedelta(days=i))
    first = client_for(cast["alice"]).get("/children/", {"status": "active"}).content.decode()
    assert "第 1 / 2 页" in first
    assert 'href="?status=active&amp;page=2"' in first


def test_the_directors_home_counts_groups_and_lists_exit_proposals(cast, children):
    left_behind(cast["alice"], "赵小花")
    proposed = child_register(
        actor=cast["alice"],
        data=ChildData(
            name="周小川", sex="M", birth_date=dt.date(2012, 1, 1), village_code=VILLAGE, hukou_type="resident"
        ),
        today=TODAY,
    )
    body = client_for(cast["alice"]).get("/").content.decode()
    groups = body[body.index("关爱类别") :]
    assert 'href="/children/?group=rural_left_behind&amp;status=active"' in groups
    assert "农村留守儿童</span><b>1</b>" in groups
    assert "建议退出（1）" in body and f'href="/children/{proposed.pk}/#exit"' in body
    assert 'href="/children/new/"' in body
    assert ChildGroup.objects.filter(child__name="赵小花").exists()


def test_a_name_search_counts_up_to_its_cap(cast, children, monkeypatch):

    from guanai.web import views

    for _ in range(4):
        make_child(VILLAGE, "王小虎")
    client = client_for(cast["alice"])
    monkeypatch.setattr(views, "SEARCH_COUNT_CAP", 3)
    page = client.get("/children/", {"q": "王小"}).content.decode()
    assert "共 3+ 名" in page
    monkeypatch.setattr(views, "SEARCH_COUNT_CAP", 10)
    assert "共 5 名" in client.get("/children/", {"q": "王小"}).content.decode()
    assert "共 5 名" in client.get("/children/").content.decode()  # the roster itself counts everyone
