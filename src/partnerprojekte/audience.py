"""Who is told about what (docs/process.md, „Benachrichtigungen“), from the one table; the outbox resolves
the people."""

from __future__ import annotations

from partnerprojekte.model import Audience, Role
from partnerprojekte.states import table

# Who is told about which event or action: read from the one table (states/table.py, ``notify``).
NOTIFIED: dict[str, tuple[Audience, ...]] = {
    **{spec.event.value: spec.notify for spec in table.TRANSITIONS if spec.notify},
    **{spec.action.value: spec.notify for spec in table.ACTIONS if spec.notify},
}

APPROVAL_OWED = "approval_owed"
# A person's pending approvals fell away: deactivated, or their role or Ressort changed.
APPROVAL_WITHDRAWN = "approval_withdrawn"


def audiences_for(event: str) -> tuple[Audience, ...]:
    """The audiences told about an event or action (none for revise, comment, confirm)."""
    return table.notified(event)


def audience_of_role(role: Role) -> Audience:
    """The audience that owes an approval of this role."""
    return Audience.RESSORT if role is Role.RESSORT else Audience.ARBEITSSTAB


def kind(event: str, audience: Audience) -> str:
    """The notification kind, e.g. ``submit.partner``; the templates are named after it."""
    return f"{event}.{audience.value}"


__all__ = [
    "APPROVAL_OWED",
    "APPROVAL_WITHDRAWN",
    "NOTIFIED",
    "Audience",
    "audience_of_role",
    "audiences_for",
    "kind",
]
