"""Use cases of the proposal document: check it, submit it, revise it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from partnerprojekte.db import audit, searchable, store
from partnerprojekte.errors import TransitionRefused
from partnerprojekte.model import CheckResult, Event, Role
from partnerprojekte.proposal import Proposal
from partnerprojekte.reference import load_reference
from partnerprojekte.rules import check as check_proposal
from partnerprojekte.services.outcome import AlreadyImported, Outcome
from partnerprojekte.services.writer import AuditEntry, Change, Writer
from partnerprojekte.states.checks import event_named
from partnerprojekte.states.workflow import EventInput, ProposalFacts, decide, same_organisation


def check(svc: Writer, proposal: Proposal) -> CheckResult:
    """Evaluate the four criteria of a proposal (stores nothing)."""
    return check_proposal(proposal, svc.settings.criteria, load_reference())


def submit(
    svc: Writer,
    proposal: Proposal,
    actor_email: str,
    *,
    at: dt.datetime | None = None,
    import_key: str | None = None,
    notify: bool = True,
) -> Outcome:
    """Store a new proposal (``eingereicht``) with its first revision, audit entry and receipt."""
    result = check(svc, proposal)
    with svc.db.transaction() as conn:
        actor = svc.actor(conn, actor_email)
        at = at or svc.db.clock()
        facts = ProposalFacts(state=None, organisation=proposal.submitter.name)
        decision = decide(facts, Event.SUBMIT, actor, EventInput(has_proposal=True), svc.policy)
        if import_key is not None and store.is_imported(conn, import_key):
            raise AlreadyImported("Dieser Vorschlag wurde bereits importiert.")
        check_json = result.to_json()
        values: dict[str, Any] = {
            "status": decision.to_state,
            "version": 1,
            **_document_columns(proposal, check_json),
            "responsible_ressort": None,
            "current_revision": 1,
            "audit_head": audit.GENESIS,
        }
        pid = store.insert_proposal(
            conn,
            {
                **values,
                "overall": result.overall.value,
                "submitted_by": actor.user_id,
                "submitted_at": at,
                "updated_at": at,
                "status_since": at,
                "import_key": import_key,
            },
        )
        row = store.ProposalState(id=pid, **values)
        store.insert_revision(
            conn,
            proposal_id=pid,
            number=1,
            document=proposal.to_document(),
            check_result=check_json,
            created_by=actor.user_id,
            created_at=at,
        )
        searchable.update_search(conn, pid, proposal.submitter.name, proposal.to_document())
        entry = AuditEntry(revision=1, details={"title": proposal.title})
        fields = svc.audit_fields(row, 1, Change.of(decision), actor, at, audit.GENESIS, entry)
        digest = audit.append(conn, fields)
        # The proposal's id is part of the hashed row, so its head is known only now.
        store.set_columns(conn, pid, {"audit_head": digest})
        sent = svc.notify(conn, row, 1, Event.SUBMIT.value, at, actor, notify, extra={"check": check_json})
        return Outcome(pid, Event.SUBMIT.value, decision.to_state, True, 1, [], sent, result)


def revise(
    svc: Writer,
    proposal_id: int,
    proposal: Proposal,
    actor_email: str,
    *,
    at: dt.datetime | None = None,
    notify: bool = True,
    expected_version: int | None = None,
) -> Outcome:
    """Store a new revision; criteria are re-evaluated and earlier confirmations dropped."""
    result = check(svc, proposal)
    with svc.db.transaction() as conn:
        actor, at, row, facts = svc.context(conn, proposal_id, actor_email, at)
        if actor.role is Role.PARTNER and not same_organisation(proposal.submitter.name, actor.organisation):
            what = event_named(Event.REVISE)
            raise TransitionRefused(
                f"{what}: submitter.name „{proposal.submitter.name}“ ist nicht Ihre "
                f"Organisation („{actor.organisation}“).",
                event="revise",
                state=row.status.value,
                reason="role",
                role=actor.role.value,
                subject=what,
            )
        decision = decide(facts, Event.REVISE, actor, EventInput(has_proposal=True), svc.policy)
        number = row.current_revision + 1
        dropped = sorted(c.value for c in facts.confirmed)
        check_json = result.to_json()
        entry = AuditEntry(
            revision=number,
            criteria=check_json,
            details={"title": proposal.title, "dropped_confirmations": dropped},
        )
        values = {
            **_document_columns(proposal, check_json),
            "current_revision": number,
            "overall": result.overall.value,
        }
        seq = svc.record(
            conn, row, Change.of(decision), actor, at, entry, values=values, expected_version=expected_version
        )
        store.insert_revision(
            conn,
            proposal_id=row.id,
            number=number,
            document=proposal.to_document(),
            check_result=check_json,
            created_by=actor.user_id,
            created_at=at,
        )
        searchable.update_search(conn, row.id, proposal.submitter.name, proposal.to_document())
        return Outcome(row.id, Event.REVISE.value, decision.to_state, True, seq, [], 0, result)


def _document_columns(proposal: Proposal, check_json: dict[str, Any]) -> dict[str, Any]:
    """The proposal's columns that come from its document and its check."""
    return {
        "title": proposal.title,
        "organisation": proposal.submitter.name,
        "contact_name": proposal.submitter.contact.name,
        "contact_email": proposal.submitter.contact.email.lower(),
        "handlungsfelder": _handlungsfelder_column(proposal),
        "check_result": check_json,
    }


def _handlungsfelder_column(proposal: Proposal) -> str:
    keys = sorted({h.key.value for h in proposal.handlungsfelder})
    return f" {' '.join(keys)} " if keys else " "
