"""Commands on proposals: ``check``, ``submit``, ``revise``, ``show``, ``list``, ``history``, ``import``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from partnerprojekte.cli import support
from partnerprojekte.cli.outcome import label_of, print_check, print_outcome
from partnerprojekte.cli.support import (
    EXIT_REFUSED,
    AsOpt,
    FileArg,
    IdArg,
    JsonOpt,
    choice,
    echo_json,
    handled,
    local_time,
    parse_proposal_id,
    read_file,
)
from partnerprojekte.model import CRITERION_LABELS, Criterion, ReasonCode, Role, State


def check(file: FileArg, as_json: JsonOpt = False) -> None:
    """Die vier Kriterien für eine Vorschlagsdatei prüfen; speichert nichts."""
    with handled(as_json):
        from partnerprojekte.config import get_settings
        from partnerprojekte.formats import parse_proposal
        from partnerprojekte.reference import load_reference
        from partnerprojekte.rules import check as run_check

        settings = get_settings()
        proposal = parse_proposal(read_file(file), source=str(file), max_bytes=settings.max_proposal_bytes)
        result = run_check(proposal, settings.criteria, load_reference()).to_json()
    if as_json:
        echo_json(result)
    else:
        typer.echo(f"Prüfung von „{proposal.title}“")
        print_check(result)


def submit(file: FileArg, as_: AsOpt, as_json: JsonOpt = False) -> None:
    """Einen Vorschlag einreichen."""
    with handled(as_json):
        from partnerprojekte.formats import parse_proposal

        svc = support.services()
        proposal = parse_proposal(
            read_file(file), source=str(file), max_bytes=svc.settings.max_proposal_bytes
        )
        outcome = svc.submit(proposal, as_)
    assert outcome.check is not None
    if as_json:
        echo_json(outcome.to_json())
    else:
        print_outcome(outcome)
        print_check(outcome.check.to_json())


def revise(proposal_id: IdArg, file: FileArg, as_: AsOpt, as_json: JsonOpt = False) -> None:
    """Einen Vorschlag überarbeiten (neue Fassung; Bestätigungen entfallen)."""
    with handled(as_json):
        from partnerprojekte.formats import parse_proposal

        svc = support.services()
        pid = parse_proposal_id(proposal_id)
        proposal = parse_proposal(
            read_file(file), source=str(file), max_bytes=svc.settings.max_proposal_bytes
        )
        outcome = svc.revise(pid, proposal, as_)
    assert outcome.check is not None
    if as_json:
        echo_json(outcome.to_json())
    else:
        print_outcome(outcome)
        print_check(outcome.check.to_json())


def show(proposal_id: IdArg, as_json: JsonOpt = False) -> None:
    """Einen Vorschlag mit Kriterien, Zuständigkeit, Zustimmungen und Kommentaren anzeigen."""
    with handled(as_json):
        from partnerprojekte.reading.queries import show_proposal

        data = show_proposal(support.services().db, parse_proposal_id(proposal_id))
    if as_json:
        echo_json(data)
        return
    typer.echo(f"{data['id']}  {data['title']}")
    typer.echo(f"Status:        {State(data['status']).label} (seit {local_time(data['status_since'])})")
    typer.echo(
        f"Organisation:  {data['organisation']} – Kontakt {data['contact']['name']} "
        f"<{data['contact']['email']}>"
    )
    typer.echo(f"Ressort:       {data['responsible_ressort'] or 'noch keines zugeordnet'}")
    typer.echo(f"Fassung:       {data['revision']}, eingereicht am {local_time(data['submitted_at'])}")
    if data["saeule_1_projekt"]:
        typer.echo(f"Säule 1:       integriert in {data['saeule_1_projekt']}")
    print_check(data["check"])
    for c in data["confirmations"]:
        typer.echo(
            f"  bestätigt: {CRITERION_LABELS[Criterion(c['criterion'])]} von {c['user']}: {c['comment']}"
        )
    for a in data["pending_approvals"]:
        typer.echo(
            f"Offene Zustimmung zu „{a['event']}“: {a['user']} ({Role(a['role']).label}), "
            f"{local_time(a['at'])}"
        )
    for h in data["ressort_history"]:
        until = f" bis {local_time(h['ended_at'])}" if h["ended_at"] else ""
        typer.echo(f"Zuständig: {h['ressort']} seit {local_time(h['assigned_at'])}{until}")
    for c in data["comments"]:
        typer.echo(f"Kommentar ({c['visibility']}) {c['user']}, {local_time(c['at'])}: {c['text']}")


def list_cmd(
    status: Annotated[
        str | None,
        typer.Option(
            "--status", metavar="STATUS", help="Status: " + ", ".join(st.value for st in State) + "."
        ),
    ] = None,
    ressort: Annotated[str | None, typer.Option("--ressort", help="Ressort-Kürzel.", metavar="ABK")] = None,
    handlungsfeld: Annotated[
        str | None,
        typer.Option(
            "--handlungsfeld",
            metavar="SCHLÜSSEL",
            help="mobilitaet, wirtschaft, vielfalt, energie_umwelt oder bildung_forschung.",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Vorschläge auflisten, gefiltert nach Status, Ressort und Handlungsfeld."""
    with handled(as_json):
        from partnerprojekte.proposal import HandlungsfeldKey
        from partnerprojekte.reading import listing
        from partnerprojekte.reference import load_reference

        query = listing.ListQuery(
            status=choice(status, State, "--status") if status else None,
            ressort=load_reference().ressort(ressort).abbreviation if ressort else None,
            handlungsfeld=choice(handlungsfeld, HandlungsfeldKey, "--handlungsfeld")
            if handlungsfeld
            else None,
        )
        # The operator at the command line sees every proposal.
        rows = listing.page(support.services().db, query, None)[0]
    if as_json:
        echo_json(rows)
        return
    if not rows:
        typer.echo("Keine Vorschläge gefunden.")
        return
    for r in rows:
        typer.echo(
            f"{r['id']}  {State(r['status']).label:<22} {r['responsible_ressort'] or '–':<12} {r['title']}"
        )
    typer.echo("1 Vorschlag." if len(rows) == 1 else f"{len(rows)} Vorschläge.")


def history(proposal_id: IdArg, as_json: JsonOpt = False) -> None:
    """Das Protokoll eines Vorschlags: jedes Ereignis mit Person, Zeit und Begründung."""
    with handled(as_json):
        from partnerprojekte.reading.queries import history as load_history

        entries = load_history(support.services().db, parse_proposal_id(proposal_id))
    if as_json:
        echo_json(entries)
        return
    from partnerprojekte.model import Action
    from partnerprojekte.states.steps import step_label

    for e in entries:
        name = e["event"]
        label = step_label(name)
        if name == Action.ASSIGN_RESSORT and e["ressort"]:
            label += f": {e['ressort']}"  # which Ressort is now responsible
        move = ""
        if e["from"] != e["to"]:
            move = f" {State(e['from']).label if e['from'] else '–'} → {State(e['to']).label}"
        typer.echo(
            f"{e['seq']:>3}. {local_time(e['at'])}  {label}{move}  ({e['actor']}, {Role(e['role']).label})"
        )
        if e["details"].get("event"):
            missing = " und ".join(Role(r).label for r in e["details"].get("missing", []))
            typer.echo(
                f"     zu {label_of(e['details']['event'])}"
                + (f"; es fehlt noch: {missing}" if missing else "")
            )
        if e["comment"]:
            typer.echo(f"     Kommentar ({e['visibility']}): {e['comment']}")
        if e["reasons"]:
            typer.echo(f"     Gründe: {', '.join(ReasonCode(r).label for r in e['reasons'])}")
        if e["saeule_1_projekt"]:
            typer.echo(f"     Säule-1-Projekt: {e['saeule_1_projekt']}")
        if e["approvals"]:
            typer.echo(
                "     Zustimmungen: "
                + "; ".join(f"{a['user']} ({Role(a['role']).label})" for a in e["approvals"])
            )


def import_cmd(
    file: Annotated[Path, typer.Argument(metavar="DATEI", help="Importdatei (YAML oder JSON).")],
    as_json: JsonOpt = False,
) -> None:
    """Vorschläge mit ihren früheren Ereignissen übernehmen (je Vorschlag eine Transaktion)."""
    with handled(as_json):
        from partnerprojekte.formats import IMPORT_MAX_BYTES
        from partnerprojekte.importer import run_import

        result = run_import(support.services(), read_file(file, IMPORT_MAX_BYTES), source=str(file))
    if as_json:
        echo_json(result.to_json())
    else:
        for item in result.imported:
            events = "1 Ereignis" if item["events"] == 1 else f"{item['events']} Ereignisse"
            typer.echo(f"{item['id']} importiert: {item['title']} – {State(item['status']).label}, {events}")
        for item in result.skipped:
            typer.echo(f"übersprungen: {item['message']}")
        for item in result.refused:
            typer.echo(f"NICHT importiert: {item['message']}", err=True)
        typer.echo(
            f"{len(result.imported)} importiert, {len(result.skipped)} übersprungen, "
            f"{len(result.refused)} abgelehnt; {result.users_added} Personen neu angelegt."
        )
    if result.refused:
        raise typer.Exit(EXIT_REFUSED)
