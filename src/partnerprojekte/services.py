"""Use cases: each one transaction with its audit entry and outbox rows, or nothing at all."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from partnerprojekte import audience as aud
from partnerprojekte.config import Settings
from partnerprojekte.db import audit, outbox, searchable, store
from partnerprojekte.db.engine import Database
from partnerprojekte.db.schema import ApiTokenRow, ProposalRow, RessortRow, UserRow
from partnerprojekte.db.store import Executor
from partnerprojekte.db.user_audit import SEED, UserActor, record_user_event
from partnerprojekte.errors import ConflictError, NotFound, TransitionRefused, ValidationError
from partnerprojekte.formats import check_text
from partnerprojekte.ids import format_id
from partnerprojekte.model import (
    CheckResult,
    Criterion,
    Event,
    ReasonCode,
    Role,
    State,
    Visibility,
)
from partnerprojekte.proposal import Proposal
from partnerprojekte.reference import load_reference
from partnerprojekte.rules import check as check_proposal
from partnerprojekte.states.workflow import (
    Actor,
    ApprovalPolicy,
    Decision,
    EventInput,
    GivenApproval,
    ProposalFacts,
    authorize_assign_ressort,
    authorize_comment,
    authorize_confirm,
    decide,
    default_visibility,
    same_organisation,
)

EMAIL_MAX = 254


class AlreadyImported(ConflictError):
    """The proposal of an import file is in the database already."""


@dataclass(frozen=True)
class Outcome:
    """What an event or action did: the proposal's state afterwards and what is still owed."""

    proposal_id: int
    event: str
    status: State
    fired: bool
    seq: int
    pending_approvals: list[dict[str, Any]] = field(default_factory=list)
    notifications: int = 0
    check: CheckResult | None = None

    def to_json(self) -> dict[str, Any]:
        """The ``transition --json`` shape."""
        data: dict[str, Any] = {
            "id": format_id(self.proposal_id),
            "event": self.event,
            "status": self.status.value,
            "fired": self.fired,
            "pending_approvals": self.pending_approvals,
            "notifications": self.notifications,
        }
        if self.check is not None:
            data["check"] = self.check.to_json()
        return data


def _handlungsfelder_column(proposal: Proposal) -> str:
    keys = sorted({h.key.value for h in proposal.handlungsfelder})
    return f" {' '.join(keys)} " if keys else " "


class Services:
    """The use cases of the qualification process over one database."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self.policy = ApprovalPolicy(settings.approvals)

    # --- reference data and users -------------------------------------------------------------

    def load_reference_data(self) -> int:
        """Insert or update the Ressorts of the reference data; returns how many there are."""
        ref = load_reference()
        with self.db.write() as s:
            existing = {r.abbreviation: r for r in s.scalars(select(RessortRow))}
            for abk, ressort in ref.ressorts.items():
                row = existing.get(abk)
                if row is None:
                    s.add(RessortRow(abbreviation=abk, name=ressort.name))
                elif row.name != ressort.name:
                    row.name = ressort.name
        return len(ref.ressorts)

    def add_user(
        self,
        email: str,
        name: str,
        role: Role,
        *,
        ressort: str | None = None,
        organisation: str | None = None,
        exists_ok: bool = False,
        by: UserActor = SEED,
    ) -> UserRow:
        """Create a user (without a password), audited in the user chain as done ``by`` someone;
        ressort reviewers need a known Ressort, partners an organisation."""
        email = _check_email(email)
        check_text(name, "Name")
        check_text(organisation, "Organisation")
        for label, value in (("Name", name), ("Organisation", organisation)):
            if value and len(value.strip()) > NAME_MAX:
                raise ValidationError(
                    f"{label}: höchstens {NAME_MAX} Zeichen, gefunden: {len(value.strip())}."
                )
        name = name.strip()
        if not name:
            raise ValidationError("--name: Der Name darf nicht leer sein.")
        if role is Role.RESSORT:
            if not ressort:
                raise ValidationError("--ressort: Für die Rolle „ressort“ ist ein Ressort anzugeben.")
            ressort = load_reference().ressort(ressort).abbreviation
        elif ressort:
            raise ValidationError(
                f"--ressort: Nur die Rolle „ressort“ gehört zu einem Ressort, nicht {role}."
            )
        if role is Role.PARTNER:
            organisation = (organisation or "").strip()
            if not organisation:
                raise ValidationError(
                    "--organisation: Für die Rolle „partner“ ist die Organisation anzugeben."
                )
        elif organisation:
            organisation = organisation.strip()
        with self.db.write() as s:
            current = s.scalar(select(UserRow).where(UserRow.email == email))
            if current is not None:
                if exists_ok:
                    return current
                raise ValidationError(f"E-Mail: Eine Person mit {email} gibt es bereits.")
            user = UserRow(
                email=email,
                name=name,
                role=role,
                ressort=ressort,
                organisation=organisation or None,
                digest_opt_out=False,
                active=True,
                created_at=self.db.clock(),
                created_by=by.user_id,
            )
            s.add(user)
            s.flush()
            details = {"email": email, "name": name, "role": role.value, "ressort": ressort}
            if organisation:
                details["organisation"] = organisation
            record_user_event(s, by, "create", user.id, details, at=user.created_at)
            return user

    def list_users(self) -> list[UserRow]:
        """All users ordered by role and e-mail."""
        with self.db.read() as s:
            return list(s.scalars(select(UserRow).order_by(UserRow.role, UserRow.email)))

    def _actor(self, conn: Executor, email: str) -> Actor:
        actor = store.load_actor(conn, email.strip().lower())
        if actor is None:
            raise NotFound(f"--as: Keine aktive Person mit der E-Mail „{email}“ (users add).")
        return actor

    # --- proposals ------------------------------------------------------------------------------

    def check(self, proposal: Proposal) -> CheckResult:
        """Evaluate the four criteria of a proposal (stores nothing)."""
        return check_proposal(proposal, self.settings.criteria, load_reference())

    def submit(
        self,
        proposal: Proposal,
        actor_email: str,
        *,
        at: dt.datetime | None = None,
        import_key: str | None = None,
        notify: bool = True,
    ) -> Outcome:
        """Store a new proposal (``eingereicht``) with its first revision, audit entry and receipt."""
        result = self.check(proposal)
        with self.db.transaction() as conn:
            actor = self._actor(conn, actor_email)
            at = at or self.db.clock()
            facts = ProposalFacts(state=None, organisation=proposal.submitter.name)
            decision = decide(facts, Event.SUBMIT, actor, EventInput(has_proposal=True), self.policy)
            if import_key is not None and store.is_imported(conn, import_key):
                raise AlreadyImported("Dieser Vorschlag wurde bereits importiert.")
            check_json = result.to_json()
            values: dict[str, Any] = {
                "status": decision.to_state,
                "version": 1,
                "title": proposal.title,
                "organisation": proposal.submitter.name,
                "contact_name": proposal.submitter.contact.name,
                "contact_email": proposal.submitter.contact.email.lower(),
                "handlungsfelder": _handlungsfelder_column(proposal),
                "responsible_ressort": None,
                "current_revision": 1,
                "check_result": check_json,
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
            searchable.update_search(
                conn, pid, proposal.title, proposal.submitter.name, proposal.to_document()
            )
            fields = self._audit_fields(
                row,
                1,
                Event.SUBMIT.value,
                None,
                decision.to_state,
                actor,
                at,
                audit.GENESIS,
                revision=1,
                details={"title": proposal.title},
            )
            digest = audit.append(conn, fields)
            # The proposal's id is part of the hashed row, so its head is known only now.
            store.set_columns(conn, pid, {"audit_head": digest})
            sent = self._notify(
                conn, row, 1, Event.SUBMIT.value, at, actor, notify, extra={"check": check_json}
            )
            return Outcome(pid, Event.SUBMIT.value, decision.to_state, True, 1, [], sent, result)

    def revise(
        self,
        proposal_id: int,
        proposal: Proposal,
        actor_email: str,
        *,
        at: dt.datetime | None = None,
        notify: bool = True,
        expected_version: int | None = None,
    ) -> Outcome:
        """Store a new revision; criteria are re-evaluated and earlier confirmations dropped."""
        result = self.check(proposal)
        with self.db.transaction() as conn:
            actor, at, row, facts = self._context(conn, proposal_id, actor_email, at)
            if actor.role is Role.PARTNER and not same_organisation(
                proposal.submitter.name, actor.organisation
            ):
                raise TransitionRefused(
                    f"„Überarbeiten“ (revise): submitter.name „{proposal.submitter.name}“ ist nicht Ihre "
                    f"Organisation („{actor.organisation}“).",
                    event="revise",
                    state=row.status.value,
                    reason="role",
                    role=actor.role.value,
                )
            decision = decide(facts, Event.REVISE, actor, EventInput(has_proposal=True), self.policy)
            number = row.current_revision + 1
            dropped = sorted(c.value for c in facts.confirmed)
            check_json = result.to_json()
            seq = self._bump(
                conn,
                row,
                decision,
                actor,
                at,
                expected_version,
                values={
                    "title": proposal.title,
                    "organisation": proposal.submitter.name,
                    "contact_name": proposal.submitter.contact.name,
                    "contact_email": proposal.submitter.contact.email.lower(),
                    "handlungsfelder": _handlungsfelder_column(proposal),
                    "current_revision": number,
                    "overall": result.overall.value,
                    "check_result": check_json,
                },
                audit_extra={
                    "revision": number,
                    "criteria": check_json,
                    "details": {"title": proposal.title, "dropped_confirmations": dropped},
                },
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
            searchable.update_search(
                conn, row.id, proposal.title, proposal.submitter.name, proposal.to_document()
            )
            return Outcome(row.id, Event.REVISE.value, decision.to_state, True, seq, [], 0, result)

    def transition(
        self,
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
            raise ValidationError(f"EVENT: „{event}“ geht mit dem Befehl „{event}“, nicht mit „transition“.")
        check_text(inp.comment, "Kommentar")
        check_text(inp.saeule_1_projekt, "Säule-1-Projekt")
        with self.db.transaction() as conn:
            actor, at, row, facts = self._context(conn, proposal_id, actor_email, at)
            pending = [a for a in store.pending_approvals(conn, row) if a.event == event.value]
            given = [GivenApproval(a.user_id, a.name, a.role) for a in pending]
            decision = decide(facts, event, actor, inp, self.policy, given)
            if pending and (decision.approval_gated or not decision.fires):
                _check_independent(conn, actor, pending, event, row.status)
            visibility = _visibility(inp, event, actor, fires=decision.fires)
            comment = inp.comment.strip() if inp.comment and inp.comment.strip() else None
            if not decision.fires:
                return self._record_approval(
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
                    {
                        "user": actor.email,
                        "role": actor.role.value,
                        "at": at.isoformat(),
                        "comment": comment,
                    }
                )
            values: dict[str, Any] = {}
            if event is Event.INTEGRATE_INTO_PILLAR_1:
                values["saeule_1_projekt"] = (inp.saeule_1_projekt or "").strip()
            seq = self._bump(
                conn,
                row,
                decision,
                actor,
                at,
                expected_version,
                values=values,
                audit_extra={
                    "comment": comment,
                    "visibility": visibility.value if comment else None,
                    "reasons": reasons,
                    "saeule_1_projekt": values.get("saeule_1_projekt"),
                    "approvals": approvals_json,
                },
            )
            if comment:
                self._add_comment(conn, row.id, actor, comment, visibility, event.value, seq, at)
            # The approvals of this event are used up; every other pending one is stale now.
            store.close_pending(conn, row, event.value, at)
            extra = {
                "comment": comment,
                "comment_visibility": visibility.value if comment else None,
                "reasons": reasons,
                "saeule_1_projekt": values.get("saeule_1_projekt"),
            }
            sent = self._notify(
                conn, row, seq, event.value, at, actor, notify, extra=extra, status=decision.to_state
            )
            return Outcome(row.id, event.value, decision.to_state, True, seq, [], sent)

    def _record_approval(
        self,
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
        event = decision.event.value
        missing = [r.value for r in decision.missing_roles]
        # An approval that does not complete the set leaves the state as it is.
        stay = Decision(decision.event, row.status, row.status, fires=False)
        status = row.status
        seq = self._bump(
            conn,
            row,
            stay,
            actor,
            at,
            expected_version,
            values={},
            audit_event="approve",
            audit_extra={
                "comment": comment,
                "visibility": visibility.value if comment else None,
                "reasons": [r.value for r in inp.reasons],
                "details": {"event": event, "missing": missing},
            },
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
            self._add_comment(conn, row.id, actor, comment, visibility, f"approve:{event}", seq, at)
        sent = 0
        for role in decision.missing_roles:
            sent += self._notify(
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
        self, proposal_id: int, event: Event, actor_email: str, *, at: dt.datetime | None = None
    ) -> Outcome:
        """Take back one's own pending approval before it fires."""
        with self.db.transaction() as conn:
            actor, at, row, _ = self._context(conn, proposal_id, actor_email, at)
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
            decision = Decision(event, row.status, row.status, fires=False)
            seq = self._bump(
                conn,
                row,
                decision,
                actor,
                at,
                None,
                values={},
                audit_event="withdraw_approval",
                audit_extra={"details": {"event": event.value}},
            )
            store.withdraw_approvals(conn, mine, at)
            return Outcome(row.id, "withdraw_approval", row.status, False, seq)

    def withdraw_approvals_of_person(
        self,
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
            actor, at, row, _ = self._context(conn, proposal_id, admin_email, at)
            events = sorted({event for _, event in items})
            seq = self._bump(
                conn,
                row,
                Decision(Event(events[0]), row.status, row.status, fires=False),
                actor,
                at,
                None,
                values={},
                audit_event="withdraw_approval",
                audit_extra={
                    "details": {
                        "event": events[0],
                        "events": events,
                        "person": person.email,
                        "reason": reason,
                    }
                },
            )
            store.withdraw_approvals(conn, [approval_id for approval_id, _ in items], at)
            for event in events:
                self._notify(
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

    def assign_ressort(
        self,
        proposal_id: int,
        abbreviation: str,
        actor_email: str,
        *,
        at: dt.datetime | None = None,
        notify: bool = True,
    ) -> Outcome:
        """Make a Ressort responsible; the assignment history is kept and pending approvals discarded."""
        check_text(abbreviation, "Ressort")
        ressort = load_reference().ressort(abbreviation).abbreviation
        with self.db.transaction() as conn:
            actor, at, row, facts = self._context(conn, proposal_id, actor_email, at)
            authorize_assign_ressort(facts, actor)
            if row.responsible_ressort == ressort:
                raise TransitionRefused(
                    f"Ressort zuordnen: {ressort} ist bereits zuständig für {format_id(row.id)}.",
                    event="assign_ressort",
                    state=row.status.value,
                    reason="input",
                )
            previous = row.responsible_ressort
            decision = _stay(row)
            seq = self._bump(
                conn,
                row,
                decision,
                actor,
                at,
                None,
                values={"responsible_ressort": ressort},
                audit_event="assign_ressort",
                audit_ressort=ressort,
                audit_extra={"details": {"previous": previous}},
            )
            store.end_assignment(conn, row.id, at)
            store.insert_assignment(
                conn, proposal_id=row.id, ressort=ressort, assigned_by=actor.user_id, assigned_at=at
            )
            # Approvals given under another Ressort's responsibility no longer count.
            store.close_pending(conn, row, None, at)
            sent = self._notify(
                conn,
                row,
                seq,
                "assign_ressort",
                at,
                actor,
                notify,
                extra={"previous_ressort": previous},
                ressort=ressort,
            )
            return Outcome(row.id, "assign_ressort", row.status, False, seq, [], sent)

    def confirm(
        self,
        proposal_id: int,
        criterion: Criterion,
        actor_email: str,
        comment: str | None,
        *,
        at: dt.datetime | None = None,
    ) -> Outcome:
        """A reviewer confirms a ``needs_review`` criterion for the current revision."""
        check_text(comment, "Begründung")
        with self.db.transaction() as conn:
            actor, at, row, facts = self._context(conn, proposal_id, actor_email, at)
            authorize_confirm(facts, actor, criterion, comment)
            assert comment is not None
            decision = _stay(row)
            seq = self._bump(
                conn,
                row,
                decision,
                actor,
                at,
                None,
                values={},
                audit_event="confirm_criterion",
                audit_extra={
                    "comment": comment.strip(),
                    "visibility": Visibility.INTERN.value,
                    "details": {"criterion": criterion.value},
                },
            )
            store.insert_confirmation(
                conn,
                proposal_id=row.id,
                revision=row.current_revision,
                criterion=criterion.value,
                user_id=actor.user_id,
                comment=comment.strip(),
                created_at=at,
            )
            return Outcome(row.id, "confirm_criterion", row.status, False, seq)

    def comment(
        self,
        proposal_id: int,
        actor_email: str,
        text: str,
        visibility: Visibility,
        *,
        at: dt.datetime | None = None,
    ) -> Outcome:
        """Add a comment (internal, or for the partner)."""
        check_text(text, "Kommentar")
        if not text.strip():
            raise ValidationError("TEXT: Der Kommentar darf nicht leer sein.")
        with self.db.transaction() as conn:
            actor, at, row, facts = self._context(conn, proposal_id, actor_email, at)
            effective = authorize_comment(facts, actor, visibility)
            decision = _stay(row)
            seq = self._bump(
                conn,
                row,
                decision,
                actor,
                at,
                None,
                values={},
                audit_event="comment",
                audit_extra={"comment": text.strip(), "visibility": effective.value},
            )
            self._add_comment(conn, row.id, actor, text.strip(), effective, None, seq, at)
            return Outcome(row.id, "comment", row.status, False, seq)

    # --- internals ------------------------------------------------------------------------------

    def _context(
        self, conn: Executor, proposal_id: int, actor_email: str, at: dt.datetime | None
    ) -> tuple[Actor, dt.datetime, store.ProposalState, ProposalFacts]:
        """Who acts, when, on which proposal, and what the workflow needs to know about it."""
        check_text(actor_email, "E-Mail")
        found = store.load_context(conn, proposal_id, actor_email.strip().lower())
        actor = found[1] if found is not None else None
        if found is None or actor is None:
            self._actor(conn, actor_email)  # an unknown person is named first, as everywhere
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

    def _audit_fields(
        self,
        row: store.ProposalState,
        seq: int,
        event: str,
        from_state: State | None,
        to_state: State,
        actor: Actor,
        at: dt.datetime,
        prev_hash: str,
        *,
        revision: int,
        ressort: str | None = None,
        criteria: dict[str, Any] | None = None,
        handlungsfelder: str | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        details = dict(extra.pop("details", {}) or {})
        details["handlungsfelder"] = (handlungsfelder or row.handlungsfelder).split()
        fields: dict[str, Any] = {
            "proposal_id": row.id,
            "seq": seq,
            "event": event,
            "from_state": from_state.value if from_state else None,
            "to_state": to_state.value,
            "actor_id": actor.user_id,
            "actor_email": actor.email,
            "role": actor.role.value,
            "ressort": ressort if ressort is not None else row.responsible_ressort,
            "comment": None,
            "visibility": None,
            "reasons": [],
            "saeule_1_projekt": None,
            "revision": revision,
            "criteria": criteria if criteria is not None else row.check_result,
            "approvals": [],
            "details": details,
            "at": at,
            "prev_hash": prev_hash,
        }
        fields.update({k: v for k, v in extra.items() if v is not None})
        return fields

    def _bump(
        self,
        conn: Executor,
        row: store.ProposalState,
        decision: Decision,
        actor: Actor,
        at: dt.datetime,
        expected_version: int | None,
        *,
        values: dict[str, Any],
        audit_event: str | None = None,
        audit_ressort: str | None = None,
        audit_extra: dict[str, Any] | None = None,
    ) -> int:
        """Write the new proposal state if nobody changed it meanwhile, then its audit row; returns seq."""
        version = row.version
        if expected_version is not None and expected_version != version:
            raise ConflictError(
                f"{format_id(row.id)} wurde inzwischen geändert "
                f"(Stand {version}, erwartet {expected_version}); "
                "bitte neu laden und erneut versuchen."
            )
        seq = version + 1
        extra = dict(audit_extra or {})
        revision = extra.pop("revision", row.current_revision)
        criteria = extra.pop("criteria", None)
        hf = values.get("handlungsfelder")
        fields = self._audit_fields(
            row,
            seq,
            audit_event or decision.event.value,
            decision.from_state,
            decision.to_state,
            actor,
            at,
            row.audit_head,
            revision=revision,
            ressort=audit_ressort,
            criteria=criteria,
            handlungsfelder=hf,
            **extra,
        )
        digest = audit.row_hash(fields)
        changes: dict[str, Any] = {
            **values,
            "version": seq,
            "audit_head": digest,
            "updated_at": at,
        }
        if decision.to_state is not row.status:
            changes["status"] = decision.to_state
            changes["status_since"] = at
        if not store.bump(conn, row, changes):
            self._raise_lost_race(conn, row, decision)
        audit.append(conn, fields, digest)
        return seq

    def _raise_lost_race(self, conn: Executor, row: store.ProposalState, decision: Decision) -> None:
        status = store.current_status(conn, row.id)
        if decision.from_state is not None and status is not decision.from_state:
            assert status is not None
            raise TransitionRefused(
                f"{format_id(row.id)} ist inzwischen im Status „{status.label}“; "
                f"„{decision.event.value}“ ist nicht mehr möglich.",
                event=decision.event.value,
                state=status.value,
                reason="state",
            )
        raise ConflictError(
            f"{format_id(row.id)} wurde gleichzeitig von jemand anderem geändert; bitte erneut versuchen."
        )

    def _add_comment(
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

    def _notify(
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
        """Write the outbox rows of §7 for this event (suppressed ones for replayed history)."""
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
            if group is aud.Audience.PARTNER and base.get("comment_visibility") == Visibility.INTERN.value:
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


# Why a person's pending approvals fell away, as the mail says it.
WITHDRAWAL_REASONS = {
    "deactivated": "ihr Zugang wurde deaktiviert",
    "role_changed": "ihre Rolle wurde geändert",
    "ressort_changed": "sie wurde einem anderen Ressort zugeordnet",
}


def _direct_origins(conn: Executor, user_ids: list[int]) -> dict[int, set[int]]:
    """The administrators directly behind each account: who created it, who issued the activation link
    its owner last used, who issued one of its unrevoked API tokens (whoever did may hold its
    credentials)."""
    found: dict[int, set[int]] = {uid: set() for uid in user_ids}
    users = conn.execute(
        select(UserRow.id, UserRow.created_by, UserRow.activated_by).where(UserRow.id.in_(user_ids))
    )
    for uid, created_by, activated_by in users:
        found[uid] |= {a for a in (created_by, activated_by) if a is not None}
    tokens = conn.execute(
        select(ApiTokenRow.user_id, ApiTokenRow.issued_by).where(
            ApiTokenRow.user_id.in_(user_ids),
            ApiTokenRow.revoked_at.is_(None),
            ApiTokenRow.issued_by.is_not(None),
        )
    )
    for uid, issued_by in tokens:
        found[uid].add(issued_by)
    return found


def _origins(conn: Executor, user_ids: list[int]) -> dict[int, set[int]]:
    """Every administrator who may hold each account's credentials, transitively: an administrator who
    created (or activated) a second administration account may hold that one's credentials too, and
    so those of every account it set up."""
    direct = _direct_origins(conn, user_ids)
    todo = set().union(*direct.values()) - direct.keys()
    while todo:
        direct.update(_direct_origins(conn, sorted(todo)))
        todo = set().union(*direct.values()) - direct.keys()
    closure: dict[int, set[int]] = {}
    for uid in user_ids:
        seen: set[int] = set()
        stack = list(direct[uid])
        while stack:
            admin = stack.pop()
            if admin not in seen:
                seen.add(admin)
                stack.extend(direct.get(admin, ()))
        closure[uid] = seen
    return closure


def _check_independent(
    conn: Executor, actor: Actor, pending: list[store.PendingApproval], event: Event, state: State
) -> None:
    """Refuse an approval that would count together with one whose account the same administrator
    created or (last) activated, directly or through an administration account of their making: one
    person could hold both accounts' credentials.

    Accounts without a recorded administrator (``NULL``: seeded, imported or made before this rule)
    count as independent; the check runs in the event's transaction, so it holds at the moment it counts.
    """
    others = [a for a in pending if a.user_id != actor.user_id]
    if not others:
        return
    origins = _origins(conn, [actor.user_id, *(a.user_id for a in others)])
    mine = origins[actor.user_id]
    for other in others:
        theirs = origins[other.user_id]
        shared = (mine & theirs) | (mine & {other.user_id}) | (theirs & {actor.user_id})
        if shared:
            admins = conn.execute(select(UserRow.email).where(UserRow.id.in_(shared)).order_by(UserRow.email))
            names = ", ".join(email for (email,) in admins)
            raise TransitionRefused(
                f"Vier-Augen-Prinzip: Die Zustimmung von {actor.email} kann nicht zusammen mit der von "
                f"{other.email} zählen – beide Zugänge hat dieselbe Administration ({names}) angelegt, "
                "aktiviert oder mit einem API-Token versehen. Es muss eine Person zustimmen, deren Zugang "
                "eine andere Administration eingerichtet hat.",
                event=event.value,
                state=state.value,
                reason="approval",
                role=actor.role.value,
            )


def _stay(row: store.ProposalState) -> Decision:
    """The decision of an action that leaves the state as it is (its audit row names the action)."""
    return Decision(Event.TAKE_UP, row.status, row.status, fires=False)


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


# The width of users.name and users.organisation: longer would fail in PostgreSQL.
NAME_MAX = 200


def _check_email(email: str) -> str:
    check_text(email, "E-Mail")
    email = email.strip().lower()
    local, _, domain = email.partition("@")
    if not local or "." not in domain or len(email) > EMAIL_MAX or any(c in email for c in ' \r\n<>,;"'):
        raise ValidationError(f"EMAIL: „{email}“ ist keine gültige E-Mail-Adresse.")
    return email


def count_proposals(s: Session) -> int:
    """How many proposals exist."""
    return s.scalar(select(func.count()).select_from(ProposalRow)) or 0


__all__ = ["AlreadyImported", "Outcome", "ReasonCode", "Services", "count_proposals"]
