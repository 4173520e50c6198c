"""The decisions on a progress report: the second machine, built from ``report_table`` like the first.

Each row's ``prepare`` checks role, affiliation and input; its conditions are the row's guards, each raising
the refusal that says why not. No IO: the report's facts come in, a decision or a refusal goes out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache, partial

from transitions import Machine

from partnerprojekte.errors import Named, TransitionRefused
from partnerprojekte.model import Role
from partnerprojekte.portrait import OPTIONAL_SECTIONS, Section, SectionEntry
from partnerprojekte.states import engine
from partnerprojekte.states.checks import check_role, refuse
from partnerprojekte.states.facts import Actor, Held
from partnerprojekte.states.report_table import (
    FINAL_REPORT_STATES,
    REPORT_ACTION_ROLES,
    REPORT_TRANSITIONS,
    ReportAction,
    ReportEvent,
    ReportGuard,
    ReportRequirement,
    ReportState,
    ReportTransition,
    report_sources_of,
    report_spec_for,
)


@dataclass(frozen=True)
class ReportFacts:
    """What the decisions need to know about one progress report."""

    state: ReportState
    organisation: str  # the project's lead partner
    responsible_ressort: str | None
    entries: Mapping[Section, SectionEntry] = field(default_factory=dict)  # the current draft
    returned: frozenset[Section] = frozenset()  # sections the reviewer sent back
    revised: frozenset[Section] = frozenset()  # of those, the ones edited since they were returned
    contributors: frozenset[int] = frozenset()  # user ids of invited co-partners


@dataclass(frozen=True)
class ReportInput:
    """Input given with a report event."""

    comment: str | None = None
    has_entries: bool = False  # the draft to save has at least one section


@dataclass(frozen=True)
class ReportRequest:
    """One attempt of a report event, as the machine's callbacks receive it."""

    facts: ReportFacts
    actor: Actor
    inp: ReportInput


@dataclass(frozen=True)
class ReportDecision:
    """An allowed report event: from where it leads where."""

    event: ReportEvent
    from_state: ReportState
    to_state: ReportState


def report_named(event: ReportEvent) -> Named:
    """A report event as the subject of a message: „Freigeben“ with its code ``approve_report``."""
    return Named(f"„{event.label}“", event.value)


def _check_role(spec: ReportTransition, facts: ReportFacts, actor: Actor, what: Named) -> None:
    """The row's roles and affiliation – or, where the row allows it, an invitation to the project."""
    if spec.contributors and actor.role is Role.PARTNER and actor.user_id in facts.contributors:
        return
    check_role(facts, actor, spec.roles, what, spec.event.value)


def _check_request(spec: ReportTransition, request: ReportRequest) -> None:
    """``prepare``: role and affiliation (or an invitation, where the row allows it), then input."""
    facts, actor, inp = request.facts, request.actor, request.inp
    what, code = report_named(spec.event), spec.event.value
    _check_role(spec, facts, actor, what)
    for req in spec.requires:
        if req is ReportRequirement.ENTRIES and not inp.has_entries:
            raise refuse(
                f"{what} braucht mindestens einen Abschnitt.",
                code,
                facts.state,
                "input",
                field="entries",
                subject=what,
            )
        if req is ReportRequirement.COMMENT and not (inp.comment and inp.comment.strip()):
            message = f"{what} braucht einen Kommentar für den Partner."
            raise refuse(message, code, facts.state, "input", field="comment", subject=what)


def _check_guard(spec: ReportTransition, guard: ReportGuard, request: ReportRequest) -> bool:
    """A condition of the machine: holds, or raises the refusal that says why not."""
    facts = request.facts
    what, code, state = report_named(spec.event), spec.event.value, facts.state
    if guard is ReportGuard.SECTIONS_COMPLETE:
        problems = []
        for section in Section:
            entry = facts.entries.get(section)
            if entry is None:
                if section not in OPTIONAL_SECTIONS:
                    problems.append(f"„{section.label}“ ist weder geändert noch als unverändert markiert")
                continue
            problem = entry.problem(section)
            if problem:
                problems.append(f"„{section.label}“ {problem}")
        if problems:
            message = f"{what} ist nicht möglich: " + "; ".join(problems) + "."
            raise refuse(message, code, state, "guard", rule=guard, field="entries", subject=what)
    if guard is ReportGuard.RETURNED_SECTIONS_REVISED:
        open_ = [s for s in Section if s in facts.returned and s not in facts.revised]
        if open_:
            names = ", ".join(f"„{s.label}“" for s in open_)
            message = f"{what} ist nicht möglich: Zurückgegeben und noch nicht überarbeitet: {names}."
            raise refuse(message, code, state, "guard", rule=guard, field="entries", subject=what)
    return True


@cache
def report_machine() -> Machine:
    """The machine for all progress reports (one per process, built on first use)."""
    edges = [
        engine.Edge(
            spec.event.value,
            tuple(s.value for s in spec.sources),
            spec.dest.value if spec.dest else None,
            prepare=(partial(_check_request, spec),),
            conditions=tuple(partial(_check_guard, spec, g) for g in spec.guards),
        )
        for spec in REPORT_TRANSITIONS
    ]
    return engine.build([s.value for s in ReportState], ReportState.OFFEN.value, edges)


def decide_report(facts: ReportFacts, event: ReportEvent, actor: Actor, inp: ReportInput) -> ReportDecision:
    """Decide a report event: what happens, or ``TransitionRefused`` saying exactly why not."""
    what, state = report_named(event), facts.state
    if report_spec_for(event, state) is None:
        if state in FINAL_REPORT_STATES:
            message = f"{what} ist nicht möglich: die Fortschrittsmeldung ist angenommen und gesperrt."
        else:
            possible = ", ".join(f"„{s.label}“" for s in report_sources_of(event))
            message = f"{what} ist im Status „{state.label}“ nicht möglich; möglich im Status {possible}."
        raise refuse(message, event.value, state, "state", subject=what)
    reached = engine.fire(report_machine(), state.value, event.value, ReportRequest(facts, actor, inp))
    assert reached is not None  # no condition of this machine holds back quietly
    return ReportDecision(event, state, ReportState(reached))


def allowed_report_events(facts: ReportFacts, actor: Actor) -> tuple[ReportEvent, ...]:
    """The report events this person may try now (by state, role and affiliation; input and guards follow)."""
    allowed = []
    for event in ReportEvent:
        spec = report_spec_for(event, facts.state)
        if spec is None:
            continue
        try:
            _check_role(spec, facts, actor, Named(""))
        except TransitionRefused:
            continue
        allowed.append(event)
    return tuple(allowed)


def authorize_report_action(facts: Held, action: ReportAction, actor: Actor) -> None:
    """Refuse a step around the reports unless the actor has its role (a partner: of the project)."""
    check_role(facts, actor, REPORT_ACTION_ROLES[action], Named(f"„{action.label}“", action.value), action)
