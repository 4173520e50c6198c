"""The ``outbox`` and ``mail`` command groups: German output, exit codes, no heavy imports for ``--help``."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from partnerprojekte.cli import mail as cli_mail
from partnerprojekte.config import Settings, get_settings
from partnerprojekte.db.engine import Database, make_engine
from partnerprojekte.db.migrate import upgrade
from partnerprojekte.ids import format_id
from partnerprojekte.services import Services
from tests.notifications.conftest import add_people, submit

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An initialised SQLite database in a temporary data folder, with people and one submission."""
    monkeypatch.setenv("PARTNERPROJEKTE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PARTNERPROJEKTE_MAIL__BASE_URL", "https://partnerprojekte.nrw.example")
    monkeypatch.delenv("PARTNERPROJEKTE_DATABASE_URL", raising=False)
    monkeypatch.delenv("PARTNERPROJEKTE_MAIL__SMTP_HOST", raising=False)
    get_settings.cache_clear()
    engine = make_engine(Settings().resolved_database_url())
    upgrade(engine)
    services = Services(Database(engine), Settings())
    services.load_reference_data()
    add_people(services)
    submit(services)
    engine.dispose()
    yield tmp_path
    get_settings.cache_clear()


def run(*args: str) -> Result:
    return runner.invoke(cli_mail.app, list(args))


def test_deliver_without_smtp_writes_eml_files_and_then_has_nothing_to_do(data_dir: Path) -> None:
    result = run("outbox", "deliver")
    assert result.exit_code == 0, result.output
    assert "3 versandt, 0 zurückgestellt (neuer Versuch später), 0 unzustellbar" in result.output
    assert f"über .eml-Dateien in {data_dir / 'mail'}" in result.output
    assert len(list((data_dir / "mail").glob("*.eml"))) == 3
    again = run("outbox", "deliver", "--json")
    assert again.exit_code == 0
    assert json.loads(again.output)["claimed"] == 0
    assert run("outbox", "deliver").output.strip() == "Keine fälligen Benachrichtigungen."


def test_list_shows_status_kind_and_recipient(data_dir: Path) -> None:
    result = run("outbox", "list")
    assert result.exit_code == 0, result.output
    assert "wartet auf Versand" in result.output
    assert (
        "submit.partner" in result.output and "Kai Kontakt <kontakt@bio-security.example.de>" in result.output
    )
    assert result.output.rstrip().endswith("3 Einträge.")
    rows = json.loads(run("outbox", "list", "--json").output)
    assert [r["status"] for r in rows] == ["pending"] * 3 and rows[0]["proposal"] == format_id(1)
    run("outbox", "deliver")
    assert json.loads(run("outbox", "list", "--status", "pending", "--json").output) == []
    assert (
        run("outbox", "list", "--status", "dead").output.strip()
        == "Keine Benachrichtigungen mit Status „dead“."
    )


def test_invalid_input_exits_2_with_a_german_message(data_dir: Path) -> None:
    bad_status = run("outbox", "list", "--status", "verschickt")
    assert bad_status.exit_code == 2
    assert "unbekannter Status „verschickt“" in bad_status.output
    missing = run("outbox", "retry", "999")
    assert missing.exit_code == 2 and "Benachrichtigung Nr. 999 gibt es nicht." in missing.output
    assert run("outbox", "retry", "elf").exit_code == 2
    zero = run("outbox", "deliver", "--limit", "0")
    assert zero.exit_code == 2 and "--limit: muss mindestens 1 sein" in zero.output
    not_dead = run("outbox", "retry", "1")
    assert not_dead.exit_code == 2
    assert "nur eine unzustellbare" in not_dead.output
    unknown = run("mail", "preview", "promote.partner")
    assert unknown.exit_code == 2 and "unbekannte Benachrichtigungsart „promote.partner“" in unknown.output
    assert run("mail", "preview", "digest.ressort", "--proposal", "PP-0001").exit_code == 2
    assert run("mail", "preview", "take_up.partner", "--proposal", "PP-0099").exit_code == 2


def test_retry_puts_a_dead_notification_back(data_dir: Path) -> None:
    import sqlalchemy as sa

    engine = make_engine(Settings().resolved_database_url())
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE outbox SET status = 'dead', attempts = 8, last_error = '550 weg' WHERE id = 1")
        )
    engine.dispose()
    listed = run("outbox", "list", "--status", "dead")
    assert "Versuch 8: 550 weg" in listed.output
    result = run("outbox", "retry", "1")
    assert result.exit_code == 0, result.output
    assert "wartet wieder auf den Versand" in result.output
    assert json.loads(run("outbox", "list", "--status", "pending", "--json").output)[-1]["id"] == 1


def test_preview_renders_a_sample_or_a_real_proposal(data_dir: Path) -> None:
    sample = run("mail", "preview", "recognise.partner")
    assert sample.exit_code == 0, sample.output
    assert sample.output.startswith(
        "Betreff: [PP-0007] Anerkennung als Partnerprojekt der Ruhr-Konferenz\n\n"
    )
    assert "Guten Tag Kai Kontakt," in sample.output
    real = run("mail", "preview", "submit.partner", "--proposal", "PP-0001")
    assert real.exit_code == 0, real.output
    assert "Betreff: [PP-0001] Eingangsbestätigung: KLIC.Ruhr" in real.output
    assert "https://partnerprojekte.nrw.example/vorschlaege/PP-0001" in real.output
    # A kind that has not been written for this proposal yet: its current data in the sample's frame.
    later = run("mail", "preview", "take_up.partner", "--proposal", "1")
    assert later.exit_code == 0 and "[PP-0001] Ihr Vorschlag wird bearbeitet" in later.output


def test_preview_html_to_a_file(data_dir: Path) -> None:
    target = data_dir / "vorschau.html"
    result = run("mail", "preview", "digest.arbeitsstab", "--html", "--output", str(target))
    assert result.exit_code == 0, result.output
    assert (
        "Vorschau geschrieben" in result.output
        and "Wochenübersicht Partnerprojekte – KW 10/2026" in result.output
    )
    html = target.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "Stand Partnerprojekte (25 Vorschläge)" in html


def test_help_is_german_and_imports_nothing_heavy() -> None:
    result = run("outbox", "--help")
    assert result.exit_code == 0
    assert "Postausgang" in result.output and "deliver" in result.output
    code = (
        "import sys, partnerprojekte.cli.mail as m; "
        "heavy = [n for n in ('jinja2', 'sqlalchemy', 'aiosmtplib', 'prefect') if n in sys.modules]; "
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]"
