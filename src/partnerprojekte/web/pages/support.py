"""Small helpers shared by the page modules: role checks, proposal ids in URLs, form values, refusals."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import Depends, Request
from starlette.datastructures import FormData

from partnerprojekte.errors import ConflictError, DomainError, NotFound, TransitionRefused, ValidationError
from partnerprojekte.ids import format_id, parse_id
from partnerprojekte.model import Role
from partnerprojekte.states.workflow import Actor
from partnerprojekte.web.deps import require_actor, require_csrf
from partnerprojekte.web.errors import Forbidden
from partnerprojekte.web.wording import page_message

HOME: dict[Role, str] = {
    Role.PARTNER: "/vorschlaege",
    Role.RESSORT: "/aufgaben",
    Role.ARBEITSSTAB: "/uebersicht",
    Role.ADMIN: "/verwaltung/personen",
}
# The person behind a page request; without a session the application redirects to the login page.
PageActor = Annotated[Actor, Depends(require_actor)]
# A form post of a logged-in person: the login is checked before the CSRF token, so that an expired
# session leads to the login page rather than to a refusal (FastAPI caches ``require_actor`` per request).
SIGNED_IN_FORM = [Depends(require_actor), Depends(require_csrf)]


async def posted_form(request: Request) -> FormData:
    """The posted form, read in the event loop, so that the route itself can be a plain ``def``.

    FastAPI runs plain routes in its thread pool: a database call that waits (e.g. for SQLite's write
    lock) then blocks one worker thread, not every other request of the server.
    """
    return await request.form()


PostedForm = Annotated[FormData, Depends(posted_form)]


def require_role(actor: Actor, *roles: Role) -> None:
    """Refuse (403) a page that is not meant for the actor's role."""
    if actor.role not in roles:
        allowed = " oder ".join(role.label for role in roles)
        raise Forbidden(
            f"Diese Seite ist für {allowed} bestimmt; Sie sind angemeldet als {actor.role.label}."
        )


def proposal_number(text: str) -> int:
    """The number behind ``PP-0007`` (or ``7``) in a URL; a malformed one is simply not found (404)."""
    try:
        return parse_id(text)
    except NotFound:
        raise NotFound(f"Einen Vorschlag „{text[:40]}“ gibt es nicht.") from None


def ascii_int(value: str, *, low: int = 0, high: int = 2**31 - 1) -> int | None:
    """A whole number written with ASCII digits only and within ``low..high``, else None.

    ``str.isdigit`` also accepts ``²`` or ``١``, on which ``int`` fails or which no one means; a number
    beyond the database's integer would fail in the query.
    """
    if not value or len(value) > 10 or not (value.isascii() and value.isdigit()):
        return None
    number = int(value)
    return number if low <= number <= high else None


def proposal_url(number: int, suffix: str = "") -> str:
    """``/vorschlaege/PP-0007`` (plus a suffix such as ``/ueberarbeiten``)."""
    return f"/vorschlaege/{format_id(number)}{suffix}"


def safe_next(target: str | None) -> str | None:
    """A local path to return to after login, or None (never another site: no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def text(form: Mapping[str, Any], name: str) -> str:
    """A text field of a posted form, stripped ('' if absent or not text)."""
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def texts(form: Any, name: str) -> list[str]:
    """All values of a repeated field (checkboxes)."""
    return [v for v in form.getlist(name) if isinstance(v, str)]


def refusal_status(exc: DomainError) -> int:
    """The status of a page re-rendered after a refusal: 403 role, 409 state or conflict, 422 input."""
    if isinstance(exc, TransitionRefused):
        if exc.reason == "role":
            return 403
        return 422 if exc.reason == "input" else 409
    if isinstance(exc, ConflictError):
        return 409
    return 422


def refusal_messages(exc: DomainError) -> list[str]:
    """The German message(s) of a refusal, as a page shows them."""
    if isinstance(exc, ValidationError):
        return [str(error) for error in exc.errors]
    message = page_message(exc)
    if isinstance(exc, ConflictError):
        message += " Die Seite zeigt jetzt den aktuellen Stand."
    return [message]
