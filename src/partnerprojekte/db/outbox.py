"""The outbox: notification rows written in the same transaction as the event that causes them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    Table,
    bindparam,
    exists,
    false,
    func,
    insert,
    literal,
    literal_column,
    null,
    select,
    true,
    union_all,
)
from sqlalchemy.ext.compiler import compiles

from partnerprojekte.audience import Audience, kind
from partnerprojekte.db.prepared import Prepared
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


# --- one event's rows in one statement -----------------------------------------------------------

_COLUMNS = (
    "idempotency_key",
    "proposal_id",
    "audit_seq",
    "kind",
    "recipient_email",
    "recipient_name",
    "recipient_role",
    "context",
    "status",
    "attempts",
    "next_attempt_at",
    "created_at",
)


def _row(order: int, audience: Audience, email: ColumnElement[Any], name: ColumnElement[Any]) -> Select[Any]:
    """One branch of the fan-out: the columns of an outbox row for the recipients ``email``/``name``."""
    group = audience.value
    return select(
        literal_column(str(order)).label("ord"),
        (bindparam(f"{group}_key_prefix", type_=String) + email).label("idempotency_key"),
        bindparam("proposal_id", type_=Integer).label("proposal_id"),
        bindparam("seq", type_=Integer).label("audit_seq"),
        bindparam(f"{group}_kind", type_=String).label("kind"),
        email.label("recipient_email"),
        name.label("recipient_name"),
        literal(group, String).label("recipient_role"),
        bindparam(f"{group}_context", type_=OUTBOX.c.context.type).label("context"),
        bindparam("status", type_=String).label("status"),
        literal_column("0").label("attempts"),
        bindparam("at", type_=OUTBOX.c.created_at.type).label("next_attempt_at"),
        bindparam("at", type_=OUTBOX.c.created_at.type).label("created_at"),
    )


class _Bytewise(ColumnElement[str]):
    """A text compared by code points, as Python's ``sorted`` does, whatever the database's locale."""

    inherit_cache = True

    def __init__(self, text: ColumnElement[str]) -> None:
        self.text = text
        self.type = String()


@compiles(_Bytewise)
def _bytewise_default(element: _Bytewise, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.text, **kw))  # SQLite compares bytewise (BINARY) already


@compiles(_Bytewise, "postgresql")
def _bytewise_postgresql(element: _Bytewise, compiler: Any, **kw: Any) -> str:
    # A German locale would sort "a_b@…" before "a.b@…"; the C collation sorts as Python does.
    return f'{compiler.process(element.text, **kw)} COLLATE "C"'


def _person(audience: Audience, email: ColumnElement[Any]) -> ColumnElement[bool]:
    """The address belongs to an active member of the audience (a person wins over a mailbox)."""
    condition = (USERS.c.email == email) & (USERS.c.role == Role(audience.value)) & USERS.c.active.is_(True)
    if audience is Audience.RESSORT:
        condition &= USERS.c.ressort == bindparam("ressort")
    return exists().where(condition)


@cache
def _fan_out(audiences: tuple[Audience, ...], arbeitsstab_mailbox: bool) -> Prepared:
    """INSERT … SELECT of all rows of an event: the recipients are resolved by the statement itself."""
    branches: list[Select[Any]] = []
    for order, audience in enumerate(audiences):
        if audience is Audience.PARTNER:
            email = bindparam("partner_email", type_=String)
            branches.append(_row(order, audience, email, bindparam("partner_name", type_=String)))
            continue
        role = Role(audience.value)
        people = (USERS.c.role == role) & USERS.c.active.is_(True)
        if audience is Audience.RESSORT:
            people &= USERS.c.ressort == bindparam("ressort")
        branches.append(_row(order, audience, USERS.c.email, USERS.c.name).where(people))
        if audience is Audience.RESSORT:
            mailbox = func.lower(RESSORTS.c.mailbox)
            name = literal("Funktionspostfach ", String) + RESSORTS.c.abbreviation
            branches.append(
                _row(order, audience, mailbox, name)
                .select_from(RESSORTS)
                .where(
                    RESSORTS.c.abbreviation == bindparam("ressort"),
                    RESSORTS.c.mailbox.is_not(None),
                    ~_person(audience, mailbox),
                )
            )
        elif arbeitsstab_mailbox:
            address = bindparam("arbeitsstab_mailbox", type_=String)
            label = literal("Funktionspostfach Arbeitsstab", String)
            branches.append(_row(order, audience, address, label).where(~_person(audience, address)))
    rows = (union_all(*branches) if len(branches) > 1 else branches[0]).subquery()
    # Inserted group by group, by address within a group: the order ``resolve`` gives.
    ordered = select(*(rows.c[c] for c in _COLUMNS)).order_by(rows.c.ord, _Bytewise(rows.c.recipient_email))
    return Prepared(insert(OUTBOX).from_select(list(_COLUMNS), ordered))


def fan_out(
    conn: Executor,
    *,
    proposal_id: int,
    seq: int,
    event: str,
    groups: Sequence[tuple[Audience, dict[str, Any]]],
    contact: tuple[str, str],
    ressort: str | None,
    arbeitsstab_mailbox: str | None,
    at: dt.datetime,
    status: str = "pending",
) -> int:
    """Write the rows of ``resolve`` and ``rows`` for each (audience, context) of an event in one
    statement (one round trip instead of a query per audience and an insert); returns how many."""
    if not groups:
        return 0
    params: dict[str, Any] = {
        "proposal_id": proposal_id,
        "seq": seq,
        "status": status,
        "at": at,
        "ressort": ressort,
        "partner_email": contact[1].lower(),
        "partner_name": contact[0],
        "arbeitsstab_mailbox": arbeitsstab_mailbox.lower() if arbeitsstab_mailbox else None,
    }
    for audience, context in groups:
        name = kind(event, audience)
        params[f"{audience.value}_key_prefix"] = f"PP-{proposal_id:04d}:{seq}:{name}:"
        params[f"{audience.value}_kind"] = name
        params[f"{audience.value}_context"] = context
    return _fan_out(tuple(a for a, _ in groups), bool(arbeitsstab_mailbox)).execute(conn, params)
