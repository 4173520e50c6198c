"""The JSON API ``/api/v1`` over the same use cases as the command line, every request checked against
the roles of docs/process.md.

Order of checks on every proposal route: authenticated (401) → may see the proposal (404, the same
answer as for a missing one) → the role may ever do this (403) → the body is valid (422) → the workflow
decides (403 for a role or affiliation it refuses, 409 for state, input, guard or approval).

Decisions where the spec is silent:
- ``check`` needs a login (any role): it stores nothing, but costs CPU and is no public service.
- A partner's view of a proposal has no pending approvals, no criterion confirmations and no internal
  comments; its history has no ``approve``/``withdraw_approval``/``confirm_criterion`` entries and
  internal comment text is removed (``redacted: true``): partners learn decisions, not deliberation.
- ``report``: Arbeitsstab and admin get the whole *Stand*; a Ressort reviewer gets the numbers of the
  proposals their Ressort was responsible for (``scope``), as in their weekly digest; partners get 403.
- Proposals are sent as JSON (``application/json``) or YAML (``application/yaml``) in the format of
  docs/proposal-format.md.

Longer than 400 lines on purpose: the whole /api/v1 surface (routes, gates, response shapes) in one
router, read top to bottom like its OpenAPI document; the work itself is in services and reading.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Final
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Body, Depends, FastAPI, Path, Query, Request, Response
from fastapi.openapi.utils import get_openapi

from partnerprojekte.errors import FieldError, NotFound, ValidationError
from partnerprojekte.formats import load_document, proposal_from_document
from partnerprojekte.ids import format_id, parse_id
from partnerprojekte.model import Action, Event, Role, State, event_label
from partnerprojekte.proposal import HandlungsfeldKey, Proposal
from partnerprojekte.reading import listing, queries, visible
from partnerprojekte.reading.listing import ListQuery
from partnerprojekte.reading.visible import ProposalRef
from partnerprojekte.reference import load_reference
from partnerprojekte.states.workflow import (
    Actor,
    EventInput,
    comment_visibilities,
    default_visibility,
    roles_for,
)
from partnerprojekte.web.api import reports as reports_api
from partnerprojekte.web.api.schemas import (
    CheckOut,
    CommentBody,
    ConfirmationBody,
    ErrorOut,
    EventBody,
    HistoryEntryOut,
    LoginBody,
    MeOut,
    OutcomeOut,
    ProposalOut,
    ProposalPageOut,
    ReportOut,
    RessortBody,
    SubmitOut,
    TransitionEvent,
)
from partnerprojekte.web.auth.security import end_session, session_cookie_name
from partnerprojekte.web.deps import (
    authentication,
    database,
    finish_login,
    password_login,
    require_actor,
    require_api_csrf,
    services,
    settings,
)
from partnerprojekte.web.errors import Forbidden, UnsupportedMediaType

DESCRIPTION = """\
Programmierschnittstelle für die Qualifizierung der Partnerprojekte der Ruhr-Konferenz.

Anmeldung mit einem API-Token (`Authorization: Bearer pp_…`, erstellt mit
`partnerprojekte users token create`) oder mit der Sitzung des Browsers (`POST /api/v1/session`);
dann braucht jede ändernde Anfrage die Kopfzeile `X-CSRF-Token` mit dem Wert aus `GET /api/v1/me`.

Fehler haben stets die Form `{"error": {"message": "…", "kind": "…"}}` mit einer deutschen Meldung;
ungültige Eingaben nennen zusätzlich den Pfad jedes Feldes (`fields`). Einen Vorschlag, den Sie nicht
sehen dürfen, beantwortet die Schnittstelle genau wie einen, den es nicht gibt (404).
"""

_ERRORS: Final[dict[int | str, dict[str, Any]]] = {
    401: {"model": ErrorOut, "description": "Nicht angemeldet"},
    403: {"model": ErrorOut, "description": "Keine Berechtigung"},
    404: {"model": ErrorOut, "description": "Nicht gefunden oder nicht sichtbar"},
    409: {"model": ErrorOut, "description": "Vom Verfahren abgelehnt oder Konflikt"},
    422: {"model": ErrorOut, "description": "Ungültige Eingabe (mit Feldpfaden)"},
}
_JSON_TYPES = frozenset({"application/json"})
_YAML_TYPES = frozenset({"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"})
_PROPOSAL_SCHEMA = {"$ref": "#/components/schemas/Proposal"}
_PROPOSAL_BODY: Final[dict[str, Any]] = {
    "requestBody": {
        "required": True,
        "description": "Ein Vorschlag im Einreichungsformat (JSON oder YAML), siehe Schema „Proposal“.",
        "content": {"application/json": {"schema": _PROPOSAL_SCHEMA}},
    }
}

# Every route but the login checks the CSRF token of cookie sessions. The login is exempt: it takes
# JSON only, which another site cannot send without CORS, and a stale tab must be able to log in again.
_login_router = APIRouter(responses=_ERRORS)
_protected = APIRouter(dependencies=[Depends(require_api_csrf)], responses=_ERRORS)

ActorDep = Annotated[Actor, Depends(require_actor)]


# --- plumbing ------------------------------------------------------------------------------------


ProposalIdPath = Annotated[
    str, Path(description="Vorschlags-ID, z. B. PP-0001", examples=["PP-0001"], max_length=40)
]


def _visible(proposal_id: ProposalIdPath, request: Request, actor: ActorDep) -> ProposalRef:
    """The proposal of the path if the caller may see it; else 404 exactly as for a missing one."""
    return visible.visible_proposal(database(request), actor, parse_id(proposal_id))


VisibleDep = Annotated[ProposalRef, Depends(_visible)]


def _require_role(actor: Actor, roles: tuple[Role, ...], what: str) -> None:
    """403 unless the role may ever do this; the workflow checks state, affiliation and input later."""
    if actor.role in roles:
        return
    if actor.role is Role.ADMIN:
        raise Forbidden(f"{what}: Die Administration trifft keine Entscheidungen im Verfahren.")
    allowed = " oder ".join(r.label for r in roles)
    raise Forbidden(f"{what} ist nur für {allowed} erlaubt; Sie sind als {actor.role.label} angemeldet.")


def _may_fire(request: Request, actor: ActorDep, event: TransitionEvent) -> None:
    """403 unless the role may fire or approve this event in some state."""
    what = Event(event.value)
    _require_role(actor, roles_for(what, services(request).policy), event_label(what))


def _may_approve(request: Request, actor: ActorDep) -> None:
    """403 unless the role gives approvals at all (only then can it withdraw one)."""
    _require_role(
        actor, roles_for(Action.WITHDRAW_APPROVAL, services(request).policy), "Zustimmung zurücknehmen"
    )


def _may_submit(request: Request, actor: ActorDep) -> None:
    """403 unless the role may submit proposals."""
    _require_role(actor, roles_for(Event.SUBMIT, services(request).policy), "Einreichen (submit)")


def _may_revise(request: Request, actor: ActorDep) -> None:
    """403 unless the role may revise proposals."""
    _require_role(actor, roles_for(Event.REVISE, services(request).policy), "Überarbeiten (revise)")


def _may_do(action: Action, what: str) -> Any:
    """A dependency that refuses (403) the roles the action table does not name for ``action``."""

    def gate(request: Request, actor: ActorDep) -> None:
        _require_role(actor, roles_for(action, services(request).policy), what)

    return Depends(gate)


async def _proposal_body(request: Request) -> Proposal:
    """The proposal document of the body (JSON or YAML), read up to the configured size limit."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in _JSON_TYPES | _YAML_TYPES and not media.endswith("+json"):
        raise UnsupportedMediaType(
            "Der Vorschlag ist als JSON (Content-Type: application/json) oder YAML "
            "(Content-Type: application/yaml) zu senden."
        )
    limit = settings(request).max_proposal_bytes
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > limit:
            break  # one byte more than allowed is enough for formats to name the limit
    # proposal_from_document refuses control characters (JSON's escapes pass the parser).
    return proposal_from_document(load_document(bytes(data), max_bytes=limit))


ProposalDep = Annotated[Proposal, Depends(_proposal_body)]


def _me(actor: Actor, via: str, csrf: str | None) -> MeOut:
    return MeOut(
        email=actor.email,
        name=actor.name,
        role=actor.role,
        role_label=actor.role.label,
        ressort=actor.ressort,
        organisation=actor.organisation,
        auth=via,
        csrf_token=csrf,
    )


# --- session -------------------------------------------------------------------------------------


@_login_router.post("/session", response_model=MeOut, openapi_extra={"security": []}, tags=["Anmeldung"])
def login(body: LoginBody, request: Request, response: Response) -> MeOut:
    """Mit E-Mail und Passwort anmelden: setzt das Sitzungs-Cookie und liefert die Person mit CSRF-Token."""
    actor = password_login(request, body.email, body.password)
    csrf = finish_login(request, actor, response)
    return _me(actor, "session", csrf)


@_protected.delete("/session", status_code=204, tags=["Anmeldung"])
def logout(request: Request, response: Response) -> None:
    """Abmelden: beendet die Sitzung und löscht das Cookie (auch ohne Sitzung erfolgreich)."""
    end_session(database(request), request, response)


@_protected.get("/me", response_model=MeOut, tags=["Anmeldung"])
def me(request: Request, actor: ActorDep) -> MeOut:
    """Die angemeldete Person mit Rolle, Ressort bzw. Organisation."""
    auth = authentication(request)
    return _me(actor, auth.via or "", auth.session.csrf_token if auth.session else None)


# --- proposals -----------------------------------------------------------------------------------


@_protected.post("/check", response_model=CheckOut, openapi_extra=_PROPOSAL_BODY, tags=["Vorschläge"])
def check(request: Request, actor: ActorDep, proposal: ProposalDep) -> dict[str, Any]:
    """Die vier Kriterien für einen Vorschlag prüfen; speichert nichts."""
    return services(request).check(proposal).to_json()


@_protected.post(
    "/proposals",
    status_code=201,
    response_model=SubmitOut,
    openapi_extra=_PROPOSAL_BODY,
    tags=["Vorschläge"],
)
def submit(
    request: Request,
    response: Response,
    actor: ActorDep,
    allowed: Annotated[None, Depends(_may_submit)],
    proposal: ProposalDep,
) -> dict[str, Any]:
    """Einen Vorschlag einreichen (Partner für die eigene Organisation, Arbeitsstab in deren Auftrag)."""
    outcome = services(request).submit(proposal, actor.email)
    pid = format_id(outcome.proposal_id)
    response.headers["Location"] = f"{request.url.path.rstrip('/')}/{pid}"
    return outcome.to_json()


@_protected.get("/proposals", response_model=ProposalPageOut, tags=["Vorschläge"])
def list_proposals(
    request: Request,
    actor: ActorDep,
    status: Annotated[State | None, Query(description="Status")] = None,
    ressort: Annotated[str | None, Query(max_length=32, description="zuständiges Ressort")] = None,
    handlungsfeld: Annotated[HandlungsfeldKey | None, Query()] = None,
    q: Annotated[
        str | None,
        Query(
            max_length=200,
            pattern=r"^[^\x00-\x1f\x7f]*$",
            description="Suche in Nummer, Titel, Organisation und allen Texten der aktuellen Fassung",
        ),
    ] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    """Die Vorschläge, die Sie sehen dürfen, gefiltert und seitenweise (älteste zuerst)."""
    abk = None
    if ressort is not None and ressort.strip():
        found = load_reference().find_ressort(ressort)
        if found is None:
            known = ", ".join(load_reference().ressorts)
            raise ValidationError(
                FieldError("query.ressort", f"unbekanntes Ressort „{ressort}“ – bekannt: {known}")
            )
        abk = found.abbreviation
    query = ListQuery.search(q, status=status, ressort=abk, handlungsfeld=handlungsfeld)
    items, total = listing.page(database(request), query, actor, number=page, per_page=per_page)
    return {"items": items, "total": total, "page": page, "per_page": per_page}


@_protected.get("/proposals/{proposal_id}", response_model=ProposalOut, tags=["Vorschläge"])
def show(request: Request, actor: ActorDep, ref: VisibleDep) -> dict[str, Any]:
    """Ein Vorschlag mit Kriterien, Zuständigkeit, Zustimmungen und den Kommentaren, die Sie lesen dürfen."""
    db = database(request)
    data = visible.redact_proposal(queries.show_proposal(db, ref.id), actor)
    data["permissions"] = visible.permissions(db, actor, ref, services(request).policy, data["check"])
    return data


@_protected.put(
    "/proposals/{proposal_id}", response_model=OutcomeOut, openapi_extra=_PROPOSAL_BODY, tags=["Vorschläge"]
)
def revise(
    request: Request,
    actor: ActorDep,
    ref: VisibleDep,
    allowed: Annotated[None, Depends(_may_revise)],
    proposal: ProposalDep,
    expected_version: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> dict[str, Any]:
    """Eine neue Fassung einreichen (solange „eingereicht“ oder „in Bearbeitung“)."""
    return (
        services(request).revise(ref.id, proposal, actor.email, expected_version=expected_version).to_json()
    )


@_protected.get("/proposals/{proposal_id}/history", response_model=list[HistoryEntryOut], tags=["Vorschläge"])
def history(request: Request, actor: ActorDep, ref: VisibleDep) -> list[dict[str, Any]]:
    """Das Protokoll des Vorschlags (für Partner ohne interne Schritte und interne Kommentare)."""
    return visible.redact_history(queries.history(database(request), ref.id), actor)


# --- events and actions --------------------------------------------------------------------------


@_protected.post("/proposals/{proposal_id}/events/{event}", response_model=OutcomeOut, tags=["Verfahren"])
def fire_event(
    request: Request,
    actor: ActorDep,
    ref: VisibleDep,
    allowed: Annotated[None, Depends(_may_fire)],
    event: TransitionEvent,
    body: Annotated[EventBody | None, Body()] = None,
) -> dict[str, Any]:
    """Ein Ereignis auslösen; bei zustimmungspflichtigen Ereignissen wird die Zustimmung gespeichert."""
    what = Event(event.value)
    body = body or EventBody()
    inp = EventInput(
        comment=body.comment,
        visibility=body.visibility,
        reasons=tuple(body.reasons),
        saeule_1_projekt=body.saeule_1_projekt,
    )
    outcome = services(request).transition(
        ref.id, what, actor.email, inp, expected_version=body.expected_version
    )
    return outcome.to_json()


@_protected.delete(
    "/proposals/{proposal_id}/approvals/{event}", response_model=OutcomeOut, tags=["Verfahren"]
)
def withdraw_approval(
    request: Request,
    actor: ActorDep,
    ref: VisibleDep,
    allowed: Annotated[None, Depends(_may_approve)],
    event: TransitionEvent,
) -> dict[str, Any]:
    """Die eigene, noch offene Zustimmung zurücknehmen."""
    return services(request).withdraw_approval(ref.id, Event(event.value), actor.email).to_json()


@_protected.put("/proposals/{proposal_id}/ressort", response_model=OutcomeOut, tags=["Verfahren"])
def assign_ressort(
    request: Request,
    actor: ActorDep,
    ref: VisibleDep,
    allowed: Annotated[None, _may_do(Action.ASSIGN_RESSORT, "Ressort zuordnen (assign_ressort)")],
    body: RessortBody,
) -> dict[str, Any]:
    """Das zuständige Ressort zuordnen (Arbeitsstab)."""
    try:
        abk = load_reference().ressort(body.ressort).abbreviation
    except NotFound as exc:
        # An unknown abbreviation is a wrong field value, not a missing resource.
        raise ValidationError(FieldError("ressort", str(exc))) from None
    return services(request).assign_ressort(ref.id, abk, actor.email).to_json()


@_protected.post(
    "/proposals/{proposal_id}/confirmations", status_code=201, response_model=OutcomeOut, tags=["Verfahren"]
)
def confirm(
    request: Request,
    actor: ActorDep,
    ref: VisibleDep,
    allowed: Annotated[None, _may_do(Action.CONFIRM_CRITERION, "Kriterium bestätigen (confirm_criterion)")],
    body: ConfirmationBody,
) -> dict[str, Any]:
    """Ein Kriterium „zu prüfen“ mit schriftlicher Begründung bestätigen (Ressort)."""
    return services(request).confirm(ref.id, body.criterion, actor.email, body.comment).to_json()


@_protected.post(
    "/proposals/{proposal_id}/comments", status_code=201, response_model=OutcomeOut, tags=["Verfahren"]
)
def comment(
    request: Request,
    actor: ActorDep,
    ref: VisibleDep,
    allowed: Annotated[None, _may_do(Action.COMMENT, "Kommentieren")],
    body: CommentBody,
) -> dict[str, Any]:
    """Einen Kommentar schreiben: intern (Arbeitsstab und Ressort) oder für den Partner."""
    if body.visibility is not None and body.visibility not in comment_visibilities(actor):
        # Refused rather than quietly made visible: the partner asked for something they cannot have.
        raise Forbidden(
            "Kommentieren: Interne Kommentare sind Arbeitsstab und Ressorts vorbehalten; "
            "Ihre Kommentare lesen alle Beteiligten (visibility „partner“)."
        )
    visibility = body.visibility or default_visibility(None, actor)
    return services(request).comment(ref.id, actor.email, body.text, visibility).to_json()


# --- report --------------------------------------------------------------------------------------


@_protected.get("/report", response_model=ReportOut, tags=["Bericht"])
def report(
    request: Request,
    actor: ActorDep,
    as_of: Annotated[dt.date | None, Query(description="Stichtag JJJJ-MM-TT (Ende des Tages)")] = None,
) -> dict[str, Any]:
    """Der Stand Partnerprojekte (Ressorts: die Vorschläge in ihrer Zuständigkeit)."""
    _require_role(actor, (Role.ARBEITSSTAB, Role.ADMIN, Role.RESSORT), "Der Stand Partnerprojekte")
    svc = services(request)
    tz = svc.settings.timezone
    today = svc.db.clock().astimezone(ZoneInfo(tz)).date()
    if as_of is not None and as_of > today:
        raise ValidationError(
            FieldError(
                "query.as_of", f"{as_of.isoformat()} liegt in der Zukunft; spätestens {today.isoformat()}"
            )
        )
    if actor.role is Role.RESSORT:
        assert actor.ressort is not None
        return visible.ressort_report(svc.db, actor.ressort, as_of=as_of, tz=tz)
    return queries.report(svc.db, as_of=as_of, tz=tz)


router = APIRouter()
router.include_router(_login_router)
router.include_router(_protected)
router.include_router(reports_api.router, responses=_ERRORS)


# --- OpenAPI -------------------------------------------------------------------------------------


def install_openapi(app: FastAPI) -> None:
    """The OpenAPI document of the API routes, with the proposal format and both ways to log in."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        # Only the API is described; pages are for browsers, not for integrations.
        schema["paths"] = {p: v for p, v in schema.get("paths", {}).items() if p.startswith("/api/")}
        components = schema.setdefault("components", {})
        schemas = components.setdefault("schemas", {})
        proposal = Proposal.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(proposal.pop("$defs", {}))
        schemas["Proposal"] = proposal
        components["securitySchemes"] = {
            "bearer": {"type": "http", "scheme": "bearer", "description": "API-Token (pp_…)"},
            "session": {"type": "apiKey", "in": "cookie", "name": session_cookie_name(app.state.settings)},
        }
        schema["security"] = [{"bearer": []}, {"session": []}]
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
