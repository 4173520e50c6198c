"""Use cases that leave the state as it is: assign a Ressort, confirm a criterion, comment."""

from __future__ import annotations

import datetime as dt

from partnerprojekte.db import store
from partnerprojekte.errors import FieldError, TransitionRefused, ValidationError
from partnerprojekte.formats import check_text
from partnerprojekte.ids import format_id
from partnerprojekte.model import Action, Criterion, Visibility
from partnerprojekte.reference import load_reference
from partnerprojekte.services.outcome import Outcome
from partnerprojekte.services.writer import AuditEntry, Change, Writer
from partnerprojekte.states.workflow import authorize_assign_ressort, authorize_comment, authorize_confirm


def assign_ressort(
    svc: Writer,
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
    with svc.db.transaction() as conn:
        actor, at, row, facts = svc.context(conn, proposal_id, actor_email, at)
        authorize_assign_ressort(facts, actor)
        if row.responsible_ressort == ressort:
            raise TransitionRefused(
                f"Ressort zuordnen: {ressort} ist bereits zuständig für {format_id(row.id)}.",
                event=Action.ASSIGN_RESSORT.value,
                state=row.status.value,
                reason="input",
            )
        previous = row.responsible_ressort
        entry = AuditEntry(ressort=ressort, details={"previous": previous})
        seq = svc.record(
            conn,
            row,
            Change.stay(row, Action.ASSIGN_RESSORT),
            actor,
            at,
            entry,
            values={"responsible_ressort": ressort},
        )
        store.end_assignment(conn, row.id, at)
        store.insert_assignment(
            conn, proposal_id=row.id, ressort=ressort, assigned_by=actor.user_id, assigned_at=at
        )
        # Approvals given under another Ressort's responsibility no longer count.
        store.close_pending(conn, row, None, at)
        sent = svc.notify(
            conn,
            row,
            seq,
            Action.ASSIGN_RESSORT.value,
            at,
            actor,
            notify,
            extra={"previous_ressort": previous},
            ressort=ressort,
        )
        return Outcome(row.id, Action.ASSIGN_RESSORT.value, row.status, False, seq, [], sent)


def confirm(
    svc: Writer,
    proposal_id: int,
    criterion: Criterion,
    actor_email: str,
    comment: str | None,
    *,
    at: dt.datetime | None = None,
) -> Outcome:
    """A reviewer confirms a ``needs_review`` criterion for the current revision."""
    check_text(comment, "Begründung")
    with svc.db.transaction() as conn:
        actor, at, row, facts = svc.context(conn, proposal_id, actor_email, at)
        authorize_confirm(facts, actor, criterion, comment)
        assert comment is not None
        entry = AuditEntry(
            comment=comment.strip(), visibility=Visibility.INTERN, details={"criterion": criterion.value}
        )
        seq = svc.record(conn, row, Change.stay(row, Action.CONFIRM_CRITERION), actor, at, entry)
        store.insert_confirmation(
            conn,
            proposal_id=row.id,
            revision=row.current_revision,
            criterion=criterion.value,
            user_id=actor.user_id,
            comment=comment.strip(),
            created_at=at,
        )
        return Outcome(row.id, Action.CONFIRM_CRITERION.value, row.status, False, seq)


def comment(
    svc: Writer,
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
        raise ValidationError(FieldError("text", "Der Kommentar darf nicht leer sein."))
    with svc.db.transaction() as conn:
        actor, at, row, facts = svc.context(conn, proposal_id, actor_email, at)
        effective = authorize_comment(facts, actor, visibility)
        entry = AuditEntry(comment=text.strip(), visibility=effective)
        seq = svc.record(conn, row, Change.stay(row, Action.COMMENT), actor, at, entry)
        svc.add_comment(conn, row.id, actor, text.strip(), effective, None, seq, at)
        return Outcome(row.id, Action.COMMENT.value, row.status, False, seq)
