"""The commands ``reminders run`` and ``digest run|opt-out|opt-in`` on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import typer
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner, Result

from partnerprojekte.config import Settings, get_settings
from partnerprojekte.db.engine import Database, make_engine
from partnerprojekte.db.migrate import upgrade
from partnerprojekte.db.schema import OutboxRow, UserRow
from partnerprojekte.model import Event
from partnerprojekte.services import Services
from partnerprojekte.states.workflow import EventInput
from tests.conftest import Clock, create_postgres_database
from tests.people import MWIDE, STAB
from tests.schedule.conftest import add_people, berlin, submit, to_coordination


def program() -> typer.Typer:
    """The main program's registration of the two command groups, on an otherwise empty program."""
    from partnerprojekte.cli.schedule import digest_app, reminders_app

    app = typer.Typer()
    app.add_typer(reminders_app, name="reminders")
    app.add_typer(digest_app, name="digest")
    return app


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Engine]:
    """A database the commands find through the settings, with a history from Monday 2 March 2026."""
    drop: Callable[[], None] | None = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'cli.db'}"
    else:
        url, drop = create_postgres_database()
    eng = make_engine(url)
    upgrade(eng)
    services = Services(Database(eng, clock=Clock(berlin(2026, 3, 2))), Settings())
    services.load_reference_data()
    add_people(services)
    submit(services)
    coord = to_coordination(services)
    services.transition(coord, Event.RECOGNISE, STAB, EventInput())
    monkeypatch.setenv("PARTNERPROJEKTE_DATABASE_URL", url)
    monkeypatch.setenv("PARTNERPROJEKTE_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield eng
    get_settings.cache_clear()
    eng.dispose()
    if drop:
        drop()


def cli(*args: str, expect: int = 0) -> Result:
    """Run the program in-process and check its exit code."""
    result = CliRunner().invoke(program(), list(args))
    assert result.exit_code == expect, result.output
    return result


def count(eng: Engine, prefix: str) -> int:
    """How many outbox rows of kinds starting with ``prefix`` exist."""
    with eng.connect() as conn:
        return conn.scalar(select(func.count()).where(OutboxRow.kind.startswith(prefix))) or 0


def test_reminders_dry_run_then_run_then_again(engine: Engine) -> None:
    trial = cli("reminders", "run", "--as-of", "2026-03-16", "--dry-run")
    assert "Erinnerungen zum 16.03.2026 07:30 – Probelauf, nichts gespeichert" in trial.output
    assert "würde vorgemerkt" in trial.output
    assert (
        "Erinnerung: Vorschlag noch nicht aufgegriffen (14 Tage, Runde 1) → Anna Stab <a.stab@"
        in trial.output
    )
    assert count(engine, "reminder.") == 0
    data = json.loads(cli("reminders", "run", "--as-of", "2026-03-16", "--json").stdout)
    # eingereicht for 14 days (2 Arbeitsstab members), the MWIDE approval owed for 14 days (2 reviewers)
    assert (data["queued"], data["already_queued"], data["dry_run"]) == (4, 0, False)
    assert {m["kind"] for m in data["mails"]} == {
        "reminder.eingereicht.arbeitsstab",
        "reminder.approval_owed.ressort",
    }
    assert count(engine, "reminder.") == 4
    again = cli("reminders", "run", "--as-of", "2026-03-16")
    assert "0 Erinnerung(en) vorgemerkt, 4 waren bereits vorgemerkt." in again.output
    assert count(engine, "reminder.") == 4


def test_reminders_on_a_quiet_day(engine: Engine) -> None:
    assert "Keine Erinnerung fällig." in cli("reminders", "run", "--as-of", "2026-03-03").output


def test_reminders_with_a_bad_date(engine: Engine) -> None:
    result = cli("reminders", "run", "--as-of", "16.03.2026", expect=2)
    assert "„16.03.2026“ ist kein Datum der Form JJJJ-MM-TT" in result.output


def test_digest_for_one_person(engine: Engine) -> None:
    data = json.loads(cli("digest", "run", "--as-of", "2026-03-09", "--to", MWIDE, "--json").stdout)
    assert data["week"] == "2026-W11"
    assert [(m["recipient"], m["status"], m["key"]) for m in data["mails"]] == [
        (MWIDE, "queued", f"digest:2026-W11:{MWIDE}")
    ]
    assert data["mails"][0]["summary"] == {
        "awaiting": 1,
        "new_responsibilities": 1,
        "changes": 2,
        "reports_overdue": 0,
        "overdue": 0,
        "reports_owed": 0,
    }
    assert count(engine, "digest.") == 1


def test_digest_run_in_german(engine: Engine) -> None:
    out = cli("digest", "run", "--as-of", "2026-03-09", "--dry-run").output
    assert "Wochenüberblick KW 11/2026 (Stichtag 09.03.2026) – Probelauf, nichts gespeichert" in out
    assert "würde vorgemerkt   Wochenüberblick Arbeitsstab  → Anna Stab <a.stab@stk.nrw.example>" in out
    assert "Zustimmung offen: 1, neu zuständig: 1, Statusänderungen: 2" in out
    vera = "Vera Verkehr <v.verkehr@vm.nrw.example> (nichts Neues)"
    assert f"übersprungen       Wochenüberblick Ressort      → {vera}" in out
    assert count(engine, "digest.") == 0


def test_digest_to_an_unknown_person(engine: Engine) -> None:
    result = cli("digest", "run", "--to", "niemand@example.org", expect=2)
    assert "Nicht gefunden: --to: Keine aktive Person mit der E-Mail „niemand@example.org“." in result.output


def test_digest_opt_out_and_in(engine: Engine) -> None:
    out = cli("digest", "opt-out", MWIDE.upper()).output
    assert f"Wochenüberblick für Carla Ostermann <{MWIDE}> abbestellt." in out
    assert "bereits abbestellt" in cli("digest", "opt-out", MWIDE).output
    with engine.connect() as conn:
        assert conn.scalar(select(UserRow.digest_opt_out).where(UserRow.email == MWIDE)) is True
    run = cli("digest", "run", "--as-of", "2026-03-09", "--to", MWIDE).output
    assert "(abbestellt)" in run and count(engine, "digest.") == 0
    data = json.loads(cli("digest", "opt-in", MWIDE, "--json").stdout)
    assert data == {"email": MWIDE, "name": "Carla Ostermann", "digest_opt_out": False, "changed": True}
    cli("digest", "run", "--as-of", "2026-03-09", "--to", MWIDE)
    assert count(engine, "digest.") == 1


def test_digest_opt_out_of_an_unknown_person(engine: Engine) -> None:
    assert "Nicht gefunden" in cli("digest", "opt-out", "niemand@example.org", expect=2).output
