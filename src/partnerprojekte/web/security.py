"""Authentication: argon2id passwords, throttled logins, browser sessions and API tokens.

Sessions. The cookie ``pp_session`` holds a random token (``secrets.token_urlsafe``); the table
``web_sessions`` keeps only its SHA-256, so a leaked database copy opens no session. A session ends after
8 hours without a request or 24 hours after login, whichever comes first. The cookie is ``HttpOnly``
(no script reads it), ``Path=/``, ``Secure`` unless the application runs on plain ``http://`` on the
loopback address in development (see ``cookie_secure``), and ``SameSite=Lax``: ``Strict`` would send no
cookie on the first navigation from another site, so a reviewer who follows the link in a notification
e-mail (from webmail, another origin) would land on the login page although logged in. ``Lax`` still
withholds the cookie from cross-site POSTs, and every unsafe request needs the CSRF token as well.

API tokens. ``pp_`` plus 32 random bytes, shown once; only the SHA-256 is stored. A token acts as its user
with that user's role; revoking it takes effect with the next request.

Single sign-on (later). Authentication ends in an ``Actor``; everything after that is indifferent to how
it was obtained. An OpenID Connect login would add an ``IdentityProvider`` (below) that maps the verified
claims of an external identity to an active user (by e-mail, or by a stored subject) and then calls
``start_session`` exactly as the password login does. Users without a password (``password_hash`` None)
can only log in that way. It is deliberately not implemented yet.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol
from urllib.parse import urlsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from fastapi import Request, Response
from sqlalchemy import Connection, delete, select, update
from sqlalchemy.orm import Session

from partnerprojekte.config import Settings
from partnerprojekte.db.engine import Database
from partnerprojekte.db.schema import ApiTokenRow, LoginAttemptRow, UserRow, WebSessionRow
from partnerprojekte.db.user_audit import SEED, UserActor, record_user_event
from partnerprojekte.errors import NotFound, ValidationError
from partnerprojekte.states.workflow import Actor
from partnerprojekte.web.errors import AuthenticationFailed, LoginThrottled

SESSION_COOKIE = "pp_session"
IDLE_TIMEOUT = dt.timedelta(hours=8)
ABSOLUTE_TIMEOUT = dt.timedelta(hours=24)
# Writing last_seen_at on every request would turn every read into a write; a minute is precise enough.
TOUCH_INTERVAL = dt.timedelta(minutes=1)

MAX_FAILURES = 5
THROTTLE_WINDOW = dt.timedelta(minutes=15)
ATTEMPTS_KEPT = dt.timedelta(days=1)

PASSWORD_MIN_LENGTH = 12
# argon2 hashes whatever it is given; a megabyte "password" would only cost us time.
PASSWORD_MAX_LENGTH = 1024
TOKEN_PREFIX = "pp_"  # noqa: S105 - a prefix that marks our tokens, not a secret
TOKEN_NAME_MAX = 100

_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class IdentityProvider(Protocol):
    """The seam for single sign-on (not implemented): map a verified external identity to an actor.

    ``claims`` are the verified claims of an ID token (``email``, ``sub``, ``name`` …). Return the actor
    of an active user, or raise ``AuthenticationFailed`` with a German message if nobody matches.
    """

    def __call__(self, db: Database, claims: Mapping[str, Any]) -> Actor:
        """The actor this external identity stands for."""
        ...


@dataclass(frozen=True)
class SessionInfo:
    """A valid browser session: who it belongs to and its CSRF token."""

    actor: Actor
    csrf_token: str
    session_id: str


# --- passwords -----------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    # argon2id with the library's defaults (RFC 9106 "second recommended" profile).
    return PasswordHasher()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    # Verified against when the e-mail is unknown, so that the answer takes as long as for a known one.
    return _hasher().hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    """The argon2id hash of a password (with its own random salt)."""
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether the password matches the hash; a malformed hash matches nothing."""
    try:
        return _hasher().verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def check_password_policy(password: str) -> None:
    """Refuse passwords that are too short or too long, with a German message."""
    if len(password) < PASSWORD_MIN_LENGTH:
        raise ValidationError(
            f"Passwort: zu kurz ({len(password)} Zeichen) – mindestens {PASSWORD_MIN_LENGTH} Zeichen."
        )
    if len(password) > PASSWORD_MAX_LENGTH:
        raise ValidationError(f"Passwort: zu lang – höchstens {PASSWORD_MAX_LENGTH} Zeichen.")
    if not password.strip():
        raise ValidationError("Passwort: darf nicht nur aus Leerzeichen bestehen.")


def set_password(db: Database, email: str, password: str, *, by: UserActor = SEED) -> None:
    """Store the argon2id hash of a new password for a user; their sessions end, their API tokens die.

    For seeding (tests, demo set-ups) only: no page, API route or command lets an administrator call
    it for someone else. People set their own password through an activation link (``web/accounts.py``).
    """
    check_password_policy(password)
    digest = hash_password(password)
    with db.write() as s:
        user = s.scalar(select(UserRow).where(UserRow.email == _normalise_email(email)))
        if user is None:
            raise NotFound(f"Keine Person mit der E-Mail „{email.strip()}“ (users add).")
        user.password_hash = digest
        # A new password is often set because the old one leaked: sessions opened with it must end.
        s.execute(delete(WebSessionRow).where(WebSessionRow.user_id == user.id))
        revoked = revoke_user_tokens(s, user.id, db.clock())
        record_user_event(s, by, "password_set", user.id, {"tokens_revoked": revoked}, at=db.clock())


def revoke_user_tokens(conn: Session | Connection, user_id: int, at: dt.datetime) -> int:
    """Revoke every live API token of a person (on deactivation and on a password change); how many.

    Revoked tokens stay revoked: a reactivated person gets new ones, never the old ones back.
    """
    result = conn.execute(
        update(ApiTokenRow)
        .where(ApiTokenRow.user_id == user_id, ApiTokenRow.revoked_at.is_(None))
        .values(revoked_at=at)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# --- login ---------------------------------------------------------------------------------------


def _normalise_email(email: str) -> str:
    return email.strip().lower()


def _actor(user: UserRow) -> Actor:
    return Actor(user.id, user.email, user.name, user.role, user.ressort, user.organisation)


def actor_for_email(db: Database, email: str) -> Actor | None:
    """The actor of the active user with this e-mail, or None (also what an IdentityProvider would use)."""
    with db.read() as s:
        user = s.scalar(select(UserRow).where(UserRow.email == _normalise_email(email)))
        return _actor(user) if user is not None and user.active else None


def _keys(email: str, client_key: str) -> tuple[str, str]:
    return f"email:{_normalise_email(email)}"[:300], f"client:{client_key}"[:300]


def _retry_after(db: Database, key: str, now: dt.datetime, *, reset_on_success: bool) -> int:
    """Seconds until this key may try again (0: now)."""
    since = now - THROTTLE_WINDOW
    with db.read() as s:
        if reset_on_success:
            # A successful login for this e-mail forgives the failures before it.
            last_ok = s.scalar(
                select(LoginAttemptRow.at)
                .where(
                    LoginAttemptRow.key == key, LoginAttemptRow.success.is_(True), LoginAttemptRow.at > since
                )
                .order_by(LoginAttemptRow.at.desc())
                .limit(1)
            )
            since = max(since, last_ok) if last_ok is not None else since
        failures = list(
            s.scalars(
                select(LoginAttemptRow.at)
                .where(
                    LoginAttemptRow.key == key, LoginAttemptRow.success.is_(False), LoginAttemptRow.at > since
                )
                .order_by(LoginAttemptRow.at.desc())
                .limit(MAX_FAILURES)
            )
        )
    if len(failures) < MAX_FAILURES:
        return 0
    # The oldest of the last MAX_FAILURES failures must leave the window before another try.
    return max(1, math.ceil((failures[-1] + THROTTLE_WINDOW - now).total_seconds()))


def _record(db: Database, keys: tuple[str, ...], now: dt.datetime, *, success: bool) -> None:
    with db.write() as s:
        s.add_all(LoginAttemptRow(key=k, at=now, success=success) for k in keys)
        s.execute(delete(LoginAttemptRow).where(LoginAttemptRow.at < now - ATTEMPTS_KEPT))


def authenticate(db: Database, email: str, password: str, *, client_key: str) -> Actor:
    """The actor for a correct e-mail and password; ``AuthenticationFailed`` or ``LoginThrottled`` if not.

    At most ``MAX_FAILURES`` failures per ``THROTTLE_WINDOW`` per e-mail address and per client address,
    counted in ``login_attempts`` so that every process of the application sees the same numbers. A
    throttled attempt is refused before the password is checked (else guessing would simply go on).
    """
    now = db.clock()
    email_key, client = _keys(email, client_key)
    wait = max(
        _retry_after(db, email_key, now, reset_on_success=True),
        # An attacker who owns one account must not reset the counter of their address by using it.
        _retry_after(db, client, now, reset_on_success=False),
    )
    if wait:
        raise LoginThrottled(wait)
    with db.read() as s:
        user = s.scalar(select(UserRow).where(UserRow.email == _normalise_email(email)))
        stored = user.password_hash if user is not None and user.active else None
        actor = _actor(user) if user is not None else None
    ok = verify_password(stored or _dummy_hash(), password) and stored is not None
    if not ok or actor is None:
        _record(db, (email_key, client), now, success=False)
        raise AuthenticationFailed()
    _record(db, (email_key, client), now, success=True)
    assert stored is not None
    if _hasher().check_needs_rehash(stored):
        # Parameters raised since the hash was made: store a fresh one while we know the password.
        _store_rehash(db, actor.user_id, hash_password(password))
    return actor


def _store_rehash(db: Database, user_id: int, digest: str) -> None:
    with db.write() as s:
        s.execute(update(UserRow).where(UserRow.id == user_id).values(password_hash=digest))


# --- sessions ------------------------------------------------------------------------------------


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def cookie_secure(settings: Settings) -> bool:
    """Whether cookies get ``Secure``: always, except for plain ``http://`` on loopback (development).

    The deciding setting is the address people use (``PARTNERPROJEKTE_MAIL__BASE_URL``, also used for
    links in e-mails): ``https://…`` in production; the default ``http://127.0.0.1:8000`` in development.
    """
    parts = urlsplit(settings.mail.base_url)
    return not (parts.scheme == "http" and (parts.hostname or "") in _LOOPBACK_HOSTS)


def start_session(db: Database, actor: Actor, response: Response, *, secure: bool) -> str:
    """Open a session for the actor and set its cookie on the response; returns the CSRF token."""
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    now = db.clock()
    with db.write() as s:
        s.add(
            WebSessionRow(
                id=_digest(token),
                user_id=actor.user_id,
                csrf_token=csrf,
                created_at=now,
                expires_at=now + ABSOLUTE_TIMEOUT,
                last_seen_at=now,
            )
        )
        # Expired sessions of anyone are of no use: clear them while we write anyway.
        s.execute(
            delete(WebSessionRow).where(
                (WebSessionRow.expires_at <= now) | (WebSessionRow.last_seen_at <= now - IDLE_TIMEOUT)
            )
        )
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(ABSOLUTE_TIMEOUT.total_seconds()),
        path="/",
        secure=secure,
        httponly=True,
        samesite="lax",
    )
    return csrf


def session_for_token(db: Database, token: str) -> SessionInfo | None:
    """The valid session behind a cookie value, or None (unknown, expired or its user deactivated)."""
    if not token or len(token) > 200:
        return None
    sid = _digest(token)
    now = db.clock()
    with db.read() as s:
        row = s.get(WebSessionRow, sid)
        if row is None:
            return None
        user = s.get(UserRow, row.user_id)
        expired = row.expires_at <= now or row.last_seen_at <= now - IDLE_TIMEOUT
        info = (
            SessionInfo(_actor(user), row.csrf_token, sid)
            if user is not None and user.active and not expired
            else None
        )
        stale = info is not None and row.last_seen_at <= now - TOUCH_INTERVAL
    if info is None:
        with db.write() as s:
            s.execute(delete(WebSessionRow).where(WebSessionRow.id == sid))
    elif stale:
        with db.write() as s:
            s.execute(update(WebSessionRow).where(WebSessionRow.id == sid).values(last_seen_at=now))
    return info


def discard_session(db: Database, token: str | None) -> None:
    """Delete the session behind a cookie value (before a new login: no session outlives a re-login)."""
    if token:
        with db.write() as s:
            s.execute(delete(WebSessionRow).where(WebSessionRow.id == _digest(token)))


def end_session(db: Database, request: Request, response: Response) -> None:
    """End the request's session (if any) and tell the browser to forget the cookie."""
    discard_session(db, request.cookies.get(SESSION_COOKIE))
    settings = getattr(request.app.state, "settings", None)
    secure = cookie_secure(settings) if isinstance(settings, Settings) else True
    response.delete_cookie(SESSION_COOKIE, path="/", secure=secure, httponly=True, samesite="lax")


# --- API tokens ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedToken:
    """A new API token: its id (for revoking) and the secret, which is shown this once."""

    id: int
    token: str


def issue_api_token(db: Database, user_email: str, name: str, *, by: UserActor = SEED) -> IssuedToken:
    """Create an API token for an active user, audited as issued ``by``; only its SHA-256 is stored."""
    name = name.strip()
    if not name:
        raise ValidationError("--name: Der Name des Tokens darf nicht leer sein.")
    if len(name) > TOKEN_NAME_MAX:
        raise ValidationError(f"--name: höchstens {TOKEN_NAME_MAX} Zeichen.")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with db.write() as s:
        user = s.scalar(select(UserRow).where(UserRow.email == _normalise_email(user_email)))
        if user is None or not user.active:
            raise NotFound(f"Keine aktive Person mit der E-Mail „{user_email.strip()}“ (users add).")
        row = ApiTokenRow(
            user_id=user.id,
            name=name,
            token_hash=_digest(token),
            created_at=db.clock(),
            issued_by=by.user_id,
        )
        s.add(row)
        s.flush()
        record_user_event(s, by, "token_issued", user.id, {"token_id": row.id, "name": name}, at=db.clock())
        return IssuedToken(row.id, token)


def create_api_token(db: Database, user_email: str, name: str, *, by: UserActor = SEED) -> str:
    """Create an API token and return it (shown once; only its hash is kept)."""
    return issue_api_token(db, user_email, name, by=by).token


def revoke_api_token(db: Database, token_id: int, *, by: UserActor = SEED) -> bool:
    """Revoke a token by its id; False if it was revoked already, ``NotFound`` if there is none."""
    with db.write() as s:
        row = s.get(ApiTokenRow, token_id)
        if row is None:
            raise NotFound(f"Ein API-Token mit der Nummer {token_id} gibt es nicht.")
        if row.revoked_at is not None:
            return False
        row.revoked_at = db.clock()
        record_user_event(s, by, "token_revoked", row.user_id, {"token_id": token_id}, at=db.clock())
        return True


def actor_for_api_token(db: Database, token: str) -> Actor | None:
    """The actor behind a valid, unrevoked API token of an active user, or None."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    digest = _digest(token)
    now = db.clock()
    with db.read() as s:
        row = s.scalar(select(ApiTokenRow).where(ApiTokenRow.token_hash == digest))
        if row is None or row.revoked_at is not None:
            return None
        user = s.get(UserRow, row.user_id)
        if user is None or not user.active:
            return None
        actor = _actor(user)
        stale = row.last_used_at is None or row.last_used_at <= now - TOUCH_INTERVAL
        token_id = row.id
    if stale:
        with db.write() as s:
            s.execute(update(ApiTokenRow).where(ApiTokenRow.id == token_id).values(last_used_at=now))
    return actor
