"""The submission form: new proposals (``/vorschlaege/neu``) and revisions (``…/ueberarbeiten``).

Without JavaScript the buttons do everything by posting the form: „Prüfen“ re-renders it with the
criteria, „weitere Zeile“ with one more empty row, „Einreichen“ stores it. With JavaScript the rows are
added in the page and the criteria are checked live through ``POST /api/v1/check``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from partnerprojekte.errors import DomainError, ValidationError
from partnerprojekte.formats import proposal_from_document
from partnerprojekte.ids import format_id, parse_id
from partnerprojekte.model import Role, State
from partnerprojekte.proposal import OrganisationKind, Proposal, Scope, SourceKind
from partnerprojekte.reading import queries, visible
from partnerprojekte.reference import load_reference
from partnerprojekte.states.workflow import Actor
from partnerprojekte.web.deps import services
from partnerprojekte.web.pages.proposal_form import LISTS, ProposalForm
from partnerprojekte.web.pages.support import (
    SIGNED_IN_FORM,
    PageActor,
    PostedForm,
    ascii_int,
    proposal_number,
    proposal_url,
    refusal_messages,
    refusal_status,
    require_role,
    text,
)
from partnerprojekte.web.pages.templating import redirect, render
from partnerprojekte.web.wording import criterion_requirements

router = APIRouter()

REVISABLE = (State.EINGEREICHT, State.IN_BEARBEITUNG)


def _choices() -> dict[str, Any]:
    """The options of the selects, in German."""
    ref = load_reference()
    return {
        "kinds": [(k.value, k.label) for k in OrganisationKind],
        "scopes": [s.value for s in Scope],
        "source_kinds": [k.value for k in SourceKind],
        "handlungsfelder": [(h.key, h.title) for h in ref.handlungsfelder.values()],
        "themenforen": [(f.number, f"{f.number}: {f.title}") for f in ref.themenforen.values()],
        "ressorts": [(r.abbreviation, f"{r.abbreviation} – {r.name}") for r in ref.ressorts.values()],
        "lists": LISTS,
    }


def _page(
    request: Request,
    actor: Actor,
    form: ProposalForm,
    *,
    mode: str,
    check: dict[str, Any] | None = None,
    proposal: dict[str, Any] | None = None,
    status: int = 200,
    errors: list[str] | None = None,
) -> Response:
    context = {
        **_choices(),
        "form": form,
        "mode": mode,
        "check": check,
        "proposal": proposal,
        "errors": errors or [],
        "thresholds": services(request).settings.criteria,
        "requirements": criterion_requirements(services(request).settings.criteria),
    }
    return render(request, "vorschlag_formular.html", context, status=status, actor=actor)


def _validate(form: ProposalForm) -> Proposal | None:
    """The proposal of the form, or None with the errors attached to the form."""
    doc, row_map = form.to_document()
    try:
        return proposal_from_document(doc)
    except ValidationError as exc:
        form.set_errors(exc.errors, row_map)
        return None


def _other_action(
    request: Request,
    actor: Actor,
    form: ProposalForm,
    action: str,
    *,
    mode: str,
    proposal: dict[str, Any] | None,
) -> Response:
    """„weitere Zeile“ or „Prüfen“: re-render the form (the check only for a valid form)."""
    if action.startswith("zeile:"):
        form.add_row(action.removeprefix("zeile:"))
        return _page(request, actor, form, mode=mode, proposal=proposal)
    parsed = _validate(form)
    check = services(request).check(parsed).to_json() if parsed is not None else None
    status = 200 if parsed is not None else 422
    return _page(request, actor, form, mode=mode, check=check, proposal=proposal, status=status)


@router.get("/vorschlaege/neu", include_in_schema=False)
def new_form(request: Request, actor: PageActor) -> Response:
    """An empty submission form (the partner's organisation and contact filled in)."""
    require_role(actor, Role.PARTNER, Role.ARBEITSSTAB)
    return _page(request, actor, ProposalForm.blank(actor), mode="neu")


@router.post("/vorschlaege/neu", include_in_schema=False, dependencies=SIGNED_IN_FORM)
def new_post(request: Request, actor: PageActor, data: PostedForm) -> Response:
    """Check, add a row, or submit."""
    require_role(actor, Role.PARTNER, Role.ARBEITSSTAB)
    form, action = ProposalForm.from_form(data), text(data, "aktion")
    if action != "einreichen":
        return _other_action(request, actor, form, action, mode="neu", proposal=None)
    parsed = _validate(form)
    if parsed is None:
        return _page(request, actor, form, mode="neu", status=422)
    try:
        outcome = services(request).submit(parsed, actor.email)
    except DomainError as exc:
        check = services(request).check(parsed).to_json()
        return _page(
            request,
            actor,
            form,
            mode="neu",
            check=check,
            status=refusal_status(exc),
            errors=refusal_messages(exc),
        )
    pid = format_id(outcome.proposal_id)
    return redirect(
        request,
        proposal_url(outcome.proposal_id),
        f"Ihr Vorschlag {pid} ist eingereicht. Der Arbeitsstab Ruhr-Konferenz greift ihn auf.",
    )


def _revisable(request: Request, actor: Actor, pid: str) -> dict[str, Any]:
    """The proposal to revise, if the actor may see it (else 404) and revise it (else 403)."""
    db = services(request).db
    # Visibility first, as in the API: whoever may not see it learns nothing, not even a 403.
    ref = visible.visible_proposal(db, actor, proposal_number(pid))
    require_role(actor, Role.PARTNER, Role.ARBEITSSTAB)
    return queries.show_proposal(db, ref.id)


def _not_revisable(request: Request, proposal: dict[str, Any]) -> Response | None:
    status = State(proposal["status"])
    if status in REVISABLE:
        return None
    message = (
        f"{proposal['id']} ist „{status.label}“: Überarbeiten ist nur möglich, solange ein Vorschlag "
        "„eingereicht“ oder „in Bearbeitung“ ist."
    )
    return redirect(request, proposal_url(parse_id(proposal["id"])), message, kind="hinweis")


@router.get("/vorschlaege/{pid}/ueberarbeiten", include_in_schema=False)
def revise_form(pid: str, request: Request, actor: PageActor) -> Response:
    """The form filled with the current revision."""
    proposal = _revisable(request, actor, pid)
    refused = _not_revisable(request, proposal)
    if refused is not None:
        return refused
    form = ProposalForm.from_document(proposal["document"])
    form.values["version"] = str(proposal["version"])
    return _page(request, actor, form, mode="ueberarbeiten", check=proposal["check"], proposal=proposal)


@router.post("/vorschlaege/{pid}/ueberarbeiten", include_in_schema=False, dependencies=SIGNED_IN_FORM)
def revise_post(pid: str, request: Request, actor: PageActor, data: PostedForm) -> Response:
    """Check, add a row, or store the new revision."""
    proposal = _revisable(request, actor, pid)
    form, action = ProposalForm.from_form(data), text(data, "aktion")
    version = text(data, "version")
    form.values["version"] = version
    if action != "speichern":
        return _other_action(request, actor, form, action, mode="ueberarbeiten", proposal=proposal)
    parsed = _validate(form)
    if parsed is None:
        return _page(request, actor, form, mode="ueberarbeiten", proposal=proposal, status=422)
    number = parse_id(proposal["id"])
    try:
        services(request).revise(number, parsed, actor.email, expected_version=ascii_int(version, low=1))
    except DomainError as exc:
        check = services(request).check(parsed).to_json()
        return _page(
            request,
            actor,
            form,
            mode="ueberarbeiten",
            check=check,
            proposal=proposal,
            status=refusal_status(exc),
            errors=refusal_messages(exc),
        )
    return redirect(
        request,
        proposal_url(number),
        f"Die überarbeitete Fassung von {proposal['id']} ist gespeichert; die Kriterien sind neu geprüft.",
    )
