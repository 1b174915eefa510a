from __future__ import annotations

from django.test import Client
from rest_framework.authtoken.models import Token

from conftest import client_for


def test_the_openapi_schema_is_served_and_names_the_endpoints(cast):
    response = client_for(cast["alice"]).get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in (
        "/api/v1/children/",
        "/api/v1/children/{id}/",
        "/api/v1/children/{id}/reveal/",
        "/api/v1/regions/",
        "/api/v1/me/",
        "/api/v1/audit/events/",
    ):
        assert path in paths


def test_the_docs_page_loads_its_assets_locally(cast):
    body = client_for(cast["alice"]).get("/api/docs/").content.decode()
    assert "swagger" in body.lower()
    assert "cdn" not in body.lower()
    assert "/static/drf_spectacular_sidecar/" in body


def test_token_auth_works_for_system_to_system_use(cast, children):
    token = Token.objects.create(user=cast["charlie"])
    client = Client()
    response = client.get("/api/v1/children/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 200
    assert response.json()["count"] == 3  # the three 丰都县 children
    assert client.get("/api/v1/children/", HTTP_AUTHORIZATION="Token wrong").json()["error"]["code"] in {
        "authentication_failed",
        "not_authenticated",
    }


def test_me_describes_the_role_and_jurisdiction(cast):
    me = client_for(cast["bob"]).get("/api/v1/me/").json()
    assert me["role"] == "supervisor"
    assert me["role_label"] == "儿童督导员"
    assert me["region"] == "500230101000"
    assert "child.view" in me["permissions"]


def test_errors_share_one_shape(cast, children):
    client = client_for(cast["alice"])
    not_found = client.get("/api/v1/children/999999/").json()
    assert not_found == {
        "error": {"code": "not_found", "message": "未找到该记录，或不在您的管辖范围内", "detail": None}
    }
    invalid = client.post(f"/api/v1/children/{children['village'].pk}/reveal/", {"field": "secret"}).json()
    assert invalid["error"]["code"] == "invalid"
    assert "field" in invalid["error"]["detail"]
    method = client.delete("/api/v1/children/").json()
    assert method["error"]["code"] == "method_not_allowed"
    assert client.get("/api/v1/nope/").status_code == 404


def test_the_schema_generates_without_warnings_or_errors(capsys):
    """Enum names and operation ids are unambiguous (settings.SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"])."""
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator

    GENERATOR_STATS.reset()
    schema = SchemaGenerator().get_schema(request=None, public=True)
    assert "ChildStatusEnum" in schema["components"]["schemas"]
    assert not GENERATOR_STATS, capsys.readouterr().err
