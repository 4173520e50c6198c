"""What a person may see of a proposal and do with it: lookups, views redacted per role, permissions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from partnerprojekte.access import can_see_comment, can_see_proposal
from partnerprojekte.db.engine import Database
from partnerprojekte.db.schema import ApprovalRow, ProposalRow
from partnerprojekte.errors import NotFound
from partnerprojekte.ids import format_id
from partnerprojekte.model import Action, Criterion, Role, State, Verdict, Visibility
from partnerprojekte.reading.queries import report
from partnerprojekte.states.workflow import (
    Actor,
    ApprovalPolicy,
    ProposalFacts,
    allowed_actions,
    comment_visibilities,
)

# Audit entries of internal coordination that a partner does not see at all.
INTERNAL_ENTRIES = frozenset({"approve", "withdraw_approval", "confirm_criterion"})


@dataclass(frozen=True)
class ProposalRef:
    """What the web layer needs to know about a proposal before acting on it."""

    id: int
    status: State
    organisation: str
    responsible_ressort: str | None
    version: int


def not_found(proposal_id: int) -> NotFound:
    """The one answer for a proposal that does not exist and for one the caller may not see."""
    return NotFound(
        f"Vorschlag {format_id(proposal_id)} gibt es nicht, oder Sie haben keinen Zugriff darauf."
    )


def visible_proposal(db: Database, actor: Actor, proposal_id: int) -> ProposalRef:
    """The proposal if the actor may see it; otherwise the same ``NotFound`` as for a missing one."""
    with db.read() as s:
        row = s.get(ProposalRow, proposal_id)
        if row is None or not can_see_proposal(actor, row.organisation, row.responsible_ressort):
            raise not_found(proposal_id)
        return ProposalRef(row.id, row.status, row.organisation, row.responsible_ressort, row.version)


def body_label(role: str | None, ressort: str | None) -> str:
    """The body an official acts for, as a partner reads it (``Ressort MWIDE``, ``Arbeitsstab``)."""
    if role == Role.RESSORT.value and ressort:
        return f"Ressort {ressort}"
    return Role(role).label if role in {r.value for r in Role} else "Verwaltung"


def redact_proposal(data: dict[str, Any], actor: Actor) -> dict[str, Any]:
    """A ``show`` result as the actor may read it: partners get no internal comments or coordination,
    no official's e-mail address, and no approval's comment before its decision was taken."""
    data = dict(data)
    data["comments"] = [c for c in data["comments"] if can_see_comment(actor, Visibility(c["visibility"]))]
    if actor.role is Role.PARTNER:
        # Pending approvals and criterion confirmations are the internal coordination of Arbeitsstab and
        # Ressort (their comments are internal); the partner learns the decision, not the deliberation.
        data["pending_approvals"] = []
        data["confirmations"] = []
        data["ressort_history"] = [{**h, "assigned_by": None} for h in data["ressort_history"]]
        # An approval's comment (e.g. the reasons of a decline still awaiting the other approval) waits
        # for the decision; if it is withdrawn or discarded, the partner never reads it.
        data["comments"] = [
            c
            if c.get("role") == Role.PARTNER.value
            else {**c, "user": body_label(c.get("role"), c.get("ressort"))}
            for c in data["comments"]
            if c.get("decided") is not False
        ]
    return data


def redact_history(entries: list[dict[str, Any]], actor: Actor) -> list[dict[str, Any]]:
    """Audit entries as the actor may read them: for partners without internal entries and comments,
    with the body that acted instead of an official's e-mail address."""
    if actor.role is not Role.PARTNER:
        return entries
    shown: list[dict[str, Any]] = []
    for entry in entries:
        if entry["event"] in INTERNAL_ENTRIES:
            continue
        entry = dict(entry)
        if entry.get("role") != Role.PARTNER.value:
            entry["actor"] = body_label(entry.get("role"), entry.get("ressort"))
        if entry.get("comment") and entry.get("visibility") != Visibility.PARTNER.value:
            entry["comment"] = None
            entry["redacted"] = True
        if entry.get("approvals"):
            # The approvers' own comments are internal; which bodies decided stays visible.
            entry["approvals"] = [
                {**a, "user": body_label(a.get("role"), entry.get("ressort")), "comment": None}
                for a in entry["approvals"]
            ]
        shown.append(entry)
    return shown


def permissions(
    db: Database, actor: Actor, ref: ProposalRef, policy: ApprovalPolicy, check: dict[str, Any]
) -> dict[str, Any]:
    """What the actor may try on this proposal now (role and state; inputs and guards are checked later).

    For pages to show only the buttons that can work; the use cases still decide every request.
    """
    allowed = allowed_actions(
        ProposalFacts(ref.status, ref.organisation, ref.responsible_ressort), actor, policy
    )
    events = [event.value for event in allowed.events]
    with db.read() as s:
        mine = sorted(
            set(
                s.scalars(
                    select(ApprovalRow.event).where(
                        ApprovalRow.proposal_id == ref.id,
                        ApprovalRow.user_id == actor.user_id,
                        ApprovalRow.status == "pending",
                    )
                )
            )
        )
    confirmable = [
        c.value
        for c in Criterion
        if check["criteria"].get(c.value, {}).get("result") == Verdict.NEEDS_REVIEW.value
    ]

    def may(action: Action) -> bool:
        return action in allowed.actions

    may_comment = may(Action.COMMENT)
    return {
        "events": events,
        "withdraw_approval": mine,
        "assign_ressort": may(Action.ASSIGN_RESSORT),
        "confirm_criteria": confirmable if may(Action.CONFIRM_CRITERION) else [],
        "comment": may_comment,
        "comment_visibilities": [v.value for v in comment_visibilities(actor)] if may_comment else [],
    }


def ressort_report(
    db: Database, ressort: str, *, as_of: dt.date | None = None, tz: str = "Europe/Berlin"
) -> dict[str, Any]:
    """The *Stand Partnerprojekte* restricted to the proposals a Ressort was responsible for that day."""
    return report(db, as_of=as_of, tz=tz, ressort=ressort)
