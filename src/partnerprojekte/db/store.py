"""The write path of the use cases: Core statements built once, executed on the unit of work's connection.

Building a statement costs SQLAlchemy more than running it (coercion, cache key, compilation), and the
ORM's unit of work adds a flush per transaction. The statements here are module constants, built once
per process and compiled once per dialect and shape (``Prepared``); values go in as parameters (an
``UPDATE``/``INSERT`` without ``.values()`` takes its columns from the parameters).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import (
    Connection,
    CursorResult,
    Table,
    and_,
    bindparam,
    case,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from partnerprojekte.db.prepared import Prepared
from partnerprojekte.db.schema import Base
from partnerprojekte.model import Role, State
from partnerprojekte.states.workflow import Actor

# What these functions execute on: the Connection of Database.transaction (the use cases), or a
# Session (reminders, digests and tests, whose unit of work is Database.write).
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


_STATE_FIELDS_IN_ORDER = tuple(f.name for f in fields(ProposalState))
_STATE_FIELDS = frozenset(_STATE_FIELDS_IN_ORDER)


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


# The columns behind ProposalState: every field but the two the context query derives.
_PROPOSAL_COLUMNS = tuple(
    name for name in _STATE_FIELDS_IN_ORDER if name not in ("confirmed", "pending_approvals")
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
_CONTEXT = Prepared(
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

_ACTOR = Prepared(
    select(*(USERS.c[name] for name in _ACTOR_COLUMNS)).where(
        USERS.c.email == bindparam("email"), USERS.c.active.is_(True)
    )
)

_PENDING = Prepared(
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
    .where(
        APPROVALS.c.proposal_id == bindparam("proposal_id"),
        APPROVALS.c.status == PENDING,
        # An approval counts only while its giver is active and still holds the role it was given in
        # (for a Ressort approval: still in that Ressort), whatever changed the person meanwhile.
        USERS.c.active.is_(True),
        USERS.c.role == APPROVALS.c.role,
        or_(APPROVALS.c.role != Role.RESSORT, USERS.c.ressort == APPROVALS.c.ressort),
    )
    .order_by(APPROVALS.c.id)
)

# A person's pending approvals on every proposal (deactivation, change of role or Ressort).
_PENDING_OF_USER = Prepared(
    select(APPROVALS.c.id, APPROVALS.c.proposal_id, APPROVALS.c.event)
    .where(APPROVALS.c.user_id == bindparam("user_id"), APPROVALS.c.status == PENDING)
    .order_by(APPROVALS.c.proposal_id, APPROVALS.c.id)
)

_STATUS = Prepared(select(PROPOSALS.c.status).where(PROPOSALS.c.id == bindparam("proposal_id")))
_IMPORTED = Prepared(select(PROPOSALS.c.id).where(PROPOSALS.c.import_key == bindparam("import_key")))

# The SET clause comes from the parameters; "_id"/"_version" are no column names.
_BUMP = Prepared(
    update(PROPOSALS).where(PROPOSALS.c.id == bindparam("_id"), PROPOSALS.c.version == bindparam("_version"))
)
_SET = Prepared(update(PROPOSALS).where(PROPOSALS.c.id == bindparam("_id")))

# A change of state closes every pending approval: those of the event that fired as fired,
# all others (stale now) as discarded.
_CLOSE_PENDING = Prepared(
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
_END_ASSIGNMENT = Prepared(
    update(ASSIGNMENTS)
    .where(ASSIGNMENTS.c.proposal_id == bindparam("_proposal_id"), ASSIGNMENTS.c.ended_at.is_(None))
    .values(ended_at=bindparam("_at"))
)

_INSERT_PROPOSAL = insert(PROPOSALS)
_INSERT_REVISION = Prepared(insert(REVISIONS))
_INSERT_APPROVAL = Prepared(insert(APPROVALS))
_INSERT_CONFIRMATION = Prepared(insert(CONFIRMATIONS))
_INSERT_COMMENT = Prepared(insert(COMMENTS))
_INSERT_ASSIGNMENT = Prepared(insert(ASSIGNMENTS))


def load_actor(conn: Executor, email: str) -> Actor | None:
    """The active person with this (normalised) e-mail, or None."""
    row = _ACTOR.first(conn, {"email": email})
    return Actor(*row) if row is not None else None


def load_context(conn: Executor, proposal_id: int, email: str) -> tuple[ProposalState, Actor | None] | None:
    """The proposal and the active person with this e-mail; None if there is no such proposal."""
    row = _CONTEXT.first(conn, {"proposal_id": proposal_id, "email": email})
    if row is None:
        return None
    n = len(_PROPOSAL_COLUMNS)
    confirmed, pending, actor = row[n], row[n + 1], row[n + 2 :]
    state = ProposalState(
        **dict(zip(_PROPOSAL_COLUMNS, row[:n], strict=True)),
        confirmed=frozenset(confirmed.split(",")) if confirmed else frozenset(),
        pending_approvals=pending,
    )
    return state, (Actor(*actor) if actor[0] is not None else None)


def pending_approvals(conn: Executor, proposal: ProposalState) -> list[PendingApproval]:
    """The proposal's pending approvals of every event, oldest first (no query if it has none)."""
    if not proposal.pending_approvals:
        return []
    return [PendingApproval(*row) for row in _PENDING.all(conn, {"proposal_id": proposal.id})]


def pending_approvals_of_user(conn: Executor, user_id: int) -> list[tuple[int, int, str]]:
    """A person's pending approvals as (approval id, proposal id, event), by proposal."""
    return [(r[0], r[1], r[2]) for r in _PENDING_OF_USER.all(conn, {"user_id": user_id})]


def current_status(conn: Executor, proposal_id: int) -> State | None:
    """The stored status of a proposal (after a lost race)."""
    row = _STATUS.first(conn, {"proposal_id": proposal_id})
    return None if row is None else row[0]


def is_imported(conn: Executor, import_key: str) -> bool:
    """Whether a proposal with this import key exists."""
    return _IMPORTED.first(conn, {"import_key": import_key}) is not None


def insert_proposal(conn: Executor, values: Mapping[str, Any]) -> int:
    """Insert a proposal row; returns its id (through SQLAlchemy, which knows how each backend tells)."""
    result: CursorResult[Any] = conn.execute(_INSERT_PROPOSAL, dict(values))  # type: ignore[assignment]
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def bump(conn: Executor, proposal: ProposalState, changes: Mapping[str, Any]) -> bool:
    """Write the changes if the row still has the version that was read; False if someone was faster."""
    if _BUMP.execute(conn, {**changes, "_id": proposal.id, "_version": proposal.version}) != 1:
        return False
    for key, value in changes.items():
        if key in _STATE_FIELDS:
            setattr(proposal, key, value)
    return True


def set_columns(conn: Executor, proposal_id: int, changes: Mapping[str, Any]) -> None:
    """Write columns of a proposal without a version check (the row was inserted in this transaction)."""
    _SET.execute(conn, {**changes, "_id": proposal_id})


def close_pending(conn: Executor, proposal: ProposalState, fired_event: str | None, at: dt.datetime) -> None:
    """Mark the pending approvals of the fired event as fired and discard all others."""
    if proposal.pending_approvals:
        _CLOSE_PENDING.execute(conn, {"_proposal_id": proposal.id, "_fired_event": fired_event, "_at": at})
        proposal.pending_approvals = 0


def withdraw_approvals(conn: Executor, ids: list[int], at: dt.datetime) -> None:
    """Mark pending approvals as withdrawn (an expanding IN: through SQLAlchemy)."""
    conn.execute(_WITHDRAW, {"_ids": ids, "_at": at})


def end_assignment(conn: Executor, proposal_id: int, at: dt.datetime) -> None:
    """End the current Ressort assignment of a proposal, if any."""
    _END_ASSIGNMENT.execute(conn, {"_proposal_id": proposal_id, "_at": at})


def insert_revision(conn: Executor, **values: Any) -> None:
    """Insert a revision row."""
    _INSERT_REVISION.execute(conn, values)


def insert_approval(conn: Executor, **values: Any) -> None:
    """Insert an approval row."""
    _INSERT_APPROVAL.execute(conn, values)


def insert_confirmation(conn: Executor, **values: Any) -> None:
    """Insert a criterion confirmation."""
    _INSERT_CONFIRMATION.execute(conn, values)


def insert_comment(conn: Executor, **values: Any) -> None:
    """Insert a comment row."""
    _INSERT_COMMENT.execute(conn, values)


def insert_assignment(conn: Executor, **values: Any) -> None:
    """Insert a Ressort assignment row."""
    _INSERT_ASSIGNMENT.execute(conn, values)
