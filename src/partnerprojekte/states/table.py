"""Who may do what and who is told, as data: one row per event and set of source states, one per action.

The machine, the diagram, the workflow's decisions, the API's gates, the pages' buttons and the outbox's
recipients all read these two tables (and the approval policy of the configuration); giving a role an event
or an action, or telling another group about it, is one edit here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from partnerprojekte.model import FINAL_STATES, Action, Audience, Event, Role, State


class Requirement(StrEnum):
    """Input an event needs besides the actor."""

    PROPOSAL = "proposal"
    COMMENT = "comment"
    PARTNER_COMMENT = "partner_comment"
    REASONS = "reasons"
    SAEULE_1_PROJEKT = "saeule_1_projekt"


class Guard(StrEnum):
    """Conditions on the proposal that must hold when the event fires."""

    RESSORT_ASSIGNED = "ressort_assigned"
    NO_CRITERION_NOT_MET = "no_criterion_not_met"
    ALL_CRITERIA_MET_OR_CONFIRMED = "all_criteria_met_or_confirmed"


@dataclass(frozen=True)
class TransitionSpec:
    """One row of the table: from which states an event leads where, who may fire it, and what it needs."""

    event: Event
    sources: tuple[State, ...]
    dest: State | None  # None: the state stays (revise)
    roles: tuple[Role, ...]
    requires: tuple[Requirement, ...] = ()
    guards: tuple[Guard, ...] = ()
    notify: tuple[Audience, ...] = ()  # who is told when it fires (every row of an event alike)


A, P, R = Role.ARBEITSSTAB, Role.PARTNER, Role.RESSORT
S = State
# The groups told, in the order their mails are written.
TO_P, TO_R, TO_A = Audience.PARTNER, Audience.RESSORT, Audience.ARBEITSSTAB

TRANSITIONS: tuple[TransitionSpec, ...] = (
    TransitionSpec(Event.SUBMIT, (), S.EINGEREICHT, (P, A), (Requirement.PROPOSAL,), notify=(TO_P, TO_A)),
    TransitionSpec(Event.REVISE, (S.EINGEREICHT, S.IN_BEARBEITUNG), None, (P, A), (Requirement.PROPOSAL,)),
    TransitionSpec(Event.TAKE_UP, (S.EINGEREICHT,), S.IN_BEARBEITUNG, (A,), notify=(TO_P,)),
    TransitionSpec(
        Event.START_COORDINATION,
        (S.IN_BEARBEITUNG,),
        S.IN_ABSTIMMUNG,
        (A,),
        guards=(Guard.RESSORT_ASSIGNED, Guard.NO_CRITERION_NOT_MET),
        notify=(TO_P, TO_R),
    ),
    TransitionSpec(
        Event.REQUEST_CHANGES,
        (S.IN_ABSTIMMUNG,),
        S.IN_BEARBEITUNG,
        (A, R),
        (Requirement.PARTNER_COMMENT,),
        notify=(TO_P, TO_A),
    ),
    TransitionSpec(
        Event.RECOGNISE,
        (S.IN_ABSTIMMUNG,),
        S.ANERKANNT,
        (R, A),
        guards=(Guard.ALL_CRITERIA_MET_OR_CONFIRMED,),
        notify=(TO_P, TO_R, TO_A),
    ),
    TransitionSpec(
        Event.DECLINE,
        (S.EINGEREICHT, S.IN_BEARBEITUNG),
        S.NICHT_WEITERVERFOLGT,
        (A,),
        (Requirement.REASONS, Requirement.COMMENT),
        notify=(TO_P, TO_R, TO_A),
    ),
    TransitionSpec(
        Event.DECLINE,
        (S.IN_ABSTIMMUNG,),
        S.NICHT_WEITERVERFOLGT,
        (R, A),
        (Requirement.REASONS, Requirement.COMMENT),
        notify=(TO_P, TO_R, TO_A),
    ),
    TransitionSpec(
        Event.INTEGRATE_INTO_PILLAR_1,
        (S.IN_BEARBEITUNG, S.IN_ABSTIMMUNG),
        S.IN_SAEULE_1_INTEGRIERT,
        (A,),
        (Requirement.SAEULE_1_PROJEKT, Requirement.COMMENT),
        notify=(TO_P, TO_R, TO_A),
    ),
    TransitionSpec(
        Event.REOPEN,
        (S.NICHT_WEITERVERFOLGT,),
        S.IN_BEARBEITUNG,
        (A,),
        (Requirement.COMMENT,),
        notify=(TO_P,),
    ),
    TransitionSpec(
        Event.WITHDRAW,
        (S.EINGEREICHT, S.IN_BEARBEITUNG, S.IN_ABSTIMMUNG),
        S.ZURUECKGEZOGEN,
        (P, A),
        notify=(TO_R, TO_A),
    ),
)

# The pseudo-state a proposal is in before it is submitted (never stored).
NEW = "neu"

ACTIVE_STATES = frozenset({S.EINGEREICHT, S.IN_BEARBEITUNG, S.IN_ABSTIMMUNG})


@dataclass(frozen=True)
class ActionSpec:
    """An audited action that leaves the state as it is: in which states, and who may do it."""

    action: Action
    states: frozenset[State]
    roles: tuple[Role, ...]
    notify: tuple[Audience, ...] = ()


ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec(Action.ASSIGN_RESSORT, frozenset(State) - FINAL_STATES, (A,), notify=(TO_R,)),
    ActionSpec(Action.CONFIRM_CRITERION, ACTIVE_STATES, (R,)),
    ActionSpec(Action.COMMENT, frozenset(State), (P, R, A)),
)
# Approving and withdrawing an approval are not in this table: who approves what is configuration
# (``ApprovalPolicy``, settings ``approvals``).


def action_spec(action: Action) -> ActionSpec:
    """The row of an action (KeyError for approve/withdraw_approval: those follow the approval policy)."""
    for spec in ACTIONS:
        if spec.action is action:
            return spec
    raise KeyError(action)


def event_roles(event: Event) -> tuple[Role, ...]:
    """Every role the table lets fire the event in some state (in the order of ``Role``)."""
    roles = {r for spec in TRANSITIONS if spec.event is event for r in spec.roles}
    return tuple(r for r in Role if r in roles)


def spec_for(event: Event, state: State | None) -> TransitionSpec | None:
    """The row for this event from this state, or None if the event is not possible there."""
    for spec in TRANSITIONS:
        if spec.event is not event:
            continue
        if state is None and not spec.sources:
            return spec
        if state is not None and state in spec.sources:
            return spec
    return None


def sources_of(event: Event) -> tuple[State, ...]:
    """All states from which an event is possible."""
    return tuple(s for spec in TRANSITIONS if spec.event is event for s in spec.sources)


def notified(name: str) -> tuple[Audience, ...]:
    """Who is told when this event fires or this action is done (none for revise, comment, confirm)."""
    for spec in TRANSITIONS:
        if spec.event.value == name:
            return spec.notify
    for action in ACTIONS:
        if action.action.value == name:
            return action.notify
    return ()
