"""Accounts are activated by their owners: one-time links by mail, never a password set by someone else.

An administrator creates a person, reactivates one or asks for a new password; each of these issues an
activation link and mails it through the outbox (kind ``activation.person``). The link holds a random
token (``secrets.token_urlsafe(32)``); the table ``activation_links`` keeps only its SHA-256, the outbox
row keeps the link until the message is sent (then ``delivery`` removes it). The owner opens
``/aktivieren/<token>`` and chooses a password; the link is used up in the same statement that checks it
(``UPDATE … WHERE used_at IS NULL AND expires_at > now``), so it works once, and only until it expires
(``activation_link_hours``, 48 by default). A newer link replaces an older unused one. Whoever issued the
link that was used is remembered as ``users.activated_by``: the two approvals of one decision may not come
from two accounts one administrator created or activated (``services.independence.check_independent``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, delete, func, select, update
from sqlalchemy.orm import Session

from partnerprojekte.config import Settings
from partnerprojekte.db import outbox
from partnerprojekte.db.engine import Database
from partnerprojekte.db.schema import ActivationLinkRow, UserRow, WebSessionRow
from partnerprojekte.db.user_audit import UserActor, record_user_event
from partnerprojekte.errors import NotFound, TransitionRefused, ValidationError
from partnerprojekte.model import Audience, Role
from partnerprojekte.notifications.kinds import ACTIVATION_KIND
from partnerprojekte.services import Services
from partnerprojekte.web.auth.security import check_password_policy, hash_password, revoke_user_tokens

ACTIVATION_PATH = "/aktivieren"
TOKEN_MAX = 100  # token_urlsafe(32) has 43 characters; anything much longer is not one of ours
PURPOSE_LABELS = {
    "new": "Erstanmeldung",
    "reactivate": "Wiederfreischaltung",
    "reset": "neues Passwort",
}


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _email(email: str) -> str:
    return email.strip().lower()


def acting_admin(s: Session, email: str, channel: str) -> UserActor:
    """The acting administrator named by ``--as`` (or a session): an active admin, else refused."""
    user = s.scalar(select(UserRow).where(UserRow.email == _email(email)))
    if user is None or not user.active:
        raise NotFound(f"Keine aktive Person mit der E-Mail „{email.strip()}“.", field="actor")
    if user.role is not Role.ADMIN:
        raise TransitionRefused(
            f"{user.email} ist {user.role.label}; Personen verwaltet nur die Administration.",
            field="actor",
            event="users",
            state=None,
            reason="role",
            role=user.role.value,
        )
    return UserActor(f"{channel}:{user.email}", user.id)


def acting_admin_by_id(s: Session, user_id: int, channel: str) -> UserActor:
    """``acting_admin`` for a logged-in person (by id)."""
    user = s.get(UserRow, user_id)
    if user is None:
        raise NotFound("Diese Person gibt es nicht.")
    return acting_admin(s, user.email, channel)


def person_by_email(s: Session, email: str) -> UserRow:
    """The person with this e-mail (active or not), else NotFound."""
    user = s.scalar(select(UserRow).where(UserRow.email == _email(email)))
    if user is None:
        raise NotFound(f"E-Mail: Keine Person mit der E-Mail „{email.strip()}“.")
    return user


def active_admins(s: Session) -> int:
    """How many active administrators there are (the first two are set up without ``--as``)."""
    return int(
        s.scalar(
            select(func.count())
            .select_from(UserRow)
            .where(UserRow.role == Role.ADMIN, UserRow.active.is_(True))
        )
        or 0
    )


def _purpose(user: UserRow) -> str:
    if not user.active:
        return "reactivate"
    return "new" if user.password_hash is None else "reset"


def cancel_links(s: Session, user_id: int, *, at: dt.datetime) -> int:
    """Make every unused link of a person unusable (a new link, a deactivation); how many."""
    result = s.execute(
        update(ActivationLinkRow)
        .where(ActivationLinkRow.user_id == user_id, ActivationLinkRow.used_at.is_(None))
        .values(used_at=at)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def issue_link(s: Session, settings: Settings, user: UserRow, by: UserActor, *, at: dt.datetime) -> str:
    """Issue a new activation link for a person and queue its mail, in the caller's transaction.

    Returns the purpose (``new``, ``reactivate``, ``reset``). The clear token is only in the outbox row,
    never returned: whoever issues a link must not be able to use it.
    """
    purpose = _purpose(user)
    cancel_links(s, user.id, at=at)  # an older unused link stops working: only the newest one counts
    token = secrets.token_urlsafe(32)
    expires = at + dt.timedelta(hours=settings.activation_link_hours)
    link = ActivationLinkRow(
        user_id=user.id,
        token_hash=_digest(token),
        purpose=purpose,
        issued_by=by.user_id,
        created_at=at,
        expires_at=expires,
    )
    s.add(link)
    s.flush()
    base = settings.mail.base_url.rstrip("/")
    row = outbox.pending_row(
        key=f"activation:{link.id}",
        kind=ACTIVATION_KIND,
        recipient=outbox.Recipient(user.email, user.name, Audience.PERSON),
        context={
            "purpose": purpose,
            "role": user.role.value,
            "email": user.email,
            "activation_url": f"{base}{ACTIVATION_PATH}/{token}",
            "expires_at": expires.isoformat(),
        },
        now=at,
    )
    # The link's id is new, so is its key: a row not inserted would be a link nobody is told of.
    if not outbox.insert_new(s, [row]):
        raise RuntimeError(f"Aktivierungsmail für Link {link.id} schon in der Outbox")
    details = {"purpose": purpose, "link_id": link.id, "expires_at": expires.isoformat()}
    record_user_event(s, by, "link_issued", user.id, details, at=at)
    return purpose


def create_person(
    services: Services,
    email: str,
    name: str,
    role: Role,
    *,
    ressort: str | None,
    organisation: str | None,
    by: UserActor,
) -> UserRow:
    """Create a person without a password and mail them their activation link, in one transaction."""
    with services.db.write() as s:
        user = services.add_user(email, name, role, ressort=ressort, organisation=organisation, by=by)
        issue_link(s, services.settings, s.get_one(UserRow, user.id), by, at=services.db.clock())
        return user


def send_link(services: Services, email: str, by: UserActor) -> tuple[UserRow, str]:
    """Mail a person a new activation link (first login, reactivation or a new password)."""
    with services.db.write() as s:
        user = s.scalar(select(UserRow).where(UserRow.email == _email(email)))
        if user is None:
            raise NotFound(f"Keine Person mit der E-Mail „{email.strip()}“.")
        if by.user_id == user.id:
            raise ValidationError(
                "E-Mail: Einen Link für den eigenen Zugang stellt eine andere Administration aus."
            )
        purpose = issue_link(s, services.settings, user, by, at=services.db.clock())
        return user, purpose


@dataclass(frozen=True)
class LinkView:
    """A valid link as the activation page shows it."""

    name: str
    email: str
    purpose: str
    expires_at: dt.datetime


def _plausible(token: str) -> bool:
    return 0 < len(token) <= TOKEN_MAX and token.isascii()


def link_for_token(db: Database, token: str) -> LinkView | None:
    """The person behind an unused, unexpired link, or None."""
    if not _plausible(token):
        return None
    with db.read() as s:
        found = s.execute(
            select(ActivationLinkRow, UserRow)
            .join(UserRow, UserRow.id == ActivationLinkRow.user_id)
            .where(
                ActivationLinkRow.token_hash == _digest(token),
                ActivationLinkRow.used_at.is_(None),
                ActivationLinkRow.expires_at > db.clock(),
            )
        ).first()
        if found is None:
            return None
        link, user = found
        return LinkView(user.name, user.email, link.purpose, link.expires_at)


INVALID_LINK = (
    "Dieser Link ist ungültig, abgelaufen oder wurde schon benutzt. Bitte bitten Sie die Administration "
    "um einen neuen Link."
)


def activate(db: Database, token: str, password: str) -> str:
    """Use a link: set the owner's own password, (re)activate the account; returns the e-mail.

    The link is consumed by one conditional UPDATE, so two requests with it cannot both succeed. The
    person's sessions end and their API tokens die; who issued the link becomes ``activated_by``.
    """
    check_password_policy(password)
    if not _plausible(token):
        raise NotFound(INVALID_LINK)
    digest = hash_password(password)  # argon2 before the transaction: it takes a while
    with db.write() as s:
        now = db.clock()
        t = cast(Table, ActivationLinkRow.__table__)
        used = s.execute(
            update(t)
            .where(t.c.token_hash == _digest(token), t.c.used_at.is_(None), t.c.expires_at > now)
            .values(used_at=now)
            .returning(t.c.id, t.c.user_id, t.c.issued_by, t.c.purpose)
        ).first()
        if used is None:
            raise NotFound(INVALID_LINK)
        user = s.get_one(UserRow, used.user_id)
        was_active = user.active
        user.password_hash = digest
        user.active = True
        user.activated_by = used.issued_by
        s.execute(delete(WebSessionRow).where(WebSessionRow.user_id == user.id))
        revoked = revoke_user_tokens(s, user.id, now)
        details = {
            "purpose": used.purpose,
            "link_id": used.id,
            "activated_by": used.issued_by,
            "was_active": was_active,
            "tokens_revoked": revoked,
        }
        record_user_event(s, UserActor(f"self:{user.email}", user.id), "activate", user.id, details, at=now)
        return user.email
