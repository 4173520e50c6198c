"""Authentication: argon2id passwords, throttled logins, browser sessions and API tokens.

Sessions. The cookie ``pp_session`` (``__Host-pp_session`` over HTTPS, see ``cookie_name``) holds a
random token (``secrets.token_urlsafe``); the table ``web_sessions`` keeps only its SHA-256, so a leaked
database copy opens no session. A session ends after 8 hours without a request or 24 hours after login,
whichever comes first. The cookie is ``HttpOnly``
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

Longer than 400 lines on purpose: passwords, sessions, CSRF, API tokens and the login limit are the
security boundary, which a reviewer reads in one go.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import math
import re
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
from partnerprojekte.db.schema import (
    ApiTokenRow,
    LoginAttemptRow,
    LoginCounterRow,
    UserRow,
    WebSecretRow,
    WebSessionRow,
)
from partnerprojekte.db.user_audit import SEED, UserActor, record_user_event
from partnerprojekte.errors import FieldError, NotFound, ValidationError
from partnerprojekte.formats import check_text
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


def prepare_login() -> None:
    """Make the dummy hash now (at start-up), not in the first login for an unknown address: that one
    would otherwise cost a hash more than a login for an existing one, and so tell them apart."""
    _dummy_hash()


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
    it for someone else. People set their own password through an activation link (``web/auth/accounts.py``).
    """
    check_password_policy(password)
    digest = hash_password(password)
    with db.write() as s:
        user = s.scalar(select(UserRow).where(UserRow.email == _normalise_email(email)))
        if user is None:
            raise NotFound(f"Keine Person mit der E-Mail „{email.strip()}“.", field="person")
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


# --- login limits --------------------------------------------------------------------------------
#
# Every attempt is counted on its keys *before* the password is checked, in one transaction that locks
# the counter rows (INSERT … ON CONFLICT DO NOTHING, then SELECT … FOR UPDATE; SQLite's write lock does
# the same): parallel attempts queue on the row and each sees the count of the ones before it, so a burst
# can never check more passwords than the limit allows. An attempt that fails stays counted; a success
# takes its own count back (client address) or clears the counter (account, known device).
#
# Keys and what they do:
# - ``client:<address>`` (IPv6: its /64): at most MAX_FAILURES failures, then blocked until
#   THROTTLE_WINDOW after the first of them. Stops one client from guessing across many accounts.
# - ``email:<address>``: MAX_FAILURES failures are free; after that each further attempt must wait a delay
#   that starts at ACCOUNT_BASE_DELAY and doubles with each failure, capped at THROTTLE_WINDOW. The account
#   is slowed, never locked for good: whoever guesses at someone's address cannot shut them out.
# - ``device:<id>``: replaces the account key when the browser shows a valid "known device" cookie that an
#   earlier successful login of this same person left (signed, see ``device_cookie``). The owner's own
#   browser therefore logs in even while strangers are guessing at the address; a stolen cookie buys its
#   thief only the same slow budget on a key of its own.

DEVICE_COOKIE = "pp_device"
KNOWN_DEVICE_VALID = dt.timedelta(days=180)
ACCOUNT_BASE_DELAY = dt.timedelta(minutes=1)
# An account's failures are forgotten after this long without a new one.
ACCOUNT_FORGET = dt.timedelta(hours=1)
COUNTERS_KEPT = dt.timedelta(days=1)
_DIGITS = re.compile(r"[0-9]{1,12}")
_SECRET_NAME = "signing-key"  # noqa: S105 - the name of the row, not the secret


@dataclass(frozen=True)
class _Limit:
    key: str
    # True: a hard limit per window (client address); False: a growing delay (account, device).
    hard: bool


def _client_limit(client_key: str) -> _Limit:
    return _Limit(f"client:{client_key}"[:300], hard=True)


def _account_limit(email: str) -> _Limit:
    return _Limit(f"email:{_normalise_email(email)}"[:300], hard=False)


def account_delay(failures: int) -> dt.timedelta:
    """How long an account waits after ``failures`` failures (zero below MAX_FAILURES)."""
    if failures < MAX_FAILURES:
        return dt.timedelta(0)
    # Capped before the power: the exponent of an old, long series must not overflow.
    factor: int = 2 ** min(failures - MAX_FAILURES, 20)
    return min(THROTTLE_WINDOW, ACCOUNT_BASE_DELAY * factor)


def _counted(row: LoginCounterRow, limit: _Limit, now: dt.datetime) -> int:
    """The failures that still count (0 once the window has passed or the account was left alone)."""
    if limit.hard:
        return row.failures if now < row.first_at + THROTTLE_WINDOW else 0
    return row.failures if now < row.last_at + ACCOUNT_FORGET else 0


def _wait(row: LoginCounterRow, limit: _Limit, now: dt.datetime) -> int:
    """Seconds until this key may try again (0: now)."""
    failures = _counted(row, limit, now)
    if limit.hard:
        if failures < MAX_FAILURES:
            return 0
        return max(1, math.ceil((row.first_at + THROTTLE_WINDOW - now).total_seconds()))
    until = row.last_at + account_delay(failures)
    return 0 if failures < MAX_FAILURES or until <= now else max(1, math.ceil((until - now).total_seconds()))


def _insert(db: Database) -> Any:
    # The dialect's own INSERT for ON CONFLICT (both spell it alike).
    if db.is_postgres:
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert


def _reserve(db: Database, limits: list[_Limit], now: dt.datetime) -> None:
    """Count one attempt on every key, atomically, or count none and raise ``LoginThrottled``."""
    insert = _insert(db)
    wait = 0
    with db.write() as s:
        rows: list[tuple[_Limit, LoginCounterRow]] = []
        # One key after the other in a fixed order: two attempts never wait for each other in a circle.
        for limit in sorted(limits, key=lambda item: item.key):
            s.execute(
                insert(LoginCounterRow)
                .values(key=limit.key, failures=0, first_at=now, last_at=now)
                .on_conflict_do_nothing(index_elements=["key"])
            )
            row = s.scalars(
                select(LoginCounterRow)
                .where(LoginCounterRow.key == limit.key)
                .with_for_update()
                .execution_options(populate_existing=True)
            ).one()
            rows.append((limit, row))
            wait = max(wait, _wait(row, limit, now))
        if wait:
            # Nothing is counted for a refused attempt (the rollback also drops rows just inserted).
            raise LoginThrottled(wait)
        for limit, row in rows:
            if _counted(row, limit, now) == 0:
                row.failures, row.first_at = 1, now
            else:
                row.failures += 1
            row.last_at = now


def _settle(db: Database, limits: list[_Limit], now: dt.datetime, *, success: bool) -> None:
    """After the password check: a success gives back what it reserved; log the outcome."""
    with db.write() as s:
        if success:
            for limit in sorted(limits, key=lambda item: item.key):
                if limit.hard:
                    # An attacker who owns one account must not clear their address's failures with it.
                    s.execute(
                        update(LoginCounterRow)
                        .where(LoginCounterRow.key == limit.key, LoginCounterRow.failures > 0)
                        .values(failures=LoginCounterRow.failures - 1)
                    )
                else:
                    s.execute(delete(LoginCounterRow).where(LoginCounterRow.key == limit.key))
        s.add_all(LoginAttemptRow(key=limit.key, at=now, success=success) for limit in limits)
        s.execute(delete(LoginAttemptRow).where(LoginAttemptRow.at < now - ATTEMPTS_KEPT))
        # Old counters of anyone; rows another attempt holds are skipped (no waiting, no deadlock).
        stale = (
            select(LoginCounterRow.key)
            .where(LoginCounterRow.last_at < now - COUNTERS_KEPT)
            .with_for_update(skip_locked=True)
        )
        s.execute(delete(LoginCounterRow).where(LoginCounterRow.key.in_(stale)))


# --- signed values (known device, login CSRF token) ---------------------------------------------


def signing_key(db: Database) -> bytes:
    """The application's signing key: made on first use and kept in the database, so that every
    process of the application signs alike without a secret to configure."""
    with db.read() as s:
        value = s.scalar(select(WebSecretRow.value).where(WebSecretRow.name == _SECRET_NAME))
    if value is None:
        with db.write() as s:
            s.execute(
                _insert(db)(WebSecretRow)
                .values(name=_SECRET_NAME, value=secrets.token_urlsafe(48))
                .on_conflict_do_nothing(index_elements=["name"])
            )
            value = s.scalar(select(WebSecretRow.value).where(WebSecretRow.name == _SECRET_NAME))
    assert value is not None
    return value.encode("ascii")


def _mac(key: bytes, purpose: str, value: str) -> str:
    digest = hmac.new(key, f"{purpose}|{value}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def device_cookie(key: bytes, user_id: int, now: dt.datetime) -> str:
    """A "known device" cookie value for a person who just logged in: ``<user id>.<issued>.<mac>``."""
    body = f"{user_id}.{int(now.timestamp())}"
    return f"{body}.{_mac(key, 'device', body)}"


def _device_limit(key: bytes, value: str | None, user_id: int | None, now: dt.datetime) -> _Limit | None:
    """The counter key of a valid known-device cookie of this very person, else None."""
    if not value or user_id is None or len(value) > 100:
        return None
    parts = value.split(".")
    if len(parts) != 3 or not all(_DIGITS.fullmatch(part) for part in parts[:2]):
        return None
    body = f"{parts[0]}.{parts[1]}"
    if not hmac.compare_digest(_mac(key, "device", body), parts[2]) or int(parts[0]) != user_id:
        return None
    issued = dt.datetime.fromtimestamp(int(parts[1]), dt.UTC)
    if not now - KNOWN_DEVICE_VALID < issued <= now + dt.timedelta(minutes=5):
        return None
    return _Limit(f"device:{parts[2][:32]}", hard=False)


def csrf_form_token(key: bytes, cookie: str) -> str:
    """The token a login form carries for the anonymous CSRF cookie ``cookie`` (never the value itself)."""
    return _mac(key, "login-csrf", cookie)


# --- login ---------------------------------------------------------------------------------------


def authenticate(
    db: Database,
    email: str,
    password: str,
    *,
    client_key: str,
    device: str | None = None,
    key: bytes | None = None,
) -> Actor:
    """The actor for a correct e-mail and password; ``AuthenticationFailed`` or ``LoginThrottled`` if not.

    The attempt is counted (see "login limits" above) before the password is checked, so a throttled
    attempt costs no argon2 work and a burst checks at most as many passwords as the limits allow.
    Every attempt that is not throttled verifies exactly one argon2 hash, whether the address exists or
    not, the account is active or not, a password is set or not: the answer takes the same work.
    ``device`` is the browser's known-device cookie, checked with ``key`` (see ``signing_key``).
    """
    now = db.clock()
    with db.read() as s:
        user = s.scalar(select(UserRow).where(UserRow.email == _normalise_email(email)))
        stored = user.password_hash if user is not None and user.active else None
        actor = _actor(user) if user is not None and user.active else None
    own_device = _device_limit(key, device, actor.user_id if actor else None, now) if key else None
    limits = [_client_limit(client_key), own_device or _account_limit(email)]
    _reserve(db, limits, now)
    ok = verify_password(stored or _dummy_hash(), password) and stored is not None
    if not ok or actor is None:
        _settle(db, limits, now, success=False)
        raise AuthenticationFailed()
    # A success also forgives the account key when it came through a known device.
    _settle(db, [*limits, _account_limit(email)] if own_device else limits, now, success=True)
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


def cookie_name(base: str, *, secure: bool) -> str:
    """``__Host-<base>`` where cookies are ``Secure`` (served over HTTPS), else ``base``.

    With the prefix a browser keeps the cookie only if it came over HTTPS from exactly this host with
    ``Path=/`` and no ``Domain``: no sibling subdomain and no plain-HTTP page can plant or overwrite it.
    Development on ``http://127.0.0.1`` keeps the plain name (browsers refuse the prefix without HTTPS).
    """
    return f"__Host-{base}" if secure else base


def session_cookie_name(settings: Settings) -> str:
    """The name of the session cookie under these settings."""
    return cookie_name(SESSION_COOKIE, secure=cookie_secure(settings))


def device_cookie_name(settings: Settings) -> str:
    """The name of the known-device cookie under these settings."""
    return cookie_name(DEVICE_COOKIE, secure=cookie_secure(settings))


def remember_device(response: Response, key: bytes, user_id: int, now: dt.datetime, *, secure: bool) -> None:
    """Set the known-device cookie after a successful login (it outlives the session and the logout)."""
    response.set_cookie(
        cookie_name(DEVICE_COOKIE, secure=secure),
        device_cookie(key, user_id, now),
        max_age=int(KNOWN_DEVICE_VALID.total_seconds()),
        path="/",
        secure=secure,
        httponly=True,
        # Only ever read by our own login form's POST.
        samesite="strict",
    )


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
        cookie_name(SESSION_COOKIE, secure=secure),
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
    settings = getattr(request.app.state, "settings", None)
    secure = cookie_secure(settings) if isinstance(settings, Settings) else True
    name = cookie_name(SESSION_COOKIE, secure=secure)
    discard_session(db, request.cookies.get(name))
    response.delete_cookie(name, path="/", secure=secure, httponly=True, samesite="lax")


# --- API tokens ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedToken:
    """A new API token: its id (for revoking) and the secret, which is shown this once."""

    id: int
    token: str


def issue_api_token(db: Database, user_email: str, name: str, *, by: UserActor = SEED) -> IssuedToken:
    """Create an API token for an active user, audited as issued ``by``; only its SHA-256 is stored."""
    check_text(name, "Name des Tokens")
    name = name.strip()
    if not name:
        raise ValidationError(FieldError("name", "Der Name des Tokens darf nicht leer sein."))
    if len(name) > TOKEN_NAME_MAX:
        raise ValidationError(FieldError("name", f"höchstens {TOKEN_NAME_MAX} Zeichen."))
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with db.write() as s:
        user = s.scalar(select(UserRow).where(UserRow.email == _normalise_email(user_email)))
        if user is None or not user.active:
            raise NotFound(f"Keine aktive Person mit der E-Mail „{user_email.strip()}“.", field="person")
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
