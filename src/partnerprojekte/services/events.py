"""Use cases of the state machine: fire an event (or record one approval of it), withdraw approvals."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from partnerprojekte import audience as aud
from partnerprojekte.db import store
from partnerprojekte.db.schema import UserRow
from partnerprojekte.db.store import Executor
from partnerprojekte.errors import FieldError, TransitionRefused, ValidationError
from partnerprojekte.formats import check_text
from partnerprojekte.ids import format_id
from partnerprojekte.model import Action, Event, Role, Visibility
from partnerprojekte.services.independence import check_independent
from partnerprojekte.services.outcome import Outcome
from partnerprojekte.services.writer import AuditEntry, Change, Writer
from partnerprojekte.states.workflow import (
    Actor,
    Decision,
    EventInput,
    GivenApproval,
    decide,
    default_visibility,
)

# Why a person's pending approvals fell away, as the mail says it.
WITHDRAWAL_REASONS = {
    "deactivated": "ihr Zugang wurde deaktiviert",
    "role_changed": "ihre Rolle wurde geändert",
    "ressort_changed": "sie wurde einem anderen Ressort zugeordnet",
}


def transition(
    svc: Writer,
    proposal_id: int,
    event: Event,
    actor_email: str,
    inp: EventInput,
    *,
    at: dt.datetime | None = None,
    notify: bool = True,
    expected_version: int | None = None,
) -> Outcome:
    """Fire an event, or record an approval of an approval-gated event."""
    if event in (Event.SUBMIT, Event.REVISE):
        raise ValidationError(
            FieldError("event", f"„{event}“ geht mit dem Befehl „{event}“, nicht mit „transition“.")
        )
    check_text(inp.comment, "Kommentar")
    check_text(inp.saeule_1_projekt, "Säule-1-Projekt")
    with svc.db.transaction() as conn:
        actor, at, row, facts = svc.context(conn, proposal_id, actor_email, at)
        pending = [a for a in store.pending_approvals(conn, row) if a.event == event.value]
        given = [GivenApproval(a.user_id, a.name, a.role) for a in pending]
        decision = decide(facts, event, actor, inp, svc.policy, given)
        if pending and (decision.approval_gated or not decision.fires):
            check_independent(conn, actor, pending, event, row.status)
        visibility = _visibility(inp, event, actor, fires=decision.fires)
        comment = inp.comment.strip() if inp.comment and inp.comment.strip() else None
        if not decision.fires:
            return _record_approval(
                svc,
                conn,
                row,
                decision,
                actor,
                inp,
                comment,
                visibility,
                at,
                notify,
                expected_version,
                pending,
            )
        approvals_json: list[dict[str, Any]] = []
        reasons = list(dict.fromkeys(r.value for r in inp.reasons))
        if decision.approval_gated:
            for a in pending:
                approvals_json.append(_approval_json(a))
                reasons += [r for r in a.reasons if r not in reasons]
            approvals_json.append(
                {"user": actor.email, "role": actor.role.value, "at": at.isoformat(), "comment": comment}
            )
        values: dict[str, Any] = {}
        if event is Event.INTEGRATE_INTO_PILLAR_1:
            values["saeule_1_projekt"] = (inp.saeule_1_projekt or "").strip()
        entry = AuditEntry(
            comment=comment,
            visibility=visibility,
            reasons=reasons,
            saeule_1_projekt=values.get("saeule_1_projekt"),
            approvals=approvals_json,
        )
        seq = svc.record(
            conn, row, Change.of(decision), actor, at, entry, values=values, expected_version=expected_version
        )
        if comment:
            svc.add_comment(conn, row.id, actor, comment, visibility, event.value, seq, at)
        # The approvals of this event are used up; every other pending one is stale now.
        store.close_pending(conn, row, event.value, at)
        extra = {
            "comment": comment,
            "comment_visibility": visibility.value if comment else None,
            "reasons": reasons,
            "saeule_1_projekt": values.get("saeule_1_projekt"),
        }
        sent = svc.notify(
            conn, row, seq, event.value, at, actor, notify, extra=extra, status=decision.to_state
        )
        return Outcome(row.id, event.value, decision.to_state, True, seq, [], sent)


def _record_approval(
    svc: Writer,
    conn: Executor,
    row: store.ProposalState,
    decision: Decision,
    actor: Actor,
    inp: EventInput,
    comment: str | None,
    visibility: Visibility,
    at: dt.datetime,
    notify: bool,
    expected_version: int | None,
    pending: list[store.PendingApproval],
) -> Outcome:
    """One approval that does not complete the set: the state stays, the missing roles are told."""
    event = decision.event.value
    missing = [r.value for r in decision.missing_roles]
    status = row.status
    entry = AuditEntry(
        comment=comment,
        visibility=visibility,
        reasons=[r.value for r in inp.reasons],
        details={"event": event, "missing": missing},
    )
    seq = svc.record(
        conn,
        row,
        Change.stay(row, Action.APPROVE, decision.event),
        actor,
        at,
        entry,
        expected_version=expected_version,
    )
    store.insert_approval(
        conn,
        proposal_id=row.id,
        event=event,
        from_state=status,
        user_id=actor.user_id,
        role=actor.role,
        ressort=actor.ressort,
        comment=comment,
        visibility=visibility.value if comment else None,
        reasons=[r.value for r in inp.reasons],
        status=store.PENDING,
        created_at=at,
    )
    row.pending_approvals += 1
    if comment:
        svc.add_comment(conn, row.id, actor, comment, visibility, f"approve:{event}", seq, at)
    sent = 0
    for role in decision.missing_roles:
        sent += svc.notify(
            conn,
            row,
            seq,
            aud.APPROVAL_OWED,
            at,
            actor,
            notify,
            extra={"approved_event": event, "approved_by": actor.name, "missing": missing},
            audiences=(aud.audience_of_role(role),),
        )
    approved_by = [*(a.email for a in pending), actor.email]
    owed = [{"event": event, "approved_by": approved_by, "missing_roles": missing}]
    return Outcome(row.id, event, status, False, seq, owed, sent)


def withdraw_approval(
    svc: Writer, proposal_id: int, event: Event, actor_email: str, *, at: dt.datetime | None = None
) -> Outcome:
    """Take back one's own pending approval before it fires."""
    with svc.db.transaction() as conn:
        actor, at, row, _ = svc.context(conn, proposal_id, actor_email, at)
        mine = [
            a.id
            for a in store.pending_approvals(conn, row)
            if a.event == event.value and a.user_id == actor.user_id
        ]
        if not mine:
            raise TransitionRefused(
                f"{actor.email} hat für „{event.value}“ keine offene Zustimmung zu {format_id(row.id)}.",
                event="withdraw_approval",
                state=row.status.value,
                reason="approval",
            )
        entry = AuditEntry(details={"event": event.value})
        seq = svc.record(conn, row, Change.stay(row, Action.WITHDRAW_APPROVAL, event), actor, at, entry)
        store.withdraw_approvals(conn, mine, at)
        return Outcome(row.id, "withdraw_approval", row.status, False, seq)


def withdraw_approvals_of_person(
    svc: Writer,
    conn: Executor,
    user_id: int,
    admin_email: str,
    reason: str,
    *,
    at: dt.datetime,
    notify: bool = True,
) -> int:
    """Withdraw every pending approval of a person who was deactivated or changed role or Ressort.

    Runs in the caller's transaction (the account change itself): per proposal one audit entry in its
    chain, by the acting administrator, and mail to the Ressort and the Arbeitsstab. Returns how many
    proposals were concerned.
    """
    if reason not in WITHDRAWAL_REASONS:
        raise ValueError(reason)
    person = conn.execute(select(UserRow.email, UserRow.name).where(UserRow.id == user_id)).one()
    by_proposal: dict[int, list[tuple[int, str]]] = {}
    for approval_id, proposal_id, event in store.pending_approvals_of_user(conn, user_id):
        by_proposal.setdefault(proposal_id, []).append((approval_id, event))
    for proposal_id, items in by_proposal.items():
        actor, at, row, _ = svc.context(conn, proposal_id, admin_email, at)
        events = sorted({event for _, event in items})
        entry = AuditEntry(
            details={"event": events[0], "events": events, "person": person.email, "reason": reason}
        )
        seq = svc.record(
            conn, row, Change.stay(row, Action.WITHDRAW_APPROVAL, Event(events[0])), actor, at, entry
        )
        store.withdraw_approvals(conn, [approval_id for approval_id, _ in items], at)
        for event in events:
            svc.notify(
                conn,
                row,
                seq,
                aud.APPROVAL_WITHDRAWN,
                at,
                actor,
                notify,
                extra={
                    "withdrawn_event": event,
                    "withdrawn_by": person.name,
                    "withdrawn_reason": WITHDRAWAL_REASONS[reason],
                },
                audiences=(aud.Audience.RESSORT, aud.Audience.ARBEITSSTAB),
            )
    return len(by_proposal)


def _visibility(inp: EventInput, event: Event, actor: Actor, *, fires: bool) -> Visibility:
    """A partner's comment is always for the partner; an approval's comment stays internal unless said
    otherwise, because the decision it supports may still be discarded."""
    if actor.role is Role.PARTNER:
        return Visibility.PARTNER
    if inp.visibility is not None:
        return inp.visibility
    return default_visibility(event, actor) if fires else Visibility.INTERN


def _approval_json(a: store.PendingApproval) -> dict[str, Any]:
    return {"user": a.email, "role": a.role.value, "at": a.created_at.isoformat(), "comment": a.comment}
