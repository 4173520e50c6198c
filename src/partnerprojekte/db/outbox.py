"""The outbox: notification rows written in the same transaction as the event that causes them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from partnerprojekte.audience import Audience, kind
from partnerprojekte.db.schema import OutboxRow, RessortRow, UserRow
from partnerprojekte.model import Role


@dataclass(frozen=True)
class Recipient:
    """One resolved recipient."""

    email: str
    name: str | None
    audience: Audience


def resolve(
    session: Session,
    audience: Audience,
    *,
    contact: tuple[str, str],
    ressort: str | None,
    arbeitsstab_mailbox: str | None,
) -> list[Recipient]:
    """The people (and functional mailboxes) behind an audience, sorted by e-mail."""
    found: dict[str, str | None] = {}
    if audience is Audience.PARTNER:
        found[contact[1].lower()] = contact[0]
    elif audience is Audience.RESSORT:
        if ressort is None:
            return []
        for user in session.scalars(
            select(UserRow).where(
                UserRow.role == Role.RESSORT, UserRow.ressort == ressort, UserRow.active.is_(True)
            )
        ):
            found[user.email] = user.name
        mailbox = session.scalar(select(RessortRow.mailbox).where(RessortRow.abbreviation == ressort))
        if mailbox:
            found.setdefault(mailbox.lower(), f"Funktionspostfach {ressort}")
    else:
        for user in session.scalars(
            select(UserRow).where(UserRow.role == Role.ARBEITSSTAB, UserRow.active.is_(True))
        ):
            found[user.email] = user.name
        if arbeitsstab_mailbox:
            found.setdefault(arbeitsstab_mailbox.lower(), "Funktionspostfach Arbeitsstab")
    return [Recipient(email, name, audience) for email, name in sorted(found.items())]


def write(
    session: Session,
    *,
    proposal_id: int,
    seq: int,
    event: str,
    recipients: list[Recipient],
    context: dict[str, Any],
    at: dt.datetime,
    status: str = "pending",
) -> int:
    """Insert one row per recipient with a unique idempotency key (``suppressed``: history, never sent)."""
    rows = [
        {
            "idempotency_key": f"PP-{proposal_id:04d}:{seq}:{kind(event, r.audience)}:{r.email}",
            "proposal_id": proposal_id,
            "audit_seq": seq,
            "kind": kind(event, r.audience),
            "recipient_email": r.email,
            "recipient_name": r.name,
            "recipient_role": r.audience.value,
            "context": context,
            "status": status,
            "attempts": 0,
            "next_attempt_at": at,
            "created_at": at,
        }
        for r in recipients
    ]
    if rows:
        session.execute(insert(OutboxRow), rows)
    return len(rows)
