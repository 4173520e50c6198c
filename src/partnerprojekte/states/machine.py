"""The one shared ``transitions.Machine`` built from the transition table; its callbacks decide.

Each transition runs ``checks.check_request`` before its conditions (role and affiliation, input, no
approval given twice) and then its conditions: first whether the approvals are complete (quietly false
while some are owed: the approval is recorded, nothing fires), then one condition per guard of the table
row, which raises the refusal that says why not. A trigger that returns True has moved the subject.
"""

from __future__ import annotations

from functools import cache, partial
from typing import Any

from transitions import Machine

from partnerprojekte.model import Event, State
from partnerprojekte.states import checks
from partnerprojekte.states.facts import Request
from partnerprojekte.states.table import NEW, TRANSITIONS


class Subject:
    """A throw-away carrier of a proposal's state while the machine fires one event."""

    def __init__(self, state: State | None) -> None:
        self.state: str = state.value if state else NEW


@cache
def shared_machine() -> Machine:
    """The machine for all proposals (``model=None``; one per process, built on first use)."""
    states = [NEW, *(s.value for s in State)]
    transitions: list[dict[str, Any]] = [
        {
            "trigger": spec.event.value,
            "source": [s.value for s in spec.sources] or [NEW],
            # "=" keeps the state (reflexive transition, used by revise)
            "dest": spec.dest.value if spec.dest else "=",
            "prepare": [partial(checks.check_request, spec)],
            "conditions": [
                checks.approvals_complete,
                *(partial(checks.check_guard, spec, g) for g in spec.guards),
            ],
        }
        for spec in TRANSITIONS
    ]
    return Machine(
        model=None,
        states=states,
        transitions=transitions,
        initial=NEW,
        auto_transitions=False,
        send_event=False,
    )


def trigger(state: State | None, event: Event, request: Request) -> State | None:
    """Fire ``event`` from ``state`` for one request: the state it leads to, or ``None`` while approvals
    are owed. A refusal of the callbacks propagates as ``TransitionRefused``."""
    subject = Subject(state)
    # Fired through the machine's event, never a bound trigger method (see pitfalls).
    if not shared_machine().events[event.value].trigger(subject, request):
        return None
    return State(subject.state)


def possible_events(state: State | None) -> list[Event]:
    """The events the machine allows from a state (ignoring roles and guards)."""
    name = state.value if state else NEW
    return [Event(t) for t in shared_machine().get_triggers(name)]
