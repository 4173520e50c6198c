"""Commands of the operators: ``init``, ``verify``, ``report``, ``diagram``, ``demo``."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from partnerprojekte.cli import support
from partnerprojekte.cli.support import (
    EXIT_FAILED,
    JsonOpt,
    choice,
    echo_json,
    handle,
    handled,
    os_reason,
)
from partnerprojekte.errors import ValidationError


class _DiagramFormat(StrEnum):
    MERMAID = "mermaid"
    SVG = "svg"


def init() -> None:
    """Datenbank anlegen oder migrieren und Referenzdaten laden (beliebig oft ausführbar)."""
    with handled():
        from partnerprojekte.config import get_settings
        from partnerprojekte.db.engine import Database, make_engine
        from partnerprojekte.db.migrate import upgrade
        from partnerprojekte.services import Services

        settings = get_settings()
        engine = make_engine(settings.resolved_database_url())
        upgrade(engine)
        count = Services(Database(engine), settings).load_reference_data()
        typer.echo(
            f"Datenbank bereit ({engine.url.render_as_string(hide_password=True)}); {count} Ressorts geladen."
        )


def verify(as_json: JsonOpt = False) -> None:
    """Die Hash-Kette des Protokolls prüfen; Exit 1 und der erste gebrochene Eintrag bei Manipulation."""
    with handled(as_json):
        from partnerprojekte.ids import format_id
        from partnerprojekte.reading.queries import verify as run_verify

        result = run_verify(support.services().db)
    for b in result["broken"]:
        b.setdefault("id", format_id(b["proposal_id"]))  # the id every command accepts, e.g. PP-0003
    if as_json:
        echo_json(result)
    elif result["ok"]:
        entries, proposals = result["entries"], result["proposals"]
        typer.echo(f"Protokoll unversehrt: {entries} Einträge zu {proposals} Vorschlägen geprüft.")
        typer.echo(f"Personenverwaltung unversehrt: {result['user_entries']} Einträge geprüft.")
    else:
        for b in result["broken"]:
            where = f"Eintrag Nr. {b['seq']}" if b["seq"] else "Protokoll"
            typer.echo(f"MANIPULIERT: {b['id']}, {where}: {b['problem']}", err=True)
        if result["user_broken"]:
            u = result["user_broken"]
            where = f"Eintrag Nr. {u['seq']}" if u["seq"] else "Protokoll"
            typer.echo(f"MANIPULIERT: Protokoll der Personenverwaltung, {where}: {u['problem']}", err=True)
    if not result["ok"]:
        raise typer.Exit(EXIT_FAILED)


def report(
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Stichtag JJJJ-MM-TT (Ende des Tages).", metavar="DATUM")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Der Stand Partnerprojekte, auch für einen vergangenen Stichtag (aus dem Protokoll rekonstruiert)."""
    with handled(as_json):
        from partnerprojekte.reading.queries import report as build_report

        day = None
        if as_of:
            try:
                day = dt.date.fromisoformat(as_of.strip())
            except ValueError:
                raise ValidationError(f"--as-of: „{as_of}“ ist kein Datum der Form JJJJ-MM-TT.") from None
        svc = support.services()
        data = build_report(svc.db, as_of=day, tz=svc.settings.timezone)
    if as_json:
        echo_json(data)
    else:
        from partnerprojekte.reading.report_text import render_report

        typer.echo(render_report(data))


def diagram(
    fmt: Annotated[str, typer.Option("--format", help="mermaid oder svg.", metavar="FORMAT")] = "mermaid",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="In diese Datei schreiben.", metavar="DATEI")
    ] = None,
    machine: Annotated[
        str,
        typer.Option(
            "--maschine",
            help="vorschlag (Qualifizierung) oder meldung (Fortschrittsmeldung).",
            metavar="NAME",
        ),
    ] = "vorschlag",
) -> None:
    """Ein Zustandsdiagramm, erzeugt aus seiner Übergangstabelle."""
    from partnerprojekte.states.diagram import CHARTS, mermaid, svg

    with handled():
        chosen = choice(fmt, _DiagramFormat, "--format")
        if machine not in CHARTS:
            raise ValidationError(
                f"--maschine: „{machine}“ gibt es nicht; möglich: " + ", ".join(CHARTS) + "."
            )
    chart = CHARTS[machine]()
    text = mermaid(chart) if chosen is _DiagramFormat.MERMAID else svg(chart)
    if output is None:
        typer.echo(text)
    else:
        try:
            output.write_text(text + "\n", encoding="utf-8")
        except OSError as exc:
            handle(
                ValidationError(f"--output: „{output}“ lässt sich nicht schreiben: {os_reason(exc)}."), False
            )
        typer.echo(f"Diagramm geschrieben: {output}")


DEMO_ARBEITSSTAB = "k.brenner@stk.nrw.example"  # the demo's Arbeitsstab member (demo/scenario.yaml)


def demo() -> None:
    """Die Beispieldaten (Stand Oktober 2021) laden, falls die Datenbank leer ist, und den Stand zeigen."""
    from importlib.resources import files

    init()
    with handled():
        from partnerprojekte.importer import run_import
        from partnerprojekte.reading.queries import report as build_report
        from partnerprojekte.reading.report_text import render_report
        from partnerprojekte.services import count_proposals

        svc = support.services()
        with svc.db.read() as s:
            existing = count_proposals(s)
        if existing == 0:
            data = files("partnerprojekte.demo").joinpath("scenario.yaml").read_bytes()
            result = run_import(svc, data, source="scenario.yaml")
            typer.echo(
                f"Beispieldaten geladen: {len(result.imported)} Vorschläge, {result.users_added} Personen."
            )
            from partnerprojekte.formats import load_mapping_document
            from partnerprojekte.services.demo_reports import load_demo_reports

            raw = files("partnerprojekte.demo").joinpath("reports.yaml").read_bytes()
            steps = load_demo_reports(
                svc, load_mapping_document(raw, source="reports.yaml"), DEMO_ARBEITSSTAB
            )
            typer.echo(f"Berichtsrunden 2022 und 2023 angelegt: {steps} Schritte an Fortschrittsmeldungen.")
        else:
            typer.echo(
                f"Die Datenbank enthält bereits {existing} Vorschläge; Beispieldaten nicht erneut geladen."
            )
        typer.echo("")
        typer.echo(render_report(build_report(svc.db, tz=svc.settings.timezone)))
