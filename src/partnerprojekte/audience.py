"""Who is told about what (docs/process.md, „Benachrichtigungen“) as data; the outbox resolves the people."""

from __future__ import annotations

from enum import StrEnum

from partnerprojekte.model import Event, Role


class Audience(StrEnum):
    """A group of recipients."""

    PARTNER = "partner"  # the proposal's contact person
    RESSORT = "ressort"  # reviewers and functional mailbox of the responsible Ressort
    ARBEITSSTAB = "arbeitsstab"  # Arbeitsstab members (and its mailbox, if configured)
    PERSON = "person"  # one named person about their own account (activation links)


P, R, A = Audience.PARTNER, Audience.RESSORT, Audience.ARBEITSSTAB

NOTIFIED: dict[str, tuple[Audience, ...]] = {
    Event.SUBMIT.value: (P, A),
    Event.TAKE_UP.value: (P,),
    Event.REOPEN.value: (P,),
    "assign_ressort": (R,),
    Event.START_COORDINATION.value: (P, R),
    Event.REQUEST_CHANGES.value: (P, A),
    Event.RECOGNISE.value: (P, R, A),
    Event.DECLINE.value: (P, R, A),
    Event.INTEGRATE_INTO_PILLAR_1.value: (P, R, A),
    Event.WITHDRAW.value: (R, A),
}

APPROVAL_OWED = "approval_owed"
# A person's pending approvals fell away: deactivated, or their role or Ressort changed.
APPROVAL_WITHDRAWN = "approval_withdrawn"


def audiences_for(event: str) -> tuple[Audience, ...]:
    """The audiences told about an event or action (none for revise, comment, confirm)."""
    return NOTIFIED.get(event, ())


def audience_of_role(role: Role) -> Audience:
    """The audience that owes an approval of this role."""
    return Audience.RESSORT if role is Role.RESSORT else Audience.ARBEITSSTAB


def kind(event: str, audience: Audience) -> str:
    """The notification kind, e.g. ``submit.partner``; the templates are named after it."""
    return f"{event}.{audience.value}"
