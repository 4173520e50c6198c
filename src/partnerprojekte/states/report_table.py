"""The second machine, as data: a progress report (Fortschrittsmeldung) from owed to accepted.

Each recognised, not completed project owes one report per reporting round. The partner drafts it as a
new version of the portrait and submits it; the responsible Ressort approves it or returns it (whole or by
section) with a comment for the partner; the Arbeitsstab accepts it for the Fortschrittsbericht, which
locks it. The machine (``report_workflow``) and every edge read this table, as for the qualification.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from partnerprojekte.model import Audience, Role


class ReportState(StrEnum):
    """Where a progress report stands."""

    OFFEN = "offen"  # owed, nothing written yet
    ENTWURF = "entwurf"
    EINGEREICHT = "eingereicht"
    ZURUECKGEGEBEN = "zurueckgegeben"
    GEPRUEFT = "geprueft"  # approved by the Ressort, waiting for the Arbeitsstab
    ANGENOMMEN = "angenommen"  # accepted for the report; locked

    @property
    def label(self) -> str:
        """The German label a person reads."""
        return REPORT_STATE_LABELS[self]


REPORT_STATE_LABELS: dict[ReportState, str] = {
    ReportState.OFFEN: "offen",
    ReportState.ENTWURF: "Entwurf",
    ReportState.EINGEREICHT: "eingereicht",
    ReportState.ZURUECKGEGEBEN: "zurückgegeben",
    ReportState.GEPRUEFT: "vom Ressort geprüft",
    ReportState.ANGENOMMEN: "angenommen",
}


class ReportEvent(StrEnum):
    """What happens to a progress report."""

    SAVE_DRAFT = "save_draft"
    SUBMIT_REPORT = "submit_report"
    RETURN_REPORT = "return_report"
    APPROVE_REPORT = "approve_report"
    ACCEPT_REPORT = "accept_report"

    @property
    def label(self) -> str:
        """The German label a person reads."""
        return REPORT_EVENT_LABELS[self]


REPORT_EVENT_LABELS: dict[ReportEvent, str] = {
    ReportEvent.SAVE_DRAFT: "Entwurf speichern",
    ReportEvent.SUBMIT_REPORT: "Fortschrittsmeldung einreichen",
    ReportEvent.RETURN_REPORT: "Zurückgeben",
    ReportEvent.APPROVE_REPORT: "Freigeben",
    ReportEvent.ACCEPT_REPORT: "Für den Bericht annehmen",
}


class ReportAction(StrEnum):
    """Audited steps around the reports that are not events of one report's machine."""

    OPEN_REPORT = "open_report"  # a reporting round makes the project owe a report
    INVITE_CONTRIBUTOR = "invite_contributor"
    COMPLETE_PROJECT = "complete_project"
    SET_PROJECT_CODE = "set_project_code"

    @property
    def label(self) -> str:
        """The German label a person reads."""
        return REPORT_ACTION_LABELS[self]


REPORT_ACTION_LABELS: dict[ReportAction, str] = {
    ReportAction.OPEN_REPORT: "Fortschrittsmeldung angefordert",
    ReportAction.INVITE_CONTRIBUTOR: "Mitpartner eingeladen",
    ReportAction.COMPLETE_PROJECT: "Projekt abgeschlossen",
    ReportAction.SET_PROJECT_CODE: "Projekt-ID gesetzt",
}

# Who may take these steps: the Arbeitsstab runs the rounds; the lead partner may invite co-partners.
REPORT_ACTION_ROLES: dict[ReportAction, tuple[Role, ...]] = {
    ReportAction.OPEN_REPORT: (Role.ARBEITSSTAB,),
    ReportAction.INVITE_CONTRIBUTOR: (Role.PARTNER, Role.ARBEITSSTAB),
    ReportAction.COMPLETE_PROJECT: (Role.ARBEITSSTAB,),
    ReportAction.SET_PROJECT_CODE: (Role.ARBEITSSTAB,),
}


class ReportRequirement(StrEnum):
    """Input a report event needs besides the actor."""

    ENTRIES = "entries"  # at least one section written or marked
    COMMENT = "comment"  # a comment for the partner


class ReportGuard(StrEnum):
    """Conditions on the report that must hold when the event fires."""

    SECTIONS_COMPLETE = (
        "sections_complete"  # every section marked; changed ones with text, dropped with reason
    )
    RETURNED_SECTIONS_REVISED = "returned_sections_revised"  # each returned section edited since


@dataclass(frozen=True)
class ReportTransition:
    """One row: from which states an event leads where, who may fire it, what it needs, who is told."""

    event: ReportEvent
    sources: tuple[ReportState, ...]
    dest: ReportState | None  # None: the state stays (saving a draft again)
    roles: tuple[Role, ...]
    requires: tuple[ReportRequirement, ...] = ()
    guards: tuple[ReportGuard, ...] = ()
    notify: tuple[Audience, ...] = ()
    contributors: bool = False  # invited co-partners of the project may fire it too


A, P, R = Role.ARBEITSSTAB, Role.PARTNER, Role.RESSORT
S = ReportState
E = ReportEvent
TO_P, TO_R, TO_A = Audience.PARTNER, Audience.RESSORT, Audience.ARBEITSSTAB

REPORT_TRANSITIONS: tuple[ReportTransition, ...] = (
    ReportTransition(
        E.SAVE_DRAFT, (S.OFFEN,), S.ENTWURF, (P, A), (ReportRequirement.ENTRIES,), contributors=True
    ),
    ReportTransition(
        E.SAVE_DRAFT,
        (S.ENTWURF, S.ZURUECKGEGEBEN),
        None,
        (P, A),
        (ReportRequirement.ENTRIES,),
        contributors=True,
    ),
    ReportTransition(
        E.SUBMIT_REPORT,
        (S.ENTWURF, S.ZURUECKGEGEBEN),
        S.EINGEREICHT,
        (P, A),
        guards=(ReportGuard.SECTIONS_COMPLETE, ReportGuard.RETURNED_SECTIONS_REVISED),
        notify=(TO_P, TO_R),
    ),
    ReportTransition(
        E.RETURN_REPORT,
        (S.EINGEREICHT,),
        S.ZURUECKGEGEBEN,
        (R,),
        (ReportRequirement.COMMENT,),
        notify=(TO_P, TO_A),
    ),
    # After the Ressort's approval the Arbeitsstab may still send it back to the partner.
    ReportTransition(
        E.RETURN_REPORT,
        (S.GEPRUEFT,),
        S.ZURUECKGEGEBEN,
        (A,),
        (ReportRequirement.COMMENT,),
        notify=(TO_P, TO_R),
    ),
    ReportTransition(
        E.APPROVE_REPORT,
        (S.EINGEREICHT,),
        S.GEPRUEFT,
        (R,),  # the role check also refuses while no Ressort is assigned
        notify=(TO_A,),
    ),
    ReportTransition(E.ACCEPT_REPORT, (S.GEPRUEFT,), S.ANGENOMMEN, (A,), notify=(TO_P, TO_R)),
)

FINAL_REPORT_STATES = frozenset({S.ANGENOMMEN})
# Reports the partner still has to write: what the reminders and digests count as owed.
OWED_REPORT_STATES = frozenset({S.OFFEN, S.ENTWURF, S.ZURUECKGEGEBEN})


def report_notified() -> dict[str, tuple[Audience, ...]]:
    """Every report event with all audiences any of its rows tells (the kinds that need templates)."""
    found: dict[str, tuple[Audience, ...]] = {}
    for spec in REPORT_TRANSITIONS:
        known = found.get(spec.event.value, ())
        found[spec.event.value] = known + tuple(a for a in spec.notify if a not in known)
    return {event: audiences for event, audiences in found.items() if audiences}


def report_spec_for(event: ReportEvent, state: ReportState) -> ReportTransition | None:
    """The row for this event from this state, or None if the event is not possible there."""
    for spec in REPORT_TRANSITIONS:
        if spec.event is event and state in spec.sources:
            return spec
    return None


def report_sources_of(event: ReportEvent) -> tuple[ReportState, ...]:
    """All states from which an event is possible."""
    return tuple(s for spec in REPORT_TRANSITIONS if spec.event is event for s in spec.sources)
