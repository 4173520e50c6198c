"""``/api/v1`` for life after recognition: reporting rounds, progress reports and portraits, over the
same use cases as ``partnerprojekte bericht`` (the services check roles and state; this router checks
who may see a project: 404 as for a missing one)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from partnerprojekte.access import can_see_proposal
from partnerprojekte.ids import format_id, parse_id
from partnerprojekte.portrait import Section, Umsetzungsstand
from partnerprojekte.reading import reports as reading
from partnerprojekte.reading import visible
from partnerprojekte.states.report_table import ReportEvent
from partnerprojekte.states.workflow import Actor
from partnerprojekte.web.deps import database, require_actor, require_api_csrf, services

router = APIRouter(dependencies=[Depends(require_api_csrf)], tags=["Fortschrittsbericht"])

ActorDep = Annotated[Actor, Depends(require_actor)]
YearPath = Annotated[int, Path(ge=2000, le=2100, description="Jahr der Berichtsrunde, z. B. 2022")]
IdPath = Annotated[str, Path(max_length=40, description="Vorschlags-ID, z. B. PP-0001")]
_STRICT = ConfigDict(extra="forbid")
_PRINTABLE = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
Text = Annotated[str, Field(max_length=10_000, pattern=_PRINTABLE)]


class RoundBody(BaseModel):
    """A reporting round to open."""

    model_config = _STRICT
    jahr: Annotated[int, Field(ge=2000, le=2100)]
    name: Annotated[str, Field(max_length=200, pattern=_PRINTABLE)] | None = None
    stichtag: dt.date
    abgabe_bis: dt.date


class ReportEventBody(BaseModel):
    """Input of a report event: the entries of a draft, or the comment and sections of a return."""

    model_config = _STRICT
    abschnitte: dict[Section, dict[str, Any]] | None = None
    kommentar: Text | None = None
    zurueckgegeben: Annotated[list[Section], Field(max_length=len(Section))] = []
    umsetzungsstand: Umsetzungsstand | None = None


class ContributorBody(BaseModel):
    """The co-partner to invite (an active partner account)."""

    model_config = _STRICT
    email: Annotated[str, Field(max_length=254, pattern=_PRINTABLE)]


class CompleteBody(BaseModel):
    """Why the project is completed."""

    model_config = _STRICT
    kommentar: Text


class ProjectCodeBody(BaseModel):
    """The project ID the report prints."""

    model_config = _STRICT
    projekt_id: Annotated[str, Field(max_length=16, pattern=_PRINTABLE)]


def _visible(request: Request, actor: Actor, proposal_id: str) -> int:
    """The proposal's number if the caller may see it; else 404 exactly as for a missing one."""
    return visible.visible_proposal(database(request), actor, parse_id(proposal_id)).id


def _report_visible(request: Request, actor: Actor, proposal_id: str) -> int:
    """As ``_visible``, and invited co-partners see the project's reports and portrait too."""
    return reading.report_visible(database(request), actor, parse_id(proposal_id)).id


@router.get("/rounds")
def rounds(request: Request, actor: ActorDep) -> list[dict[str, Any]]:
    """Alle Berichtsrunden mit dem Stand ihrer Meldungen."""
    return reading.list_rounds(database(request))


@router.post("/rounds", status_code=201)
def open_round(body: RoundBody, request: Request, actor: ActorDep) -> dict[str, Any]:
    """Eine Berichtsrunde eröffnen (Arbeitsstab)."""
    name = body.name or f"Fortschrittsbericht {body.jahr}"
    return (
        services(request).open_round(body.jahr, name, body.stichtag, body.abgabe_bis, actor.email).to_json()
    )


@router.get("/rounds/{year}/reports")
def reports(year: YearPath, request: Request, actor: ActorDep) -> list[dict[str, Any]]:
    """Die Fortschrittsmeldungen einer Runde, soweit die Person die Projekte sehen darf."""
    db = database(request)
    invited = {format_id(p) for p in reading.contributed_projects(db, actor.user_id)}
    return [
        r
        for r in reading.list_reports(db, year)
        if can_see_proposal(actor, r["organisation"], r["ressort"]) or r["id"] in invited
    ]


@router.get("/rounds/{year}/reports/{proposal_id}")
def report(year: YearPath, proposal_id: IdPath, request: Request, actor: ActorDep) -> dict[str, Any]:
    """Eine Fortschrittsmeldung mit ihren Abschnitten."""
    return reading.show_report(database(request), _report_visible(request, actor, proposal_id), year)


@router.post("/rounds/{year}/reports/{proposal_id}/events/{event}")
def report_event(
    year: YearPath,
    proposal_id: IdPath,
    event: ReportEvent,
    body: ReportEventBody,
    request: Request,
    actor: ActorDep,
) -> dict[str, Any]:
    """Ein Ereignis der Fortschrittsmeldung: save_draft, submit_report, return_report, approve_report,
    accept_report."""
    number = _report_visible(request, actor, proposal_id)
    entries = {s.value: v for s, v in body.abschnitte.items()} if body.abschnitte is not None else None
    outcome = services(request).report_event(
        number,
        year,
        event,
        actor.email,
        entries=entries,
        comment=body.kommentar,
        sections=[s.value for s in body.zurueckgegeben],
        umsetzungsstand=body.umsetzungsstand.value if body.umsetzungsstand else None,
    )
    return outcome.to_json()


@router.get("/proposals/{proposal_id}/portrait")
def portrait(proposal_id: IdPath, request: Request, actor: ActorDep) -> dict[str, Any]:
    """Das Porträt eines Partnerprojekts mit seinen Fassungen."""
    return reading.show_portrait(database(request), _report_visible(request, actor, proposal_id))


@router.get("/proposals/{proposal_id}/portrait/diff")
def portrait_diff(
    proposal_id: IdPath,
    request: Request,
    actor: ActorDep,
    von: Annotated[int, Query(ge=1, le=100_000)],
    bis: Annotated[int, Query(ge=1, le=100_000)],
) -> list[dict[str, Any]]:
    """Was sich zwischen zwei Fassungen des Porträts geändert hat."""
    return reading.portrait_diff(database(request), _report_visible(request, actor, proposal_id), von, bis)


@router.post("/proposals/{proposal_id}/contributors", status_code=201)
def invite(proposal_id: IdPath, body: ContributorBody, request: Request, actor: ActorDep) -> dict[str, Any]:
    """Einen Mitpartner zu den Fortschrittsmeldungen einladen (Partner, Arbeitsstab)."""
    number = _visible(request, actor, proposal_id)
    seq = services(request).invite_contributor(number, body.email, actor.email)
    return {"id": format_id(number), "eingeladen": body.email.strip().lower(), "seq": seq}


@router.post("/proposals/{proposal_id}/complete")
def complete(proposal_id: IdPath, body: CompleteBody, request: Request, actor: ActorDep) -> dict[str, Any]:
    """Das Partnerprojekt als abgeschlossen markieren (Arbeitsstab)."""
    number = _visible(request, actor, proposal_id)
    services(request).complete_project(number, actor.email, body.kommentar)
    return reading.show_portrait(database(request), number)


@router.put("/proposals/{proposal_id}/project-code")
def project_code(
    proposal_id: IdPath, body: ProjectCodeBody, request: Request, actor: ActorDep
) -> dict[str, Any]:
    """Die Projekt-ID setzen, die der Bericht druckt (Arbeitsstab)."""
    number = _visible(request, actor, proposal_id)
    services(request).set_project_code(number, body.projekt_id, actor.email)
    return reading.show_portrait(database(request), number)
