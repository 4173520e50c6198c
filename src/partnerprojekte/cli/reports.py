"""Commands of ``partnerprojekte bericht``: reporting rounds, progress reports, portraits, versions."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer

from partnerprojekte.cli import support
from partnerprojekte.cli.support import AsOpt, IdArg, JsonOpt, echo_json, group, handled, parse_proposal_id
from partnerprojekte.ids import format_id
from partnerprojekte.portrait import Section
from partnerprojekte.states.report_table import ReportEvent, ReportState

report_app = group(
    "Fortschrittsbericht: Berichtsrunden, Fortschrittsmeldungen und Porträts der Partnerprojekte."
)

RoundOpt = Annotated[int, typer.Option("--runde", help="Jahr der Berichtsrunde, z. B. 2022.", metavar="JAHR")]
CommentOpt = Annotated[
    str | None, typer.Option("--kommentar", help="Kommentar für den Partner.", metavar="TEXT")
]
ENTRIES_MAX_BYTES = 1_000_000


def _date(text: str, option: str) -> dt.date:
    from partnerprojekte.errors import FieldError, ValidationError

    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValidationError(FieldError(option, f"„{text}“ ist kein Datum JJJJ-MM-TT")) from None


def _show(outcome: Any, as_json: bool) -> None:
    if as_json:
        echo_json(outcome.to_json())
        return
    state = ReportState(outcome.state).label
    line = f"{format_id(outcome.proposal_id)}: Fortschrittsmeldung {outcome.year} ist jetzt „{state}“."
    if outcome.portrait_version:
        line += f" Porträt-Version {outcome.portrait_version}."
    typer.echo(line)


@report_app.command("runde-eroeffnen")
def open_round(
    year: Annotated[int, typer.Option("--jahr", help="Jahr des Berichts, z. B. 2022.", metavar="JAHR")],
    stichtag: Annotated[str, typer.Option("--stichtag", help="Stichtag, z. B. 2022-10-31.", metavar="DATUM")],
    due: Annotated[str, typer.Option("--abgabe-bis", help="Abgabefrist der Meldungen.", metavar="DATUM")],
    as_: AsOpt,
    name: Annotated[str | None, typer.Option("--name", help="Name der Runde.", metavar="TEXT")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Eine Berichtsrunde eröffnen: jedes anerkannte, nicht abgeschlossene Projekt schuldet eine Meldung."""
    with handled(as_json):
        opened = support.services().open_round(
            year,
            name or f"Fortschrittsbericht {year}",
            _date(stichtag, "--stichtag"),
            _date(due, "--abgabe-bis"),
            as_,
        )
    if as_json:
        echo_json(opened.to_json())
        return
    typer.echo(f"Berichtsrunde {year} eröffnet: {len(opened.owed)} Fortschrittsmeldung(en) angefordert.")


@report_app.command("runden")
def rounds(as_json: JsonOpt = False) -> None:
    """Alle Berichtsrunden mit dem Stand ihrer Meldungen."""
    with handled(as_json):
        from partnerprojekte.reading import reports as reading

        found = reading.list_rounds(support.services().db)
    if as_json:
        echo_json(found)
        return
    if not found:
        typer.echo("Noch keine Berichtsrunde.")
    for r in found:
        counts = ", ".join(f"{ReportState(k).label}: {v}" for k, v in sorted(r["meldungen"].items()))
        typer.echo(f"{r['jahr']}  {r['name']}  Abgabe bis {r['abgabe_bis']}  ({counts or 'keine Meldungen'})")


@report_app.command("meldungen")
def reports(round_: RoundOpt, as_json: JsonOpt = False) -> None:
    """Die Fortschrittsmeldungen einer Runde."""
    with handled(as_json):
        from partnerprojekte.reading import reports as reading

        found = reading.list_reports(support.services().db, round_)
    if as_json:
        echo_json(found)
        return
    for r in found:
        typer.echo(f"{r['id']}  {r['status_text']:<20} {r['titel']}")


@report_app.command("meldung")
def show(proposal_id: IdArg, round_: RoundOpt, as_json: JsonOpt = False) -> None:
    """Eine Fortschrittsmeldung zeigen (Abschnitte als JSON)."""
    with handled(as_json):
        from partnerprojekte.reading import reports as reading

        found = reading.show_report(support.services().db, parse_proposal_id(proposal_id), round_)
    echo_json(found)


def _event(
    event: ReportEvent,
    proposal_id: str,
    round_: int,
    as_: str,
    as_json: bool,
    **options: Any,
) -> None:
    with handled(as_json):
        outcome = support.services().report_event(
            parse_proposal_id(proposal_id), round_, event, as_, **options
        )
    _show(outcome, as_json)


@report_app.command("entwurf")
def save_draft(
    proposal_id: IdArg,
    round_: RoundOpt,
    file: Annotated[
        Path,
        typer.Option(
            "--abschnitte",
            help="Datei (YAML/JSON): Abschnitt → {markierung, inhalt, begruendung}; - für Standardeingabe.",
            metavar="DATEI",
        ),
    ],
    as_: AsOpt,
    stand: Annotated[
        str | None,
        typer.Option(
            "--umsetzungsstand", help="pruefung_laeuft, in_umsetzung, abgeschlossen.", metavar="STAND"
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Den Entwurf einer Fortschrittsmeldung speichern (Partner, eingeladene Mitpartner, Arbeitsstab)."""
    with handled(as_json):
        from partnerprojekte.formats import load_mapping_document

        entries = load_mapping_document(support.read_file(file, ENTRIES_MAX_BYTES), source=str(file))
    _event(ReportEvent.SAVE_DRAFT, proposal_id, round_, as_, as_json, entries=entries, umsetzungsstand=stand)


@report_app.command("einreichen")
def submit(proposal_id: IdArg, round_: RoundOpt, as_: AsOpt, as_json: JsonOpt = False) -> None:
    """Die Fortschrittsmeldung einreichen (Partner): jeder Abschnitt ist markiert."""
    _event(ReportEvent.SUBMIT_REPORT, proposal_id, round_, as_, as_json)


@report_app.command("zurueckgeben")
def give_back(
    proposal_id: IdArg,
    round_: RoundOpt,
    as_: AsOpt,
    comment: CommentOpt = None,
    section: Annotated[
        list[str] | None,
        typer.Option(
            "--abschnitt",
            help="Zurückgegebener Abschnitt (mehrfach): " + ", ".join(Section),
            metavar="ABSCHNITT",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Die Fortschrittsmeldung mit Kommentar zurückgeben, ganz oder abschnittsweise (Ressort, Arbeitsstab)."""
    _event(ReportEvent.RETURN_REPORT, proposal_id, round_, as_, as_json, comment=comment, sections=section)


@report_app.command("freigeben")
def approve(proposal_id: IdArg, round_: RoundOpt, as_: AsOpt, as_json: JsonOpt = False) -> None:
    """Die Fortschrittsmeldung freigeben (zuständiges Ressort)."""
    _event(ReportEvent.APPROVE_REPORT, proposal_id, round_, as_, as_json)


@report_app.command("annehmen")
def accept(proposal_id: IdArg, round_: RoundOpt, as_: AsOpt, as_json: JsonOpt = False) -> None:
    """Die Fortschrittsmeldung für den Bericht annehmen und sperren (Arbeitsstab)."""
    _event(ReportEvent.ACCEPT_REPORT, proposal_id, round_, as_, as_json)


@report_app.command("einladen")
def invite(
    proposal_id: IdArg,
    email: Annotated[str, typer.Argument(metavar="EMAIL", help="E-Mail des Mitpartners.")],
    as_: AsOpt,
) -> None:
    """Einen Mitpartner einladen, an den Fortschrittsmeldungen mitzuschreiben (Partner, Arbeitsstab)."""
    with handled():
        support.services().invite_contributor(parse_proposal_id(proposal_id), email, as_)
    typer.echo(f"{email} ist zu {proposal_id} eingeladen.")


@report_app.command("abschliessen")
def complete(
    proposal_id: IdArg,
    as_: AsOpt,
    comment: Annotated[str, typer.Option("--kommentar", help="Begründung.", metavar="TEXT")],
) -> None:
    """Ein Partnerprojekt als abgeschlossen markieren (Arbeitsstab); sein Porträt bleibt."""
    with handled():
        support.services().complete_project(parse_proposal_id(proposal_id), as_, comment)
    typer.echo(f"{proposal_id} ist als abgeschlossen markiert.")


@report_app.command("projekt-id")
def project_code(
    proposal_id: IdArg,
    code: Annotated[str, typer.Argument(metavar="PROJEKT_ID", help="Projekt-ID im Bericht, z. B. UN-NEU.")],
    as_: AsOpt,
) -> None:
    """Die Projekt-ID setzen, die der Bericht druckt (Arbeitsstab)."""
    with handled():
        support.services().set_project_code(parse_proposal_id(proposal_id), code, as_)
    typer.echo(f"{proposal_id} hat jetzt die Projekt-ID {code.strip()}.")


@report_app.command("portraet")
def portrait(proposal_id: IdArg, as_json: JsonOpt = False) -> None:
    """Das Porträt eines Partnerprojekts mit seinen Versionen."""
    with handled(as_json):
        from partnerprojekte.reading import reports as reading

        found = reading.show_portrait(support.services().db, parse_proposal_id(proposal_id))
    echo_json(found)


@report_app.command("diff")
def diff(
    proposal_id: IdArg,
    old: Annotated[int, typer.Argument(metavar="VON", help="Ältere Version.")],
    new: Annotated[int, typer.Argument(metavar="BIS", help="Neuere Version.")],
    as_json: JsonOpt = False,
) -> None:
    """Was sich zwischen zwei Porträt-Versionen geändert hat, Abschnitt für Abschnitt."""
    with handled(as_json):
        from partnerprojekte.reading import reports as reading

        changes = reading.portrait_diff(support.services().db, parse_proposal_id(proposal_id), old, new)
    if as_json:
        echo_json(changes)
        return
    if not changes:
        typer.echo(f"Version {old} und {new} sind gleich.")
    for change in changes:
        typer.echo(f"== {change['titel']} ({change['art']})")
        for line in change["zeilen"]:
            typer.echo(line)
