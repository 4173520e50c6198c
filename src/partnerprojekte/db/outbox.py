"""The outbox: notification rows written in the same transaction as what causes them.

Two ways in, one module: an event's rows in one ``INSERT … SELECT`` that resolves its recipients
(``fan_out``); every other row (reminders, digests, activation links, samples) built by ``pending_row``
and written by ``insert_new``, which skips keys that exist already.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import islice
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Integer,
    Select,
    String,
    Table,
    bindparam,
    exists,
    func,
    insert,
    literal,
    literal_column,
    select,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.visitors import InternalTraversal

from partnerprojekte.audience import Audience, kind
from partnerprojekte.db.prepared import Prepared
from partnerprojekte.db.store import TABLES, USERS, Executor
from partnerprojekte.model import Role

RESSORTS: Table = TABLES["ressorts"]
OUTBOX: Table = TABLES["outbox"]
INSERT_CHUNK = 500  # rows per INSERT (SQLite allows 32,766 parameters per statement)


def _person(audience: Audience, email: ColumnElement[Any]) -> ColumnElement[bool]:
    """The address belongs to an active member of the audience (a person wins over a mailbox)."""
    condition = (USERS.c.email == email) & (USERS.c.role == Role(audience.value)) & USERS.c.active.is_(True)
    if audience is Audience.RESSORT:
        condition &= USERS.c.ressort == bindparam("ressort")
    return exists().where(condition)


def _members(audience: Audience, arbeitsstab_mailbox: bool) -> list[Select[Any]]:
    """Who an audience is, as queries of ``email``/``name``: the one definition ``resolve`` and
    ``fan_out`` share (parameters as ``_member_params`` gives them)."""
    if audience is Audience.PARTNER:
        return [
            select(
                bindparam("partner_email", type_=String).label("email"),
                bindparam("partner_name", type_=String).label("name"),
            )
        ]
    people = (USERS.c.role == Role(audience.value)) & USERS.c.active.is_(True)
    if audience is Audience.RESSORT:
        people &= USERS.c.ressort == bindparam("ressort")
    members = [select(USERS.c.email.label("email"), USERS.c.name.label("name")).where(people)]
    if audience is Audience.RESSORT:
        mailbox = func.lower(RESSORTS.c.mailbox)
        members.append(
            select(
                mailbox.label("email"),
                (literal("Funktionspostfach ", String) + RESSORTS.c.abbreviation).label("name"),
            ).where(
                RESSORTS.c.abbreviation == bindparam("ressort"),
                RESSORTS.c.mailbox.is_not(None),
                ~_person(audience, mailbox),
            )
        )
    elif arbeitsstab_mailbox:
        address = bindparam("arbeitsstab_mailbox", type_=String)
        members.append(
            select(
                address.label("email"), literal("Funktionspostfach Arbeitsstab", String).label("name")
            ).where(~_person(audience, address))
        )
    return members


@cache
def _resolve_query(audience: Audience, arbeitsstab_mailbox: bool) -> Select[Any] | CompoundSelect[Any]:
    members = _members(audience, arbeitsstab_mailbox)
    return union_all(*members) if len(members) > 1 else members[0]


def _member_params(
    contact: tuple[str, str], ressort: str | None, arbeitsstab_mailbox: str | None
) -> dict[str, Any]:
    return {
        "partner_email": contact[1].lower(),
        "partner_name": contact[0],
        "ressort": ressort,
        "arbeitsstab_mailbox": arbeitsstab_mailbox.lower() if arbeitsstab_mailbox else None,
    }


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
    if audience is Audience.PARTNER:
        return [Recipient(contact[1].lower(), contact[0], audience)]
    if audience is Audience.RESSORT and ressort is None:
        return []
    query = _resolve_query(audience, bool(arbeitsstab_mailbox))
    found = session.execute(query, _member_params(contact, ressort, arbeitsstab_mailbox))
    return [Recipient(email, name, audience) for email, name in sorted(found)]


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


def _row(order: int, audience: Audience, member: Select[Any]) -> Select[Any]:
    """One branch of the fan-out: an outbox row for each recipient ``member`` finds."""
    found = member.subquery()
    group = audience.value
    return select(
        literal_column(str(order)).label("ord"),
        (bindparam(f"{group}_key_prefix", type_=String) + found.c.email).label("idempotency_key"),
        bindparam("proposal_id", type_=Integer).label("proposal_id"),
        bindparam("seq", type_=Integer).label("audit_seq"),
        bindparam(f"{group}_kind", type_=String).label("kind"),
        found.c.email.label("recipient_email"),
        found.c.name.label("recipient_name"),
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
    # Without its internals SQLAlchemy cannot build a cache key and would compile the statement anew on
    # every Connection.execute (found by the Prepared-vs-execute benchmark, benchmarks/README.md).
    _traverse_internals = [("text", InternalTraversal.dp_clauseelement)]  # noqa: RUF012 (SQLAlchemy API)

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


@cache
def _fan_out(audiences: tuple[Audience, ...], arbeitsstab_mailbox: bool) -> Prepared:
    """INSERT … SELECT of all rows of an event: the recipients are resolved by the statement itself."""
    branches = [
        _row(order, audience, member)
        for order, audience in enumerate(audiences)
        for member in _members(audience, arbeitsstab_mailbox)
    ]
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
    # A Ressort audience without a responsible Ressort finds nobody: "ressort = NULL" matches no row.
    if not groups:
        return 0
    params: dict[str, Any] = {
        "proposal_id": proposal_id,
        "seq": seq,
        "status": status,
        "at": at,
        **_member_params(contact, ressort, arbeitsstab_mailbox),
    }
    for audience, context in groups:
        name = kind(event, audience)
        params[f"{audience.value}_key_prefix"] = f"PP-{proposal_id:04d}:{seq}:{name}:"
        params[f"{audience.value}_kind"] = name
        params[f"{audience.value}_context"] = context
    return _fan_out(tuple(a for a, _ in groups), bool(arbeitsstab_mailbox)).execute(conn, params)


# --- rows that are not an event's --------------------------------------------------------------------

# Enum member attributes are slow to read (a descriptor call); rows are built by the ten thousand.
_AUDIENCE_VALUES = {a: a.value for a in Audience}


def pending_row(
    *,
    key: str,
    kind: str,
    recipient: Recipient,
    context: dict[str, Any],
    now: dt.datetime,
    proposal_id: int | None = None,
) -> dict[str, Any]:
    """The column values of one pending outbox row, due now."""
    return {
        "idempotency_key": key,
        "proposal_id": proposal_id,
        "audit_seq": None,
        "kind": kind,
        "recipient_email": recipient.email,
        "recipient_name": recipient.name,
        "recipient_role": _AUDIENCE_VALUES[recipient.audience],
        "context": context,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


def _chunks(items: Sequence[Any], size: int) -> Iterable[list[Any]]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def insert_new(s: Session, rows: Sequence[dict[str, Any]]) -> set[str]:
    """Insert outbox rows, skipping keys that exist already; returns the keys really inserted.

    ``ON CONFLICT DO NOTHING`` makes a second (or simultaneous) run a no-op without an error that
    would abort the transaction; ``RETURNING`` tells which rows were new.
    """
    if not rows:
        return set()
    dialect = s.get_bind().dialect.name
    if dialect == "postgresql":
        stmt: Any = postgresql.insert(OUTBOX).on_conflict_do_nothing(index_elements=["idempotency_key"])
    elif dialect == "sqlite":
        stmt = sqlite.insert(OUTBOX).on_conflict_do_nothing(index_elements=["idempotency_key"])
    else:  # pragma: no cover - the product supports these two backends
        raise NotImplementedError(f"no conflict-ignoring insert for {dialect}")
    stmt = stmt.returning(OUTBOX.c.idempotency_key)
    inserted: set[str] = set()
    for chunk in _chunks(rows, INSERT_CHUNK):
        inserted.update(s.execute(stmt, chunk).scalars())
    return inserted


def existing_keys(s: Session, keys: Sequence[str]) -> set[str]:
    """Which of these idempotency keys are in the outbox already."""
    found: set[str] = set()
    key = OUTBOX.c.idempotency_key
    for chunk in _chunks(keys, INSERT_CHUNK):
        found.update(s.scalars(select(key).where(key.in_(chunk))))
    return found
