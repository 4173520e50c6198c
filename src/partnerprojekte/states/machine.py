"""The one shared ``transitions.Machine`` built from the transition table; its callbacks decide.

Each transition runs ``checks.check_request`` before its conditions (role and affiliation, input, no
approval given twice) and then its conditions: first whether the approvals are complete (quietly false
while some are owed: the approval is recorded, nothing fires), then one condition per guard of the table
row, which raises the refusal that says why not. A trigger that returns True has moved the subject.
"""

from __future__ import annotations

from functools import cache, partial

from transitions import Machine

from partnerprojekte.model import Event, State
from partnerprojekte.states import checks, engine
from partnerprojekte.states.facts import Request
from partnerprojekte.states.table import NEW, TRANSITIONS


@cache
def shared_machine() -> Machine:
    """The machine for all proposals (one per process, built on first use)."""
    edges = [
        engine.Edge(
            spec.event.value,
            tuple(s.value for s in spec.sources) or (NEW,),
            spec.dest.value if spec.dest else None,  # revise keeps the state
            prepare=(partial(checks.check_request, spec),),
            conditions=(
                checks.approvals_complete,
                *(partial(checks.check_guard, spec, g) for g in spec.guards),
            ),
        )
        for spec in TRANSITIONS
    ]
    return engine.build([NEW, *(s.value for s in State)], NEW, edges)


def trigger(state: State | None, event: Event, request: Request) -> State | None:
    """Fire ``event`` from ``state`` for one request: the state it leads to, or ``None`` while approvals
    are owed. A refusal of the callbacks propagates as ``TransitionRefused``."""
    reached = engine.fire(shared_machine(), state.value if state else NEW, event.value, request)
    return State(reached) if reached is not None else None


def possible_events(state: State | None) -> list[Event]:
    """The events the machine allows from a state (ignoring roles and guards)."""
    return [Event(t) for t in engine.triggers(shared_machine(), state.value if state else NEW)]
