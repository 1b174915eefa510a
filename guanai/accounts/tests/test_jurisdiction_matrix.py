"""The jurisdiction matrix: every role × a child inside / outside its region → allowed / 404.

Each role's user sits at the lowest level the role allows (a director in 测试一村, a supervisor in 虎威镇,
a district officer in 丰都县, city-level roles at 重庆市). The expectation is computed from the permission
matrix and the region prefix, so a change to rules/permissions.yaml changes what is asserted.
"""

from __future__ import annotations

import pytest

from conftest import ROLE_REGION, client_for, make_user
from guanai.accounts import roles
from guanai.lib import regioncode

ALL_ROLES = sorted(roles.matrix().roles)
CHILD_KEYS = ["village", "neighbour_village", "other_township", "other_district"]


def expected_visible(role: str, village_code: str) -> bool:
    spec = roles.get(role)
    region = ROLE_REGION[max(spec.levels)]
    return "child.view" in spec.permissions and village_code.startswith(regioncode.prefix(region))


def test_the_matrix_covers_every_role_named_in_the_issue():
    assert set(ALL_ROLES) >= {
        "director",
        "supervisor",
        "district_officer",
        "city_officer",
        "partner_education",
        "partner_police",
        "partner_health",
        "partner_women",
        "partner_youth",
        "partner_disabled",
        "partner_court",
        "partner_procuratorate",
        "partner_cyberspace",
        "social_worker",
        "auditor",
        "admin",
    }


@pytest.mark.parametrize("role", ALL_ROLES)
@pytest.mark.parametrize("which", CHILD_KEYS)
def test_child_file_is_served_only_inside_the_jurisdiction(role, which, children):
    user = make_user(role)
    child = children[which]
    client = client_for(user)
    allowed = expected_visible(role, child.village_id)

    api = client.get(f"/api/v1/children/{child.pk}/")
    page = client.get(f"/children/{child.pk}/")

    assert api.status_code == (200 if allowed else 404)
    assert page.status_code == (200 if allowed else 404)
    if not allowed:
        assert api.json()["error"]["code"] == "not_found"
        assert child.name not in page.content.decode()


@pytest.mark.parametrize("role", ALL_ROLES)
def test_child_list_holds_exactly_the_children_in_scope(role, children):
    user = make_user(role)
    response = client_for(user).get("/api/v1/children/")
    assert response.status_code == 200
    listed = {row["id"] for row in response.json()["results"]}
    expected = {c.pk for c in children.values() if expected_visible(role, c.village_id)}
    assert listed == expected


def test_the_matrix_distinguishes_levels(children):
    # Guard against a matrix where everything is visible or nothing is.
    assert expected_visible("director", children["village"].village_id)
    assert not expected_visible("director", children["neighbour_village"].village_id)
    assert expected_visible("supervisor", children["neighbour_village"].village_id)
    assert not expected_visible("supervisor", children["other_township"].village_id)
    assert expected_visible("district_officer", children["other_township"].village_id)
    assert not expected_visible("district_officer", children["other_district"].village_id)
    assert expected_visible("city_officer", children["other_district"].village_id)
    assert not expected_visible("admin", children["village"].village_id)


def test_an_inactive_user_sees_nothing(children):
    user = make_user("district_officer")
    user.is_active = False
    user.save()
    from guanai.registry.selectors import children_for

    assert not children_for(user).exists()


def test_anonymous_requests_are_refused_with_the_error_shape(children):
    from django.test import Client

    response = Client().get("/api/v1/children/")
    assert response.status_code in (401, 403)
    assert response.json()["error"]["message"] == "请先登录"
    assert Client().get("/children/").status_code == 302
