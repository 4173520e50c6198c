"""The workflow: decides whether an event or action is allowed and where it leads, or says why not.

Longer than 400 lines on purpose: every decision of the core and the wording of its refusals, in
the order the table's checks run, is read by reviewers in one place.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from partnerprojekte.errors import TransitionRefused
from partnerprojekte.model import (
    CRITERION_LABELS,
    FINAL_STATES,
    Action,
    CheckResult,
    Criterion,
    Event,
    ReasonCode,
    Role,
    State,
    Verdict,
    Visibility,
    event_label,
)
from partnerprojekte.states import machine, table
from partnerprojekte.states.table import Guard, Requirement, TransitionSpec, sources_of, spec_for

SAEULE_1_ID = re.compile(r"^\d{2}-\d{2}[a-z]?$")


def same_organisation(a: str | None, b: str | None) -> bool:
    """Organisation names are equal ignoring case and runs of blanks."""
    if a is None or b is None:
        return False
    return " ".join(a.casefold().split()) == " ".join(b.casefold().split())


@dataclass(frozen=True)
class Actor:
    """The person acting, with their role and affiliation."""

    user_id: int
    email: str
    name: str
    role: Role
    ressort: str | None = None
    organisation: str | None = None


@dataclass(frozen=True)
class ProposalFacts:
    """What the workflow needs to know about a proposal (state ``None`` before submission)."""

    state: State | None
    organisation: str
    responsible_ressort: str | None = None
    check: CheckResult | None = None
    confirmed: frozenset[Criterion] = frozenset()


@dataclass(frozen=True)
class EventInput:
    """Input given with an event."""

    comment: str | None = None
    visibility: Visibility | None = None
    reasons: tuple[ReasonCode, ...] = ()
    saeule_1_projekt: str | None = None
    has_proposal: bool = False


@dataclass(frozen=True)
class GivenApproval:
    """A pending approval of an approval-gated event."""

    user_id: int
    name: str
    role: Role


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


def _refuse(
    message: str,
    event: str,
    state: State | None,
    reason: str,
    *,
    criterion: Criterion | None = None,
    role: Role | None = None,
    field: str | None = None,
    rule: Guard | None = None,
) -> TransitionRefused:
    return TransitionRefused(
        message,
        event=event,
        state=state.value if state else None,
        reason=reason,
        criterion=criterion.value if criterion else None,
        role=role.value if role else None,
        field=field,
        rule=rule.value if rule else None,
    )


def _state_text(state: State | None) -> str:
    return f"„{state.label}“" if state else "„noch nicht eingereicht“"


def _roles_text(roles: Sequence[Role]) -> str:
    return " oder ".join(r.label for r in roles)


def check_role(facts: ProposalFacts, actor: Actor, roles: Sequence[Role], what: str, code: str) -> None:
    """Refuse unless the actor has one of the roles and the affiliation the role needs."""
    state = facts.state
    if actor.role is Role.ADMIN:
        raise _refuse(
            f"{what}: Die Administration trifft keine Entscheidungen im Verfahren "
            f"(erlaubt für: {_roles_text(roles)}).",
            code,
            state,
            "role",
            role=actor.role,
        )
    if actor.role not in roles:
        raise _refuse(
            f"{what} ist nur für {_roles_text(roles)} erlaubt; {actor.email} ist {actor.role.label}.",
            code,
            state,
            "role",
            role=actor.role,
        )
    if actor.role is Role.PARTNER and not same_organisation(actor.organisation, facts.organisation):
        raise _refuse(
            f"{what}: Der Vorschlag gehört zu „{facts.organisation}“, "
            f"{actor.email} gehört zu „{actor.organisation or 'keiner Organisation'}“.",
            code,
            state,
            "role",
            role=actor.role,
        )
    if actor.role is Role.RESSORT:
        if facts.responsible_ressort is None:
            raise _refuse(
                f"{what}: Dem Vorschlag ist noch kein zuständiges Ressort zugeordnet.",
                code,
                state,
                "role",
                role=actor.role,
            )
        if actor.ressort != facts.responsible_ressort:
            raise _refuse(
                f"{what} ist nur für das zuständige Ressort {facts.responsible_ressort} erlaubt; "
                f"{actor.email} gehört zu {actor.ressort}.",
                code,
                state,
                "role",
                role=actor.role,
            )


def _check_input(spec: TransitionSpec, inp: EventInput, state: State | None) -> None:
    what = event_label(spec.event)
    code = spec.event.value
    for req in spec.requires:
        if req is Requirement.PROPOSAL and not inp.has_proposal:
            raise _refuse(f"{what} braucht einen gültigen Vorschlag.", code, state, "input")
        if req in (Requirement.COMMENT, Requirement.PARTNER_COMMENT) and not (
            inp.comment and inp.comment.strip()
        ):
            raise _refuse(f"{what} braucht einen Kommentar.", code, state, "input", field="comment")
        if req is Requirement.PARTNER_COMMENT and inp.visibility is Visibility.INTERN:
            raise _refuse(
                f"{what} braucht einen Kommentar für den Partner.", code, state, "input", field="visibility"
            )
        if req is Requirement.REASONS and not inp.reasons:
            codes = ", ".join(r.value for r in ReasonCode)
            message = f"{what} braucht mindestens einen Grund: {codes}."
            raise _refuse(message, code, state, "input", field="reasons")
        if req is Requirement.SAEULE_1_PROJEKT:
            pid = (inp.saeule_1_projekt or "").strip()
            if not pid:
                raise _refuse(
                    f"{what} braucht die ID des Säule-1-Projekts (z. B. 13-06).",
                    code,
                    state,
                    "input",
                    field="saeule_1_projekt",
                )
            if not SAEULE_1_ID.match(pid):
                raise _refuse(
                    f"{what}: „{pid}“ ist keine gültige Säule-1-Projekt-ID "
                    "(Form NN-NN mit optionalem Kleinbuchstaben, z. B. 13-06 oder 05-02a).",
                    code,
                    state,
                    "input",
                    field="saeule_1_projekt",
                )


def _check_guards(spec: TransitionSpec, facts: ProposalFacts) -> None:
    what = event_label(spec.event)
    code = spec.event.value
    state = facts.state
    for guard in spec.guards:
        if guard is Guard.RESSORT_ASSIGNED and facts.responsible_ressort is None:
            raise _refuse(
                f"{what} ist nicht möglich: Es ist noch kein zuständiges Ressort zugeordnet.",
                code,
                state,
                "guard",
                rule=guard,
            )
        if guard in (Guard.NO_CRITERION_NOT_MET, Guard.ALL_CRITERIA_MET_OR_CONFIRMED):
            if facts.check is None:  # pragma: no cover - every stored proposal has a check
                raise _refuse(f"{what}: Keine Kriterienprüfung vorhanden.", code, state, "guard")
            for criterion, result in facts.check.criteria.items():
                label = CRITERION_LABELS[criterion]
                if result.result is Verdict.NOT_MET:
                    raise _refuse(
                        f"{what} ist nicht möglich: Kriterium „{label}“ ist nicht erfüllt – "
                        f"{result.explanation}",
                        code,
                        state,
                        "guard",
                        criterion=criterion,
                        rule=Guard.NO_CRITERION_NOT_MET,  # under either guard, this is what failed
                    )
                if (
                    guard is Guard.ALL_CRITERIA_MET_OR_CONFIRMED
                    and result.result is Verdict.NEEDS_REVIEW
                    and criterion not in facts.confirmed
                ):
                    raise _refuse(
                        f"{what} ist nicht möglich: Kriterium „{label}“ ist zu prüfen und noch "
                        f"nicht vom Ressort bestätigt – {result.explanation}",
                        code,
                        state,
                        "guard",
                        criterion=criterion,
                        rule=guard,
                    )


def decide(
    facts: ProposalFacts,
    event: Event,
    actor: Actor,
    inp: EventInput,
    policy: ApprovalPolicy,
    approvals: Sequence[GivenApproval] = (),
) -> Decision:
    """Decide an event: return what happens, or raise ``TransitionRefused`` saying exactly why not."""
    state = facts.state
    what = event_label(event)
    spec = spec_for(event, state)
    if spec is None:
        possible = ", ".join(f"„{s.label}“" for s in sources_of(event)) or "—"
        if event is Event.SUBMIT:
            msg = f"{what}: Der Vorschlag ist bereits eingereicht (Status {_state_text(state)})."
        elif state in FINAL_STATES:
            msg = f"{what} ist im Status {_state_text(state)} nicht möglich: der Status ist endgültig."
        else:
            msg = f"{what} ist im Status {_state_text(state)} nicht möglich; möglich im Status {possible}."
        raise _refuse(msg, event.value, state, "state")
    required = policy.required_roles(event, state)
    check_role(facts, actor, required or spec.roles, what, event.value)
    _check_input(spec, inp, state)
    if not required:
        _check_guards(spec, facts)
        return Decision(event, state, machine.fire(state, event), fires=True)
    # Approval-gated: every required role by a different person, in any order.
    for given in approvals:
        if given.user_id == actor.user_id:
            raise _refuse(
                f"{what}: {actor.email} hat bereits zugestimmt; es fehlt die Zustimmung von "
                f"{_roles_text(_missing(required, approvals))}.",
                event.value,
                state,
                "approval",
                role=actor.role,
            )
        if given.role is actor.role:
            raise _refuse(
                f"{what}: Die Zustimmung für {actor.role.label} liegt bereits vor "
                f"(von {given.name}); es fehlt die Zustimmung von "
                f"{_roles_text(_missing(required, approvals))}.",
                event.value,
                state,
                "approval",
                role=actor.role,
            )
    missing = _missing(required, [*approvals, GivenApproval(actor.user_id, actor.name, actor.role)])
    target = spec.dest or state
    assert target is not None
    if missing:
        return Decision(event, state, target, fires=False, missing_roles=missing, approval_gated=True)
    _check_guards(spec, facts)
    return Decision(event, state, machine.fire(state, event), fires=True, approval_gated=True)


def _missing(required: Sequence[Role], approvals: Sequence[GivenApproval]) -> tuple[Role, ...]:
    given = {a.role for a in approvals}
    return tuple(r for r in required if r not in given)


ACTIVE_STATES = table.ACTIVE_STATES


def authorize_assign_ressort(facts: ProposalFacts, actor: Actor) -> None:
    """Only the Arbeitsstab assigns the responsible Ressort, and not after a final decision."""
    what = "Ressort zuordnen (assign_ressort)"
    check_role(facts, actor, action_roles(Action.ASSIGN_RESSORT), what, "assign_ressort")
    if facts.state not in table.action_spec(Action.ASSIGN_RESSORT).states:
        raise _refuse(
            f"{what} ist im Status {_state_text(facts.state)} nicht möglich: der Status ist endgültig.",
            "assign_ressort",
            facts.state,
            "state",
        )


def authorize_confirm(facts: ProposalFacts, actor: Actor, criterion: Criterion, comment: str | None) -> None:
    """A reviewer of the responsible Ressort confirms a ``needs_review`` criterion with a justification."""
    what = f"Kriterium „{CRITERION_LABELS[criterion]}“ bestätigen (confirm_criterion)"
    code = "confirm_criterion"
    check_role(facts, actor, action_roles(Action.CONFIRM_CRITERION), what, code)
    if facts.state not in table.action_spec(Action.CONFIRM_CRITERION).states:
        raise _refuse(
            f"{what} ist im Status {_state_text(facts.state)} nicht möglich.",
            code,
            facts.state,
            "state",
        )
    if not (comment and comment.strip()):
        raise _refuse(
            f"{what} braucht eine schriftliche Begründung.", code, facts.state, "input", field="comment"
        )
    assert facts.check is not None
    result = facts.check.criteria[criterion].result
    if result is not Verdict.NEEDS_REVIEW:
        raise _refuse(
            f"{what}: Nur Kriterien mit dem Ergebnis „zu prüfen“ können bestätigt werden; "
            f"dieses ist „{result.label}“.",
            code,
            facts.state,
            "guard",
            criterion=criterion,
        )
    if criterion in facts.confirmed:
        raise _refuse(
            f"{what}: Das Kriterium ist für diese Fassung bereits bestätigt.",
            code,
            facts.state,
            "guard",
            criterion=criterion,
        )


def authorize_comment(facts: ProposalFacts, actor: Actor, visibility: Visibility) -> Visibility:
    """Who may comment; returns the effective visibility (a partner's comment is always for the partner)."""
    check_role(facts, actor, action_roles(Action.COMMENT), "Kommentieren", "comment")
    return Visibility.PARTNER if actor.role is Role.PARTNER else visibility


def default_visibility(event: Event | None, actor: Actor) -> Visibility:
    """Visibility of a comment when none is given: partner-facing where the partner must read it."""
    if actor.role is Role.PARTNER or event in (Event.REQUEST_CHANGES, Event.DECLINE):
        return Visibility.PARTNER
    return Visibility.INTERN
