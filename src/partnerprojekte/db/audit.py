"""The audit log: append-only rows, hash-chained per proposal, verified and replayed for past dates."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select
from sqlalchemy.orm import Session

from partnerprojekte.db.prepared import Prepared
from partnerprojekte.db.schema import AuditRow, ProposalRow

GENESIS = "0" * 64

# The columns that are hashed, in a fixed order (the id and the hash itself are not).
HASHED_FIELDS = (
    "proposal_id",
    "seq",
    "event",
    "from_state",
    "to_state",
    "actor_id",
    "actor_email",
    "role",
    "ressort",
    "comment",
    "visibility",
    "reasons",
    "saeule_1_projekt",
    "revision",
    "criteria",
    "approvals",
    "details",
    "at",
    "prev_hash",
)


def _iso(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# json.dumps would build this encoder anew for every row.
_CANONICAL = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def canonical(fields: dict[str, Any]) -> str:
    """The canonical text of an audit row: sorted-key JSON with the time in UTC."""
    data = {k: fields[k] for k in HASHED_FIELDS}
    data["at"] = _iso(fields["at"])
    return _CANONICAL.encode(data)


def row_hash(fields: dict[str, Any]) -> str:
    """SHA-256 of the canonical row (which includes the previous row's hash)."""
    return hashlib.sha256(canonical(fields).encode("utf-8")).hexdigest()


_INSERT = Prepared(insert(AuditRow.metadata.tables["audit_log"]))  # the event path runs it for every event


def append(conn: Session | Connection, fields: dict[str, Any], digest: str | None = None) -> str:
    """Insert one audit row (``fields`` must hold every hashed field, ``digest`` is their
    ``row_hash`` if the caller has it already); returns its hash."""
    digest = digest or row_hash(fields)
    _INSERT.execute(conn, {**fields, "hash": digest})
    return digest


@dataclass(frozen=True)
class ChainBreak:
    """The first row of a proposal whose chain does not verify."""

    proposal_id: int
    seq: int | None
    audit_id: int | None
    problem: str

    def to_json(self) -> dict[str, object]:
        """JSON shape for ``verify --json``."""
        return {
            "proposal_id": self.proposal_id,
            "seq": self.seq,
            "audit_id": self.audit_id,
            "problem": self.problem,
        }


def _row_fields(row: AuditRow) -> dict[str, Any]:
    return {k: getattr(row, k) for k in HASHED_FIELDS}


def verify_proposal(proposal: ProposalRow, rows: list[AuditRow]) -> ChainBreak | None:
    """Check one proposal's chain (rows in storage order); returns the first break or None."""
    prev = GENESIS
    expected_seq = 1
    for row in sorted(rows, key=lambda r: (r.seq, r.id)):
        if row.seq != expected_seq:
            problem = (
                f"Eintrag Nr. {expected_seq} fehlt (gefunden Nr. {row.seq})"
                if row.seq > expected_seq
                else f"Eintrag Nr. {row.seq} ist doppelt oder umsortiert"
            )
            return ChainBreak(proposal.id, row.seq, row.id, problem)
        if row.prev_hash != prev:
            return ChainBreak(
                proposal.id, row.seq, row.id, "Verkettung unterbrochen (Vorgänger-Hash passt nicht)"
            )
        if row_hash(_row_fields(row)) != row.hash:
            return ChainBreak(proposal.id, row.seq, row.id, "Inhalt verändert (Hash passt nicht)")
        prev = row.hash
        expected_seq += 1
    last = expected_seq - 1
    if last != proposal.version or prev != proposal.audit_head:
        return ChainBreak(
            proposal.id,
            last + 1 if last < proposal.version else last,
            None,
            f"Protokoll endet bei Eintrag Nr. {last}, der Vorschlag steht bei Nr. {proposal.version}",
        )
    return None


def verify_all(session: Session) -> tuple[int, int, list[ChainBreak]]:
    """Verify every proposal's chain; returns (proposals, rows checked, breaks)."""
    proposals = {p.id: p for p in session.scalars(select(ProposalRow))}
    by_proposal: dict[int, list[AuditRow]] = {pid: [] for pid in proposals}
    count = 0
    for row in session.scalars(select(AuditRow).order_by(AuditRow.proposal_id, AuditRow.id)):
        count += 1
        by_proposal.setdefault(row.proposal_id, []).append(row)
    breaks = []
    for pid, rows in sorted(by_proposal.items()):
        proposal = proposals.get(pid)
        if proposal is None:  # pragma: no cover - a foreign key prevents it
            breaks.append(ChainBreak(pid, None, None, "Protokoll ohne Vorschlag"))
            continue
        broken = verify_proposal(proposal, rows)
        if broken:
            breaks.append(broken)
    return len(proposals), count, breaks
