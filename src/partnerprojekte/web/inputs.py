"""What every request must satisfy before a route sees it: a body within the size limit, and text
fields (query parameters and form fields) without control characters, NUL or lone surrogates.

The domain checks its own texts (``formats.check_text``, used by the proposal validation, the import
and the use cases); this is the net for the values a page reads directly (search, filters, Stichtag,
hidden fields), so that none of them reaches PostgreSQL (which refuses NUL) or a page.
"""

from __future__ import annotations

import re

from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from partnerprojekte.errors import FieldError, ValidationError
from partnerprojekte.formats import text_problem
from partnerprojekte.web.errors import RequestTooLarge
from partnerprojekte.web.pages.proposal_form import FIELD_LABELS, ROW_LABELS, is_proposal_input

_ROW_FIELD = re.compile(r"^([a-z_.]+)\[(\d{1,3})\]\.([a-z_]+)$")
# The submission form validates its inputs as the proposal document and shows each error at its input,
# keeping what was typed: there the net leaves the proposal's inputs to that validation.
_PROPOSAL_FORM = re.compile(r"^/vorschlaege/(?:neu|[^/]+/ueberarbeiten)$")
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# German names of the parameters and form fields the pages read themselves.
_LABELS: dict[str, str] = {
    **FIELD_LABELS,
    "q": "Suche",
    "seite": "Seite",
    "status": "Status",
    "ressort": "Ressort",
    "handlungsfeld": "Handlungsfeld",
    "stichtag": "Stichtag",
    "weiter": "Weiter zu",
    "text": "Kommentar",
    "comment": "Kommentar",
    "email": "E-Mail",
    "name": "Name",
    "organisation": "Organisation",
    "role": "Rolle",
    "password": "Passwort",
    "version": "Version",
    "visibility": "Sichtbarkeit",
    "reasons": "Gründe",
    "criterion": "Kriterium",
    "event": "Ereignis",
    "aktion": "Aktion",
    "saeule_1_projekt": "Säule-1-Projekt",
}


def field_label(name: str) -> str:
    """The German name of a field, or its (shortened, cleaned) name as sent."""
    if name in _LABELS:
        return f"{_LABELS[name]} ({name})" if _LABELS[name] != name else name
    row = _ROW_FIELD.match(name)
    if row and row.group(1) in ROW_LABELS:
        what, columns = ROW_LABELS[row.group(1)]
        return f"{what} {int(row.group(2)) + 1}: {columns.get(row.group(3), row.group(3))} ({name})"
    shown = "".join(c for c in name[:40] if text_problem(c) is None)
    return f"Feld „{shown}“"


def _errors(pairs: list[tuple[str, str]]) -> list[FieldError]:
    errors: list[FieldError] = []
    for name, value in pairs:
        problem = text_problem(name)
        if problem is not None:
            errors.append(FieldError(field_label(name), f"der Feldname {problem}"))
        elif (problem := text_problem(value)) is not None:
            errors.append(FieldError(field_label(name), problem))
    return errors[:20]


async def refuse_bad_text(request: Request) -> None:
    """Refuse (422, naming the field) a query parameter or form field with a forbidden character."""
    pairs = list(request.query_params.multi_items())
    if request.method not in ("GET", "HEAD") and request.headers.get("content-type", "").startswith(
        _FORM_TYPES
    ):
        form = await request.form()
        proposal_form = _PROPOSAL_FORM.match(request.url.path) is not None
        pairs += [
            (k, v)
            for k, v in form.multi_items()
            if isinstance(v, str) and not (proposal_form and is_proposal_input(k))
        ]
    errors = _errors(pairs)
    if errors:
        raise ValidationError(errors)


class BodyLimit:
    """Pure ASGI middleware: a request body over ``max_bytes`` is answered with 413 (German).

    Checked on the declared ``Content-Length`` and, for chunked bodies without one, on the bytes as
    they arrive: the route that reads the body gets ``RequestTooLarge`` instead of more bytes.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Count the body's bytes while the route reads them."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes
        declared = dict(scope.get("headers", [])).get(b"content-length")
        too_large = declared is not None and (
            not declared.isdigit() or len(declared) > 15 or int(declared) > limit
        )
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            if too_large:
                raise RequestTooLarge(limit)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise RequestTooLarge(limit)
            return message

        await self.app(scope, counting_receive, send)
