"""The proposals: the list with filters and search, the detail page, one revision, withdrawing."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from partnerprojekte.errors import NotFound
from partnerprojekte.ids import parse_id
from partnerprojekte.model import FINAL_STATES, Criterion, Event, ReasonCode, Role, State
from partnerprojekte.reading import queries, visible
from partnerprojekte.reference import load_reference
from partnerprojekte.states.workflow import Actor
from partnerprojekte.web import views
from partnerprojekte.web.deps import services
from partnerprojekte.web.pages.support import PageActor, ascii_int, proposal_number
from partnerprojekte.web.pages.templating import render
from partnerprojekte.web.search import ListFilters, search_page

router = APIRouter()

PER_PAGE = 50

# What a partner reads about where their proposal stands (the tone of the Fortschrittsbericht).
PARTNER_HINTS: dict[State, str] = {
    State.EINGEREICHT: (
        "Ihr Vorschlag ist eingegangen. Der Arbeitsstab Ruhr-Konferenz greift ihn auf und meldet sich "
        "bei Ihnen. Bis dahin können Sie ihn noch überarbeiten."
    ),
    State.IN_BEARBEITUNG: (
        "Der Vorschlag wird gemeinsam mit Ihnen konkretisiert und geklärt. "
        "Sie können ihn überarbeiten; jede Fassung wird neu geprüft."
    ),
    State.IN_ABSTIMMUNG: (
        "Die Qualifizierung ist eingeleitet: Der Arbeitsstab stimmt sich mit dem fachlich zuständigen "
        "Ressort ab. Abschließend wird über die Anerkennung als Partnerprojekt entschieden."
    ),
    State.ANERKANNT: (
        "Ihr Vorhaben ist als Partnerprojekt der Ruhr-Konferenz anerkannt. Partner, Ressort und Arbeitsstab "
        "tauschen sich regelmäßig über den Fortgang des Projekts aus."
    ),
    State.NICHT_WEITERVERFOLGT: (
        "Der Vorschlag wird aktuell nicht weiterverfolgt. Er kann später wieder aufgenommen werden."
    ),
    State.IN_SAEULE_1_INTEGRIERT: (
        "Der Vorschlag ist in ein Projekt der 1. Säule der Ruhr-Konferenz eingeflossen."
    ),
    State.ZURUECKGEZOGEN: "Der Vorschlag ist zurückgezogen.",
}


@router.get("/vorschlaege", include_in_schema=False)
def proposal_list(
    request: Request,
    actor: PageActor,
    status: str = "",
    ressort: str = "",
    handlungsfeld: str = "",
    q: str = "",
    seite: str = "1",
) -> Response:
    """The proposals the person may see; staff get filters, everyone the search."""
    svc = services(request)
    filters = ListFilters.parse(status=status, ressort=ressort, handlungsfeld=handlungsfeld, q=q)
    asked = ascii_int(seite, low=1) or 1
    shown, total = search_page(svc.db, actor, filters, page=asked, per_page=PER_PAGE)
    pages = max(1, math.ceil(total / PER_PAGE))
    page = min(asked, pages)
    if page != asked:
        shown, total = search_page(svc.db, actor, filters, page=page, per_page=PER_PAGE)
    entered = (
        views.paths(svc.db, [parse_id(item["id"]) for item in shown]) if actor.role is Role.PARTNER else {}
    )
    steps = {
        item["id"]: views.steps(entered.get(parse_id(item["id"]), []), State(item["status"]))
        for item in shown
    }
    ref = load_reference()
    context = {
        "items": shown,
        "total": total,
        "page": page,
        "pages": pages,
        "filters": filters,
        "steps": steps,
        "states": list(State),
        "ressorts": list(ref.ressorts),
        "handlungsfelder": [(h.key, h.title) for h in ref.handlungsfelder.values()],
    }
    return render(request, "vorschlaege.html", context, actor=actor)


def detail_context(request: Request, actor: Actor, number: int) -> dict[str, Any]:
    """Everything the detail page shows, as the actor may see it (404 for a proposal they may not see)."""
    with services(request).db.reading_together():
        return _detail_context(request, actor, number)


def _detail_context(request: Request, actor: Actor, number: int) -> dict[str, Any]:
    svc = services(request)
    db = svc.db
    ref = visible.visible_proposal(db, actor, number)
    data = visible.redact_proposal(queries.show_proposal(db, ref.id), actor)
    permissions = visible.permissions(db, actor, ref, svc.policy, data["check"])
    history = visible.redact_history(queries.history(db, ref.id), actor)
    names = views.user_names(db)
    # Comments have their own section; in the timeline they would appear twice.
    timeline = views.timeline([e for e in history if e["event"] != "comment"], actor, names)
    status = State(data["status"])
    gated = {
        event.value: bool(svc.policy.required_roles(event, status))
        for event in (Event.RECOGNISE, Event.DECLINE)
    }
    confirmed = {c["criterion"] for c in data.get("confirmations", [])}
    return {
        "p": data,
        "ref": ref,
        "status": status,
        "final": status in FINAL_STATES,
        "permissions": permissions,
        "gated": gated,
        "timeline": timeline,
        "names": names,
        "author": _author_of(actor, views.people_by_email(db)),
        "revisions": views.revisions(db, ref.id),
        "confirmed": confirmed,
        "criteria": list(Criterion),
        "reasons": list(ReasonCode),
        "ressorts": [(r.abbreviation, r.name) for r in load_reference().ressorts.values()],
        "partner_hint": PARTNER_HINTS[status] if actor.role is Role.PARTNER else None,
        "values": {},
        "errors": [],
    }


def _author_of(actor: Actor, people: dict[str, views.Person]) -> Callable[[str | None], str]:
    def author(email: str | None) -> str:
        return views.author(email, actor, people)

    return author


@router.get("/vorschlaege/{pid}", include_in_schema=False)
def proposal_detail(pid: str, request: Request, actor: PageActor) -> Response:
    """The detail and decision page of one proposal."""
    context = detail_context(request, actor, proposal_number(pid))
    return render(request, "vorschlag.html", context, actor=actor)


@router.get("/vorschlaege/{pid}/fassungen/{number}", include_in_schema=False)
def revision_page(pid: str, number: str, request: Request, actor: PageActor) -> Response:
    """One stored revision: the document and the criteria results it had."""
    db = services(request).db
    ref = visible.visible_proposal(db, actor, proposal_number(pid))
    revision = ascii_int(number, low=1, high=99_999)
    found = views.revision(db, ref.id, revision) if revision is not None else None
    if found is None or revision is None:
        raise NotFound(f"Die Fassung {number[:10]} dieses Vorschlags gibt es nicht.")
    document, check = found
    summary = queries.show_proposal(db, ref.id)
    context = {"p": summary, "number": revision, "document": document, "check": check}
    return render(request, "fassung.html", context, actor=actor)
