"""python -m amends_local: the token command, and its help."""

from __future__ import annotations

import subprocess
import sys

import pytest
from amends_local import __main__ as cli
from amends_local.auth import LocalIdentityProvider


def test_an_unknown_role_fails_with_the_roles_listed() -> None:
    done = subprocess.run([sys.executable, "-m", "amends_local", "token", "--role", "nope"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert done.stdout == ""
    assert "Unknown role 'nope'" in done.stderr
    assert "handler, supervisor, manager, auditor, admin" in done.stderr


def test_help_names_both_commands() -> None:
    done = subprocess.run([sys.executable, "-m", "amends_local", "--help"], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0
    assert "run" in done.stdout and "token" in done.stdout and "make run" in done.stdout


def test_token_prints_only_a_token_signed_with_the_shared_key(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(cli, "STATE_DIR", tmp_path)
    monkeypatch.setattr(cli, "CLOCK_FILE", tmp_path / "clock.json")
    assert cli.main(["token", "--role", "handler,supervisor", "--sub", "h-9", "--ttl", "120"]) == 0
    token = capsys.readouterr().out.strip()
    assert "\n" not in token
    claims = LocalIdentityProvider(tmp_path).verify(token)
    assert claims["sub"] == "h-9" and claims["cognito:groups"] == ["handler", "supervisor"]
    assert claims["exp"] - claims["iat"] == 120


def test_token_is_issued_in_the_stacks_time(tmp_path, monkeypatch, capsys) -> None:
    """After `make run`'s clock was moved three days on, a fresh token must not be born expired."""
    (tmp_path / "clock.json").write_text('{"offset_seconds": 259200}\n')
    monkeypatch.setattr(cli, "STATE_DIR", tmp_path)
    monkeypatch.setattr(cli, "CLOCK_FILE", tmp_path / "clock.json")
    monkeypatch.delenv("AMENDS_CLOCK_OFFSET_SECONDS", raising=False)
    cli.main(["token", "--role", "admin"])
    token = capsys.readouterr().out.strip()
    from datetime import UTC, datetime, timedelta

    LocalIdentityProvider(tmp_path).verify(token, now=datetime.now(UTC) + timedelta(days=3))


@pytest.mark.parametrize("ttl", ["0", "-1", "soon"])
def test_a_bad_ttl_is_refused(ttl, capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["token", "--role", "handler", "--ttl", ttl])
    assert exited.value.code == 2
    assert "positive number of seconds" in capsys.readouterr().err
