"""The notification kinds (``<event>.<audience>``) that have templates, and whom each one addresses."""

from __future__ import annotations

from partnerprojekte.audience import APPROVAL_OWED, APPROVAL_WITHDRAWN, NOTIFIED, Audience, kind
from partnerprojekte.states.report_table import report_notified

# Reminders and digests are written by the daily and weekly runs, not by an event
# (docs/process.md, „Benachrichtigungen“).
REMINDER_KINDS: tuple[str, ...] = (
    "reminder.eingereicht.arbeitsstab",
    "reminder.changes_requested.partner",
    "reminder.approval_owed.ressort",
    "reminder.approval_owed.arbeitsstab",
    "reminder.approval_escalated.arbeitsstab",
    # Progress reports: one mail per person listing all their open reports (mailing/report_reminders.py).
    "reminder.report_due.partner",
    "reminder.report_overdue.partner",
    "reminder.report_escalated.ressort",
    "reminder.report_escalated.arbeitsstab",
)
DIGEST_KINDS: tuple[str, ...] = ("digest.ressort", "digest.arbeitsstab")
# Mail about a person's own account. Its context holds a secret (the activation link), which the
# sender removes from the outbox row once the message is sent or given up.
ACTIVATION_KIND = "activation.person"
ACCOUNT_KINDS: tuple[str, ...] = (ACTIVATION_KIND,)
SECRET_CONTEXT_KEYS: tuple[str, ...] = ("activation_url",)

EVENT_KINDS: tuple[str, ...] = tuple(
    [kind(event, audience) for event, audiences in NOTIFIED.items() for audience in audiences]
    + [kind(APPROVAL_OWED, Audience.RESSORT), kind(APPROVAL_OWED, Audience.ARBEITSSTAB)]
    + [kind(APPROVAL_WITHDRAWN, Audience.RESSORT), kind(APPROVAL_WITHDRAWN, Audience.ARBEITSSTAB)]
    # The events of progress reports (states/report_table.py), each with every audience one of its rows tells.
    + [kind(event, audience) for event, audiences in report_notified().items() for audience in audiences]
)

KINDS: tuple[str, ...] = EVENT_KINDS + REMINDER_KINDS + DIGEST_KINDS + ACCOUNT_KINDS


def audience_of(kind_: str) -> Audience:
    """Whom a kind addresses: its last dotted part (``recognise.ressort`` → Ressort)."""
    return Audience(kind_.rsplit(".", 1)[-1])


def is_digest(kind_: str) -> bool:
    """Whether the kind is a weekly digest (no single proposal behind it)."""
    return kind_ in DIGEST_KINDS
