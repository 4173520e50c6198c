"""``partnerprojekte bericht`` as the Arbeitsstab, a partner and a Ressort use it: exit codes, German text."""

from __future__ import annotations

import pytest

from tests.cli.conftest import MWIDE, PARTNER, STAB, VM, Cli
from tests.helpers import proposal_doc

pytestmark = pytest.mark.timeout(600)

UNCHANGED = ["mehrwert", "vorgehen", "nutzen_fuer", "juengste_entwicklung", "ausblick", "meilensteine"]
UNCHANGED += ["akteure", "zielgruppen"]


def recognise(cli: Cli) -> None:
    cli("submit", cli.write("vorschlag.json", proposal_doc()), "--as", PARTNER)
    cli("transition", "1", "take_up", "--as", STAB)
    cli("assign-ressort", "1", "MWIDE", "--as", STAB)
    cli("transition", "1", "start_coordination", "--as", STAB)
    cli("transition", "1", "recognise", "--as", MWIDE)
    assert cli("transition", "1", "recognise", "--as", STAB, "--json").json()["status"] == "anerkannt"


def test_a_round_from_opening_to_an_accepted_report(cli: Cli) -> None:
    recognise(cli)
    bad = cli(
        "bericht",
        "runde-eroeffnen",
        "--jahr",
        "2026",
        "--stichtag",
        "31.10.2026",
        "--abgabe-bis",
        "2026-09-15",
        "--as",
        STAB,
        expect=2,
    )
    assert "--stichtag: „31.10.2026“ ist kein Datum JJJJ-MM-TT" in bad.err
    refused = cli(
        "bericht",
        "runde-eroeffnen",
        "--jahr",
        "2026",
        "--stichtag",
        "2026-10-31",
        "--abgabe-bis",
        "2026-09-15",
        "--as",
        PARTNER,
        expect=3,
    )
    assert "nur für Arbeitsstab erlaubt" in refused.err
    opened = cli(
        "bericht",
        "runde-eroeffnen",
        "--jahr",
        "2026",
        "--stichtag",
        "2026-10-31",
        "--abgabe-bis",
        "2026-09-15",
        "--as",
        STAB,
    )
    assert "Berichtsrunde 2026 eröffnet: 1 Fortschrittsmeldung(en) angefordert." in opened.out
    again = cli(
        "bericht",
        "runde-eroeffnen",
        "--jahr",
        "2026",
        "--stichtag",
        "2026-10-31",
        "--abgabe-bis",
        "2026-09-15",
        "--as",
        STAB,
        expect=4,
    )
    assert "bereits eröffnet" in again.err

    wrong = cli.write("falsch.yaml", {"ziel": {"markierung": "neu"}})
    invalid = cli(
        "bericht", "entwurf", "PP-0001", "--runde", "2026", "--abschnitte", wrong, "--as", PARTNER, expect=2
    )
    assert "abschnitte.ziel.markierung: „neu“ ist keine Markierung" in invalid.err
    entries = {s: {"markierung": "unveraendert"} for s in UNCHANGED}
    entries["ziel"] = {"markierung": "geaendert", "inhalt": "Geräte teilen statt kaufen."}
    entries["aktueller_stand"] = {"markierung": "geaendert", "inhalt": "Die Plattform hat 120 Geräte."}
    draft = cli.write("meldung.yaml", entries)
    saved = cli("bericht", "entwurf", "1", "--runde", "2026", "--abschnitte", draft, "--as", PARTNER)
    assert "PP-0001: Fortschrittsmeldung 2026 ist jetzt „Entwurf“." in saved.out
    submitted = cli("bericht", "einreichen", "1", "--runde", "2026", "--as", PARTNER, "--json").json()
    assert (submitted["status"], submitted["porträt_version"]) == ("eingereicht", 2)
    other = cli("bericht", "freigeben", "1", "--runde", "2026", "--as", VM, expect=3)
    assert "Abgelehnt:" in other.err
    no_comment = cli("bericht", "zurueckgeben", "1", "--runde", "2026", "--as", MWIDE, expect=3)
    assert "braucht einen Kommentar für den Partner" in no_comment.err
    cli(
        "bericht",
        "zurueckgeben",
        "1",
        "--runde",
        "2026",
        "--as",
        MWIDE,
        "--abschnitt",
        "aktueller_stand",
        "--kommentar",
        "Bitte die Zahl der Nutzer nennen.",
    )
    fixed = cli.write(
        "stand.yaml",
        {"aktueller_stand": {"markierung": "geaendert", "inhalt": "120 Geräte, 35 Start-ups nutzen sie."}},
    )
    cli("bericht", "entwurf", "1", "--runde", "2026", "--abschnitte", fixed, "--as", PARTNER)
    cli("bericht", "einreichen", "1", "--runde", "2026", "--as", PARTNER)
    cli("bericht", "freigeben", "1", "--runde", "2026", "--as", MWIDE)
    accepted = cli("bericht", "annehmen", "1", "--runde", "2026", "--as", STAB)
    assert "„angenommen“" in accepted.out
    locked = cli(
        "bericht", "entwurf", "1", "--runde", "2026", "--abschnitte", fixed, "--as", PARTNER, expect=3
    )
    assert "angenommen und gesperrt" in locked.err

    portrait = cli("bericht", "portraet", "1").json()
    assert portrait["version"] == 3 and portrait["inhalt"]["aktueller_stand"].startswith("120 Geräte")
    diff = cli("bericht", "diff", "1", "1", "3")
    assert "== Aktueller Stand (geändert)" in diff.out and "+120 Geräte, 35 Start-ups nutzen sie." in diff.out
    assert "2026  Fortschrittsbericht 2026" in cli("bericht", "runden").out
    assert "angenommen" in cli("bericht", "meldungen", "--runde", "2026").out
    history = cli("history", "1").out
    assert "Fortschrittsmeldung einreichen" in history and "Für den Bericht annehmen" in history
    assert cli("verify", "--json").json()["ok"]
    missing = cli("bericht", "meldung", "1", "--runde", "2030", expect=2)
    assert "--runde: Eine Berichtsrunde 2030 gibt es nicht." in missing.err


def test_project_id_and_completion(cli: Cli) -> None:
    recognise(cli)
    assert "Projekt-ID UN-NEU" in cli("bericht", "projekt-id", "1", "UN-NEU", "--as", STAB).out
    blank = cli("bericht", "abschliessen", "1", "--as", STAB, "--kommentar", " ", expect=2)
    assert "Begründung" in blank.err
    cli("bericht", "abschliessen", "1", "--as", STAB, "--kommentar", "Im Regelbetrieb.")
    portrait = cli("bericht", "portraet", "1").json()
    assert (portrait["projekt_id"], portrait["umsetzungsstand"]) == ("UN-NEU", "abgeschlossen")
