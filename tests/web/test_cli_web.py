"""The commands ``users send-link``, ``users token create|list|revoke`` and ``web serve``."""

from __future__ import annotations

import json
from typing import Any

import pytest
import typer
from sqlalchemy import select
from typer.testing import CliRunner

from partnerprojekte.cli import people, support, web
from partnerprojekte.db.engine import Database
from partnerprojekte.db.schema import ApiTokenRow, OutboxRow, UserAuditRow, UserRow
from partnerprojekte.services import Services
from partnerprojekte.web.auth.security import actor_for_api_token
from tests.people import MWIDE, STAB
from tests.web.conftest import ADMIN

PASSWORD = "ein-langes-Passwort-42"


@pytest.fixture
def run(services: Services, tokens: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Any:
    """Run a command line as ``cli/app.py`` registers these commands, over the test database."""
    monkeypatch.setattr(support, "services", lambda: services)
    main = typer.Typer()
    users = typer.Typer()
    users.command("send-link")(people.users_send_link)
    users.add_typer(people.token_app, name="token")
    main.add_typer(users, name="users")
    main.add_typer(web.web_app, name="web")
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None) -> Any:
        return runner.invoke(main, list(args), input=input)

    return invoke


def stored_hash(db: Database, email: str) -> str | None:
    with db.read() as s:
        return s.scalar(select(UserRow.password_hash).where(UserRow.email == email))


def test_no_command_sets_another_persons_password(run: Any, db: Database) -> None:
    result = run("users", "set-password", STAB, input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 2
    assert stored_hash(db, STAB) is None


def test_send_link_queues_a_mail_and_shows_no_link(run: Any, db: Database) -> None:
    result = run("users", "send-link", STAB, "--as", ADMIN)
    assert result.exit_code == 0, result.output
    assert f"Aktivierungslink (Erstanmeldung) für {STAB} zum Versand vorgemerkt" in result.output
    assert "/aktivieren/" not in result.output
    assert stored_hash(db, STAB) is None
    with db.read() as s:
        row = s.scalar(select(OutboxRow).where(OutboxRow.kind == "activation.person"))
        assert row is not None and row.recipient_email == STAB
        entry = s.scalar(select(UserAuditRow).where(UserAuditRow.action == "link_issued"))
        assert entry is not None and entry.actor == f"cli:{ADMIN}"


@pytest.mark.parametrize(
    ("as_", "code", "message"),
    [
        (MWIDE, 3, "Personen verwaltet nur die Administration"),
        ("niemand@example.org", 2, "Keine aktive Person"),
    ],
)
def test_send_link_needs_an_active_administrator(run: Any, as_: str, code: int, message: str) -> None:
    result = run("users", "send-link", STAB, "--as", as_)
    assert result.exit_code == code and message in result.output


def test_token_create_list_revoke(run: Any, db: Database) -> None:
    assert run("users", "token", "create", MWIDE, "--name", "Förderdatenbank").exit_code == 2  # no --as
    created = run("users", "token", "create", MWIDE, "--name", "Förderdatenbank", "--as", ADMIN)
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
    with db.read() as s:
        issuer = s.scalar(select(ApiTokenRow.issued_by).where(ApiTokenRow.id == token_id))
        admin_id = s.scalar(select(UserRow.id).where(UserRow.email == ADMIN))
        assert issuer == admin_id
    revoked = run("users", "token", "revoke", str(token_id), "--as", ADMIN)
    assert revoked.exit_code == 0 and f"Nr. {token_id} widerrufen" in revoked.output
    assert actor_for_api_token(db, token) is None
    again = run("users", "token", "revoke", str(token_id), "--as", ADMIN)
    assert again.exit_code == 0 and "bereits widerrufen" in again.output
    missing = run("users", "token", "revoke", "9999", "--as", ADMIN)
    assert missing.exit_code == 2 and "gibt es nicht" in missing.output


def test_token_create_json_and_errors(run: Any) -> None:
    created = run("users", "token", "create", STAB, "--name", "Statistik", "--as", ADMIN, "--json")
    data = json.loads(created.stdout)
    assert data["email"] == STAB and data["token"].startswith("pp_") and isinstance(data["id"], int)
    unknown = run("users", "token", "create", "niemand@example.org", "--name", "x", "--as", ADMIN)
    assert unknown.exit_code == 2 and "Keine aktive Person" in unknown.output
    empty = run("users", "token", "create", STAB, "--name", "  ", "--as", ADMIN)
    assert empty.exit_code == 2 and "darf nicht leer sein" in empty.output
    refused = run("users", "token", "create", STAB, "--name", "x", "--as", MWIDE)
    assert refused.exit_code == 3 and "Personen verwaltet nur die Administration" in refused.output


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


def test_web_serve_with_workers_starts_the_application_factory_in_each(
    run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    calls: list[tuple[Any, dict[str, Any]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: calls.append((app, kwargs)))
    assert run("web", "serve", "--workers", "2").exit_code == 0
    app, options = calls[0]
    # An import string and a factory: uvicorn's worker processes build their own application from it.
    assert app == "partnerprojekte.web.app:create_app" and options["factory"] is True
    assert options["workers"] == 2 and options["proxy_headers"] is False
    refused = run("web", "serve", "--workers", "0")
    assert refused.exit_code == 2 and "--workers" in refused.output
