"""Request dependencies: the services, who is asking (session cookie or Bearer token) and CSRF checks.

Use them with ``Depends`` or call them with the request. Authentication is resolved once per request
and cached on ``request.state``. An ``Authorization`` header, when present, decides alone: a wrong
token is not silently replaced by a cookie, and a Bearer request needs no CSRF token (browsers never
attach that header by themselves).
"""

from __future__ import annotations

import functools
import ipaddress
import re
import secrets
from dataclasses import dataclass
from typing import Literal

from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool

from partnerprojekte.config import Settings
from partnerprojekte.db.engine import Database
from partnerprojekte.services import Services
from partnerprojekte.states.workflow import Actor
from partnerprojekte.web.auth import security
from partnerprojekte.web.auth.security import (
    SessionInfo,
    actor_for_api_token,
    cookie_name,
    cookie_secure,
    csrf_form_token,
    discard_session,
    session_cookie_name,
    session_for_token,
    start_session,
)
from partnerprojekte.web.errors import CsrfFailed, NotAuthenticated

# Anonymous forms (the login form) are protected by a double-submit cookie bound to its token: the cookie
# holds a random value, the page the value's HMAC under the application's key. Another site can neither
# read the cookie nor send it with a cross-site POST, and a cookie it planted (no ``__Host-`` prefix in
# development) fits no token it could compute; a token from one browser fits no other browser's cookie.
CSRF_COOKIE = "pp_csrf"
# What secrets.token_urlsafe(32) gives: anything else in the cookie was not set by us.
_CSRF_COOKIE_RE = re.compile(r"[A-Za-z0-9_-]{43}")
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


IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.lru_cache(maxsize=8)
def _networks(trusted: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in trusted)


def _ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _client_text(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    # One IPv6 host usually has a whole /64 to pick addresses from: count the /64, not the address.
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def client_address(peer: str | None, forwarded_for: list[str], trusted: tuple[str, ...]) -> str:
    """The client's address for the login limits.

    The connection's peer, unless the peer is one of the ``trusted`` proxies: then the rightmost entry of
    ``X-Forwarded-For`` that is not a trusted proxy itself (entries left of it were written by the client
    and prove nothing). Without configured proxies no header a client sends changes the answer.
    """
    address = _ip(peer) if peer else None
    if address is None:
        return (peer or "unbekannt")[:100]
    networks = _networks(trusted)
    if not any(address in net for net in networks):
        return _client_text(address)
    hops = [hop for value in forwarded_for for hop in value.split(",")]
    for hop in reversed(hops):
        candidate = _ip(hop)
        if candidate is None:
            # Not written by a proxy we trust: the last trusted hop is the best we know.
            break
        address = candidate
        if not any(candidate in net for net in networks):
            break
    return _client_text(address)


def client_key(request: Request) -> str:
    """The client's address for login throttling (``X-Forwarded-For`` only from ``trusted_proxies``)."""
    return client_address(
        request.client.host if request.client else None,
        request.headers.getlist("x-forwarded-for"),
        settings(request).trusted_proxies,
    )


def signing_key(request: Request) -> bytes:
    """The application's signing key (known-device cookies, login CSRF tokens), read once per app."""
    key = getattr(request.app.state, "signing_key", None)
    if not isinstance(key, bytes):
        key = security.signing_key(database(request))
        request.app.state.signing_key = key
    return key


def password_login(request: Request, email: str, password: str) -> Actor:
    """Check e-mail and password with the login limits (blocking: call it from the thread pool)."""
    return security.authenticate(
        database(request),
        email,
        password,
        client_key=client_key(request),
        device=request.cookies.get(security.device_cookie_name(settings(request))),
        key=signing_key(request),
    )


def finish_login(request: Request, actor: Actor, response: Response) -> str:
    """Open a fresh session and remember the device on the response; returns the session's CSRF token."""
    db = database(request)
    secure = cookie_secure(settings(request))
    # A fresh session on every login: a session planted before the login is never promoted.
    discard_session(db, request.cookies.get(session_cookie_name(settings(request))))
    security.remember_device(response, signing_key(request), actor.user_id, db.clock(), secure=secure)
    return start_session(db, actor, response, secure=secure)


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
    cookie = request.cookies.get(session_cookie_name(settings(request)))
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

    With a session it is the session's token; without one a token bound to the anonymous CSRF cookie
    (its HMAC under the application's key, never the cookie's value itself), whose cookie is set on this
    request's response if the browser has none yet.
    """
    auth = authentication(request)
    if auth.session is not None:
        return auth.session.csrf_token
    pending = getattr(request.state, STATE_NEW_CSRF, None)
    if not isinstance(pending, str):
        pending = request.cookies.get(csrf_cookie_name(settings(request)))
    if not pending or not _CSRF_COOKIE_RE.fullmatch(pending):
        pending = secrets.token_urlsafe(32)
        setattr(request.state, STATE_NEW_CSRF, pending)
    return csrf_form_token(signing_key(request), pending)


def csrf_cookie_name(settings: Settings) -> str:
    """The name of the anonymous CSRF cookie under these settings (``__Host-`` over HTTPS)."""
    return cookie_name(CSRF_COOKIE, secure=cookie_secure(settings))


def set_csrf_cookie(request: Request, response: Response, token: str) -> None:
    """Set the anonymous double-submit cookie (used by the middleware in app.py)."""
    response.set_cookie(
        csrf_cookie_name(settings(request)),
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
    given = request.headers.get(CSRF_HEADER)
    content_type = request.headers.get("content-type", "")
    if not given and content_type.startswith(_FORM_TYPES):
        value = (await request.form()).get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    # The session lookup reads the database: in the thread pool, not in the event loop.
    await run_in_threadpool(check_csrf, request, given)


def check_csrf(request: Request, given: str | None) -> None:
    """Refuse (403) unless ``given`` is the session's CSRF token or, without a session, the token bound
    to this browser's anonymous CSRF cookie. Bearer requests pass. Blocking (it may read the session)."""
    auth = authentication(request)
    if auth.via == "token":
        return
    if auth.session is not None:
        expected: str | None = auth.session.csrf_token
    else:
        cookie = request.cookies.get(csrf_cookie_name(settings(request)))
        # Only a value we could have issued; the token is its HMAC, which no one else can compute.
        valid = cookie is not None and _CSRF_COOKIE_RE.fullmatch(cookie) is not None
        expected = csrf_form_token(signing_key(request), cookie) if valid and cookie else None
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
