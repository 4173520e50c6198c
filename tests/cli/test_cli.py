"""The console script ``partnerprojekte`` as a person uses it: exit codes, German messages, JSON shapes."""

from __future__ import annotations

import copy
import re
import sqlite3
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import ADMIN, EXE, MWIDE, PARTNER, PEOPLE, STAB, STAB2, VM, Cli
from tests.helpers import needs_review_financing, proposal_doc

ROOT = Path(__file__).resolve().parents[2]

# Each test runs dozens of subprocesses (about half a second each, several seconds on a busy machine).
pytestmark = pytest.mark.timeout(600)

CRITERIA = ["handlungsfeld_fit", "regional_effect", "cooperation", "financing"]
VERDICTS = {"met", "needs_review", "not_met"}
STATES = [
    "eingereicht",
    "in_bearbeitung",
    "in_abstimmung",
    "anerkannt",
    "nicht_weiterverfolgt",
    "in_saeule_1_integriert",
    "zurueckgezogen",
]
# The commands of spec §8 (the help test also walks whatever else the program lists).
SPEC_COMMANDS = {
    "init",
    "users",
    "check",
    "submit",
    "revise",
    "assign-ressort",
    "confirm",
    "transition",
    "show",
    "list",
    "history",
    "verify",
    "report",
    "import",
    "diagram",
}
ENGLISH = ("Usage:", "Error:", "Options:", "Show this message", "Missing ", "No such ", "Got unexpected")


def assert_german(text: str) -> None:
    """None of click's English phrases got through."""
    for phrase in ENGLISH:
        assert phrase not in text, f"English {phrase!r} in:\n{text}"


def assert_check_shape(check: dict[str, Any]) -> None:
    """The ``check --json`` shape of spec §8, exactly."""
    assert set(check) == {"overall", "criteria"}
    assert check["overall"] in VERDICTS
    assert list(check["criteria"]) == CRITERIA
    for result in check["criteria"].values():
        assert set(result) == {"result", "explanation"}
        assert result["result"] in VERDICTS
        assert isinstance(result["explanation"], str) and result["explanation"].strip()


def titled(title: str, doc: dict[str, Any] | None = None, **changes: Any) -> dict[str, Any]:
    """A proposal document with its own title (and other top-level changes)."""
    doc = copy.deepcopy(doc) if doc is not None else proposal_doc()
    doc.update(changes, title=title)
    return doc


# --- help and usage -----------------------------------------------------------------------------------


def listed_commands(help_text: str) -> list[str]:
    """The command names in the "Befehle:" section of a help text."""
    if "Befehle:" not in help_text:
        return []
    return re.findall(r"^  ([a-z][a-z0-9-]*)\s", help_text.split("Befehle:")[1], flags=re.MULTILINE)


def test_help_of_the_program_and_of_every_command_is_german(empty_cli: Cli) -> None:
    top = empty_cli("--help")
    assert "Aufruf: partnerprojekte [OPTIONEN] BEFEHL [ARGUMENTE]..." in top.out
    assert "Optionen:" in top.out and "Befehle:" in top.out
    assert "Diese Hilfe anzeigen und beenden." in top.out
    assert_german(top.text)
    assert set(listed_commands(top.out)) >= SPEC_COMMANDS
    todo = [[name] for name in listed_commands(top.out)]
    seen = []
    while todo:  # every command and every command of a group such as "users"
        command = todo.pop(0)
        result = empty_cli(*command, "--help")
        assert result.out.startswith(f"Aufruf: partnerprojekte {' '.join(command)} [OPTIONEN]"), str(result)
        assert "Optionen:" in result.out
        assert re.search(r"^  --help\s+Diese Hilfe anzeigen und beenden\.$", result.out, flags=re.MULTILINE)
        assert_german(result.text)
        assert result.err == ""
        todo += [[*command, name] for name in listed_commands(result.out)]
        seen.append(" ".join(command))
    assert {"users add", "users list", "transition", "withdraw-approval", "demo"} <= set(seen)
    assert not empty_cli.data_dir.exists(), "--help touches no database"


def test_help_imports_neither_prefect_nor_sqlalchemy_nor_pydantic(empty_cli: Cli) -> None:
    heavy = ("prefect", "sqlalchemy", "pydantic")
    # The real console script, module by module as Python imports them.
    for args in (["--help"], ["transition", "--help"], ["users", "add", "--help"]):
        proc = subprocess.run(
            [sys.executable, "-X", "importtime", str(EXE), *args],
            capture_output=True,
            text=True,
            env=empty_cli.env,
            check=True,
        )
        imported = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if "|" in line}
        assert "partnerprojekte.cli" in imported
        assert not {m for m in imported if m.startswith(heavy)}, args
    # And the help of every command in one process, through the app itself.
    code = f"""
import sys
import typer.main
from partnerprojekte import cli

def walk(command, path):
    yield path
    for name, sub in sorted(getattr(command, "commands", {{}}).items()):
        yield from walk(sub, [*path, name])

paths = list(walk(typer.main.get_command(cli.app), []))
for path in paths:
    cli.app([*path, "--help"], standalone_mode=False)
print(len(paths), sorted(m for m in sys.modules if m.startswith({heavy!r})))
"""
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=empty_cli.env, check=True
    )
    count, modules = proc.stdout.strip().splitlines()[-1].split(" ", 1)
    assert int(count) > len(SPEC_COMMANDS)
    assert modules == "[]"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["check"], "Fehlendes Argument 'DATEI'."),
        (["transition", "PP-0001"], "Fehlendes Argument 'EREIGNIS'."),
        (["users", "add", "x@example.org"], "Fehlende Option '--name'."),
        (["submit", "datei.yaml"], "Fehlende Option '--as'."),
        (["check", "--bogus", "x.yaml"], "Unbekannte Option --bogus."),
        (["check", "--jsn", "x.yaml"], "Unbekannte Option --jsn (meinten Sie: --json?)"),
        (["frobnicate"], "Unbekannter Befehl 'frobnicate'."),
        (["chek"], "Unbekannter Befehl 'chek'. Meinten Sie 'check'?"),
        (["report", "--as-of"], "Die Option '--as-of' braucht einen Wert."),
        (["verify", "--json=ja"], "Die Option '--json' nimmt keinen Wert."),
        (["check", "a.yaml", "b.yaml"], "Unerwartete Argumente: b.yaml"),
    ],
)
def test_usage_errors_are_german_with_exit_2(empty_cli: Cli, args: list[str], message: str) -> None:
    result = empty_cli(*args, expect=2)
    assert f"Fehler: {message}" in result.err
    assert result.out == ""
    assert_german(result.err)


def test_program_without_command_shows_its_help_and_exits_2(empty_cli: Cli) -> None:
    result = empty_cli(expect=2)
    assert "Aufruf: partnerprojekte [OPTIONEN] BEFEHL" in result.err
    assert "check" in result.err and "transition" in result.err


# --- database not initialised, init, users ------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["users", "list"],
        ["users", "add", STAB, "--name", "Anna Stab", "--role", "arbeitsstab"],
        ["list"],
        ["show", "PP-0001"],
        ["history", "1"],
        ["transition", "1", "take_up", "--as", STAB],
        ["verify"],
        ["report", "--json"],
    ],
)
def test_commands_before_init_ask_for_init(empty_cli: Cli, args: list[str]) -> None:
    result = empty_cli(*args, expect=2)
    assert "Die Datenbank ist noch nicht eingerichtet" in result.err
    assert "partnerprojekte init" in result.err
    assert not empty_cli.db_file.exists(), "a refused command leaves no empty database behind"


def test_init_is_idempotent_and_users_are_added_with_their_roles(empty_cli: Cli) -> None:
    cli = empty_cli
    for _ in range(2):
        result = cli("init")
        assert "Datenbank bereit" in result.out and "Ressorts geladen" in result.out
    # Only the first two administrators may be created without --as (bootstrap), nobody else.
    result = cli("users", "add", STAB, "--name", "Anna Stab", "--role", "arbeitsstab", expect=2)
    assert "--as: Bitte die handelnde Administration angeben" in result.err
    admin = cli("users", "add", ADMIN, "--name", "Ada Admin", "--role", "ADMIN", "--json").json()
    cli("users", "add", "zweit@it.nrw.example", "--name", "Z", "--role", "admin")
    result = cli("users", "add", "dritt@it.nrw.example", "--name", "D", "--role", "admin", expect=2)
    assert "ersten beiden Administrationen" in result.err
    mail = "Der Aktivierungslink geht per E-Mail an die Person (Versand über die Outbox)."
    added = cli("users", "add", STAB, "--name", "Anna Stab", "--role", "arbeitsstab", "--as", ADMIN)
    assert added.out.strip() == f"Angelegt: Anna Stab <{STAB}> als Arbeitsstab. {mail}"
    added = cli(
        "users",
        "add",
        MWIDE,
        "--name",
        "Carla Ostermann",
        "--role",
        "ressort",
        "--ressort",
        "mwide",
        "--as",
        ADMIN,
    )
    assert added.out.strip() == f"Angelegt: Carla Ostermann <{MWIDE}> als Ressort (MWIDE). {mail}"
    org = "Kompetenzzentrum Bio-Security GmbH"
    added = cli(
        "users",
        "add",
        PARTNER,
        "--name",
        "Kai Kontakt",
        "--role",
        "partner",
        "--organisation",
        org,
        "--as",
        ADMIN,
    )
    assert f"als Partner für „{org}“" in added.out
    # --as must name an active administrator.
    result = cli(
        "users", "add", "neu@example.org", "--name", "N", "--role", "partner", "--as", STAB, expect=3
    )
    assert "Personen verwaltet nur die Administration" in result.err
    assert admin == {
        "email": ADMIN,
        "name": "Ada Admin",
        "role": "admin",
        "ressort": None,
        "organisation": None,
    }

    refused = [
        (["--role", "ressort"], "--ressort: Für die Rolle „ressort“ ist ein Ressort anzugeben."),
        (
            ["--role", "ressort", "--ressort", "XYZ"],
            "Unbekanntes Ressort „XYZ“ – gültige Kürzel: MKFFI, FM, MWIDE",
        ),
        (["--role", "partner"], "--organisation: Für die Rolle „partner“ ist die Organisation anzugeben."),
        (
            ["--role", "chef"],
            "--role: unbekannter Wert „chef“ – erlaubt: partner, ressort, arbeitsstab, admin.",
        ),
    ]
    for options, message in refused:
        result = cli("users", "add", "neu@example.org", "--name", "Neu", *options, "--as", ADMIN, expect=2)
        assert message in result.err
    result = cli(
        "users", "add", STAB.upper(), "--name", "Anna Stab", "--role", "arbeitsstab", "--as", ADMIN, expect=2
    )
    assert f"Eine Person mit {STAB} gibt es bereits." in result.err
    result = cli("users", "add", "keine-adresse", "--name", "X", "--role", "admin", "--as", ADMIN, expect=2)
    assert "„keine-adresse“ ist keine gültige E-Mail-Adresse" in result.err

    listing = cli("users", "list").out.splitlines()
    assert len(listing) == 5
    assert any(line.startswith("Arbeitsstab") and STAB in line for line in listing)
    assert any(line.startswith("Ressort") and MWIDE in line and line.endswith("– MWIDE") for line in listing)
    assert any(line.startswith("Partner") and line.endswith(f"– {org}") for line in listing)
    users = cli("users", "list", "--json").json()
    assert {u["email"]: u["role"] for u in users} == {
        STAB: "arbeitsstab",
        MWIDE: "ressort",
        PARTNER: "partner",
        ADMIN: "admin",
        "zweit@it.nrw.example": "admin",
    }
    assert all(set(u) == {"email", "name", "role", "ressort", "organisation", "active"} for u in users)


# --- check --------------------------------------------------------------------------------------------


def test_check_yaml_json_and_stdin_give_the_same_criteria(empty_cli: Cli) -> None:
    cli = empty_cli
    yaml_file = cli.write("vorschlag.yaml", proposal_doc())
    json_file = cli.write("vorschlag.json", needs_review_financing())

    text = cli("check", yaml_file)
    assert text.out.startswith("Prüfung von „KLIC.Ruhr – Kompetenzverbund Life-Sciences.Ruhr“")
    assert "Gesamtergebnis: erfüllt" in text.out
    for label in (
        "Zuordnung zu einem Handlungsfeld",
        "Regionale Wirkung",
        "Mehrwert durch Zusammenarbeit",
        "Vorschläge zur Finanzierung",
    ):
        assert label in text.out
    met = cli("check", yaml_file, "--json").json()
    assert_check_shape(met)
    assert met["overall"] == "met"
    assert {r["result"] for r in met["criteria"].values()} == {"met"}

    review = cli("check", json_file, "--json").json()
    assert_check_shape(review)
    assert review["overall"] == "needs_review"
    assert review["criteria"]["financing"]["result"] == "needs_review"
    assert "gesichert" in review["criteria"]["financing"]["explanation"]
    assert "Gesamtergebnis: zu prüfen" in cli("check", json_file).out

    from_stdin = cli("check", "-", "--json", stdin=yaml_file.read_bytes()).json()
    assert from_stdin == met
    assert not cli.data_dir.exists(), "check stores nothing"


BAD_FILES: dict[str, tuple[bytes | None, str]] = {
    # name: (content, None for "no file"; a part of the German message)
    "fehlt.yaml": (None, "DATEI: „fehlt.yaml“ gibt es nicht."),
    "binaer.yaml": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, "Binärdaten"),
    "kaputt.yaml": (b'title: "KLIC\nsummary: [\n', "YAML-Syntaxfehler in Zeile"),
    "leer.yaml": (b"", "Die Datei ist leer."),
    "liste.json": (b"[1, 2]", "Ein Vorschlag ist ein Objekt"),
    "riesig.yaml": (b"title: " + b"x" * 2_000_000 + b"\n", "ist zu groß: 2.000.008 Bytes"),
}


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_check_refuses_bad_files_in_german(empty_cli: Cli, name: str) -> None:
    content, message = BAD_FILES[name]
    path = empty_cli.workdir / name
    if content is not None:
        path.write_bytes(content)
    result = empty_cli("check", name, expect=2)
    assert result.err.startswith("Ungültige Eingabe: ")
    assert message in result.err
    assert result.out == ""


def test_check_names_the_field_path_of_unknown_and_wrong_fields(empty_cli: Cli) -> None:
    cli = empty_cli
    doc = proposal_doc()
    doc["titel"] = doc.pop("title")
    result = cli("check", cli.write("titel.yaml", doc), expect=2)
    assert "title: Pflichtfeld fehlt" in result.err
    assert "titel: unbekanntes Feld 'titel'" in result.err and "meinten Sie 'title'?" in result.err

    doc = proposal_doc()
    doc["financing"]["sources"][1]["currency"] = "EUR"
    result = cli("check", cli.write("tief.json", doc), "--json", expect=2)
    assert "financing.sources[1].currency: unbekanntes Feld 'currency'" in result.err
    error = result.json()["error"]
    assert error["kind"] == "invalid" and error["exit_code"] == 2
    assert [f["path"] for f in error["fields"]] == ["financing.sources[1].currency"]

    result = cli("check", cli.workdir, expect=2)
    assert "ist ein Verzeichnis, keine Datei" in result.err


# --- the qualification path ---------------------------------------------------------------------------


def journey(cli: Cli) -> None:
    """Two proposals from submission to recognition, approvals in both orders, then the read side."""
    # PP-0001: financing needs review; the Ressort approves first.
    first = cli.write("klic.yaml", needs_review_financing())
    submitted = cli("submit", first, "--as", PARTNER, "--json").json()
    assert {"id", "status", "check"} <= set(submitted)
    assert submitted["id"] == "PP-0001" and submitted["status"] == "eingereicht"
    assert_check_shape(submitted["check"])
    assert submitted["check"]["overall"] == "needs_review"
    # Every command takes the id as PP-0001, pp-1, PP1 or 1 (the commands below use each of them).
    assert cli("show", "PP1", "--json").json()["id"] == "PP-0001"
    assert "Vorschlag PP-0099 gibt es nicht." in cli("show", "PP-0099", expect=2).err
    assert "„PX-1“ ist keine gültige Vorschlags-ID" in cli("history", "PX-1", expect=2).err

    refused = cli("transition", "PP-0001", "take_up", "--as", PARTNER, expect=3)
    assert refused.err.startswith("Abgelehnt: „Aufgreifen“ (take_up) ist nur für Arbeitsstab erlaubt")
    taken = cli("transition", "pp-1", "take_up", "--as", STAB)
    assert "PP-0001: „Aufgreifen“ (take_up) ausgeführt – Status jetzt „in Bearbeitung“." in taken.out
    refused = cli("transition", "1", "start_coordination", "--as", STAB, expect=3)
    assert "Es ist noch kein zuständiges Ressort zugeordnet (assign-ressort)" in refused.err
    assert "Ressort zugeordnet" in cli("assign-ressort", "1", "mwide", "--as", STAB).out
    cli("transition", "1", "start_coordination", "--as", STAB)

    approval = cli(
        "transition", "1", "recognise", "--as", MWIDE, "--comment", "Aus Sicht des MWIDE förderwürdig."
    )
    assert (
        "Zustimmung zu „Anerkennen“ (recognise) gespeichert – Status bleibt „in Abstimmung“." in approval.out
    )
    assert "es fehlt noch die Zustimmung von: Arbeitsstab" in approval.out
    shown = cli("show", "1", "--json").json()
    assert [(a["event"], a["user"], a["role"]) for a in shown["pending_approvals"]] == [
        ("recognise", MWIDE, "ressort")
    ]
    # The approval that would complete the set is refused while financing is unconfirmed.
    refused = cli("transition", "1", "recognise", "--as", STAB, "--json", expect=3)
    assert "Vorschläge zur Finanzierung" in refused.err
    assert refused.json()["error"]["kind"] == "refused"
    cli("confirm", "1", "financing", "--as", MWIDE, "--comment", "Der Förderbescheid liegt vor.")
    recognised = cli("transition", "1", "recognise", "--as", STAB, "--json").json()
    assert {"id", "event", "status", "pending_approvals"} <= set(recognised)
    assert recognised["id"] == "PP-0001" and recognised["event"] == "recognise"
    assert recognised["status"] == "anerkannt" and recognised["pending_approvals"] == []

    # PP-0002: everything met; the Arbeitsstab approves first, withdraws, approves again.
    second = cli.write(
        "energie.json",
        titled(
            "Wärmewende im Kreis Unna",
            handlungsfelder=[
                {"key": "energie_umwelt", "rationale": "Kommunale Wärmeplanung für mehrere Städte im Kreis."}
            ],
        ),
    )
    assert cli("submit", second, "--as", STAB, "--json").json()["id"] == "PP-0002"
    cli("transition", "2", "take_up", "--as", STAB2)
    cli("assign-ressort", "PP-0002", "VM", "--as", STAB2)
    cli("transition", "2", "start_coordination", "--as", STAB2)
    pending = cli("transition", "2", "recognise", "--as", STAB2, "--json").json()
    assert pending["status"] == "in_abstimmung"
    assert pending["pending_approvals"] == [
        {"event": "recognise", "approved_by": [STAB2], "missing_roles": ["ressort"]}
    ]
    refused = cli("transition", "2", "recognise", "--as", STAB2, expect=3)
    assert "hat bereits zugestimmt" in refused.err
    assert "gespeichert" in cli("withdraw-approval", "2", "recognise", "--as", STAB2).out
    assert (
        "keine offene Zustimmung" in cli("withdraw-approval", "2", "recognise", "--as", STAB2, expect=3).err
    )
    assert cli("show", "2", "--json").json()["pending_approvals"] == []
    refused = cli("transition", "2", "recognise", "--as", MWIDE, expect=3)  # not the responsible Ressort
    assert "VM" in refused.err
    cli("transition", "2", "recognise", "--as", STAB2)
    assert cli("transition", "2", "recognise", "--as", VM, "--json").json()["status"] == "anerkannt"
    cli("comment", "2", "Glückwunsch zur Anerkennung!", "--as", STAB, "--visibility", "partner")

    # The read side.
    shown = cli("show", "PP-0001")
    assert shown.out.startswith("PP-0001  KLIC.Ruhr")
    assert "Status:        anerkannt" in shown.out and "Ressort:       MWIDE" in shown.out
    assert f"bestätigt: Vorschläge zur Finanzierung von {MWIDE}: Der Förderbescheid liegt vor." in shown.out
    data = cli("show", "2", "--json").json()
    assert data["status"] == "anerkannt" and data["responsible_ressort"] == "VM"
    assert data["comments"][-1]["text"] == "Glückwunsch zur Anerkennung!"
    assert data["comments"][-1]["visibility"] == "partner"
    assert_check_shape(data["check"])

    history = cli("history", "1")
    for line in (
        "Einreichen",
        "Aufgreifen eingereicht → in Bearbeitung",
        "Ressort zugeordnet: MWIDE",
        "Zustimmung",
        "zu „Anerkennen“ (recognise); es fehlt noch: Arbeitsstab",
        "Kriterium bestätigt",
        "Anerkennen in Abstimmung → anerkannt",
        f"Zustimmungen: {MWIDE} (Ressort); {STAB} (Arbeitsstab)",
    ):
        assert line in history.out
    entries = cli("history", "PP-0002", "--json").json()
    assert [e["event"] for e in entries] == [
        "submit",
        "take_up",
        "assign_ressort",
        "start_coordination",
        "approve",
        "withdraw_approval",
        "approve",
        "recognise",
        "comment",
    ]
    assert entries[-2]["from"] == "in_abstimmung" and entries[-2]["to"] == "anerkannt"
    assert [a["user"] for a in entries[-2]["approvals"]] == [STAB2, VM]

    listed = cli("list")
    assert "PP-0001  anerkannt" in listed.out and listed.out.rstrip().endswith("2 Vorschläge.")
    rows = cli("list", "--status", "anerkannt", "--json").json()
    assert [r["id"] for r in rows] == ["PP-0001", "PP-0002"]
    assert {"id", "title", "status", "responsible_ressort", "handlungsfelder"} <= set(rows[0])
    assert [r["id"] for r in cli("list", "--ressort", "vm", "--json").json()] == ["PP-0002"]
    assert [r["id"] for r in cli("list", "--handlungsfeld", "wirtschaft", "--json").json()] == ["PP-0001"]
    assert cli("list", "--status", "eingereicht").out.strip() == "Keine Vorschläge gefunden."

    report = cli("report", "--json").json()
    assert set(report) == {"as_of", "total", "by_status", "by_handlungsfeld", "by_ressort"}
    assert report["total"] == 2 and list(report["by_status"]) == STATES
    assert report["by_status"]["anerkannt"] == 2
    assert report["by_handlungsfeld"]["wirtschaft"] == 1 and report["by_handlungsfeld"]["energie_umwelt"] == 1
    assert report["by_ressort"] == {"MWIDE": 1, "VM": 1}
    past = cli("report", "--as-of", "2021-10-31", "--json").json()
    assert past["as_of"] == "2021-10-31" and past["total"] == 0
    assert past["by_status"] == dict.fromkeys(STATES, 0)
    text = cli("report").out
    assert text.startswith("Stand Partnerprojekte der Ruhr-Konferenz – Stichtag ")
    assert re.search(r"^anerkannt\s+2$", text, flags=re.MULTILINE)

    assert cli("verify").out.startswith("Protokoll unversehrt: ")
    verified = cli("verify", "--json").json()
    assert {k: verified[k] for k in ("ok", "proposals", "entries", "broken")} == {
        "ok": True,
        "proposals": 2,
        "entries": 16,
        "broken": [],
    }
    assert verified["user_broken"] is None and verified["user_entries"] > 0


@pytest.mark.slow
def test_journey_from_submission_to_recognition(cli: Cli) -> None:
    journey(cli)


@pytest.mark.slow
@pytest.mark.postgres
def test_journey_on_postgresql(pg_cli: tuple[Cli, str]) -> None:
    from sqlalchemy import create_engine, text

    cli, url = pg_cli
    result = cli("init")
    assert "postgresql" in result.out and "Datenbank bereit" in result.out
    for email, name, role, extra in PEOPLE:
        cli("users", "add", email, "--name", name, "--role", role, *extra)
    journey(cli)
    assert not cli.db_file.exists(), "PostgreSQL, not the SQLite default"

    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE audit_log SET comment = 'x' WHERE proposal_id = 1 AND seq = 3"))
    finally:
        engine.dispose()
    result = cli("verify", expect=1)
    assert "MANIPULIERT: PP-0001, Eintrag Nr. 3" in result.err


def test_refused_events_say_why(cli: Cli) -> None:
    cli("submit", cli.write("v.yaml", proposal_doc()), "--as", PARTNER)
    refused = cli("transition", "1", "recognise", "--as", STAB, expect=3)
    assert "„Anerkennen“ (recognise) ist im Status „eingereicht“ nicht möglich" in refused.err
    refused = cli("transition", "1", "take_up", "--as", MWIDE, "--json", expect=3)
    error = refused.json()["error"]
    assert error["reason"] == "role" and error["event"] == "take_up" and error["state"] == "eingereicht"
    assert "ist nur für Arbeitsstab erlaubt" in refused.err

    refused = cli("transition", "1", "decline", "--as", STAB, "--comment", "Doppelt.", expect=3)
    assert "braucht mindestens einen Grund: " in refused.err and "doppelung" in refused.err
    assert refused.err.strip().endswith("(--reason).")  # the core names the input, the CLI its option
    as_json = cli("transition", "1", "decline", "--as", STAB, "--comment", "Doppelt.", "--json", expect=3)
    assert as_json.json()["error"]["field"] == "reasons"
    refused = cli("transition", "1", "decline", "--as", STAB, "--reason", "doppelung", expect=3)
    assert "braucht einen Kommentar (--comment)" in refused.err
    invalid = cli(
        "transition", "1", "decline", "--as", STAB, "--reason", "unpassend", "--comment", "x", expect=2
    )
    assert "--reason: unbekannter Wert „unpassend“" in invalid.err
    invalid = cli("transition", "1", "fliegen", "--as", STAB, expect=2)
    assert "EREIGNIS: unbekannter Wert „fliegen“" in invalid.err
    invalid = cli("transition", "1", "submit", "--as", STAB, expect=2)
    assert "„submit“ geht mit dem Befehl „partnerprojekte submit“" in invalid.err
    unknown = cli("transition", "1", "take_up", "--as", "niemand@example.org", expect=2)
    assert "Keine aktive Person mit der E-Mail „niemand@example.org“" in unknown.err
    assert cli("show", "1", "--json").json()["status"] == "eingereicht", "refusals change nothing"

    declined = cli(
        "transition",
        "1",
        "decline",
        "--as",
        STAB,
        "--reason",
        "doppelung",
        "--reason",
        "FINANCING",
        "--comment",
        "Deckt sich mit PP-0007.",
    )
    assert "Status jetzt „nicht weiterverfolgt“" in declined.out
    last = cli("history", "1", "--json").json()[-1]
    assert last["event"] == "decline" and last["reasons"] == ["doppelung", "financing"]
    assert (
        "Gründe: Doppelung mit einem anderen Vorhaben, Finanzierung nicht dargelegt"
        in cli("history", "1").out
    )

    assert (
        "braucht einen Kommentar (--comment)" in cli("transition", "1", "reopen", "--as", STAB, expect=3).err
    )
    cli("transition", "1", "reopen", "--as", STAB, "--comment", "Neue Lage.")
    refused = cli("transition", "1", "integrate_into_pillar_1", "--as", STAB, "--comment", "x", expect=3)
    assert "--saeule-1-projekt" in refused.err
    refused = cli(
        "transition",
        "1",
        "integrate_into_pillar_1",
        "--as",
        STAB,
        "--comment",
        "x",
        "--saeule-1-projekt",
        "1306",
        expect=3,
    )
    assert "„1306“ ist keine gültige Säule-1-Projekt-ID" in refused.err
    cli(
        "transition",
        "1",
        "integrate_into_pillar_1",
        "--as",
        STAB,
        "--comment",
        "Teil des Projekts Mobil in der Stadt.",
        "--saeule-1-projekt",
        "13-06",
    )
    data = cli("show", "1", "--json").json()
    assert data["status"] == "in_saeule_1_integriert" and data["saeule_1_projekt"] == "13-06"
    assert "Säule 1:       integriert in 13-06" in cli("show", "1").out
    refused = cli("transition", "1", "withdraw", "--as", PARTNER, expect=3)
    assert "der Status ist endgültig" in refused.err


def test_partner_revises_comments_and_withdraws(cli: Cli) -> None:
    cli("submit", cli.write("v.yaml", needs_review_financing()), "--as", PARTNER)
    revised = cli("revise", "1", cli.write("v2.json", proposal_doc()), "--as", PARTNER, "--json").json()
    assert revised["event"] == "revise" and revised["status"] == "eingereicht"
    assert revised["check"]["overall"] == "met"
    assert cli("show", "1", "--json").json()["revision"] == 2
    refused = cli("revise", "1", cli.workdir / "v.yaml", "--as", MWIDE, expect=3)
    assert "„Überarbeiten“ (revise) ist nur für Partner oder Arbeitsstab erlaubt" in refused.err
    other = proposal_doc()
    other["submitter"]["name"] = "Andere GmbH"
    refused = cli("revise", "1", cli.write("fremd.yaml", other), "--as", PARTNER, expect=3)
    assert "ist nicht Ihre Organisation" in refused.err
    invalid = cli("revise", "1", cli.workdir / "fehlt.yaml", "--as", PARTNER, expect=2)
    assert "gibt es nicht" in invalid.err

    said = cli(
        "comment", "PP-0001", "Bitte den Förderbescheid nachreichen.", "--as", STAB, "--visibility", "partner"
    )
    assert said.out.startswith("PP-0001: „Kommentar“ gespeichert")
    assert "Der Kommentar darf nicht leer sein" in cli("comment", "1", " ", "--as", STAB, expect=2).err
    invalid = cli("comment", "1", "geheim", "--as", STAB, "--visibility", "geheim", expect=2)
    assert "--visibility: unbekannter Wert „geheim“ – erlaubt: intern, partner." in invalid.err

    cli("transition", "1", "take_up", "--as", STAB)
    cli("assign-ressort", "1", "VM", "--as", STAB)
    assert "ist bereits zuständig" in cli("assign-ressort", "1", "VM", "--as", STAB, expect=3).err
    assert "Unbekanntes Ressort „XY“" in cli("assign-ressort", "1", "XY", "--as", STAB, expect=2).err
    cli("transition", "1", "start_coordination", "--as", STAB)
    refused = cli("transition", "1", "request_changes", "--as", VM, expect=3)
    assert "braucht einen Kommentar (--comment)" in refused.err
    refused = cli("confirm", "1", "financing", "--as", STAB, "--comment", "ok", expect=3)
    assert "ist nur für Ressort erlaubt" in refused.err
    refused = cli("confirm", "1", "cooperation", "--as", VM, "--comment", "ok", expect=3)
    assert "Nur Kriterien mit dem Ergebnis „zu prüfen“ können bestätigt werden" in refused.err
    assert (
        "KRITERIUM: unbekannter Wert „finanzen“"
        in cli("confirm", "1", "finanzen", "--as", VM, "--comment", "x", expect=2).err
    )
    changes = cli("transition", "1", "request_changes", "--as", VM, "--comment", "Bitte Zeitplan ergänzen.")
    assert "Status jetzt „in Bearbeitung“" in changes.out
    withdrawn = cli("transition", "1", "withdraw", "--as", PARTNER, "--json").json()
    assert withdrawn["status"] == "zurueckgezogen"


# --- report, diagram ----------------------------------------------------------------------------------


def test_report_and_diagram_refuse_invalid_options(cli: Cli) -> None:
    for bad in ("31.10.2021", "2021-02-30", "gestern"):
        result = cli("report", "--as-of", bad, expect=2)
        assert f"--as-of: „{bad}“ ist kein Datum der Form JJJJ-MM-TT." in result.err
    assert (
        "--format: unbekannter Wert „png“ – erlaubt: mermaid, svg."
        in cli("diagram", "--format", "png", expect=2).err
    )
    result = cli("diagram", "-o", cli.workdir / "gibt-es-nicht" / "d.svg", expect=2)
    assert "lässt sich nicht schreiben" in result.err
    result = cli("report")
    assert re.search(r"^Summe\s+0$", result.out, flags=re.MULTILINE)


def test_diagram_as_mermaid_and_svg(empty_cli: Cli) -> None:
    mermaid = empty_cli("diagram", "--format", "mermaid").out
    assert mermaid.startswith("stateDiagram-v2")
    assert all(state in mermaid for state in STATES)
    svg = empty_cli("diagram", "--format", "SVG").out
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert "in Abstimmung" in "".join(root.itertext())
    written = empty_cli("diagram", "--format", "svg", "--output", "zustand.svg")
    assert written.out.strip() == "Diagramm geschrieben: zustand.svg"
    ET.parse(empty_cli.workdir / "zustand.svg")


# --- verify -------------------------------------------------------------------------------------------


def test_verify_detects_an_edited_and_a_deleted_entry(cli: Cli) -> None:
    for pid in ("1", "2"):
        cli("submit", cli.write(f"{pid}.yaml", titled(f"Vorschlag {pid}")), "--as", PARTNER)
        cli("transition", pid, "take_up", "--as", STAB)
        cli("comment", pid, "Notiz", "--as", STAB)
    assert cli("verify").out.splitlines()[0] == "Protokoll unversehrt: 6 Einträge zu 2 Vorschlägen geprüft."

    with sqlite3.connect(cli.db_file) as db:
        db.execute("UPDATE audit_log SET comment = 'x' WHERE proposal_id = 1 AND seq = 2")
    result = cli("verify", expect=1)
    assert result.err.strip() == "MANIPULIERT: PP-0001, Eintrag Nr. 2: Inhalt verändert (Hash passt nicht)"

    with sqlite3.connect(cli.db_file) as db:
        db.execute("DELETE FROM audit_log WHERE proposal_id = 2 AND seq = 2")
    report = cli("verify", "--json", expect=1).json()
    assert report["ok"] is False
    broken = {(b["id"], b["seq"]) for b in report["broken"]}
    assert ("PP-0001", 2) in broken
    assert any(pid == "PP-0002" for pid, _ in broken)
    assert all(b["problem"] for b in report["broken"])


def test_approvals_of_two_people_one_administrator_made_do_not_count_together(cli: Cli) -> None:
    """The README's setup: Anna Stab was made by the first administrator; a reviewer she also makes
    cannot complete a recognition with her (exit 3, German reason, status unchanged)."""
    reviewer = "r.neu@mwide.nrw.example"
    cli(
        "users",
        "add",
        reviewer,
        "--name",
        "Rita Neu",
        "--role",
        "ressort",
        "--ressort",
        "MWIDE",
        "--as",
        ADMIN,
    )
    cli("submit", cli.write("p.yaml", titled("Vorschlag Vier Augen")), "--as", PARTNER)
    cli("transition", "1", "take_up", "--as", STAB)
    cli("assign-ressort", "1", "MWIDE", "--as", STAB)
    cli("transition", "1", "start_coordination", "--as", STAB)
    cli("transition", "1", "recognise", "--as", reviewer)
    refused = cli("transition", "1", "recognise", "--as", STAB, expect=3)
    assert "Vier-Augen-Prinzip" in refused.err and ADMIN in refused.err
    assert cli("show", "1", "--json").json()["status"] == "in_abstimmung"
    # A reviewer made by the other administrator can.
    cli("withdraw-approval", "1", "recognise", "--as", reviewer)
    cli("transition", "1", "recognise", "--as", MWIDE)
    assert cli("transition", "1", "recognise", "--as", STAB, "--json").json()["status"] == "anerkannt"


def test_users_deactivate_and_set_role_withdraw_pending_approvals(cli: Cli) -> None:
    """Issue 9 §1: a reviewer's pending approval falls away when they are deactivated or moved, audited
    in the proposal's history and the user log; only an administrator may do it."""
    cli("submit", cli.write("p.yaml", titled("Vorschlag Zustimmung entfällt")), "--as", PARTNER)
    cli("transition", "1", "take_up", "--as", STAB)
    cli("assign-ressort", "1", "MWIDE", "--as", STAB)
    cli("transition", "1", "start_coordination", "--as", STAB)
    cli("transition", "1", "recognise", "--as", MWIDE)
    refused = cli("users", "set-role", MWIDE, "--role", "ressort", "--ressort", "VM", "--as", STAB, expect=3)
    assert "Personen verwaltet nur die Administration" in refused.err
    wrong = cli("users", "set-role", MWIDE, "--role", "ressort", "--as", ADMIN, expect=2)
    assert "Ressort: Für die Rolle" in wrong.err
    moved = cli("users", "set-role", MWIDE, "--role", "ressort", "--ressort", "VM", "--as", ADMIN)
    assert f"{MWIDE} ist jetzt Ressort (VM)" in moved.out and "zu 1 Vorschlag" in moved.out
    history = cli("history", "1", "--json").json()
    assert history[-1]["event"] == "withdraw_approval"
    # Back to MWIDE, approve again, then deactivated: withdrawn again.
    cli("users", "set-role", MWIDE, "--role", "ressort", "--ressort", "MWIDE", "--as", ADMIN)
    cli("transition", "1", "recognise", "--as", MWIDE)
    done = cli("users", "deactivate", MWIDE, "--as", ADMIN)
    assert f"{MWIDE} ist deaktiviert" in done.out and "zu 1 Vorschlag" in done.out
    assert (
        cli("users", "deactivate", MWIDE, "--as", ADMIN, expect=2)
        .err.strip()
        .endswith("bereits deaktiviert.")
    )
    outcome = cli("transition", "1", "recognise", "--as", STAB, "--json").json()
    assert outcome["status"] == "in_abstimmung" and not outcome["fired"]
    kinds = [r["kind"] for r in cli("outbox", "list", "--json").json()]
    assert kinds.count("approval_withdrawn.arbeitsstab") == 4  # two withdrawals × two Arbeitsstab members
    assert cli("verify").code == 0


@pytest.mark.slow
def test_the_readme_walkthrough_recognises_a_proposal(empty_cli: Cli) -> None:
    """The commands of the README's „Erste Schritte von Hand“, literally, end with a recognition."""
    import shlex

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Erste Schritte von Hand", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    lines = block.replace("\\\n", " ").splitlines()
    commands = [
        shlex.split(line, comments=True) for line in lines if line.startswith("uv run partnerprojekte ")
    ]
    assert len(commands) >= 10
    for command in commands:
        args = [str(ROOT / a) if a.startswith("docs/") else a for a in command[3:]]
        empty_cli(*args)
    assert empty_cli("show", "PP-0001", "--json").json()["status"] == "anerkannt"
    # Everyone got an activation link in the outbox; nobody got a password from anyone.
    queued = [r for r in empty_cli("outbox", "list", "--json").json() if r["kind"] == "activation.person"]
    assert len(queued) == 5


def test_verify_detects_a_tampered_user_management_log(cli: Cli) -> None:
    """Who created whom is hash-chained: changing, deleting or cutting off an entry makes verify fail."""
    lines = cli("verify").out.splitlines()
    assert lines[1] == f"Personenverwaltung unversehrt: {2 * len(PEOPLE)} Einträge geprüft."
    with sqlite3.connect(cli.db_file) as db:
        (details,) = db.execute("SELECT details FROM user_audit_log WHERE seq = 5").fetchone()
        assert STAB in details
        # Pretend the second administrator created Anna Stab.
        db.execute("UPDATE user_audit_log SET actor = 'cli:admin2@it.nrw.example' WHERE seq = 5")
    result = cli("verify", expect=1)
    assert result.err.strip() == (
        "MANIPULIERT: Protokoll der Personenverwaltung, Eintrag Nr. 5: Inhalt verändert (Hash passt nicht)"
    )
    assert cli("verify", "--json", expect=1).json()["user_broken"]["seq"] == 5


def test_verify_detects_a_cut_off_user_management_log(cli: Cli) -> None:
    with sqlite3.connect(cli.db_file) as db:
        (last,) = db.execute("SELECT max(seq) FROM user_audit_log").fetchone()
        db.execute("DELETE FROM user_audit_log WHERE seq = ?", (last,))
    result = cli("verify", expect=1)
    assert (
        f"Protokoll der Personenverwaltung, Protokoll: Protokoll endet bei Eintrag Nr. {last - 1}"
        in result.err
    )


def test_users_send_link_needs_an_administrator_and_never_shows_the_link(cli: Cli) -> None:
    result = cli("users", "send-link", STAB, "--as", MWIDE, expect=3)
    assert "Personen verwaltet nur die Administration" in result.err
    result = cli("users", "send-link", STAB, "--as", ADMIN)
    assert f"Aktivierungslink (Erstanmeldung) für {STAB} zum Versand vorgemerkt" in result.out
    assert "/aktivieren/" not in result.text
    result = cli("users", "send-link", "niemand@example.org", "--as", ADMIN, expect=2)
    assert "Keine Person" in result.err
    # There is no command that sets another person's password any more.
    assert "set-password" not in cli("users", "--help").out
    cli("users", "set-password", STAB, expect=2)


# --- import, demo -------------------------------------------------------------------------------------

IMPORT_STAB = "stab@import.example.org"
IMPORT_MWIDE = "mwide@import.example.org"
IMPORT_PARTNER = "kontakt@bio-security.example.de"


def import_doc() -> dict[str, Any]:
    """Users and three proposals; the second one's history is refused by the machine."""

    def at(day: str) -> str:
        return f"{day}T09:00:00+01:00"

    return {
        "users": [
            {"email": IMPORT_STAB, "name": "Ina Stab", "role": "arbeitsstab"},
            {"email": IMPORT_MWIDE, "name": "Mia Wide", "role": "ressort", "ressort": "MWIDE"},
            {
                "email": IMPORT_PARTNER,
                "name": "Kai Kontakt",
                "role": "partner",
                "organisation": "Kompetenzzentrum Bio-Security GmbH",
            },
        ],
        "proposals": [
            {
                "proposal": titled("Importiert und anerkannt"),
                "submitted_by": IMPORT_PARTNER,
                "submitted_at": at("2020-02-03"),
                "events": [
                    {"event": "take_up", "by": IMPORT_STAB, "at": at("2020-02-20")},
                    {
                        "event": "assign_ressort",
                        "ressort": "MWIDE",
                        "by": IMPORT_STAB,
                        "at": at("2020-02-21"),
                    },
                    {"event": "start_coordination", "by": IMPORT_STAB, "at": at("2020-03-01")},
                    {"event": "recognise", "by": IMPORT_MWIDE, "at": at("2021-03-01"), "comment": "Passt."},
                    {"event": "recognise", "by": IMPORT_STAB, "at": at("2021-03-02")},
                ],
            },
            {
                "proposal": titled("Zu früh anerkannt"),
                "submitted_by": IMPORT_PARTNER,
                "submitted_at": at("2020-02-04"),
                "events": [{"event": "recognise", "by": IMPORT_STAB, "at": at("2020-02-05")}],
            },
            {
                "proposal": titled("Importiert in Bearbeitung"),
                "submitted_by": IMPORT_PARTNER,
                "submitted_at": at("2020-02-05"),
                "events": [{"event": "take_up", "by": IMPORT_STAB, "at": at("2020-02-20")}],
            },
        ],
    }


def test_import_takes_the_good_proposals_names_the_refused_one_and_skips_on_rerun(cli: Cli) -> None:
    path = cli.write("import.yaml", import_doc())
    result = cli("import", path, expect=3)
    assert re.search(
        r"^PP-\d{4} importiert: Importiert und anerkannt – anerkannt, 5 Ereignisse$", result.out, re.M
    )
    assert re.search(
        r"^PP-\d{4} importiert: Importiert in Bearbeitung – in Bearbeitung, 1 Ereignis$", result.out, re.M
    )
    assert "2 importiert, 0 übersprungen, 1 abgelehnt; 2 Personen neu angelegt." in result.out
    assert (
        "NICHT importiert: proposals[1] „Zu früh anerkannt“, Ereignis 1 (recognise von "
        "stab@import.example.org): „Anerkennen“ (recognise) ist im Status „eingereicht“ nicht möglich"
    ) in result.err
    rows = cli("list", "--json").json()
    assert {r["title"]: r["status"] for r in rows} == {
        "Importiert und anerkannt": "anerkannt",
        "Importiert in Bearbeitung": "in_bearbeitung",
    }
    # The past is reproduced from the imported timestamps.
    at_2020 = cli("report", "--as-of", "2020-12-31", "--json").json()
    assert at_2020["by_status"]["in_abstimmung"] == 1 and at_2020["by_status"]["in_bearbeitung"] == 1
    assert cli("report", "--as-of", "2020-01-31", "--json").json()["total"] == 0

    again = cli("import", path, "--json", expect=3).json()
    assert set(again) == {"users_added", "imported", "skipped", "refused"}
    assert again["users_added"] == 0 and again["imported"] == []
    assert [s["title"] for s in again["skipped"]] == ["Importiert und anerkannt", "Importiert in Bearbeitung"]
    assert [(r["title"], r["event"], r["event_index"]) for r in again["refused"]] == [
        ("Zu früh anerkannt", "recognise", 0)
    ]
    assert len(cli("list", "--json").json()) == 2


def test_an_invalid_import_file_changes_nothing(cli: Cli) -> None:
    doc = import_doc()
    doc["users"].append({"email": "neu@import.example.org", "name": "Neu", "role": "arbeitsstab"})
    doc["proposals"][2]["proposal"]["financing"]["sources"][0]["waehrung"] = "EUR"
    result = cli("import", cli.write("import.json", doc), expect=2)
    assert "proposals[2].proposal.financing.sources[0].waehrung: unbekanntes Feld 'waehrung'" in result.err
    assert cli("list").out.strip() == "Keine Vorschläge gefunden."
    assert "neu@import.example.org" not in cli("users", "list").out
    doc = import_doc()
    doc["proposals"][0]["events"][0]["wer"] = IMPORT_STAB
    result = cli("import", cli.write("import2.yaml", doc), expect=2)
    assert "proposals[0].events[0].wer" in result.err
    assert "gibt es nicht" in cli("import", "fehlt.yaml", expect=2).err


def test_demo_on_an_empty_data_dir_shows_the_stand_of_october_2021(empty_cli: Cli) -> None:
    expected = {
        "anerkannt": 2,
        "in Abstimmung": 10,
        "in Bearbeitung": 10,
        "nicht weiterverfolgt": 2,
        "in ein Projekt der 1. Säule integriert": 2,
    }
    first = empty_cli("demo")
    assert "Beispieldaten geladen: 26 Vorschläge" in first.out
    second = empty_cli("demo")
    assert "Die Datenbank enthält bereits 26 Vorschläge; Beispieldaten nicht erneut geladen." in second.out
    for result in (first, second):
        assert "Stand Partnerprojekte der Ruhr-Konferenz" in result.out
        for label, count in expected.items():
            assert re.search(rf"^{re.escape(label)}\s+{count}$", result.out, flags=re.MULTILINE), label
        assert re.search(r"^Summe\s+26$", result.out, flags=re.MULTILINE)
    assert len(empty_cli("list", "--json").json()) == 26
    assert empty_cli("verify", "--json").json()["ok"] is True
    # Life after recognition: two rounds, the reports of both recognised projects in four states.
    assert "Berichtsrunden 2022 und 2023 angelegt: 15 Schritte" in first.out
    rounds = {r["jahr"]: r["meldungen"] for r in empty_cli("bericht", "runden", "--json").json()}
    assert rounds == {2023: {"entwurf": 1, "zurueckgegeben": 1}, 2022: {"angenommen": 2}}
