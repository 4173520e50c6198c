"""The administration page: people and their roles (list, add, change a role, deactivate, send a link).

No password field anywhere: a person chooses their own through the link mailed to them.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response

from partnerprojekte.errors import DomainError, ValidationError
from partnerprojekte.model import Role
from partnerprojekte.reference import load_reference
from partnerprojekte.states.workflow import Actor
from partnerprojekte.web.auth import people
from partnerprojekte.web.deps import services
from partnerprojekte.web.pages.support import (
    SIGNED_IN_FORM,
    PageActor,
    PostedForm,
    refusal_messages,
    require_role,
    text,
)
from partnerprojekte.web.pages.templating import redirect, render
from partnerprojekte.web.wording import page_message

router = APIRouter()

PATH = "/verwaltung/personen"
# A user id of the path: ASCII digits, within the database's integer (else 422, never a 500).
UserId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Personen-Nr.")]


def _page(
    request: Request, actor: Actor, values: dict[str, str], errors: list[str], status: int = 200
) -> Response:
    ref = load_reference()
    context: dict[str, Any] = {
        "people": people.people(services(request)),
        "roles": list(Role),
        "ressorts": [(r.abbreviation, r.name) for r in ref.ressorts.values()],
        "values": values,
        "errors": errors,
    }
    return render(request, "personen.html", context, status=status, actor=actor)


@router.get(PATH, include_in_schema=False)
def people_page(request: Request, actor: PageActor) -> Response:
    """Everyone with role, Ressort and organisation, and the form to add a person."""
    require_role(actor, Role.ADMIN)
    return _page(request, actor, {}, [])


@router.post(PATH, include_in_schema=False, dependencies=SIGNED_IN_FORM)
def add_person(request: Request, actor: PageActor, form: PostedForm) -> Response:
    """Add a person and mail them their activation link; what is wrong is shown at the form."""
    require_role(actor, Role.ADMIN)
    values = {k: text(form, k) for k in ("email", "name", "role", "ressort", "organisation")}
    try:
        role = Role(values["role"])
    except ValueError:
        return _page(request, actor, values, ["Bitte eine Rolle auswählen."], status=422)
    try:
        user = people.add_person(
            services(request),
            values["email"],
            values["name"],
            role,
            # Only a reviewer belongs to a Ressort, only a partner to an organisation: the other select
            # may still hold a value from an earlier choice of role.
            ressort=(values["ressort"] or None) if role is Role.RESSORT else None,
            organisation=(values["organisation"] or None) if role is Role.PARTNER else None,
            by=actor.user_id,
        )
    except DomainError as exc:
        return _page(request, actor, values, refusal_messages(exc), status=422)
    return redirect(
        request,
        PATH,
        f"{user.name} ({user.email}) ist als {user.role.label} angelegt; der Aktivierungslink geht per "
        "E-Mail an sie, ihr Passwort wählt sie selbst.",
    )


@router.post(PATH + "/{user_id}/rolle", include_in_schema=False, dependencies=SIGNED_IN_FORM)
def change_role(user_id: UserId, request: Request, actor: PageActor, form: PostedForm) -> Response:
    """Give a person another role or Ressort; their pending approvals are withdrawn (audited, mailed)."""
    require_role(actor, Role.ADMIN)
    values = {k: text(form, k) for k in ("role", "ressort", "organisation")}
    try:
        role = Role(values["role"])
    except ValueError:
        return redirect(request, PATH, "Rolle: Bitte eine Rolle auswählen.", kind="hinweis")
    try:
        user, withdrawn = people.change_role(
            services(request),
            user_id,
            role,
            ressort=values["ressort"] if role is Role.RESSORT else None,
            organisation=values["organisation"] if role is Role.PARTNER else None,
            by=actor.user_id,
        )
    except DomainError as exc:
        return redirect(request, PATH, page_message(exc), kind="hinweis")
    where = f" ({user.ressort})" if user.ressort else ""
    gone = f"; offene Zustimmungen zu {withdrawn} Vorschlag/Vorschlägen zurückgenommen" if withdrawn else ""
    return redirect(
        request,
        PATH,
        f"{user.name} ({user.email}) ist jetzt {user.role.label}{where}{gone}. Sie meldet sich neu an.",
    )


@router.post(PATH + "/{user_id}/{action}", include_in_schema=False, dependencies=SIGNED_IN_FORM)
def set_active(user_id: UserId, action: str, request: Request, actor: PageActor) -> Response:
    """Deactivate (``deaktivieren``) a person, or mail them an activation link (``aktivieren`` for a
    deactivated person, ``link`` for a first login or a new password)."""
    require_role(actor, Role.ADMIN)
    if action not in ("deaktivieren", "aktivieren", "link"):
        raise ValidationError("Unbekannte Aktion.")
    try:
        if action == "deaktivieren":
            user = people.set_active(services(request), user_id, False, by=actor.user_id)
        else:
            user, purpose = people.send_link(services(request), user_id, by=actor.user_id)
    except DomainError as exc:
        return redirect(request, PATH, page_message(exc), kind="hinweis")
    if action == "deaktivieren":
        done = "deaktiviert; ihre Sitzungen sind beendet, ihre API-Tokens widerrufen"
        return redirect(request, PATH, f"{user.name} ({user.email}) ist {done}.")
    what = (
        "wieder aktiv, sobald sie ihn benutzt" if purpose == "reactivate" else "damit wählt sie ihr Passwort"
    )
    return redirect(request, PATH, f"Aktivierungslink an {user.name} ({user.email}) verschickt; {what}.")


@router.get(PATH + "/{user_id}/{action}", include_in_schema=False)
def action_by_get(user_id: str, action: str) -> Response:
    """An action's address opened as a page (e.g. after logging in again): the list of people instead."""
    return RedirectResponse(PATH, status_code=303)
