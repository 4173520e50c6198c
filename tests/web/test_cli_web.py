"""The commands of ``cli_web``: set a password, create/list/revoke API tokens, start the web server."""

from __future__ import annotations

import json
from typing import Any

import pytest
import typer
from sqlalchemy import select
from typer.testing import CliRunner

from partnerprojekte import cli, cli_web
from partnerprojekte.db.engine import Database
from partnerprojekte.db.schema import ApiTokenRow, UserRow
from partnerprojekte.services import Services
from partnerprojekte.web.security import actor_for_api_token, verify_password
from tests.people import MWIDE, STAB

PASSWORD = "ein-langes-Passwort-42"


@pytest.fixture
def run(services: Services, tokens: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Any:
    """Run a command line as ``cli.py`` registers these commands, over the test database."""
    monkeypatch.setattr(cli, "_services", lambda: services)
    main = typer.Typer()
    users = typer.Typer()
    # The same three lines as in cli.py.
    users.command("set-password")(cli_web.users_set_password)
    users.add_typer(cli_web.token_app, name="token")
    main.add_typer(users, name="users")
    main.add_typer(cli_web.web_app, name="web")
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None) -> Any:
        return runner.invoke(main, list(args), input=input)

    return invoke


def stored_hash(db: Database, email: str) -> str | None:
    with db.read() as s:
        return s.scalar(select(UserRow.password_hash).where(UserRow.email == email))


def test_set_password_prompts_twice(run: Any, db: Database) -> None:
    result = run("users", "set-password", STAB, input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert f"Passwort für {STAB} gesetzt" in result.output
    assert PASSWORD not in result.output  # no echo
    stored = stored_hash(db, STAB)
    assert stored is not None and verify_password(stored, PASSWORD)


def test_set_password_mismatch_changes_nothing(run: Any, db: Database) -> None:
    result = run("users", "set-password", STAB, input=f"{PASSWORD}\n{PASSWORD}x\n")
    assert result.exit_code == 2
    assert "stimmen nicht überein" in result.output
    assert stored_hash(db, STAB) is None


def test_set_password_too_short(run: Any, db: Database) -> None:
    result = run("users", "set-password", STAB, input="kurz\n")
    assert result.exit_code == 2
    assert "mindestens 12 Zeichen" in result.output


def test_set_password_from_stdin(run: Any, db: Database) -> None:
    result = run("users", "set-password", MWIDE, "--password-stdin", input=f"{PASSWORD}\r\n")
    assert result.exit_code == 0, result.output
    stored = stored_hash(db, MWIDE)
    assert stored is not None and verify_password(stored, PASSWORD)


def test_set_password_unknown_user(run: Any) -> None:
    result = run("users", "set-password", "niemand@example.org", "--password-stdin", input=PASSWORD)
    assert result.exit_code == 2
    assert "Keine Person mit der E-Mail" in result.output


def test_token_create_list_revoke(run: Any, db: Database) -> None:
    created = run("users", "token", "create", MWIDE, "--name", "Förderdatenbank")
    assert created.exit_code == 0, created.output
    token = created.stdout.strip().splitlines()[-1]
    assert token.startswith("pp_")
    assert "nur jetzt angezeigt" in created.output
    actor = actor_for_api_token(db, token)
    assert actor is not None and actor.email == MWIDE
    with db.read() as s:
        token_id = s.scalar(select(ApiTokenRow.id).where(ApiTokenRow.name == "Förderdatenbank"))
    listed = run("users", "token", "list", MWIDE, "--json")
    rows = json.loads(listed.stdout)
    assert [r["name"] for r in rows] == ["Tests", "Förderdatenbank"]
    assert token not in listed.stdout
    revoked = run("users", "token", "revoke", str(token_id))
    assert revoked.exit_code == 0 and f"Nr. {token_id} widerrufen" in revoked.output
    assert actor_for_api_token(db, token) is None
    again = run("users", "token", "revoke", str(token_id))
    assert again.exit_code == 0 and "bereits widerrufen" in again.output
    missing = run("users", "token", "revoke", "9999")
    assert missing.exit_code == 2 and "gibt es nicht" in missing.output


def test_token_create_json_and_errors(run: Any) -> None:
    created = run("users", "token", "create", STAB, "--name", "Statistik", "--json")
    data = json.loads(created.stdout)
    assert data["email"] == STAB and data["token"].startswith("pp_") and isinstance(data["id"], int)
    unknown = run("users", "token", "create", "niemand@example.org", "--name", "x")
    assert unknown.exit_code == 2 and "Keine aktive Person" in unknown.output
    empty = run("users", "token", "create", STAB, "--name", "  ")
    assert empty.exit_code == 2 and "darf nicht leer sein" in empty.output


def test_web_serve_binds_loopback_by_default(run: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: calls.append(kwargs))
    result = run("web", "serve")
    assert result.exit_code == 0, result.output
    assert calls[0]["host"] == "127.0.0.1" and calls[0]["port"] == 8000
    assert "http://127.0.0.1:8000/" in result.output
    run("web", "serve", "--port", "8123")
    assert calls[1]["port"] == 8123


def test_web_serve_warns_for_other_addresses(run: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: None)
    result = run("web", "serve", "--host", "0.0.0.0")  # only the warning is tested, nothing binds
    assert "Achtung" in result.output and "TLS" in result.output
