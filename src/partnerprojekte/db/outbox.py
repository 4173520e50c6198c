"""The outbox: notification rows written in the same transaction as the event that causes them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, bindparam, false, insert, null, select, true, union_all

from partnerprojekte.audience import Audience, kind
from partnerprojekte.db.store import TABLES, USERS, Executor
from partnerprojekte.model import Role

RESSORTS: Table = TABLES["ressorts"]
OUTBOX: Table = TABLES["outbox"]

# Built once (every event resolves its recipients); "person" rows win over a mailbox of the same address.
_RESSORT_RECIPIENTS = union_all(
    select(USERS.c.email, USERS.c.name, false().label("mailbox")).where(
        USERS.c.role == Role.RESSORT, USERS.c.ressort == bindparam("ressort"), USERS.c.active.is_(True)
    ),
    select(RESSORTS.c.mailbox, null(), true()).where(
        RESSORTS.c.abbreviation == bindparam("ressort"), RESSORTS.c.mailbox.is_not(None)
    ),
)
_ARBEITSSTAB = select(USERS.c.email, USERS.c.name).where(
    USERS.c.role == Role.ARBEITSSTAB, USERS.c.active.is_(True)
)
_INSERT = insert(OUTBOX)


@dataclass(frozen=True)
class Recipient:
    """One resolved recipient."""

    email: str
    name: str | None
    audience: Audience


def resolve(
    session: Executor,
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
        mailboxes = []
        for email, name, is_mailbox in session.execute(_RESSORT_RECIPIENTS, {"ressort": ressort}):
            if is_mailbox:
                mailboxes.append(email.lower())
            else:
                found[email] = name
        for mailbox in mailboxes:
            found.setdefault(mailbox, f"Funktionspostfach {ressort}")
    else:
        for email, name in session.execute(_ARBEITSSTAB):
            found[email] = name
        if arbeitsstab_mailbox:
            found.setdefault(arbeitsstab_mailbox.lower(), "Funktionspostfach Arbeitsstab")
    return [Recipient(email, name, audience) for email, name in sorted(found.items())]


def rows(
    *,
    proposal_id: int,
    seq: int,
    event: str,
    recipients: list[Recipient],
    context: dict[str, Any],
    at: dt.datetime,
    status: str = "pending",
) -> list[dict[str, Any]]:
    """One outbox row per recipient with a unique idempotency key (``suppressed``: history, never sent)."""
    return [
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


def insert_rows(session: Executor, rows: list[dict[str, Any]]) -> int:
    """Insert outbox rows (one statement for all of an event's); returns how many."""
    if rows:
        session.execute(_INSERT, rows)
    return len(rows)


def write(session: Executor, **kwargs: Any) -> int:
    """Insert the rows of ``rows(**kwargs)``; returns how many."""
    return insert_rows(session, rows(**kwargs))
