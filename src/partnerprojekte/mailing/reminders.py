"""Daily reminders (docs/process.md, „Benachrichtigungen“) as outbox rows.

Each row has a unique key per proposal, kind, round and recipient. What is owed, by whom and since when
is read in ``reading/owed.py``; this module turns it into rounds, recipients and outbox rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from partnerprojekte.audience import Audience, audience_of_role
from partnerprojekte.config import Settings
from partnerprojekte.db import outbox
from partnerprojekte.db.engine import Database
from partnerprojekte.mailing.planned import EXISTS, QUEUED, WOULD_QUEUE, PlannedMail, idempotency_key
from partnerprojekte.mailing.report_reminders import report_reminders
from partnerprojekte.reading.owed import (
    REVISION,
    RULES,
    SUBMITTED,
    DayCounter,
    Owed,
    ReminderRules,
    local_day,
    local_moment,
    overdue,
)

# The daily run (Prefect ``send-reminders``); a date on the command line means this time of that day.
REMINDER_TIME = dt.time(7, 30)

KIND_SUBMITTED = "reminder.eingereicht.arbeitsstab"
KIND_REVISION = "reminder.changes_requested.partner"
KIND_APPROVAL_RESSORT = "reminder.approval_owed.ressort"
KIND_APPROVAL_ARBEITSSTAB = "reminder.approval_owed.arbeitsstab"
KIND_ESCALATED = "reminder.approval_escalated.arbeitsstab"

KIND_LABELS: dict[str, str] = {
    KIND_SUBMITTED: "Erinnerung: Vorschlag noch nicht aufgegriffen",
    KIND_REVISION: "Erinnerung: Überarbeitung steht aus",
    KIND_APPROVAL_RESSORT: "Erinnerung: Zustimmung des Ressorts steht aus",
    KIND_APPROVAL_ARBEITSSTAB: "Erinnerung: Zustimmung des Arbeitsstabs steht aus",
    KIND_ESCALATED: "Eskalation: Zustimmung steht seit Langem aus",
    "reminder.report_due.partner": "Erinnerung: Fortschrittsmeldung fällig",
    "reminder.report_overdue.partner": "Erinnerung: Fortschrittsmeldung überfällig",
    "reminder.report_escalated.ressort": "Eskalation: Fortschrittsmeldungen überfällig",
    "reminder.report_escalated.arbeitsstab": "Eskalation: Fortschrittsmeldungen überfällig",
}


# --- time ------------------------------------------------------------------------------------------


def reminder_moment(day: dt.date, tz: str) -> dt.datetime:
    """The moment of the daily run on a given day (07:30 local time)."""
    return local_moment(day, REMINDER_TIME, tz)


def round_due(days: int, after: int, every: int) -> int:
    """The current round of a repeated reminder: 1 at ``after`` days, then one more every ``every`` days."""
    return 1 + (days - after) // every if days >= after else 0


# --- outbox rows -----------------------------------------------------------------------------------


def queue(
    db: Database, planned: Sequence[tuple[PlannedMail, dict[str, Any]]], *, dry_run: bool
) -> list[PlannedMail]:
    """Insert the planned rows (or, in a dry run, look which would be new); each mail with its status.

    A transaction of its own, after the rows were worked out in a read-only one: on SQLite the write
    lock is held for the insert only, not for the whole evaluation.
    """
    unique: dict[str, tuple[PlannedMail, dict[str, Any]]] = {}
    for mail, row in planned:
        unique.setdefault(mail.key, (mail, row))
    keys = list(unique)
    with db.read() if dry_run else db.write() as s:
        # Most due rows of a daily run exist already (the round has not changed since yesterday): look
        # them up first so that only new rows are serialised and inserted.
        present = outbox.existing_keys(s, keys)
        if dry_run:
            return [_with_status(unique[k][0], EXISTS if k in present else WOULD_QUEUE) for k in keys]
        inserted = outbox.insert_new(s, [row for k, (_, row) in unique.items() if k not in present])
    return [_with_status(unique[k][0], QUEUED if k in inserted else EXISTS) for k in keys]


def _with_status(mail: PlannedMail, status: str) -> PlannedMail:
    # Spelled out: dataclasses.replace costs several times more, for every row of a large run.
    return PlannedMail(
        mail.kind,
        mail.recipient_email,
        mail.recipient_name,
        mail.key,
        status,
        mail.proposal,
        mail.days,
        mail.round,
        mail.summary,
    )


# --- the daily run ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReminderReport:
    """What a reminder run queued (or would queue) and what had been queued before."""

    as_of: dt.datetime
    dry_run: bool
    mails: list[PlannedMail] = field(default_factory=list)

    @property
    def queued(self) -> int:
        """Rows inserted by this run (in a dry run: rows it would insert)."""
        return sum(1 for m in self.mails if m.status in (QUEUED, WOULD_QUEUE))

    @property
    def already_queued(self) -> int:
        """Rows that were due but are in the outbox already (an earlier run of the same round)."""
        return sum(1 for m in self.mails if m.status == EXISTS)

    @property
    def escalated(self) -> int:
        """Escalations to the Arbeitsstab among the rows this run queued (or would queue)."""
        return sum(1 for m in self.mails if m.kind == KIND_ESCALATED and m.status in (QUEUED, WOULD_QUEUE))

    def to_json(self) -> dict[str, Any]:
        """The ``reminders run --json`` shape."""
        return {
            "as_of": self.as_of.isoformat(),
            "dry_run": self.dry_run,
            "queued": self.queued,
            "already_queued": self.already_queued,
            "escalated": self.escalated,
            "mails": [m.to_json() for m in self.mails],
        }


class _Recipients:
    """Resolves and remembers the recipients of an audience (one query per Ressort, not per proposal)."""

    def __init__(self, s: Session, settings: Settings) -> None:
        self.s = s
        self.mailbox = settings.arbeitsstab_mailbox
        self.cache: dict[tuple[Audience, str | None], list[outbox.Recipient]] = {}

    def __call__(self, audience: Audience, owed: Owed) -> list[outbox.Recipient]:
        contact = (owed.contact_name, owed.contact_email)
        if audience is Audience.PARTNER:
            return outbox.resolve(self.s, audience, contact=contact, ressort=None, arbeitsstab_mailbox=None)
        ressort = owed.ressort if audience is Audience.RESSORT else None
        cached = self.cache.get((audience, ressort))
        if cached is None:
            cached = outbox.resolve(
                self.s, audience, contact=contact, ressort=ressort, arbeitsstab_mailbox=self.mailbox
            )
            self.cache[(audience, ressort)] = cached
        return cached


def _context(owed: Owed, days: int, round_: int) -> dict[str, Any]:
    return {
        "proposal": owed.proposal,
        "proposal_id": owed.proposal_id,
        "title": owed.title,
        "organisation": owed.organisation,
        "status": owed.status.value,
        "status_label": owed.status.label,
        "ressort": owed.ressort,
        "days": days,
        "round": round_,
        "missing": [r.value for r in owed.missing],
        "approved_event": owed.event,
    }


def _reminders_for(owed: Owed, days: int, rules: ReminderRules) -> list[tuple[str, str, Audience, int]]:
    """(kind, key prefix, audience, round) of the reminders due for one owed item on one day."""
    pp = owed.proposal
    if owed.what == SUBMITTED:
        n = round_due(days, rules.submitted_after, rules.submitted_every)
        return (
            [(KIND_SUBMITTED, f"reminder:{pp}:eingereicht:round-{n}", Audience.ARBEITSSTAB, n)] if n else []
        )
    if owed.what == REVISION:
        n = round_due(days, rules.revision_after, rules.revision_every)
        prefix = f"reminder:{pp}:changes_requested:{owed.anchor}:round-{n}"
        return [(KIND_REVISION, prefix, Audience.PARTNER, n)] if n else []
    # Approvals: one reminder at 10 days to whoever owes it, one escalation at 20 days. No repeats:
    # from then on the weekly digest lists the approval as overdue every Monday until it is given.
    due: list[tuple[str, str, Audience, int]] = []
    if days >= rules.approval_after:
        for role in dict.fromkeys(owed.missing):
            audience = audience_of_role(role)
            kind = KIND_APPROVAL_RESSORT if audience is Audience.RESSORT else KIND_APPROVAL_ARBEITSSTAB
            prefix = f"reminder:{pp}:approval_owed:{owed.event}:{owed.anchor}:round-1"
            due.append((kind, prefix, audience, 1))
    if days >= rules.escalation_after:
        prefix = f"reminder:{pp}:approval_escalated:{owed.event}:{owed.anchor}:round-1"
        due.append((KIND_ESCALATED, prefix, Audience.ARBEITSSTAB, 1))
    return due


def run_reminders(
    db: Database,
    settings: Settings,
    *,
    as_of: dt.datetime | None = None,
    dry_run: bool = False,
    rules: ReminderRules = RULES,
) -> ReminderReport:
    """Queue the reminders due on the day of ``as_of`` (default: now); only the current round of each."""
    now = db.clock()
    moment = as_of or now
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)  # a naive moment (a scheduler's) is taken as UTC
    day = local_day(moment, settings.timezone)
    days_since = DayCounter(day, settings.timezone)
    planned: list[tuple[PlannedMail, dict[str, Any]]] = []
    with db.read() as s:
        recipients = _Recipients(s, settings)
        for owed in overdue(s, settings, day, rules):
            days = days_since(owed.since)
            for kind, prefix, audience, round_ in _reminders_for(owed, days, rules):
                context = _context(owed, days, round_)
                for r in recipients(audience, owed):
                    key = idempotency_key(prefix, r.email)
                    mail = PlannedMail(
                        kind, r.email, r.name, key, proposal=owed.proposal, days=days, round=round_
                    )
                    row = outbox.pending_row(
                        key=key,
                        kind=kind,
                        recipient=r,
                        context=context,
                        now=now,
                        proposal_id=owed.proposal_id,
                    )
                    planned.append((mail, row))
        planned += report_reminders(s, settings, day, now)
    return ReminderReport(moment, dry_run, queue(db, planned, dry_run=dry_run))
