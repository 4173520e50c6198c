"""The actions on a proposal: every one a POST with CSRF token, then 303 with a German message.

A refusal of the workflow (wrong state, missing input, a guard, the role) re-renders the detail page
with the reason and the typed text kept: 422 for missing or wrong input, 409 for state, guard and
conflicts, 403 for the role. A proposal the person may not see is 404, as if it did not exist.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from partnerprojekte.errors import DomainError, NotFound, ValidationError
from partnerprojekte.ids import format_id
from partnerprojekte.model import Action, Criterion, Event, ReasonCode, Visibility
from partnerprojekte.reading import visible
from partnerprojekte.reading.visible import ProposalRef
from partnerprojekte.services import Outcome, Services
from partnerprojekte.states.workflow import Actor, EventInput, default_visibility, roles_for
from partnerprojekte.web.deps import services
from partnerprojekte.web.pages.proposals import detail_context
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
    texts,
)
from partnerprojekte.web.pages.templating import redirect, render
from partnerprojekte.web.wording import event_name, role_label

router = APIRouter()

# An action: (services, proposal, actor, form) -> the German message for the next page.
Perform = Callable[[Services, ProposalRef, Actor, FormData], str]


def _version(form: FormData) -> int | None:
    return ascii_int(text(form, "version"), low=1)


def _visibility(form: FormData, default: Visibility) -> Visibility:
    try:
        return Visibility(text(form, "visibility"))
    except ValueError:
        return default


def _reasons(form: FormData) -> tuple[ReasonCode, ...]:
    found = []
    for value in texts(form, "reasons"):
        try:
            found.append(ReasonCode(value))
        except ValueError:
            raise ValidationError(f"Unbekannter Grund „{value[:40]}“.") from None
    return tuple(found)


def outcome_message(outcome: Outcome) -> str:
    """What happened, in German: the new state, or whose approval is still missing."""
    pid = format_id(outcome.proposal_id)
    if not outcome.fired:
        missing = [r for p in outcome.pending_approvals for r in p.get("missing_roles", [])]
        owed = " und ".join(role_label(r) for r in missing) or "niemandem"
        return (
            f"Ihre Zustimmung zu „{event_name(outcome.event)}“ für {pid} ist gespeichert. "
            f"Es fehlt noch die Zustimmung: {owed}."
        )
    if outcome.event == Event.RECOGNISE.value:
        return f"{pid} ist als Partnerprojekt der Ruhr-Konferenz anerkannt."
    return f"{pid}: „{event_name(outcome.event)}“ ist erledigt – Status jetzt „{outcome.status.label}“."


def _transition(event: Event, *, default_visibility: Visibility | None = None) -> Perform:
    def perform(svc: Services, ref: ProposalRef, actor: Actor, form: FormData) -> str:
        comment = text(form, "comment") or None
        visibility = _visibility(form, default_visibility) if default_visibility else None
        if event is Event.REQUEST_CHANGES:
            # The comment tells the partner what to change: it is always theirs to read.
            visibility = Visibility.PARTNER
        inp = EventInput(
            comment=comment,
            visibility=visibility,
            reasons=_reasons(form),
            saeule_1_projekt=text(form, "saeule_1_projekt") or None,
        )
        outcome = svc.transition(ref.id, event, actor.email, inp, expected_version=_version(form))
        return outcome_message(outcome)

    return perform


def _assign(svc: Services, ref: ProposalRef, actor: Actor, form: FormData) -> str:
    ressort = text(form, "ressort")
    if not ressort:
        raise ValidationError("Bitte ein Ressort auswählen.")
    svc.assign_ressort(ref.id, ressort, actor.email)
    return f"{format_id(ref.id)}: Zuständig ist jetzt das Ressort {ressort}."


def _confirm(svc: Services, ref: ProposalRef, actor: Actor, form: FormData) -> str:
    try:
        criterion = Criterion(text(form, "criterion"))
    except ValueError:
        raise ValidationError("Unbekanntes Kriterium.") from None
    svc.confirm(ref.id, criterion, actor.email, text(form, "comment") or None)
    return f"Kriterium „{criterion.label}“ ist für die aktuelle Fassung bestätigt."


def _comment(svc: Services, ref: ProposalRef, actor: Actor, form: FormData) -> str:
    visibility = _visibility(form, default_visibility(None, actor))
    svc.comment(ref.id, actor.email, text(form, "text"), visibility)
    return "Ihr Kommentar ist gespeichert."


def _withdraw_approval(svc: Services, ref: ProposalRef, actor: Actor, form: FormData) -> str:
    try:
        event = Event(text(form, "event"))
    except ValueError:
        raise ValidationError("Unbekanntes Ereignis.") from None
    svc.withdraw_approval(ref.id, event, actor.email)
    return f"Ihre Zustimmung zu „{event_name(event.value)}“ ist zurückgenommen."


# German path -> (what it does, the event or action whose roles may try it: ``roles_for``).
ACTIONS: dict[str, tuple[Perform, Event | Action]] = {
    "aufgreifen": (_transition(Event.TAKE_UP), Event.TAKE_UP),
    "ressort": (_assign, Action.ASSIGN_RESSORT),
    "abstimmung": (_transition(Event.START_COORDINATION), Event.START_COORDINATION),
    "aenderungen": (_transition(Event.REQUEST_CHANGES), Event.REQUEST_CHANGES),
    "anerkennen": (_transition(Event.RECOGNISE), Event.RECOGNISE),
    "nicht-weiterverfolgen": (
        _transition(Event.DECLINE, default_visibility=Visibility.PARTNER),
        Event.DECLINE,
    ),
    "saeule-1": (
        _transition(Event.INTEGRATE_INTO_PILLAR_1, default_visibility=Visibility.PARTNER),
        Event.INTEGRATE_INTO_PILLAR_1,
    ),
    "wieder-aufnehmen": (_transition(Event.REOPEN, default_visibility=Visibility.PARTNER), Event.REOPEN),
    "zurueckziehen": (_transition(Event.WITHDRAW), Event.WITHDRAW),
    "zustimmung-zuruecknehmen": (_withdraw_approval, Action.WITHDRAW_APPROVAL),
    "bestaetigen": (_confirm, Action.CONFIRM_CRITERION),
    "kommentare": (_comment, Action.COMMENT),
}


def _refused(
    request: Request, actor: Actor, number: int, name: str, form: FormData, exc: DomainError
) -> Response:
    context = detail_context(request, actor, number)
    # The typed text stays in the form that was sent, so that nothing has to be written twice.
    values: dict[str, Any] = {key: form.get(key) for key in form if key != "csrf_token"}
    values["reasons"] = texts(form, "reasons")
    context.update(values={name: values}, errors=refusal_messages(exc), failed_action=name)
    return render(request, "vorschlag.html", context, status=refusal_status(exc), actor=actor)


@router.post("/vorschlaege/{pid}/{action}", include_in_schema=False, dependencies=SIGNED_IN_FORM)
def act(pid: str, action: str, request: Request, actor: PageActor, form: PostedForm) -> Response:
    """Perform one action on a proposal and go back to its page."""
    number = proposal_number(pid)
    svc = services(request)
    ref = visible.visible_proposal(svc.db, actor, number)
    found = ACTIONS.get(action)
    if found is None:
        raise NotFound("Diese Aktion gibt es nicht.")
    perform, what = found
    require_role(actor, *roles_for(what, svc.policy))
    try:
        message = perform(svc, ref, actor, form)
    except DomainError as exc:
        return _refused(request, actor, number, action, form, exc)
    return redirect(request, proposal_url(number), message)


@router.get("/vorschlaege/{pid}/zurueckziehen", include_in_schema=False)
def withdraw_confirm(pid: str, request: Request, actor: PageActor) -> Response:
    """The confirmation step before a proposal is withdrawn (it cannot be undone)."""
    context = detail_context(request, actor, proposal_number(pid))
    require_role(actor, *roles_for(Event.WITHDRAW, services(request).policy))
    return render(request, "zurueckziehen.html", context, actor=actor)


@router.get("/vorschlaege/{pid}/{action}", include_in_schema=False)
def action_by_get(pid: str, action: str) -> Response:
    """An action's address opened as a page (e.g. after logging in again): its proposal's page instead."""
    if action not in ACTIONS:
        raise NotFound("Diese Seite gibt es nicht.")
    return RedirectResponse(proposal_url(proposal_number(pid)), status_code=303)
