"""A ``transitions.Machine`` built from the rows of a table, for any of the package's state machines.

The table is the data (who may fire what from where); the rows' callbacks decide and raise the refusal that
says why not; the machine moves a throw-away subject, so one machine serves every proposal or report.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from transitions import Machine


@dataclass(frozen=True)
class Edge:
    """One row of a table as the machine takes it: trigger, sources, destination and callbacks."""

    trigger: str
    sources: tuple[str, ...]
    dest: str | None  # None: the state stays (a reflexive transition)
    prepare: tuple[Callable[..., Any], ...] = ()
    conditions: tuple[Callable[..., bool], ...] = ()


class Subject:
    """A throw-away carrier of a state while the machine fires one event."""

    def __init__(self, state: str) -> None:
        self.state = state


def build(states: Sequence[str], initial: str, edges: Sequence[Edge]) -> Machine:
    """The machine for all subjects of one table (``model=None``: the subject comes with each trigger)."""
    transitions: list[dict[str, Any]] = [
        {
            "trigger": edge.trigger,
            "source": list(edge.sources),
            # "=" keeps the state (reflexive transition)
            "dest": edge.dest if edge.dest is not None else "=",
            "prepare": list(edge.prepare),
            "conditions": list(edge.conditions),
        }
        for edge in edges
    ]
    return Machine(
        model=None,
        states=list(states),
        transitions=transitions,
        initial=initial,
        auto_transitions=False,
        send_event=False,
    )


def fire(machine: Machine, state: str, trigger: str, *args: Any) -> str | None:
    """Fire ``trigger`` from ``state``: the state reached, or ``None`` when a condition held it back
    quietly. A refusal raised by a callback propagates."""
    subject = Subject(state)
    # Fired through the machine's event, never a bound trigger method (see pitfalls).
    if not machine.events[trigger].trigger(subject, *args):
        return None
    return subject.state


def triggers(machine: Machine, state: str) -> list[str]:
    """The triggers the machine has from a state (ignoring roles and guards)."""
    return list(machine.get_triggers(state))
