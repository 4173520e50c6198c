"""The one place that maps errors to HTTP statuses: JSON for ``/api``, redirects or pages for the rest.

| error                                   | status | body ``{"error": {...}}`` ``kind`` |
|-----------------------------------------|--------|------------------------------------|
| ``ValidationError``, request validation | 422    | ``invalid`` with ``fields``        |
| ``NotAuthenticated``                    | 401 *  | ``unauthenticated``                |
| ``AuthenticationFailed``                | 401    | ``login_failed``                   |
| ``Forbidden``, ``CsrfFailed``           | 403    | ``forbidden`` / ``csrf``           |
| ``TransitionRefused`` (reason ``role``) | 403    | ``refused``                        |
| ``NotFound``                            | 404    | ``not_found``                      |
| ``TransitionRefused`` (other reasons)   | 409    | ``refused``                        |
| ``ConflictError``                       | 409    | ``conflict``                       |
| ``LoginThrottled``                      | 429    | ``throttled`` (+ ``Retry-After``)  |
| ``UnsupportedMediaType``                | 415    | ``unsupported_media_type``         |
| database unreachable (see below)        | 503    | ``unavailable`` (+ ``Retry-After``)|

"Unreachable" is an ``OperationalError``, a pool timeout or a lost connection: it passes with time.
(*) For pages (paths outside ``/api``) a redirect 303 to ``/anmelden?weiter=<path>`` instead.
A refusal for lack of role is 403 although it is a ``TransitionRefused``: the caller may see the
proposal (otherwise it would be 404) but their role may not act on it, which is what 403 means.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy import exc as sa_exc
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from partnerprojekte.errors import (
    ConflictError,
    DomainError,
    FieldError,
    NotFound,
    TransitionRefused,
    ValidationError,
)
from partnerprojekte.formats import field_errors, replace_forbidden

log = logging.getLogger(__name__)

API_PREFIX = "/api/"
LOGIN_PATH = "/anmelden"


class NotAuthenticated(DomainError):
    """No valid session or API token, or it expired."""

    def __init__(self, message: str = "Bitte melden Sie sich an.") -> None:
        super().__init__(message)


class AuthenticationFailed(DomainError):
    """Wrong e-mail or password (never says which of the two)."""

    def __init__(self, message: str = "E-Mail-Adresse oder Passwort ist falsch.") -> None:
        super().__init__(message)


class Forbidden(DomainError):
    """The caller is known but their role may not do this."""


class CsrfFailed(Forbidden):
    """A cookie-authenticated unsafe request without the session's CSRF token."""

    def __init__(
        self,
        message: str = (
            "Die Anfrage enthält kein gültiges Sicherheitsmerkmal (CSRF-Token); "
            "bitte die Seite neu laden und erneut versuchen."
        ),
    ) -> None:
        super().__init__(message)


class LoginThrottled(DomainError):
    """Too many failed logins for this e-mail address or client; retry after ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = max(1, retry_after)
        minutes = max(1, (self.retry_after + 59) // 60)
        unit = "eine Minute" if minutes == 1 else f"{minutes} Minuten"
        super().__init__(f"Zu viele fehlgeschlagene Anmeldeversuche. Bitte in {unit} erneut versuchen.")


class UnsupportedMediaType(DomainError):
    """A request body in a format the endpoint does not read."""


class RequestTooLarge(StarletteHTTPException):
    """A request body over the configured limit (413).

    An HTTP exception, not a domain error: it is raised while the body is read, where FastAPI lets only
    HTTP exceptions through (any other error there becomes a 400).
    """

    def __init__(self, limit: int) -> None:
        if limit >= 1_048_576:
            size = f"{limit / 1_048_576:.1f} MiB".replace(".", ",")
        else:
            size = f"{limit:,} Bytes".replace(",", ".")
        super().__init__(413, f"Die Anfrage ist zu groß: höchstens {size} sind erlaubt.")


# Renders an error as an HTML page: (request, status, error payload) -> response. The pages module
# may provide ``render_error`` with this signature; otherwise a minimal German page is shown.
ErrorPageRenderer = Callable[[Request, int, Mapping[str, Any]], Response]


def is_api(request: Request) -> bool:
    """Whether the request is for the JSON API (errors as JSON) rather than a page."""
    return request.url.path.startswith(API_PREFIX) or request.url.path == API_PREFIX.rstrip("/")


def error_body(message: str, kind: str, **extra: Any) -> dict[str, Any]:
    """The JSON shape of every error: ``{"error": {"message": …, "kind": …, …}}``."""
    return {"error": {"message": message, "kind": kind, **extra}}


def fields_json(errors: Sequence[FieldError]) -> list[dict[str, str]]:
    """Field errors as ``[{"path", "message"}]``."""
    return [{"path": e.path, "message": e.message} for e in errors]


def login_redirect(request: Request) -> RedirectResponse:
    """303 to the login page, remembering where the person wanted to go (a local path only)."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"{LOGIN_PATH}?weiter={quote(target, safe='')}", status_code=303)


def _payload(exc: Exception) -> tuple[int, dict[str, Any], dict[str, str]]:
    """Status, JSON body and extra headers for a known error (the mapping table above)."""
    if isinstance(exc, ValidationError):
        message = "Ungültige Eingabe: " + "; ".join(str(e) for e in exc.errors)
        return 422, error_body(message, "invalid", fields=fields_json(exc.errors)), {}
    if isinstance(exc, NotAuthenticated):
        return 401, error_body(str(exc), "unauthenticated"), {"WWW-Authenticate": "Bearer"}
    if isinstance(exc, AuthenticationFailed):
        return 401, error_body(str(exc), "login_failed"), {}
    if isinstance(exc, CsrfFailed):
        return 403, error_body(str(exc), "csrf"), {}
    if isinstance(exc, Forbidden):
        return 403, error_body(str(exc), "forbidden"), {}
    if isinstance(exc, NotFound):
        return 404, error_body(str(exc), "not_found", **({"field": exc.field} if exc.field else {})), {}
    if isinstance(exc, TransitionRefused):
        status = 403 if exc.reason == "role" else 409
        return status, error_body(str(exc), "refused", **exc.details()), {}
    if isinstance(exc, ConflictError):
        return 409, error_body(str(exc), "conflict"), {}
    if isinstance(exc, LoginThrottled):
        headers = {"Retry-After": str(exc.retry_after)}
        return 429, error_body(str(exc), "throttled", retry_after=exc.retry_after), headers
    if isinstance(exc, UnsupportedMediaType):
        return 415, error_body(str(exc), "unsupported_media_type"), {}
    return 400, error_body(str(exc), "invalid"), {}


_BARE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}

_HTTP_MESSAGES = {
    400: "Die Anfrage ist fehlerhaft.",
    401: "Bitte melden Sie sich an.",
    403: "Dafür fehlt Ihnen die Berechtigung.",
    404: "Diese Seite gibt es nicht.",
    405: "Diese Methode ist hier nicht erlaubt.",
    406: "Dieses Antwortformat wird nicht angeboten.",
    413: "Die Anfrage ist zu groß.",
    415: "Dieses Format wird hier nicht angenommen.",
    500: "Ein interner Fehler ist aufgetreten. Bitte später erneut versuchen.",
    503: (
        "Die Datenbank ist gerade nicht erreichbar. Ihre Eingaben sind nicht verloren, aber noch nicht "
        "gespeichert: Bitte versuchen Sie es in einer Minute erneut."
    ),
}

# How long a client should wait before it asks again while the database is away.
RETRY_AFTER_SECONDS = 30


def database_unavailable(exc: BaseException) -> bool:
    """Whether the error means the database cannot be reached right now (lost, down, pool exhausted)."""
    if isinstance(exc, (sa_exc.DisconnectionError, sa_exc.TimeoutError)):
        return True
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    # psycopg's OperationalError is the connection's trouble (refused, terminated, shutting down);
    # SQLite's is a locked or unopenable file – both pass with time, neither is a bug of the request.
    return isinstance(exc, sa_exc.OperationalError)


def german_request_errors(errors: Sequence[Mapping[str, Any]]) -> list[FieldError]:
    """FastAPI's request validation errors through the one translator (formats.field_errors): a field
    path (``comment``, ``query.page``) and German text."""
    # The body is the default; parameters keep their origin so that ``page`` is not confused with a field.
    return field_errors({**e, "loc": _request_loc(e.get("loc", ()))} for e in errors)


def _request_loc(loc: Sequence[Any]) -> tuple[Any, ...]:
    parts = tuple(loc)
    return parts[1:] if parts[:1] == ("body",) else parts


def _printable(value: Any) -> Any:
    if isinstance(value, str):
        return replace_forbidden(value)
    if isinstance(value, dict):
        return {k: _printable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_printable(v) for v in value]
    return value


def _fallback_page(
    request: Request, status: int, payload: Mapping[str, Any], headers: Mapping[str, str] | None = None
) -> Response:
    message = html.escape(str(payload.get("error", {}).get("message", "")))
    body = (
        '<!doctype html><html lang="de"><head><meta charset="utf-8">'
        f"<title>Fehler {status} – Partnerprojekte der Ruhr-Konferenz</title></head>"
        f'<body><main><h1>Fehler {status}</h1><p>{message}</p><p><a href="/">Zur Startseite</a></p>'
        "</main></body></html>"
    )
    return HTMLResponse(body, status_code=status, headers=dict(headers or {}))


def _respond(request: Request, status: int, payload: dict[str, Any], headers: dict[str, str]) -> Response:
    # A message may quote the input: a lone surrogate in it could not even be encoded as UTF-8.
    payload = _printable(payload)
    if is_api(request):
        return JSONResponse(payload, status_code=status, headers=headers)
    renderer: ErrorPageRenderer = getattr(request.app.state, "error_page", None) or _fallback_page
    response = renderer(request, status, payload)
    response.headers.update(headers)
    return response


async def _respond_off_loop(
    request: Request, status: int, payload: dict[str, Any], headers: dict[str, str]
) -> Response:
    """``_respond`` in the thread pool: an error page may look up the session (the database)."""
    return await run_in_threadpool(_respond, request, status, payload, headers)


def install(app: FastAPI, *, page_renderer: ErrorPageRenderer | None = None) -> None:
    """Register the exception handlers of the mapping table on ``app``."""
    app.state.error_page = page_renderer

    async def on_domain_error(request: Request, exc: Exception) -> Response:
        if isinstance(exc, NotAuthenticated) and not is_api(request):
            return login_redirect(request)
        status, payload, headers = _payload(exc)
        if isinstance(exc, TransitionRefused) and not is_api(request):
            # A page names the refused event by its German label; the API's clients get its code too.
            payload["error"]["message"] = exc.worded(codes=False)
        return await _respond_off_loop(request, status, payload, headers)

    async def on_request_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        errors = german_request_errors(exc.errors())
        message = "Ungültige Eingabe: " + "; ".join(str(e) for e in errors)
        payload = error_body(message, "invalid", fields=fields_json(errors))
        return await _respond_off_loop(request, 422, payload, {})

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        message = _http_message(exc)
        headers = dict(exc.headers or {})
        payload = error_body(message, _http_kind(exc.status_code))
        return await _respond_off_loop(request, exc.status_code, payload, headers)

    async def on_database_unavailable(request: Request, exc: Exception) -> Response:
        # No error page that reads the session here: the database is exactly what is missing.
        log.warning("Datenbank nicht erreichbar bei %s %s: %s", request.method, request.url.path, exc)
        payload = _printable(error_body(_HTTP_MESSAGES[503], "unavailable"))
        headers = {**_BARE_HEADERS, "Retry-After": str(RETRY_AFTER_SECONDS)}
        if is_api(request):
            return JSONResponse(payload, status_code=503, headers=headers)
        return _fallback_page(request, 503, payload, headers)

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        if database_unavailable(exc):  # raised in a middleware, outside the handlers' reach
            return await on_database_unavailable(request, exc)
        # Logged with its traceback for the operator; the person sees a German sentence, never a trace.
        log.exception("Unerwarteter Fehler bei %s %s", request.method, request.url.path, exc_info=exc)
        # This answer leaves outside the application's middleware: it brings its own safety headers.
        payload = error_body(_HTTP_MESSAGES[500], "error")
        return await _respond_off_loop(request, 500, payload, dict(_BARE_HEADERS))

    async def on_sqlalchemy_error(request: Request, exc: Exception) -> Response:
        if database_unavailable(exc):
            return await on_database_unavailable(request, exc)
        return await on_unexpected(request, exc)

    app.add_exception_handler(DomainError, on_domain_error)
    app.add_exception_handler(RequestValidationError, on_request_validation)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(sa_exc.SQLAlchemyError, on_sqlalchemy_error)
    app.add_exception_handler(Exception, on_unexpected)


# English details that FastAPI raises itself, in German. Any other detail is replaced by the German
# text for its status: raise the domain errors of this module (NotFound, Forbidden …) for your own texts.
_KNOWN_DETAILS = {
    "There was an error parsing the body": (
        "Der Inhalt der Anfrage lässt sich nicht lesen (erwartet: JSON in UTF-8)."
    ),
}


def _http_message(exc: StarletteHTTPException) -> str:
    """A German message for an HTTP error raised by Starlette or FastAPI (their texts are English)."""
    if isinstance(exc, RequestTooLarge):
        return str(exc.detail)
    if isinstance(exc.detail, str) and exc.detail in _KNOWN_DETAILS:
        return _KNOWN_DETAILS[exc.detail]
    return _HTTP_MESSAGES.get(exc.status_code, f"Die Anfrage ist gescheitert (Status {exc.status_code}).")


def _http_kind(status: int) -> str:
    return {401: "unauthenticated", 403: "forbidden", 404: "not_found", 413: "too_large"}.get(status, "error")
