"""Use cases on the portrait of a recognised project: its first version, the project ID, invited
co-partners, completion. Each one transaction with its audit row in the project's chain."""

from __future__ import annotations

import datetime as dt

from partnerprojekte.db import reports as rdb
from partnerprojekte.db.store import Executor, ProposalState
from partnerprojekte.errors import ConflictError, FieldError, TransitionRefused, ValidationError
from partnerprojekte.formats import check_text, proposal_from_document
from partnerprojekte.formats.portraits import prefill
from partnerprojekte.ids import format_id
from partnerprojekte.model import Role, State, Visibility
from partnerprojekte.portrait import Umsetzungsstand
from partnerprojekte.services.writer import AuditEntry, Change, Writer
from partnerprojekte.states.facts import Actor
from partnerprojekte.states.report_table import ReportAction
from partnerprojekte.states.report_workflow import authorize_report_action

PROJECT_CODE_MAX = 16


def stay(row: ProposalState, name: str) -> Change:
    """An audited step on the project that leaves its qualification state as it is."""
    return Change(name, row.status, row.status)


def ensure_portrait(svc: Writer, conn: Executor, row: ProposalState, actor: Actor, at: dt.datetime) -> int:
    """The portrait's current version, making the first one from the proposal if there is none yet."""
    found = rdb.find_portrait(conn, row.id)
    if found is not None:
        return found.current_version
    proposal = proposal_from_document(rdb.revision_document(conn, row.id, row.current_revision))
    content = {s.value: v for s, v in prefill(proposal).items()}
    rdb.insert_portrait(
        conn,
        proposal_id=row.id,
        project_code=format_id(row.id),
        umsetzungsstand=Umsetzungsstand.IN_UMSETZUNG.value,
        current_version=1,
        created_at=at,
    )
    rdb.insert_version(
        conn,
        proposal_id=row.id,
        number=1,
        content=content,
        umsetzungsstand=Umsetzungsstand.IN_UMSETZUNG.value,
        created_by=actor.user_id,
        created_at=at,
    )
    return 1


def invite_contributor(
    svc: Writer, proposal_id: int, invitee_email: str, actor_email: str, *, at: dt.datetime | None = None
) -> int:
    """Invite a co-partner (an active partner account) to contribute to the project's reports; the seq."""
    check_text(invitee_email, "E-Mail")
    with svc.db.transaction() as conn:
        actor, at, row, facts = svc.context(conn, proposal_id, actor_email, at)
        authorize_report_action(facts, ReportAction.INVITE_CONTRIBUTOR, actor)
        _require_recognised(row, ReportAction.INVITE_CONTRIBUTOR)
        invitee = svc.actor(conn, invitee_email)
        if invitee.role is not Role.PARTNER:
            raise ValidationError(
                FieldError(
                    "email",
                    f"{invitee.email} ist {invitee.role.label}; eingeladen werden nur Partner.",
                )
            )
        if invitee.user_id in rdb.contributors(conn, row.id):
            raise ConflictError(f"{invitee.email} ist zu {format_id(row.id)} bereits eingeladen.")
        entry = AuditEntry(details={"person": invitee.email})
        seq = svc.record(conn, row, stay(row, ReportAction.INVITE_CONTRIBUTOR.value), actor, at, entry)
        rdb.insert_contributor(
            conn, proposal_id=row.id, user_id=invitee.user_id, invited_by=actor.user_id, invited_at=at
        )
        return seq


def complete_project(
    svc: Writer, proposal_id: int, actor_email: str, comment: str, *, at: dt.datetime | None = None
) -> int:
    """Mark a recognised project completed: it keeps its portrait, owes no more reports; the seq."""
    check_text(comment, "Kommentar")
    if not comment.strip():
        raise ValidationError(FieldError("kommentar", "Der Abschluss braucht eine Begründung."))
    with svc.db.transaction() as conn:
        actor, at, row, facts = svc.context(conn, proposal_id, actor_email, at)
        authorize_report_action(facts, ReportAction.COMPLETE_PROJECT, actor)
        _require_recognised(row, ReportAction.COMPLETE_PROJECT)
        portrait = rdb.find_portrait(conn, row.id)
        if portrait is not None and portrait.completed_at is not None:
            raise ConflictError(f"{format_id(row.id)} ist bereits als abgeschlossen markiert.")
        entry = AuditEntry(comment=comment.strip(), visibility=Visibility.PARTNER)
        # The audit row first: its version check on the proposal lets only one of two parallel steps on
        # the project go on, before either writes the portrait.
        seq = svc.record(conn, row, stay(row, ReportAction.COMPLETE_PROJECT.value), actor, at, entry)
        ensure_portrait(svc, conn, row, actor, at)
        rdb.update_portrait(
            conn, row.id, completed_at=at, umsetzungsstand=Umsetzungsstand.ABGESCHLOSSEN.value
        )
        svc.add_comment(
            conn,
            row.id,
            actor,
            comment.strip(),
            Visibility.PARTNER,
            ReportAction.COMPLETE_PROJECT.value,
            seq,
            at,
        )
        return seq


def set_project_code(
    svc: Writer, proposal_id: int, code: str, actor_email: str, *, at: dt.datetime | None = None
) -> int:
    """Set the project ID the report prints (``UN-NEU``); the seq."""
    check_text(code, "Projekt-ID")
    code = code.strip()
    if not code or len(code) > PROJECT_CODE_MAX:
        raise ValidationError(FieldError("projekt_id", f"braucht 1 bis {PROJECT_CODE_MAX} Zeichen"))
    with svc.db.transaction() as conn:
        actor, at, row, facts = svc.context(conn, proposal_id, actor_email, at)
        authorize_report_action(facts, ReportAction.SET_PROJECT_CODE, actor)
        _require_recognised(row, ReportAction.SET_PROJECT_CODE)
        entry = AuditEntry(details={"project_code": code})
        seq = svc.record(conn, row, stay(row, ReportAction.SET_PROJECT_CODE.value), actor, at, entry)
        ensure_portrait(svc, conn, row, actor, at)
        rdb.update_portrait(conn, row.id, project_code=code)
        return seq


def _require_recognised(row: ProposalState, action: ReportAction) -> None:
    if row.status is not State.ANERKANNT:
        raise TransitionRefused(
            f"„{action.label}“ ist nur bei anerkannten Partnerprojekten möglich; "
            f"{format_id(row.id)} ist „{row.status.label}“.",
            event=action.value,
            state=row.status.value,
            reason="state",
        )
