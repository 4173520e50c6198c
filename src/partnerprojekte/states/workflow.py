"""The workflow: decides whether an event or action is allowed and where it leads, or says why not.

The checks themselves are in ``states/checks.py``; the machine (``states/machine.py``) runs them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from partnerprojekte.errors import Named, TransitionRefused
from partnerprojekte.model import (
    CRITERION_LABELS,
    FINAL_STATES,
    Action,
    Criterion,
    Event,
    Role,
    State,
    Verdict,
    Visibility,
)
from partnerprojekte.states import machine, table
from partnerprojekte.states.checks import check_role, event_named, refuse, state_text, still_owed
from partnerprojekte.states.facts import (
    Actor,
    EventInput,
    GivenApproval,
    ProposalFacts,
    Request,
    same_organisation,
)
from partnerprojekte.states.table import sources_of, spec_for

# The facts are part of the workflow's language: callers import them from here.
__all__ = [
    "Actor",
    "Allowed",
    "ApprovalPolicy",
    "Decision",
    "EventInput",
    "GivenApproval",
    "ProposalFacts",
    "action_roles",
    "allowed_actions",
    "authorize_assign_ressort",
    "authorize_comment",
    "authorize_confirm",
    "comment_visibilities",
    "decide",
    "default_visibility",
    "event_roles",
    "roles_for",
    "same_organisation",
]


@dataclass(frozen=True)
class ApprovalPolicy:
    """Which events need approvals, from which state, by which roles (configuration)."""

    rules: Mapping[str, Mapping[str, Sequence[str]]] = field(default_factory=dict)

    def required_roles(self, event: Event, state: State | None) -> tuple[Role, ...]:
        """The roles whose approval is required, or () if the event is not approval-gated there."""
        if state is None:
            return ()
        roles = self.rules.get(event.value, {}).get(state.value, ())
        return tuple(Role(r) for r in roles)

    def approving_roles(self, event: Event | None = None) -> tuple[Role, ...]:
        """Every role that approves the event (or any event) in some state, in the order of ``Role``."""
        found = {
            Role(r)
            for name, by_state in self.rules.items()
            if event is None or name == event.value
            for roles in by_state.values()
            for r in roles
        }
        return tuple(r for r in Role if r in found)


def event_roles(event: Event, policy: ApprovalPolicy) -> tuple[Role, ...]:
    """Every role that may fire the event, or approve it, in some state: who may try it at all."""
    found = set(table.event_roles(event)) | set(policy.approving_roles(event))
    return tuple(r for r in Role if r in found)


def action_roles(action: Action) -> tuple[Role, ...]:
    """Who may do an action (assign_ressort, confirm_criterion, comment), from the action table."""
    return table.action_spec(action).roles


def roles_for(what: Event | Action, policy: ApprovalPolicy) -> tuple[Role, ...]:
    """Who may try an event or an action at all – the one answer for the API's gates and the pages'
    buttons; the decision itself (state, affiliation, input, guards) follows when it is tried."""
    if isinstance(what, Event):
        return event_roles(what, policy)
    if what in (Action.APPROVE, Action.WITHDRAW_APPROVAL):
        return policy.approving_roles()
    return action_roles(what)


@dataclass(frozen=True)
class Decision:
    """The outcome of an allowed event: it fires, or an approval is recorded and others are still owed."""

    event: Event
    from_state: State | None
    to_state: State
    fires: bool
    missing_roles: tuple[Role, ...] = ()
    approval_gated: bool = False


def decide(
    facts: ProposalFacts,
    event: Event,
    actor: Actor,
    inp: EventInput,
    policy: ApprovalPolicy,
    approvals: Sequence[GivenApproval] = (),
) -> Decision:
    """Decide an event: return what happens, or raise ``TransitionRefused`` saying exactly why not.

    The state check words the refusal for an event the state does not allow; everything else (role,
    input, approvals, guards) is decided by the machine's callbacks when the event is fired.
    """
    state = facts.state
    what = event_named(event)
    spec = spec_for(event, state)
    if spec is None:
        possible = ", ".join(f"„{s.label}“" for s in sources_of(event)) or "—"
        if event is Event.SUBMIT:
            msg = f"{what}: Der Vorschlag ist bereits eingereicht (Status {state_text(state)})."
        elif state in FINAL_STATES:
            msg = f"{what} ist im Status {state_text(state)} nicht möglich: der Status ist endgültig."
        else:
            msg = f"{what} ist im Status {state_text(state)} nicht möglich; möglich im Status {possible}."
        raise refuse(msg, event.value, state, "state", subject=what)
    required = policy.required_roles(event, state)
    request = Request(facts, actor, inp, required or spec.roles, required, tuple(approvals))
    reached = machine.trigger(state, event, request)
    if reached is not None:
        return Decision(event, state, reached, fires=True, approval_gated=bool(required))
    # Approval-gated and still owed: every required role by a different person, in any order.
    target = spec.dest or state
    assert target is not None
    return Decision(event, state, target, fires=False, missing_roles=still_owed(request), approval_gated=True)


def authorize_assign_ressort(facts: ProposalFacts, actor: Actor) -> None:
    """Only the Arbeitsstab assigns the responsible Ressort, and not after a final decision."""
    what = Named("Ressort zuordnen", "assign_ressort")
    check_role(facts, actor, action_roles(Action.ASSIGN_RESSORT), what, "assign_ressort")
    if facts.state not in table.action_spec(Action.ASSIGN_RESSORT).states:
        raise refuse(
            f"{what} ist im Status {state_text(facts.state)} nicht möglich: der Status ist endgültig.",
            "assign_ressort",
            facts.state,
            "state",
            subject=what,
        )


def authorize_confirm(facts: ProposalFacts, actor: Actor, criterion: Criterion, comment: str | None) -> None:
    """A reviewer of the responsible Ressort confirms a ``needs_review`` criterion with a justification."""
    what = Named(f"Kriterium „{CRITERION_LABELS[criterion]}“ bestätigen", "confirm_criterion")
    code = "confirm_criterion"
    check_role(facts, actor, action_roles(Action.CONFIRM_CRITERION), what, code)
    if facts.state not in table.action_spec(Action.CONFIRM_CRITERION).states:
        raise refuse(
            f"{what} ist im Status {state_text(facts.state)} nicht möglich.",
            code,
            facts.state,
            "state",
            subject=what,
        )
    if not (comment and comment.strip()):
        raise refuse(
            f"{what} braucht eine schriftliche Begründung.",
            code,
            facts.state,
            "input",
            field="comment",
            subject=what,
        )
    assert facts.check is not None
    result = facts.check.criteria[criterion].result
    if result is not Verdict.NEEDS_REVIEW:
        raise refuse(
            f"{what}: Nur Kriterien mit dem Ergebnis „zu prüfen“ können bestätigt werden; "
            f"dieses ist „{result.label}“.",
            code,
            facts.state,
            "guard",
            criterion=criterion,
            subject=what,
        )
    if criterion in facts.confirmed:
        raise refuse(
            f"{what}: Das Kriterium ist für diese Fassung bereits bestätigt.",
            code,
            facts.state,
            "guard",
            criterion=criterion,
            subject=what,
        )


def comment_visibilities(actor: Actor) -> tuple[Visibility, ...]:
    """The visibilities a person may give a comment: a partner writes only for the partner."""
    return (Visibility.PARTNER,) if actor.role is Role.PARTNER else (Visibility.INTERN, Visibility.PARTNER)


def authorize_comment(facts: ProposalFacts, actor: Actor, visibility: Visibility) -> Visibility:
    """Who may comment; returns the effective visibility (a partner's comment is always for the partner)."""
    check_role(facts, actor, action_roles(Action.COMMENT), Named("Kommentieren"), "comment")
    return visibility if visibility in comment_visibilities(actor) else Visibility.PARTNER


def default_visibility(event: Event | None, actor: Actor) -> Visibility:
    """Visibility of a comment when none is given: partner-facing where the partner must read it."""
    if actor.role is Role.PARTNER or event in (Event.REQUEST_CHANGES, Event.DECLINE):
        return Visibility.PARTNER
    return Visibility.INTERN


@dataclass(frozen=True)
class Allowed:
    """What a person may try on a proposal now: by role, affiliation and state (inputs and guards follow)."""

    events: tuple[Event, ...]
    actions: frozenset[Action]


def allowed_actions(facts: ProposalFacts, actor: Actor, policy: ApprovalPolicy) -> Allowed:
    """The events and actions of the table this person may try in the proposal's state – the buttons
    a page offers; every request is still decided by ``decide`` or the action's own check."""

    def may(roles: Sequence[Role]) -> bool:
        try:
            check_role(facts, actor, roles, Named(""), "")
        except TransitionRefused:
            return False
        return True

    events = tuple(
        event
        for event in Event
        if event is not Event.SUBMIT
        and (spec := spec_for(event, facts.state)) is not None
        and may(policy.required_roles(event, facts.state) or spec.roles)
    )
    actions = frozenset(
        spec.action for spec in table.ACTIONS if facts.state in spec.states and may(spec.roles)
    )
    return Allowed(events, actions)
