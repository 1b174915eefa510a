from __future__ import annotations

import pytest
from django.test import Client, override_settings

from conftest import PASSWORD, client_for, make_user
from guanai.accounts import roles


def test_the_login_page_is_chinese_and_mobile_ready(db):
    body = Client().get("/login/").content.decode()
    assert 'lang="zh-Hans"' in body
    assert "width=device-width" in body
    assert "用户名" in body and "密码" in body
    assert "http://" not in body.replace("http://www.w3.org", "") and "https://" not in body


def test_anonymous_visitors_are_sent_to_login(db):
    response = Client().get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_a_user_logs_in_with_the_form(cast):
    client = Client()
    response = client.post("/login/", {"username": "alice", "password": PASSWORD}, follow=True)
    assert response.status_code == 200
    assert "我的工作台" in response.content.decode()


def test_a_wrong_password_gets_a_chinese_message(cast):
    body = Client().post("/login/", {"username": "alice", "password": "wrong"}).content.decode()
    assert "用户名或密码错误" in body


HOME_MARKERS = {
    "village": "本村儿童",
    "township": "下级区域",
    "district": "下级区域",
    "city": "下级区域",
    "partner": "下级区域",
    "social": "转介给本组织的儿童",
    "auditor": "审计工作台",
    "admin": "系统管理",
    "reporter": "提交强制报告",
}


@pytest.mark.parametrize("role", sorted(roles.matrix().roles))
def test_each_role_lands_on_a_home_page_that_fits_it(role, children):
    user = make_user(role)
    response = client_for(user).get("/")
    assert response.status_code == 200
    body = response.content.decode()
    assert HOME_MARKERS[roles.get(role).home] in body
    assert roles.get(role).label in body
    if roles.get(role).home == "village":
        assert "王小明" in body and "李小红" not in body


def test_navigation_follows_permissions(cast):
    assert "儿童名册" in client_for(cast["alice"]).get("/").content.decode()
    assert "审计查询" not in client_for(cast["alice"]).get("/").content.decode()
    admin_home = client_for(cast["frank"]).get("/").content.decode()
    assert "儿童名册" not in admin_home
    assert "审计查询" in client_for(cast["eve"]).get("/").content.decode()


def test_a_user_without_role_or_region_gets_an_explanation_not_an_error(db):
    from guanai.accounts.models import User

    user = User.objects.create(username="nobody")
    response = client_for(user).get("/")
    assert response.status_code == 403
    assert "尚未分配角色" in response.content.decode()


def test_the_roster_searches_by_pinyin_initials_within_scope(cast, children):
    from guanai.registry.models import Child

    Child.objects.filter(pk=children["village"].pk).update(name_pinyin="wangxiaoming", name_initials="wxm")
    body = client_for(cast["charlie"]).get("/children/", {"q": "wxm"}).content.decode()
    assert "王小明" in body and "张小军" not in body
    assert client_for(cast["frank"]).get("/children/").status_code == 403


def test_unknown_pages_and_bad_ids_are_404_pages_not_errors(cast):
    client = client_for(cast["alice"])
    assert client.get("/children/abc/").status_code == 404
    assert client.get("/children/99999999999999999999/").status_code == 404
    assert "未找到" in client.get("/nope/").content.decode()


@override_settings(AXES_ENABLED=True, AXES_FAILURE_LIMIT=3)
def test_login_is_throttled_after_repeated_failures(cast):
    client = Client(REMOTE_ADDR="10.0.0.7")
    for _ in range(3):
        client.post("/login/", {"username": "alice", "password": "wrong"})
    locked = client.post("/login/", {"username": "alice", "password": PASSWORD})
    assert locked.status_code == 429
    assert "登录失败次数过多" in locked.content.decode()
