"""The one shared ``transitions.Machine`` built from the transition table."""

from __future__ import annotations

from functools import cache
from typing import Any

from transitions import Machine

from partnerprojekte.model import Event, State
from partnerprojekte.states.table import NEW, TRANSITIONS


class Subject:
    """A throw-away carrier of a proposal's state while the machine fires one event."""

    def __init__(self, state: State | None, guards_hold: bool) -> None:
        self.state: str = state.value if state else NEW
        self._guards_hold = guards_hold

    def guards_hold(self, *_: Any) -> bool:
        """Condition callback: the workflow has evaluated the guards before firing."""
        return self._guards_hold


@cache
def shared_machine() -> Machine:
    """The machine for all proposals (``model=None``; one per process, built on first use)."""
    states = [NEW, *(s.value for s in State)]
    transitions = [
        {
            "trigger": spec.event.value,
            "source": [s.value for s in spec.sources] or [NEW],
            # "=" keeps the state (reflexive transition, used by revise)
            "dest": spec.dest.value if spec.dest else "=",
            "conditions": ["guards_hold"],
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


@cache
def fire(state: State | None, event: Event) -> State:
    """Fire ``event`` from ``state`` on the shared machine and return the resulting state.

    The table is fixed, so the machine's answer for a state and an event never changes: it is asked
    once per pair and process (a trigger costs tens of microseconds, on every event otherwise).
    """
    subject = Subject(state, guards_hold=True)
    # Fired through the machine's event, never a bound trigger method (see pitfalls).
    fired = shared_machine().events[event.value].trigger(subject)
    if not fired:  # pragma: no cover - the workflow checks source and guards first
        raise RuntimeError(f"machine refused {event} from {state}")
    return State(subject.state)


def possible_events(state: State | None) -> list[Event]:
    """The events the machine allows from a state (ignoring roles and guards)."""
    name = state.value if state else NEW
    return [Event(t) for t in shared_machine().get_triggers(name)]
