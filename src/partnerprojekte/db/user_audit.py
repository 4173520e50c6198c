"""The audit log of user management: append-only rows in one hash chain, checked by ``verify``.

Every change to who may do what (a person created, a link issued, an account activated, deactivated,
a role changed, a token issued or revoked) appends one row in the same transaction as the change. The
rows are chained like the proposal audit (``db/audit.py``): each row's SHA-256 covers its fields and the
previous row's hash. The single row of ``user_audit_head`` holds the last sequence number and hash:
appending locks it (``FOR UPDATE`` on PostgreSQL; SQLite writes one at a time), and ``verify`` compares
it with the last row, so that a cut-off tail is noticed as well as a changed or deleted row.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Connection, Table, insert, select, update
from sqlalchemy.orm import Session

from partnerprojekte.db.schema import UserAuditHeadRow, UserAuditRow

GENESIS = "0" * 64
HASHED_FIELDS = ("seq", "action", "user_id", "actor_id", "actor", "details", "at", "prev_hash")

_LOG = cast(Table, UserAuditRow.__table__)
_HEAD = cast(Table, UserAuditHeadRow.__table__)
_CANONICAL = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


@dataclass(frozen=True)
class UserActor:
    """Who changed user management: a label (``web:admin@…``, ``cli:admin@…``, ``cli:bootstrap``,
    ``self:person@…``, ``seed``, ``import``) and the acting person's id where there is one."""

    label: str
    user_id: int | None = None


SEED = UserActor("seed")  # seeding code (tests, demo): not reachable by an administrator at runtime


def _iso(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def row_hash(fields: dict[str, Any]) -> str:
    """SHA-256 of the canonical row (sorted-key JSON, time in UTC, with the previous row's hash)."""
    data = {k: fields[k] for k in HASHED_FIELDS}
    data["at"] = _iso(fields["at"])
    return hashlib.sha256(_CANONICAL.encode(data).encode("utf-8")).hexdigest()


def _locked_head(conn: Session | Connection, *, postgres: bool) -> tuple[int, str]:
    query = select(_HEAD.c.seq, _HEAD.c.hash).where(_HEAD.c.id == 1)
    if postgres:
        query = query.with_for_update()
    found = conn.execute(query).first()
    if found is None:
        # A database made without the migration's first row: start the chain (a racing second insert
        # fails on the primary key and its transaction is rolled back, as any conflict is).
        conn.execute(insert(_HEAD).values(id=1, seq=0, hash=GENESIS))
        return 0, GENESIS
    return int(found.seq), str(found.hash)


def record_user_event(
    conn: Session | Connection,
    actor: UserActor,
    action: str,
    user_id: int | None,
    details: dict[str, Any] | None = None,
    *,
    at: dt.datetime,
) -> str:
    """Append one entry in the caller's transaction; returns its hash.

    ``action`` e.g. ``create``, ``link_issued``, ``activate``, ``deactivate``, ``role_change``,
    ``token_issued``, ``token_revoked``; ``details`` a JSON object of what changed (never a secret).
    """
    bind = conn.get_bind() if isinstance(conn, Session) else conn
    seq, prev = _locked_head(conn, postgres=bind.dialect.name == "postgresql")
    fields: dict[str, Any] = {
        "seq": seq + 1,
        "action": action,
        "user_id": user_id,
        "actor_id": actor.user_id,
        "actor": actor.label[:300],
        "details": details or {},
        "at": at,
        "prev_hash": prev,
    }
    digest = row_hash(fields)
    conn.execute(insert(_LOG).values(**fields, hash=digest))
    conn.execute(update(_HEAD).where(_HEAD.c.id == 1).values(seq=seq + 1, hash=digest))
    return digest


@dataclass(frozen=True)
class UserChainBreak:
    """The first entry of the user chain that does not verify."""

    seq: int | None
    audit_id: int | None
    problem: str

    def to_json(self) -> dict[str, object]:
        """JSON shape for ``verify --json``."""
        return {"seq": self.seq, "audit_id": self.audit_id, "problem": self.problem}


def verify_user_chain(session: Session) -> tuple[int, UserChainBreak | None]:
    """Check the whole user chain; returns (entries checked, first break or None)."""
    rows = list(session.scalars(select(UserAuditRow).order_by(UserAuditRow.seq, UserAuditRow.id)))
    prev, expected = GENESIS, 1
    for row in rows:
        if row.seq != expected:
            problem = (
                f"Eintrag Nr. {expected} fehlt (gefunden Nr. {row.seq})"
                if row.seq > expected
                else f"Eintrag Nr. {row.seq} ist doppelt oder umsortiert"
            )
            return len(rows), UserChainBreak(row.seq, row.id, problem)
        if row.prev_hash != prev:
            return len(rows), UserChainBreak(
                row.seq, row.id, "Verkettung unterbrochen (Vorgänger-Hash passt nicht)"
            )
        if row_hash({k: getattr(row, k) for k in HASHED_FIELDS}) != row.hash:
            return len(rows), UserChainBreak(row.seq, row.id, "Inhalt verändert (Hash passt nicht)")
        prev = row.hash
        expected += 1
    head = session.execute(select(_HEAD.c.seq, _HEAD.c.hash).where(_HEAD.c.id == 1)).first()
    head_seq, head_hash = (int(head.seq), str(head.hash)) if head is not None else (0, GENESIS)
    if head_seq != expected - 1 or head_hash != prev:
        return len(rows), UserChainBreak(
            None,
            None,
            f"Protokoll endet bei Eintrag Nr. {expected - 1}, der Kopf steht bei Nr. {head_seq}",
        )
    return len(rows), None
