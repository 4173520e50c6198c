"""Request dependencies: the services, who is asking (session cookie or Bearer token) and CSRF checks.

Use them with ``Depends`` or call them with the request. Authentication is resolved once per request
and cached on ``request.state``. An ``Authorization`` header, when present, decides alone: a wrong
token is not silently replaced by a cookie, and a Bearer request needs no CSRF token (browsers never
attach that header by themselves).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Literal

from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool

from partnerprojekte.config import Settings
from partnerprojekte.db.engine import Database
from partnerprojekte.services import Services
from partnerprojekte.states.workflow import Actor
from partnerprojekte.web.errors import CsrfFailed, NotAuthenticated
from partnerprojekte.web.security import (
    SESSION_COOKIE,
    SessionInfo,
    actor_for_api_token,
    cookie_secure,
    session_for_token,
)

# Anonymous forms (the login form) are protected by a double-submit cookie: the token in the page must
# equal the one in this cookie, which another site can neither read nor send with a cross-site POST.
CSRF_COOKIE = "pp_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_STATE_AUTH = "pp_auth"
# The middleware in app.py sets this cookie on the response when a page asked for a new token.
STATE_NEW_CSRF = "pp_new_csrf"


@dataclass(frozen=True)
class Authentication:
    """Who is asking and how; ``problem`` says in German why credentials that were sent are not valid."""

    actor: Actor | None
    via: Literal["session", "token"] | None = None
    session: SessionInfo | None = None
    problem: str | None = None


def services(request: Request) -> Services:
    """The use cases of the application (same as the command line)."""
    svc: Services = request.app.state.services
    return svc


def database(request: Request) -> Database:
    """The application's database."""
    db: Database = request.app.state.db
    return db


def settings(request: Request) -> Settings:
    """The application's settings."""
    value: Settings = request.app.state.settings
    return value


def client_key(request: Request) -> str:
    """The client's address for login throttling (behind a proxy: what uvicorn's proxy headers say)."""
    return request.client.host if request.client else "unbekannt"


def authentication(request: Request) -> Authentication:
    """Resolve the session cookie or Bearer token once per request."""
    cached = getattr(request.state, _STATE_AUTH, None)
    if isinstance(cached, Authentication):
        return cached
    auth = _authenticate(request)
    setattr(request.state, _STATE_AUTH, auth)
    return auth


def _authenticate(request: Request) -> Authentication:
    db = database(request)
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, value = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            return Authentication(
                None, problem="Authorization-Kopfzeile: erwartet wird „Bearer <API-Token>“."
            )
        actor = actor_for_api_token(db, value.strip())
        if actor is None:
            return Authentication(None, problem="Das API-Token ist ungültig oder wurde widerrufen.")
        return Authentication(actor, "token")
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        info = session_for_token(db, cookie)
        if info is None:
            return Authentication(
                None, problem="Ihre Sitzung ist abgelaufen. Bitte melden Sie sich erneut an."
            )
        return Authentication(info.actor, "session", info)
    return Authentication(None)


def current_actor(request: Request) -> Actor | None:
    """The person behind the request, or None for an anonymous request."""
    return authentication(request).actor


def require_actor(request: Request) -> Actor:
    """The person behind the request; ``NotAuthenticated`` (401, or a redirect to the login page) if none."""
    auth = authentication(request)
    if auth.actor is None:
        raise NotAuthenticated(auth.problem or "Bitte melden Sie sich an.")
    return auth.actor


def csrf_token(request: Request) -> str:
    """The CSRF token to put into a form (``csrf_token``) or the ``X-CSRF-Token`` header.

    With a session it is the session's token; without one a double-submit token, whose cookie is set
    on this request's response.
    """
    auth = authentication(request)
    if auth.session is not None:
        return auth.session.csrf_token
    pending = getattr(request.state, STATE_NEW_CSRF, None)
    if isinstance(pending, str):
        return pending
    existing = request.cookies.get(CSRF_COOKIE)
    if existing and 20 <= len(existing) <= 100:
        return existing
    token = secrets.token_urlsafe(32)
    setattr(request.state, STATE_NEW_CSRF, token)
    return token


def set_csrf_cookie(request: Request, response: Response, token: str) -> None:
    """Set the anonymous double-submit cookie (used by the middleware in app.py)."""
    response.set_cookie(
        CSRF_COOKIE,
        token,
        max_age=24 * 3600,
        path="/",
        secure=cookie_secure(settings(request)),
        httponly=True,
        samesite="lax",
    )


async def require_csrf(request: Request) -> None:
    """Refuse (403) an unsafe form or API request whose CSRF token is missing or wrong.

    Bearer requests pass. The token comes from the ``X-CSRF-Token`` header or, for form posts, the form
    field ``csrf_token``. Asynchronous because it may read the form (Starlette caches it for the route).
    """
    if request.method in SAFE_METHODS:
        return
    # The session lookup reads the database: in the thread pool, not in the event loop.
    auth = await run_in_threadpool(authentication, request)
    if auth.via == "token":
        return
    expected = auth.session.csrf_token if auth.session is not None else request.cookies.get(CSRF_COOKIE)
    given = request.headers.get(CSRF_HEADER)
    content_type = request.headers.get("content-type", "")
    if not given and content_type.startswith(_FORM_TYPES):
        value = (await request.form()).get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    if not expected or not given or not secrets.compare_digest(expected.encode(), given.encode()):
        raise CsrfFailed()


def require_api_csrf(request: Request) -> None:
    """For the JSON API: a cookie-authenticated unsafe request needs the ``X-CSRF-Token`` header.

    Anonymous API requests pass (the login takes JSON, which another site cannot send without CORS).
    """
    if request.method in SAFE_METHODS:
        return
    auth = authentication(request)
    if auth.via != "session" or auth.session is None:
        return
    given = request.headers.get(CSRF_HEADER) or ""
    if not secrets.compare_digest(auth.session.csrf_token.encode(), given.encode()):
        raise CsrfFailed()
