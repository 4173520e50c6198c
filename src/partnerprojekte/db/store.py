"""The write path of the use cases: Core statements built once, executed on the unit of work's connection.

Building a statement costs SQLAlchemy more than running it (coercion, cache key, compilation), and the
ORM's unit of work adds a flush per transaction; an event runs a dozen statements. The statements here
are module constants, so each is built once per process and compiled once per shape; values go in as
parameters (an ``UPDATE``/``INSERT`` without ``.values()`` takes its columns from the parameters).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import (
    Connection,
    CursorResult,
    RowMapping,
    Table,
    and_,
    bindparam,
    case,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Session

from partnerprojekte.db.schema import Base
from partnerprojekte.model import Role, State
from partnerprojekte.states.workflow import Actor

# What a use case executes on: the unit of work's Session or its Connection (tests and reminders
# hand in a Session; the event path takes the Session's Connection and skips the ORM).
Executor = Session | Connection

TABLES = Base.metadata.tables
USERS: Table = TABLES["users"]
PROPOSALS: Table = TABLES["proposals"]
REVISIONS: Table = TABLES["revisions"]
APPROVALS: Table = TABLES["approvals"]
CONFIRMATIONS: Table = TABLES["confirmations"]
COMMENTS: Table = TABLES["comments"]
ASSIGNMENTS: Table = TABLES["ressort_assignments"]

PENDING = "pending"


@dataclass(slots=True)
class ProposalState:
    """A proposal as a use case sees it; ``bump`` keeps it in step with the row it writes."""

    id: int
    status: State
    version: int
    title: str
    organisation: str
    contact_name: str
    contact_email: str
    handlungsfelder: str
    responsible_ressort: str | None
    current_revision: int
    check_result: dict[str, Any]
    audit_head: str
    confirmed: frozenset[str] = frozenset()  # criteria confirmed for the current revision
    pending_approvals: int = 0  # of any event


_STATE_FIELDS = frozenset(f.name for f in fields(ProposalState))


@dataclass(frozen=True, slots=True)
class PendingApproval:
    """A pending approval with the name and e-mail of the person who gave it."""

    id: int
    event: str
    user_id: int
    role: Role
    name: str
    email: str
    comment: str | None
    reasons: list[str]
    created_at: dt.datetime


_PROPOSAL_COLUMNS = (
    "id",
    "status",
    "version",
    "title",
    "organisation",
    "contact_name",
    "contact_email",
    "handlungsfelder",
    "responsible_ressort",
    "current_revision",
    "check_result",
    "audit_head",
)
_ACTOR_COLUMNS = ("id", "email", "name", "role", "ressort", "organisation")

_CONFIRMED = (
    select(func.aggregate_strings(CONFIRMATIONS.c.criterion, ","))
    .where(
        CONFIRMATIONS.c.proposal_id == PROPOSALS.c.id,
        CONFIRMATIONS.c.revision == PROPOSALS.c.current_revision,
    )
    .scalar_subquery()
)
_PENDING_COUNT = (
    select(func.count())
    .where(APPROVALS.c.proposal_id == PROPOSALS.c.id, APPROVALS.c.status == PENDING)
    .scalar_subquery()
)

# One round trip for what every event needs: the proposal, its confirmations and pending approvals,
# and the acting person (joined on the e-mail; no person row if nobody active has it).
_CONTEXT = (
    select(
        *(PROPOSALS.c[name] for name in _PROPOSAL_COLUMNS),
        _CONFIRMED.label("confirmed"),
        _PENDING_COUNT.label("pending_approvals"),
        *(USERS.c[name].label(f"actor_{name}") for name in _ACTOR_COLUMNS),
    )
    .select_from(
        PROPOSALS.outerjoin(USERS, and_(USERS.c.email == bindparam("email"), USERS.c.active.is_(True)))
    )
    .where(PROPOSALS.c.id == bindparam("proposal_id"))
)

_ACTOR = select(*(USERS.c[name] for name in _ACTOR_COLUMNS)).where(
    USERS.c.email == bindparam("email"), USERS.c.active.is_(True)
)

_PENDING = (
    select(
        APPROVALS.c.id,
        APPROVALS.c.event,
        APPROVALS.c.user_id,
        APPROVALS.c.role,
        USERS.c.name,
        USERS.c.email,
        APPROVALS.c.comment,
        APPROVALS.c.reasons,
        APPROVALS.c.created_at,
    )
    .join_from(APPROVALS, USERS, APPROVALS.c.user_id == USERS.c.id)
    .where(APPROVALS.c.proposal_id == bindparam("proposal_id"), APPROVALS.c.status == PENDING)
    .order_by(APPROVALS.c.id)
)

_STATUS = select(PROPOSALS.c.status).where(PROPOSALS.c.id == bindparam("proposal_id"))
_IMPORTED = select(PROPOSALS.c.id).where(PROPOSALS.c.import_key == bindparam("import_key"))

# The SET clause comes from the parameters; "_id"/"_version" are no column names.
_BUMP = update(PROPOSALS).where(
    PROPOSALS.c.id == bindparam("_id"), PROPOSALS.c.version == bindparam("_version")
)
_SET = update(PROPOSALS).where(PROPOSALS.c.id == bindparam("_id"))

# A change of state closes every pending approval: those of the event that fired as fired,
# all others (stale now) as discarded.
_CLOSE_PENDING = (
    update(APPROVALS)
    .where(APPROVALS.c.proposal_id == bindparam("_proposal_id"), APPROVALS.c.status == PENDING)
    .values(
        status=case((APPROVALS.c.event == bindparam("_fired_event"), "fired"), else_="discarded"),
        closed_at=bindparam("_at"),
    )
)
_WITHDRAW = (
    update(APPROVALS)
    .where(APPROVALS.c.id.in_(bindparam("_ids", expanding=True)), APPROVALS.c.status == PENDING)
    .values(status="withdrawn", closed_at=bindparam("_at"))
)
_END_ASSIGNMENT = (
    update(ASSIGNMENTS)
    .where(ASSIGNMENTS.c.proposal_id == bindparam("_proposal_id"), ASSIGNMENTS.c.ended_at.is_(None))
    .values(ended_at=bindparam("_at"))
)

_INSERT_PROPOSAL = insert(PROPOSALS)
_INSERT_REVISION = insert(REVISIONS)
_INSERT_APPROVAL = insert(APPROVALS)
_INSERT_CONFIRMATION = insert(CONFIRMATIONS)
_INSERT_COMMENT = insert(COMMENTS)
_INSERT_ASSIGNMENT = insert(ASSIGNMENTS)


def _actor(row: RowMapping, prefix: str = "") -> Actor:
    return Actor(
        row[f"{prefix}id"],
        row[f"{prefix}email"],
        row[f"{prefix}name"],
        row[f"{prefix}role"],
        row[f"{prefix}ressort"],
        row[f"{prefix}organisation"],
    )


def load_actor(conn: Executor, email: str) -> Actor | None:
    """The active person with this (normalised) e-mail, or None."""
    row = conn.execute(_ACTOR, {"email": email}).mappings().first()
    return _actor(row) if row is not None else None


def load_context(conn: Executor, proposal_id: int, email: str) -> tuple[ProposalState, Actor | None] | None:
    """The proposal and the active person with this e-mail; None if there is no such proposal."""
    row = conn.execute(_CONTEXT, {"proposal_id": proposal_id, "email": email}).mappings().first()
    if row is None:
        return None
    confirmed = row["confirmed"]
    state = ProposalState(
        id=row["id"],
        status=row["status"],
        version=row["version"],
        title=row["title"],
        organisation=row["organisation"],
        contact_name=row["contact_name"],
        contact_email=row["contact_email"],
        handlungsfelder=row["handlungsfelder"],
        responsible_ressort=row["responsible_ressort"],
        current_revision=row["current_revision"],
        check_result=row["check_result"],
        audit_head=row["audit_head"],
        confirmed=frozenset(confirmed.split(",")) if confirmed else frozenset(),
        pending_approvals=row["pending_approvals"],
    )
    return state, (_actor(row, "actor_") if row["actor_id"] is not None else None)


def pending_approvals(conn: Executor, proposal: ProposalState) -> list[PendingApproval]:
    """The proposal's pending approvals of every event, oldest first (no query if it has none)."""
    if not proposal.pending_approvals:
        return []
    return [PendingApproval(*row) for row in conn.execute(_PENDING, {"proposal_id": proposal.id})]


def current_status(conn: Executor, proposal_id: int) -> State | None:
    """The stored status of a proposal (after a lost race)."""
    status: State | None = conn.execute(_STATUS, {"proposal_id": proposal_id}).scalar()
    return status


def is_imported(conn: Executor, import_key: str) -> bool:
    """Whether a proposal with this import key exists."""
    return conn.execute(_IMPORTED, {"import_key": import_key}).first() is not None


def insert_proposal(conn: Executor, values: Mapping[str, Any]) -> int:
    """Insert a proposal row; returns its id."""
    result: CursorResult[Any] = conn.execute(_INSERT_PROPOSAL, dict(values))  # type: ignore[assignment]
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def bump(conn: Executor, proposal: ProposalState, changes: Mapping[str, Any]) -> bool:
    """Write the changes if the row still has the version that was read; False if someone was faster."""
    result = conn.execute(_BUMP, {**changes, "_id": proposal.id, "_version": proposal.version})
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    for key, value in changes.items():
        if key in _STATE_FIELDS:
            setattr(proposal, key, value)
    return True


def set_columns(conn: Executor, proposal_id: int, changes: Mapping[str, Any]) -> None:
    """Write columns of a proposal without a version check (the row was inserted in this transaction)."""
    conn.execute(_SET, {**changes, "_id": proposal_id})


def close_pending(conn: Executor, proposal: ProposalState, fired_event: str | None, at: dt.datetime) -> None:
    """Mark the pending approvals of the fired event as fired and discard all others."""
    if proposal.pending_approvals:
        conn.execute(_CLOSE_PENDING, {"_proposal_id": proposal.id, "_fired_event": fired_event, "_at": at})
        proposal.pending_approvals = 0


def withdraw_approvals(conn: Executor, ids: list[int], at: dt.datetime) -> None:
    """Mark pending approvals as withdrawn."""
    conn.execute(_WITHDRAW, {"_ids": ids, "_at": at})


def end_assignment(conn: Executor, proposal_id: int, at: dt.datetime) -> None:
    """End the current Ressort assignment of a proposal, if any."""
    conn.execute(_END_ASSIGNMENT, {"_proposal_id": proposal_id, "_at": at})


def insert_revision(conn: Executor, **values: Any) -> None:
    """Insert a revision row."""
    conn.execute(_INSERT_REVISION, values)


def insert_approval(conn: Executor, **values: Any) -> None:
    """Insert an approval row."""
    conn.execute(_INSERT_APPROVAL, values)


def insert_confirmation(conn: Executor, **values: Any) -> None:
    """Insert a criterion confirmation."""
    conn.execute(_INSERT_CONFIRMATION, values)


def insert_comment(conn: Executor, **values: Any) -> None:
    """Insert a comment row."""
    conn.execute(_INSERT_COMMENT, values)


def insert_assignment(conn: Executor, **values: Any) -> None:
    """Insert a Ressort assignment row."""
    conn.execute(_INSERT_ASSIGNMENT, values)
