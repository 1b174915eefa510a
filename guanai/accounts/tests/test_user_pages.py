from __future__ import annotations

import pytest

from conftest import NEIGHBOUR_VILLAGE, PASSWORD, VILLAGE, client_for
from guanai.accounts.models import User
from guanai.accounts.services import user_set_active
from guanai.audit.models import AuditEvent
from guanai.lib.errors import DomainError

NEW = {
    "username": "lichunmei",
    "display_name": "李春梅",
    "organisation": "",
    "role": "director",
    "region_code": VILLAGE,
    "password": "a-long-passphrase-9",
}


def test_it_lists_accounts_for_the_administrator_only(cast):
    page = client_for(cast["frank"]).get("/users/?role=director")
    assert page.status_code == 200
    assert "alice" in page.content.decode() and "charlie" not in page.content.decode()
    assert client_for(cast["charlie"]).get("/users/").status_code == 403
    assert client_for(cast["alice"]).post("/users/new/", NEW).status_code == 403
    assert not User.objects.filter(username="lichunmei").exists()


def test_the_administrator_creates_a_director(cast):
    response = client_for(cast["frank"]).post("/users/new/", NEW)
    user = User.objects.get(username="lichunmei")
    assert response.status_code == 302 and response["Location"] == f"/users/{user.pk}/"
    assert (user.role, user.region_id, user.display_name) == ("director", VILLAGE, "李春梅")
    assert AuditEvent.objects.filter(action="user.create", actor=cast["frank"]).exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"region_code": "500230"}, "管辖区域应为"),
        ({"region_code": "599999999999"}, "不存在"),
        ({"username": "alice"}, "已被使用"),
        ({"password": "123"}, "密码"),
        ({"username": "李 春梅"}, "只能包含"),
    ],
)
def test_bad_accounts_are_shown_next_to_the_field(cast, change, message):
    response = client_for(cast["frank"]).post("/users/new/", {**NEW, **change})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not User.objects.filter(display_name="李春梅").exists()


def test_a_director_moves_to_another_village_and_the_change_is_audited(cast, villages):
    alice = cast["alice"]
    other = NEIGHBOUR_VILLAGE
    response = client_for(cast["frank"]).post(
        f"/users/{alice.pk}/",
        {"display_name": "Alice", "organisation": "", "role": "director", "region_code": other},
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.region_id == other
    event = AuditEvent.objects.get(action="user.update", object_id=str(alice.pk))
    assert (event.before or {})["region_id"] == VILLAGE and (event.after or {})["region_id"] == other


def test_a_disabled_account_can_no_longer_sign_in(cast):
    admin = client_for(cast["frank"])
    admin.post(f"/users/{cast['alice'].pk}/active/", {"active": "0"})
    cast["alice"].refresh_from_db()
    assert not cast["alice"].is_active
    assert not client_for(cast["eve"]).login(username="alice", password=PASSWORD)
    assert AuditEvent.objects.filter(action="user.disable", object_id=str(cast["alice"].pk)).exists()


def test_an_administrator_cannot_disable_herself(cast):
    with pytest.raises(DomainError, match="不能停用自己"):
        user_set_active(actor=cast["frank"], pk=cast["frank"].pk, active=False)


def test_a_password_reset_is_audited_without_the_password(cast):
    client_for(cast["frank"]).post(f"/users/{cast['alice'].pk}/password/", {"password": "another-passphrase-7"})
    cast["alice"].refresh_from_db()
    assert cast["alice"].check_password("another-passphrase-7")
    event = AuditEvent.objects.get(action="user.password")
    assert "another-passphrase-7" not in str(event.before) + str(event.after) + event.summary
