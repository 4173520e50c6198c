"""Overviews: „Meine Aufgaben“, the dashboard, the printable *Stand*, exports and the state diagram."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse
from markupsafe import Markup
from sqlalchemy import select

from partnerprojekte.db.schema import ProposalRow
from partnerprojekte.ids import format_id, parse_id
from partnerprojekte.model import Role, State
from partnerprojekte.reading import queries, visible
from partnerprojekte.reading.report_text import STATUS_ORDER
from partnerprojekte.reading.stats import time_in_states
from partnerprojekte.reference import load_reference
from partnerprojekte.states.diagram import svg
from partnerprojekte.states.workflow import Actor
from partnerprojekte.web import exports
from partnerprojekte.web.deps import services
from partnerprojekte.web.pages.support import PageActor, require_role
from partnerprojekte.web.pages.templating import render
from partnerprojekte.web.search import ListFilters, export_batches, search_proposals
from partnerprojekte.web.tasks import tasks_for

router = APIRouter()


@dataclass(frozen=True)
class Bar:
    """One bar of a chart: label, value and its share of the longest bar (0-100)."""

    label: str
    value: int
    percent: float
    key: str = ""


def bars(rows: list[tuple[str, int, str]]) -> list[Bar]:
    """Bars scaled to the largest value."""
    top = max((value for _, value, _ in rows), default=0)
    return [Bar(label, value, (100.0 * value / top) if top else 0.0, key) for label, value, key in rows]


def charts(data: dict[str, Any]) -> dict[str, list[Bar]]:
    """The three views of the *Stand*: by status (report order), by Handlungsfeld, by Ressort."""
    ref = load_reference()
    return {
        "status": bars([(s.label, data["by_status"][s.value], s.value) for s in STATUS_ORDER]),
        "handlungsfeld": bars(
            [
                (h.title, data["by_handlungsfeld"].get(h.key, 0), h.key)
                for h in sorted(ref.handlungsfelder.values(), key=lambda h: h.order)
            ]
        ),
        "ressort": bars(
            [
                ("noch kein Ressort" if abk == "unassigned" else abk, count, abk)
                for abk, count in data["by_ressort"].items()
            ]
        ),
    }


def summary_sentence(data: dict[str, Any]) -> str:
    """The *Stand* in one German sentence, in the manner of the Fortschrittsbericht."""
    counts = data["by_status"]
    total = data["total"]
    if not total:
        return "Zu diesem Stichtag ist noch kein Vorschlag erfasst."
    # (one, several): the verb agrees with the number, as in the Fortschrittsbericht.
    phrases = {
        State.ANERKANNT: ("ist als Partnerprojekt anerkannt", "sind als Partnerprojekte anerkannt"),
        State.IN_SAEULE_1_INTEGRIERT: (
            "ist in ein Vorhaben der 1. Säule integriert",
            "sind in Vorhaben der 1. Säule integriert",
        ),
        State.IN_ABSTIMMUNG: ("ist „in Abstimmung“", "sind „in Abstimmung“"),
        State.IN_BEARBEITUNG: ("ist „in Bearbeitung“", "sind „in Bearbeitung“"),
        State.EINGEREICHT: (
            "ist eingereicht und noch nicht aufgegriffen",
            "sind eingereicht und noch nicht aufgegriffen",
        ),
        State.NICHT_WEITERVERFOLGT: (
            "wird aktuell nicht weiterverfolgt",
            "werden aktuell nicht weiterverfolgt",
        ),
        State.ZURUECKGEZOGEN: ("ist zurückgezogen", "sind zurückgezogen"),
    }
    parts = [
        f"{counts[state.value]} {one if counts[state.value] == 1 else several}"
        for state, (one, several) in phrases.items()
        if counts.get(state.value)
    ]
    noun = "Vorschlag" if total == 1 else "Vorschläge"
    return f"Insgesamt {total} {noun}: " + "; ".join(parts) + "."


@router.get("/aufgaben", include_in_schema=False)
def my_tasks(request: Request, actor: PageActor) -> Response:
    """What waits for the reviewer's (or the Arbeitsstab's) decision, overdue first, with its age in days."""
    require_role(actor, Role.RESSORT, Role.ARBEITSSTAB)
    svc = services(request)
    tasks = tasks_for(svc.db, svc.settings, actor)
    context = {"tasks": tasks, "overdue": sum(1 for t in tasks if t.overdue)}
    return render(request, "aufgaben.html", context, actor=actor)


@router.get("/uebersicht", include_in_schema=False)
def dashboard(request: Request, actor: PageActor) -> Response:
    """The *Stand Partnerprojekte* as charts with tables, and the time proposals spend in each state."""
    require_role(actor, Role.ARBEITSSTAB, Role.ADMIN)
    svc = services(request)
    data = queries.report(svc.db, tz=svc.settings.timezone)
    tasks = tasks_for(svc.db, svc.settings, actor)
    context = {
        "report": data,
        "charts": charts(data),
        "sentence": summary_sentence(data),
        "durations": time_in_states(svc.db),
        "tasks": len(tasks),
        "overdue": sum(1 for t in tasks if t.overdue),
    }
    return render(request, "uebersicht.html", context, actor=actor)


@router.get("/bericht", include_in_schema=False)
def report_page(request: Request, actor: PageActor, stichtag: str = "") -> Response:
    """The *Stand Partnerprojekte* on a given day, for printing (a Ressort: its own proposals)."""
    require_role(actor, Role.ARBEITSSTAB, Role.ADMIN, Role.RESSORT)
    svc = services(request)
    tz = svc.settings.timezone
    today = svc.db.clock().astimezone(ZoneInfo(tz)).date()
    day, error = today, None
    if stichtag.strip():
        try:
            day = dt.date.fromisoformat(stichtag.strip())
        except ValueError:
            error = (
                f"„{stichtag.strip()[:20]}“ ist kein Datum der Form JJJJ-MM-TT (z. B. {today.isoformat()})."
            )
        else:
            if day > today:
                error = f"Der Stichtag {day.strftime('%d.%m.%Y')} liegt in der Zukunft."
    if error is not None:
        context: dict[str, Any] = {
            "errors": [error],
            "stichtag": stichtag.strip()[:20],
            "report": None,
            "today": today,
        }
        return render(request, "bericht.html", context, status=422, actor=actor)
    if actor.role is Role.RESSORT:
        assert actor.ressort is not None
        data = visible.ressort_report(svc.db, actor.ressort, as_of=day, tz=tz)
    else:
        data = queries.report(svc.db, as_of=day, tz=tz)
    context = {
        "errors": [],
        "report": data,
        "day": day,
        "today": today,
        "stichtag": day.isoformat(),
        "charts": charts(data),
        "sentence": summary_sentence(data),
        "status_order": STATUS_ORDER,
    }
    return render(request, "bericht.html", context, actor=actor)


def _export_rows(request: Request, actor: Actor, filters: ListFilters) -> list[exports.ExportRow]:
    svc = services(request)
    items = search_proposals(svc.db, actor, filters)
    ids = [parse_id(item["id"]) for item in items]
    checks: dict[str, dict[str, Any]] = {}
    if ids:
        query = select(ProposalRow.id, ProposalRow.check_result).where(ProposalRow.id.in_(ids))
        with svc.db.read() as s:
            for pid, check in s.execute(query):
                checks[format_id(pid)] = check
    # The export lists oldest first, as registers are kept.
    return exports.export_rows(list(reversed(items)), checks, svc.settings.timezone)


def _download(request: Request, body: bytes, media_type: str, suffix: str) -> Response:
    svc = services(request)
    day = svc.db.clock().astimezone(ZoneInfo(svc.settings.timezone)).date()
    name = exports.filename("partnerprojekte", day, suffix)
    return Response(
        body, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@router.get("/vorschlaege/export.csv", include_in_schema=False)
def export_csv(
    request: Request,
    actor: PageActor,
    status: str = "",
    ressort: str = "",
    handlungsfeld: str = "",
    q: str = "",
) -> Response:
    """The visible proposals (with the list's filters) as CSV for German Excel."""
    filters = ListFilters.parse(status=status, ressort=ressort, handlungsfeld=handlungsfeld, q=q)
    svc = services(request)
    tz = svc.settings.timezone
    # Streamed in batches from the database: the first bytes leave before the last row is read.
    batches = (
        exports.export_rows([item for item, _ in batch], {item["id"]: check for item, check in batch}, tz)
        for batch in export_batches(svc.db, actor, filters)
    )
    day = svc.db.clock().astimezone(ZoneInfo(tz)).date()
    name = exports.filename("partnerprojekte", day, "csv")
    return StreamingResponse(
        exports.csv_chunks(batches),
        media_type=exports.CSV_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/vorschlaege/export.xlsx", include_in_schema=False)
def export_xlsx(
    request: Request,
    actor: PageActor,
    status: str = "",
    ressort: str = "",
    handlungsfeld: str = "",
    q: str = "",
) -> Response:
    """The visible proposals (with the list's filters) as an Excel workbook."""
    filters = ListFilters.parse(status=status, ressort=ressort, handlungsfeld=handlungsfeld, q=q)
    return _download(
        request, exports.to_xlsx(_export_rows(request, actor, filters)), exports.XLSX_TYPE, "xlsx"
    )


@router.get("/zustandsdiagramm", include_in_schema=False)
def state_diagram(request: Request, actor: PageActor) -> Response:
    """The states and events of the qualification as a diagram, generated from the transition table."""
    # Our own SVG, built from the transition table with every label escaped: safe to embed.
    return render(request, "zustandsdiagramm.html", {"diagram": Markup(svg())}, actor=actor)  # noqa: S704
