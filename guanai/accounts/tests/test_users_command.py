from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from conftest import VILLAGE
from guanai.accounts.models import User
from guanai.audit.models import AuditEvent


def test_an_operator_creates_a_director_from_the_command_line(villages, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-passphrase-9\n"))
    call_command(
        "users", "add", "lichunmei", "--role", "director", "--region", VILLAGE, "--name", "李春梅", "--password-stdin"
    )
    user = User.objects.get(username="lichunmei")
    assert (user.role, user.region_id, user.display_name) == ("director", VILLAGE, "李春梅")
    assert user.check_password("a-long-passphrase-9")
    assert AuditEvent.objects.filter(action="user.create", object_id=str(user.pk)).exists()


@pytest.mark.parametrize(
    ("role", "region", "message"),
    [("mayor", VILLAGE, "未知角色"), ("director", "500230000000", "管辖区域应为"), ("director", "5x", "只能包含数字")],
)
def test_bad_accounts_are_refused_clearly(villages, monkeypatch, role, region, message):
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-passphrase-9\n"))
    with pytest.raises(CommandError, match=message):
        call_command("users", "add", "x", "--role", role, "--region", region, "--password-stdin")
    assert not User.objects.filter(username="x").exists()


def test_roles_and_accounts_are_listed(cast, capsys):
    call_command("users", "roles")
    assert "儿童主任" in capsys.readouterr().out
    call_command("users", "list", "--region", "500230")
    out = capsys.readouterr().out
    assert "alice" in out and "diana" not in out
