"""What the workflow decides about: the proposal's facts, the actor, the input, the approvals given."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from partnerprojekte.model import CheckResult, Criterion, ReasonCode, Role, State, Visibility


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


class Held(Protocol):
    """What a role check needs of a proposal or a progress report: its state, organisation and Ressort."""

    @property
    def state(self) -> StrEnum | None:
        """The current state (``None``: a proposal not yet submitted)."""

    @property
    def organisation(self) -> str:
        """The organisation that carries it."""

    @property
    def responsible_ressort(self) -> str | None:
        """The Ressort that reviews it, once assigned."""


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
class Request:
    """One attempt of an event, as the machine's callbacks receive it."""

    facts: ProposalFacts
    actor: Actor
    inp: EventInput
    roles: tuple[Role, ...]  # who may fire it here (or approve it, when approval-gated)
    required: tuple[Role, ...] = ()  # the approvals the event needs here; () if it is not gated
    approvals: tuple[GivenApproval, ...] = ()
