"""Start-up behaviour, run as a real subprocess: missing production secrets and bad settings fail loudly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("GUANAI_", "DATABASE_URL", "SECRET_KEY"))}
    return subprocess.run(
        [sys.executable, "-m", "guanai.cli", *args],
        env={**base, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("missing", ["SECRET_KEY", "GUANAI_FIELD_KEYS", "GUANAI_BLIND_INDEX_KEY", "ALLOWED_HOSTS"])
def test_production_refuses_to_start_without_a_secret(tmp_path, missing):
    env = {
        "GUANAI_ENV": "production",
        "GUANAI_VAR_DIR": str(tmp_path),
        "SECRET_KEY": "x" * 50,
        "GUANAI_FIELD_KEYS": "1:" + "A" * 43,
        "GUANAI_BLIND_INDEX_KEY": "B" * 43,
        "ALLOWED_HOSTS": "guanai.example",
        "DATABASE_URL": f"sqlite:///{tmp_path}/p.sqlite3",
    }
    del env[missing]
    result = run_cli("check", env=env)
    assert result.returncode != 0
    assert missing in result.stderr
    assert "Traceback" not in result.stderr


def test_a_malformed_database_url_is_a_clear_error(tmp_path):
    result = run_cli("check", env={"GUANAI_VAR_DIR": str(tmp_path), "DATABASE_URL": "mysql-ish://what"})
    assert result.returncode == 2
    assert "DATABASE_URL" in result.stderr


def test_the_demo_needs_nothing_configured(tmp_path):
    result = run_cli("check", env={"GUANAI_VAR_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "dev-secrets.json").exists()


def test_the_cli_wraps_djangos_commands_and_adds_the_products(tmp_path):
    result = run_cli("help", env={"GUANAI_VAR_DIR": str(tmp_path)})
    for command in ("migrate", "createsuperuser", "demo", "regions", "pii", "seed"):
        assert command in result.stdout


def test_an_unknown_role_is_refused_with_the_known_ones_listed(db):
    from guanai.accounts.services import user_create
    from guanai.lib.errors import DomainError

    with pytest.raises(DomainError) as err:
        user_create(actor=None, username="x", password="a-long-passphrase-9", role="mayor", region_code="500230")
    assert err.value.code == "unknown_role"
    assert "儿童主任" in err.value.message


def test_the_demo_refuses_production(tmp_path):
    env = {
        "GUANAI_ENV": "production",
        "GUANAI_VAR_DIR": str(tmp_path),
        "SECRET_KEY": "x" * 50,
        "GUANAI_FIELD_KEYS": "1:" + "A" * 43,
        "GUANAI_BLIND_INDEX_KEY": "B" * 43,
        "ALLOWED_HOSTS": "h",
        "DATABASE_URL": f"sqlite:///{tmp_path}/p.sqlite3",
    }
    result = run_cli("demo", "--no-serve", env=env)
    assert result.returncode != 0
    assert "production" in result.stderr
