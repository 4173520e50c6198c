"""The checks of one event, each saying exactly why not: role, input, approvals, guards.

The machine runs them (``prepare`` and ``conditions`` of its transitions); the actions use the role check.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from enum import StrEnum

from partnerprojekte.errors import Named, TransitionRefused
from partnerprojekte.model import (
    CRITERION_LABELS,
    EVENT_LABELS,
    Criterion,
    Event,
    ReasonCode,
    Role,
    State,
    Verdict,
    Visibility,
)
from partnerprojekte.states.facts import (
    Actor,
    EventInput,
    GivenApproval,
    Held,
    Request,
    same_organisation,
)
from partnerprojekte.states.table import Guard, Requirement, TransitionSpec

SAEULE_1_ID = re.compile(r"^\d{2}-\d{2}[a-z]?$")


def refuse(
    message: str,
    event: str,
    state: StrEnum | None,
    reason: str,
    *,
    criterion: Criterion | None = None,
    role: Role | None = None,
    field: str | None = None,
    rule: StrEnum | None = None,
    subject: Named | None = None,
) -> TransitionRefused:
    """The refusal, its reason and what it concerns as data for the edges to word."""
    return TransitionRefused(
        message,
        event=event,
        state=state.value if state else None,
        reason=reason,
        criterion=criterion.value if criterion else None,
        role=role.value if role else None,
        field=field,
        rule=rule.value if rule else None,
        subject=subject,
    )


def event_named(event: Event) -> Named:
    """An event as the subject of a message: „Aufgreifen“ with its code ``take_up``."""
    return Named(f"„{EVENT_LABELS[event]}“", event.value)


def state_text(state: State | None) -> str:
    """A state as a reader names it."""
    return f"„{state.label}“" if state else "„noch nicht eingereicht“"


def roles_text(roles: Sequence[Role]) -> str:
    """Roles as a reader names them, joined by „oder“."""
    return " oder ".join(r.label for r in roles)


def check_role(facts: Held, actor: Actor, roles: Sequence[Role], what: Named, code: str) -> None:
    """Refuse unless the actor has one of the roles and the affiliation the role needs."""
    state = facts.state
    if actor.role is Role.ADMIN:
        raise refuse(
            f"{what}: Die Administration trifft keine Entscheidungen im Verfahren "
            f"(erlaubt für: {roles_text(roles)}).",
            code,
            state,
            "role",
            role=actor.role,
            subject=what,
        )
    if actor.role not in roles:
        raise refuse(
            f"{what} ist nur für {roles_text(roles)} erlaubt; {actor.email} ist {actor.role.label}.",
            code,
            state,
            "role",
            role=actor.role,
            subject=what,
        )
    if actor.role is Role.PARTNER and not same_organisation(actor.organisation, facts.organisation):
        raise refuse(
            f"{what}: Der Vorschlag gehört zu „{facts.organisation}“, "
            f"{actor.email} gehört zu „{actor.organisation or 'keiner Organisation'}“.",
            code,
            state,
            "role",
            role=actor.role,
            subject=what,
        )
    if actor.role is Role.RESSORT:
        if facts.responsible_ressort is None:
            raise refuse(
                f"{what}: Dem Vorschlag ist noch kein zuständiges Ressort zugeordnet.",
                code,
                state,
                "role",
                role=actor.role,
                subject=what,
            )
        if actor.ressort != facts.responsible_ressort:
            raise refuse(
                f"{what} ist nur für das zuständige Ressort {facts.responsible_ressort} erlaubt; "
                f"{actor.email} gehört zu {actor.ressort}.",
                code,
                state,
                "role",
                role=actor.role,
                subject=what,
            )


def check_input(spec: TransitionSpec, inp: EventInput, state: State | None) -> None:
    """Refuse unless the input the event requires is given."""
    what = event_named(spec.event)
    code = spec.event.value
    for req in spec.requires:
        if req is Requirement.PROPOSAL and not inp.has_proposal:
            raise refuse(f"{what} braucht einen gültigen Vorschlag.", code, state, "input", subject=what)
        if req in (Requirement.COMMENT, Requirement.PARTNER_COMMENT) and not (
            inp.comment and inp.comment.strip()
        ):
            message = f"{what} braucht einen Kommentar."
            raise refuse(message, code, state, "input", field="comment", subject=what)
        if req is Requirement.PARTNER_COMMENT and inp.visibility is Visibility.INTERN:
            raise refuse(
                f"{what} braucht einen Kommentar für den Partner.",
                code,
                state,
                "input",
                field="visibility",
                subject=what,
            )
        if req is Requirement.REASONS and not inp.reasons:
            codes = ", ".join(r.value for r in ReasonCode)
            message = f"{what} braucht mindestens einen Grund: {codes}."
            raise refuse(message, code, state, "input", field="reasons", subject=what)
        if req is Requirement.SAEULE_1_PROJEKT:
            pid = (inp.saeule_1_projekt or "").strip()
            if not pid:
                raise refuse(
                    f"{what} braucht die ID des Säule-1-Projekts (z. B. 13-06).",
                    code,
                    state,
                    "input",
                    field="saeule_1_projekt",
                    subject=what,
                )
            if not SAEULE_1_ID.match(pid):
                raise refuse(
                    f"{what}: „{pid}“ ist keine gültige Säule-1-Projekt-ID "
                    "(Form NN-NN mit optionalem Kleinbuchstaben, z. B. 13-06 oder 05-02a).",
                    code,
                    state,
                    "input",
                    field="saeule_1_projekt",
                    subject=what,
                )


def check_guard(spec: TransitionSpec, guard: Guard, request: Request) -> bool:
    """A condition of the machine: holds, or raises the refusal that says why not."""
    facts = request.facts
    what = event_named(spec.event)
    code = spec.event.value
    state = facts.state
    if guard is Guard.RESSORT_ASSIGNED and facts.responsible_ressort is None:
        raise refuse(
            f"{what} ist nicht möglich: Es ist noch kein zuständiges Ressort zugeordnet.",
            code,
            state,
            "guard",
            rule=guard,
            subject=what,
        )
    if guard in (Guard.NO_CRITERION_NOT_MET, Guard.ALL_CRITERIA_MET_OR_CONFIRMED):
        if facts.check is None:  # pragma: no cover - every stored proposal has a check
            raise refuse(f"{what}: Keine Kriterienprüfung vorhanden.", code, state, "guard", subject=what)
        for criterion, result in facts.check.criteria.items():
            label = CRITERION_LABELS[criterion]
            if result.result is Verdict.NOT_MET:
                raise refuse(
                    f"{what} ist nicht möglich: Kriterium „{label}“ ist nicht erfüllt – {result.explanation}",
                    code,
                    state,
                    "guard",
                    criterion=criterion,
                    rule=Guard.NO_CRITERION_NOT_MET,  # under either guard, this is what failed
                    subject=what,
                )
            if (
                guard is Guard.ALL_CRITERIA_MET_OR_CONFIRMED
                and result.result is Verdict.NEEDS_REVIEW
                and criterion not in facts.confirmed
            ):
                raise refuse(
                    f"{what} ist nicht möglich: Kriterium „{label}“ ist zu prüfen und noch "
                    f"nicht vom Ressort bestätigt – {result.explanation}",
                    code,
                    state,
                    "guard",
                    criterion=criterion,
                    rule=guard,
                    subject=what,
                )
    return True


def check_request(spec: TransitionSpec, request: Request) -> None:
    """The machine's ``prepare`` callback: role and affiliation, input, and no approval given twice."""
    facts, actor = request.facts, request.actor
    state = facts.state
    what = event_named(spec.event)
    check_role(facts, actor, request.roles, what, spec.event.value)
    check_input(spec, request.inp, state)
    for given in request.approvals:
        if given.user_id == actor.user_id:
            raise refuse(
                f"{what}: {actor.email} hat bereits zugestimmt; es fehlt die Zustimmung von "
                f"{roles_text(missing(request.required, request.approvals))}.",
                spec.event.value,
                state,
                "approval",
                role=actor.role,
                subject=what,
            )
        if given.role is actor.role:
            raise refuse(
                f"{what}: Die Zustimmung für {actor.role.label} liegt bereits vor "
                f"(von {given.name}); es fehlt die Zustimmung von "
                f"{roles_text(missing(request.required, request.approvals))}.",
                spec.event.value,
                state,
                "approval",
                role=actor.role,
                subject=what,
            )


def missing(required: Sequence[Role], approvals: Sequence[GivenApproval]) -> tuple[Role, ...]:
    """The required roles no approval is given for yet."""
    given = {a.role for a in approvals}
    return tuple(r for r in required if r not in given)


def still_owed(request: Request) -> tuple[Role, ...]:
    """The approvals still owed once the actor's own is counted (() when the event is not gated)."""
    actor = request.actor
    return missing(
        request.required, [*request.approvals, GivenApproval(actor.user_id, actor.name, actor.role)]
    )


def approvals_complete(request: Request) -> bool:
    """The machine's first condition: false (quietly) while approvals are still owed; then no guard runs."""
    return not still_owed(request)
