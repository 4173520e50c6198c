"""The one place a use case writes: the proposal's new state, its audit entry and its outbox rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from partnerprojekte import audience as aud
from partnerprojekte.access import audience_reads_comment
from partnerprojekte.config import Settings
from partnerprojekte.db import audit, outbox, store
from partnerprojekte.db.engine import Database
from partnerprojekte.db.store import Executor
from partnerprojekte.errors import ConflictError, NotFound, TransitionRefused
from partnerprojekte.formats import check_text
from partnerprojekte.ids import format_id
from partnerprojekte.model import Action, CheckResult, Criterion, Event, State, Visibility
from partnerprojekte.states.workflow import Actor, ApprovalPolicy, Decision, ProposalFacts


@dataclass(frozen=True)
class Change:
    """What one audit row records as happened: an event (maybe not firing yet) or an action."""

    name: str
    from_state: State | None
    to_state: State
    # The event a refusal names if the proposal moved on meanwhile (an approval names what it approves).
    about: str | None = None

    @classmethod
    def of(cls, decision: Decision) -> Change:
        """The change a workflow decision makes, audited under its event."""
        return cls(decision.event.value, decision.from_state, decision.to_state)

    @classmethod
    def stay(cls, row: store.ProposalState, name: Action, about: Event | None = None) -> Change:
        """An audited step that leaves the state as it is (approve, withdraw, assign, confirm, comment)."""
        return cls(name.value, row.status, row.status, about.value if about else None)


@dataclass(frozen=True)
class AuditEntry:
    """The parts of an audit row a use case chooses; the rest (who, when, chain) the writer adds."""

    comment: str | None = None
    visibility: Visibility | None = None
    reasons: Sequence[str] = ()
    saeule_1_projekt: str | None = None
    approvals: Sequence[dict[str, Any]] = ()
    details: dict[str, Any] = field(default_factory=dict)
    ressort: str | None = None
    revision: int | None = None
    criteria: dict[str, Any] | None = None


class Writer:
    """Database, settings and the approval policy, with the writing steps every use case shares."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self.policy = ApprovalPolicy(settings.approvals)

    def actor(self, conn: Executor, email: str) -> Actor:
        """The active person with this address, or NotFound naming the input."""
        actor = store.load_actor(conn, email.strip().lower())
        if actor is None:
            raise NotFound(f"Keine aktive Person mit der E-Mail „{email}“.", field="actor")
        return actor

    def context(
        self, conn: Executor, proposal_id: int, actor_email: str, at: dt.datetime | None
    ) -> tuple[Actor, dt.datetime, store.ProposalState, ProposalFacts]:
        """Who acts, when, on which proposal, and what the workflow needs to know about it."""
        check_text(actor_email, "E-Mail")
        found = store.load_context(conn, proposal_id, actor_email.strip().lower())
        actor = found[1] if found is not None else None
        if found is None or actor is None:
            self.actor(conn, actor_email)  # an unknown person is named first, as everywhere
            raise NotFound(f"Vorschlag {format_id(proposal_id)} gibt es nicht.")
        row = found[0]
        facts = ProposalFacts(
            state=row.status,
            organisation=row.organisation,
            responsible_ressort=row.responsible_ressort,
            check=CheckResult.from_json(row.check_result),
            confirmed=frozenset(Criterion(c) for c in row.confirmed),
        )
        return actor, at or self.db.clock(), row, facts

    def audit_fields(
        self,
        row: store.ProposalState,
        seq: int,
        change: Change,
        actor: Actor,
        at: dt.datetime,
        prev_hash: str,
        entry: AuditEntry,
        *,
        handlungsfelder: str | None = None,
    ) -> dict[str, Any]:
        """The complete audit row (the shape ``audit.row_hash`` hashes)."""
        details = dict(entry.details)
        details["handlungsfelder"] = (handlungsfelder or row.handlungsfelder).split()
        return {
            "proposal_id": row.id,
            "seq": seq,
            "event": change.name,
            "from_state": change.from_state.value if change.from_state else None,
            "to_state": change.to_state.value,
            "actor_id": actor.user_id,
            "actor_email": actor.email,
            "role": actor.role.value,
            "ressort": entry.ressort if entry.ressort is not None else row.responsible_ressort,
            "comment": entry.comment,
            "visibility": entry.visibility.value if entry.comment and entry.visibility else None,
            "reasons": list(entry.reasons),
            "saeule_1_projekt": entry.saeule_1_projekt,
            "revision": entry.revision if entry.revision is not None else row.current_revision,
            "criteria": entry.criteria if entry.criteria is not None else row.check_result,
            "approvals": list(entry.approvals),
            "details": details,
            "at": at,
            "prev_hash": prev_hash,
        }

    def record(
        self,
        conn: Executor,
        row: store.ProposalState,
        change: Change,
        actor: Actor,
        at: dt.datetime,
        entry: AuditEntry,
        *,
        values: dict[str, Any] | None = None,
        expected_version: int | None = None,
    ) -> int:
        """Write the new proposal state if nobody changed it meanwhile, then its audit row; returns seq."""
        values = values or {}
        version = row.version
        if expected_version is not None and expected_version != version:
            raise ConflictError(
                f"{format_id(row.id)} wurde inzwischen geändert "
                f"(Stand {version}, erwartet {expected_version}); "
                "bitte neu laden und erneut versuchen."
            )
        seq = version + 1
        fields = self.audit_fields(
            row, seq, change, actor, at, row.audit_head, entry, handlungsfelder=values.get("handlungsfelder")
        )
        digest = audit.row_hash(fields)
        changes: dict[str, Any] = {**values, "version": seq, "audit_head": digest, "updated_at": at}
        if change.to_state is not row.status:
            changes["status"] = change.to_state
            changes["status_since"] = at
        if not store.bump(conn, row, changes):
            _raise_lost_race(conn, row, change)
        audit.append(conn, fields, digest)
        return seq

    def add_comment(
        self,
        conn: Executor,
        proposal_id: int,
        actor: Actor,
        text: str,
        visibility: Visibility,
        event: str | None,
        seq: int,
        at: dt.datetime,
    ) -> None:
        """Store a comment that belongs to the audit row ``seq``."""
        store.insert_comment(
            conn,
            proposal_id=proposal_id,
            user_id=actor.user_id,
            text=text,
            visibility=visibility,
            event=event,
            audit_seq=seq,
            created_at=at,
        )

    def notify(
        self,
        conn: Executor,
        row: store.ProposalState,
        seq: int,
        event: str,
        at: dt.datetime,
        actor: Actor,
        notify: bool,
        *,
        extra: dict[str, Any] | None = None,
        audiences: Sequence[aud.Audience] | None = None,
        ressort: str | None = None,
        status: State | None = None,
    ) -> int:
        """Write the outbox rows for this event (suppressed ones for replayed history)."""
        groups = audiences if audiences is not None else aud.audiences_for(event)
        if not groups:
            return 0
        base: dict[str, Any] = {
            "proposal": format_id(row.id),
            "proposal_id": row.id,
            "title": row.title,
            "organisation": row.organisation,
            "event": event,
            "status": (status or row.status).value,
            "actor_name": actor.name,
            "actor_role": actor.role.value,
            "ressort": ressort or row.responsible_ressort,
            "at": at.isoformat(),
            **(extra or {}),
        }
        contexts: list[tuple[aud.Audience, dict[str, Any]]] = []
        for group in groups:
            context = base
            shown = base.get("comment_visibility")
            if shown is not None and not audience_reads_comment(group, Visibility(shown)):
                # A partner never reads an internal comment, not even in an e-mail.
                context = {**base, "comment": None}
            contexts.append((group, context))
        return outbox.fan_out(
            conn,
            proposal_id=row.id,
            seq=seq,
            event=event,
            groups=contexts,
            contact=(row.contact_name, row.contact_email),
            ressort=ressort or row.responsible_ressort,
            arbeitsstab_mailbox=self.settings.arbeitsstab_mailbox,
            at=at,
            status="pending" if notify else "suppressed",
        )


def _raise_lost_race(conn: Executor, row: store.ProposalState, change: Change) -> None:
    status = store.current_status(conn, row.id)
    if change.from_state is not None and status is not change.from_state:
        assert status is not None
        raise TransitionRefused(
            f"{format_id(row.id)} ist inzwischen im Status „{status.label}“; "
            f"„{change.about or change.name}“ ist nicht mehr möglich.",
            event=change.about or change.name,
            state=status.value,
            reason="state",
        )
    raise ConflictError(
        f"{format_id(row.id)} wurde gleichzeitig von jemand anderem geändert; bitte erneut versuchen."
    )
