"""Read side: show, list, history and the *Stand Partnerprojekte* reconstructed from the audit log."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Callable
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from partnerprojekte.db.audit import verify_all
from partnerprojekte.db.engine import Database
from partnerprojekte.db.schema import (
    ApprovalRow,
    AuditRow,
    CommentRow,
    ConfirmationRow,
    ProposalRow,
    RessortAssignmentRow,
    RevisionRow,
    UserAuditRow,
    UserRow,
)
from partnerprojekte.errors import NotFound
from partnerprojekte.ids import format_id
from partnerprojekte.model import State
from partnerprojekte.proposal import HandlungsfeldKey

T = TypeVar("T")


def _iso(at: dt.datetime | None) -> str | None:
    return at.isoformat() if at else None


def proposal_summary(row: ProposalRow) -> dict[str, Any]:
    """The ``list --json`` shape of one proposal."""
    return {
        "id": format_id(row.id),
        "title": row.title,
        "organisation": row.organisation,
        "status": row.status.value,
        "status_label": row.status.label,
        "responsible_ressort": row.responsible_ressort,
        "handlungsfelder": row.handlungsfelder.split(),
        "overall": row.overall,
        "revision": row.current_revision,
        "version": row.version,
        "submitted_at": _iso(row.submitted_at),
        "status_since": _iso(row.status_since),
        "updated_at": _iso(row.updated_at),
        "saeule_1_projekt": row.saeule_1_projekt,
    }


def show_proposal(db: Database, proposal_id: int) -> dict[str, Any]:
    """Everything about one proposal: document, criteria, responsibility, approvals, comments."""
    with db.read() as s:
        row = s.get(ProposalRow, proposal_id)
        if row is None:
            raise NotFound(f"Vorschlag {format_id(proposal_id)} gibt es nicht.")
        emails: dict[int, str] = dict(s.execute(select(UserRow.id, UserRow.email)).tuples().all())
        bodies = {
            uid: (role.value, ressort)
            for uid, role, ressort in s.execute(select(UserRow.id, UserRow.role, UserRow.ressort))
        }
        # Which approvals completed their decision: an approval's comment is deliberation until then.
        fired = {
            (a.user_id, a.event, a.created_at)
            for a in s.scalars(
                select(ApprovalRow).where(ApprovalRow.proposal_id == row.id, ApprovalRow.status == "fired")
            )
        }
        revision = s.scalar(
            select(RevisionRow).where(
                RevisionRow.proposal_id == row.id, RevisionRow.number == row.current_revision
            )
        )
        assert revision is not None
        data = proposal_summary(row)
        data["check"] = row.check_result
        data["document"] = revision.document
        data["contact"] = {"name": row.contact_name, "email": row.contact_email}
        data["ressort_history"] = [
            {
                "ressort": a.ressort,
                "assigned_by": emails.get(a.assigned_by),
                "assigned_at": _iso(a.assigned_at),
                "ended_at": _iso(a.ended_at),
            }
            for a in s.scalars(
                select(RessortAssignmentRow)
                .where(RessortAssignmentRow.proposal_id == row.id)
                .order_by(RessortAssignmentRow.id)
            )
        ]
        data["pending_approvals"] = [
            {
                "event": a.event,
                "user": emails.get(a.user_id),
                "role": a.role.value,
                "at": _iso(a.created_at),
                "comment": a.comment,
            }
            for a in s.scalars(
                select(ApprovalRow)
                .where(ApprovalRow.proposal_id == row.id, ApprovalRow.status == "pending")
                .order_by(ApprovalRow.id)
            )
        ]
        data["confirmations"] = [
            {
                "criterion": c.criterion,
                "user": emails.get(c.user_id),
                "comment": c.comment,
                "at": _iso(c.created_at),
            }
            for c in s.scalars(
                select(ConfirmationRow)
                .where(
                    ConfirmationRow.proposal_id == row.id,
                    ConfirmationRow.revision == row.current_revision,
                )
                .order_by(ConfirmationRow.id)
            )
        ]
        data["comments"] = [
            {
                "user": emails.get(c.user_id),
                "role": bodies.get(c.user_id, (None, None))[0],
                "ressort": bodies.get(c.user_id, (None, None))[1],
                "text": c.text,
                "visibility": c.visibility.value,
                "event": c.event,
                "at": _iso(c.created_at),
                # None: not an approval's comment; else whether that approval's decision was taken.
                "decided": (
                    (c.user_id, c.event.removeprefix("approve:"), c.created_at) in fired
                    if c.event and c.event.startswith("approve:")
                    else None
                ),
            }
            for c in s.scalars(
                select(CommentRow).where(CommentRow.proposal_id == row.id).order_by(CommentRow.id)
            )
        ]
        return data


def history(db: Database, proposal_id: int) -> list[dict[str, Any]]:
    """The audit entries of one proposal in order."""
    with db.read() as s:
        if s.get(ProposalRow, proposal_id) is None:
            raise NotFound(f"Vorschlag {format_id(proposal_id)} gibt es nicht.")
        rows = s.scalars(select(AuditRow).where(AuditRow.proposal_id == proposal_id).order_by(AuditRow.seq))
        return [audit_json(r) for r in rows]


def audit_json(r: AuditRow) -> dict[str, Any]:
    """The ``history --json`` shape of one audit entry."""
    return {
        "seq": r.seq,
        "event": r.event,
        "from": r.from_state,
        "to": r.to_state,
        "actor": r.actor_email,
        "role": r.role,
        "ressort": r.ressort,
        "comment": r.comment,
        "visibility": r.visibility,
        "reasons": r.reasons,
        "saeule_1_projekt": r.saeule_1_projekt,
        "revision": r.revision,
        "criteria": r.criteria,
        "approvals": r.approvals,
        "details": r.details,
        "at": _iso(r.at),
        "hash": r.hash,
    }


def end_of_day(day: dt.date, tz: str) -> dt.datetime:
    """The last instant of a calendar day in the given zone, in UTC."""
    start_next = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=ZoneInfo(tz))
    return (start_next - dt.timedelta(microseconds=1)).astimezone(dt.UTC)


def data_version(s: Session) -> tuple[int, int]:
    """The highest ids of the proposal and the user audit logs: every change that a figure depends on
    writes to one of them (read_cache explains why)."""
    row = s.execute(
        select(
            select(func.max(AuditRow.id)).scalar_subquery(),
            select(func.max(UserAuditRow.id)).scalar_subquery(),
        )
    ).one()
    return int(row[0] or 0), int(row[1] or 0)


def cached(db: Database, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
    """``compute()``, or its value from the last time at the same data version."""
    with db.read() as s:
        version = data_version(s)
    return db.cache.get(key, version, compute)


def report(
    db: Database, *, as_of: dt.date | None = None, tz: str = "Europe/Berlin", ressort: str | None = None
) -> dict[str, Any]:
    """The *Stand Partnerprojekte* at the end of a day, reconstructed from the audit log alone.

    With ``ressort``, only the proposals that Ressort was responsible for that day (adds ``scope``).
    """
    day = as_of or db.clock().astimezone(ZoneInfo(tz)).date()
    # A copy: callers may change their dict without changing the cached one.
    return copy.deepcopy(cached(db, ("report", day, tz, ressort), lambda: _report(db, day, tz, ressort)))


def _report(db: Database, day: dt.date, tz: str, ressort: str | None) -> dict[str, Any]:
    cutoff = end_of_day(day, tz)
    by_status = {s.value: 0 for s in State}
    by_hf = {k.value: 0 for k in HandlungsfeldKey}
    by_ressort: dict[str, int] = {}
    with db.read() as s:
        for to_state, responsible, fields, count in _states_at(s, cutoff, ressort):
            by_status[to_state] += count
            for key in fields:
                by_hf[key] = by_hf.get(key, 0) + count
            name = responsible or "unassigned"
            by_ressort[name] = by_ressort.get(name, 0) + count
    data: dict[str, Any] = {
        "as_of": day.isoformat(),
        "total": sum(by_status.values()),
        "by_status": by_status,
        "by_handlungsfeld": by_hf,
        "by_ressort": dict(sorted(by_ressort.items())),
    }
    if ressort is not None:
        data["scope"] = ressort
    return data


def _states_at(
    s: Session, cutoff: dt.datetime, ressort: str | None
) -> list[tuple[str, str | None, list[str], int]]:
    """(state, Ressort, Handlungsfelder, how many proposals) at ``cutoff``: grouped in the database."""
    last = (
        select(AuditRow.proposal_id, func.max(AuditRow.seq).label("seq"))
        .where(AuditRow.at <= cutoff)
        .group_by(AuditRow.proposal_id)
        .subquery()
    )
    fields = AuditRow.details["handlungsfelder"].as_string()
    query = (
        select(AuditRow.to_state, AuditRow.ressort, fields, func.count())
        .join(last, and_(AuditRow.proposal_id == last.c.proposal_id, AuditRow.seq == last.c.seq))
        .where(AuditRow.to_state.is_not(None))
        .group_by(AuditRow.to_state, AuditRow.ressort, fields)
    )
    if ressort is not None:
        query = query.where(AuditRow.ressort == ressort)
    return [(t, r, _field_list(f), n) for t, r, f, n in s.execute(query)]


def _field_list(value: str | None) -> list[str]:
    # The JSON array as text (PostgreSQL ->>, SQLite json_extract); absent for entries without it.
    parsed = json.loads(value) if value else []
    return [str(v) for v in parsed] if isinstance(parsed, list) else []


def verify(db: Database) -> dict[str, Any]:
    """Verify every audit chain; the ``verify --json`` shape."""
    from partnerprojekte.db.user_audit import verify_user_chain

    with db.read() as s:
        proposals, rows, breaks = verify_all(s)
        user_entries, user_break = verify_user_chain(s)
    return {
        "ok": not breaks and user_break is None,
        "proposals": proposals,
        "entries": rows,
        "broken": [b.to_json() for b in breaks],
        "user_entries": user_entries,
        "user_broken": user_break.to_json() if user_break else None,
    }
