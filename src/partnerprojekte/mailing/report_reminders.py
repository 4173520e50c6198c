"""Reminders of progress reports, part of the daily run: before the deadline (14 and 3 days), after it to
the partner, a week later escalated to Ressort and Arbeitsstab.

One mail per person and stage listing all of that person's open reports, never one per report; its key
(round, stage, address) makes a second run of the same day – or of the same stage on a later day – a no-op.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from partnerprojekte.audience import Audience
from partnerprojekte.config import Settings
from partnerprojekte.db import outbox
from partnerprojekte.db import reports as rdb
from partnerprojekte.ids import format_id
from partnerprojekte.mailing.planned import PlannedMail, idempotency_key
from partnerprojekte.states.report_table import OWED_REPORT_STATES, ReportState

KIND_DUE = "reminder.report_due.partner"
KIND_OVERDUE = "reminder.report_overdue.partner"
KIND_ESCALATED_RESSORT = "reminder.report_escalated.ressort"
KIND_ESCALATED_ARBEITSSTAB = "reminder.report_escalated.arbeitsstab"
REPORT_REMINDER_KINDS = (KIND_DUE, KIND_OVERDUE, KIND_ESCALATED_RESSORT, KIND_ESCALATED_ARBEITSSTAB)

FIRST_NOTICE_DAYS = 14  # before the deadline
LAST_NOTICE_DAYS = 3
ESCALATE_AFTER_DAYS = 7  # after the deadline, the Ressort and the Arbeitsstab hear of it


def stage_of(due: dt.date, day: dt.date) -> str | None:
    """The reminder stage of a report due on ``due`` as seen on ``day`` (None: nothing to say today)."""
    left = (due - day).days
    if 0 <= left <= LAST_NOTICE_DAYS:
        return "due-3"
    if LAST_NOTICE_DAYS < left <= FIRST_NOTICE_DAYS:
        return "due-14"
    if left < 0:
        return "escalated" if -left > ESCALATE_AFTER_DAYS else "overdue"
    return None


@dataclass(frozen=True)
class _Owed:
    year: int
    round_name: str
    due: dt.date
    stage: str
    item: dict[str, Any]
    contact: tuple[str, str]
    ressort: str | None


def _owed(s: Session, day: dt.date) -> list[_Owed]:
    names = {r.year: r.name for r in rdb.rounds(s)}
    owed_states = {state.value for state in OWED_REPORT_STATES}
    found = []
    for row in rdb.report_rows(s):
        if row["state"] not in owed_states:
            continue
        stage = stage_of(row["due_date"], day)
        if stage is None:
            continue
        item = {
            "proposal": format_id(row["proposal_id"]),
            "title": row["title"],
            "organisation": row["organisation"],
            "status_label": ReportState(row["state"]).label,
        }
        contact = (row["contact_name"], row["contact_email"])
        found.append(
            _Owed(
                row["year"],
                names[row["year"]],
                row["due_date"],
                stage,
                item,
                contact,
                row["responsible_ressort"],
            )
        )
    return found


def _mail(
    kind: str,
    key_prefix: str,
    recipient: outbox.Recipient,
    owed: list[_Owed],
    day: dt.date,
    now: dt.datetime,
) -> tuple[PlannedMail, dict[str, Any]]:
    first = owed[0]
    key = idempotency_key(key_prefix, recipient.email)
    context = {
        "round": first.year,
        "round_name": first.round_name,
        "due_date": first.due.isoformat(),
        "days_left": (first.due - day).days,
        "reports": [o.item for o in sorted(owed, key=lambda o: o.item["proposal"])],
    }
    mail = PlannedMail(
        kind,
        recipient.email,
        recipient.name,
        key,
        days=abs((first.due - day).days),
        round=first.year,
        summary={"reports": len(owed)},
    )
    return mail, outbox.pending_row(key=key, kind=kind, recipient=recipient, context=context, now=now)


def _grouped(
    pairs: Iterable[tuple[outbox.Recipient, _Owed]],
) -> dict[str, tuple[outbox.Recipient, list[_Owed]]]:
    by_person: dict[str, tuple[outbox.Recipient, list[_Owed]]] = {}
    for recipient, owed in pairs:
        by_person.setdefault(recipient.email, (recipient, []))[1].append(owed)
    return by_person


def report_reminders(
    s: Session, settings: Settings, day: dt.date, now: dt.datetime
) -> list[tuple[PlannedMail, dict[str, Any]]]:
    """The reminder mails of progress reports due on ``day``, one per person, round and stage."""
    planned: list[tuple[PlannedMail, dict[str, Any]]] = []
    owed = _owed(s, day)
    rounds = sorted({(o.year, o.stage) for o in owed})
    for year, stage in rounds:
        these = [o for o in owed if o.year == year and o.stage == stage]
        prefix = f"report-reminder:{year}:{stage}"
        if stage != "escalated":
            kind = KIND_DUE if stage.startswith("due") else KIND_OVERDUE
            partners = _grouped(
                (outbox.Recipient(o.contact[1].lower(), o.contact[0], Audience.PARTNER), o) for o in these
            )
            planned += [_mail(kind, prefix, r, items, day, now) for r, items in partners.values()]
            continue
        reviewers: list[tuple[outbox.Recipient, _Owed]] = []
        for ressort in sorted({o.ressort for o in these if o.ressort}):
            people = outbox.resolve(
                s, Audience.RESSORT, contact=("", ""), ressort=ressort, arbeitsstab_mailbox=None
            )
            reviewers += [(p, o) for p in people for o in these if o.ressort == ressort]
        for r, items in _grouped(reviewers).values():
            planned.append(_mail(KIND_ESCALATED_RESSORT, prefix, r, items, day, now))
        stab = outbox.resolve(
            s,
            Audience.ARBEITSSTAB,
            contact=("", ""),
            ressort=None,
            arbeitsstab_mailbox=settings.arbeitsstab_mailbox,
        )
        for r in stab:
            planned.append(_mail(KIND_ESCALATED_ARBEITSSTAB, prefix, r, these, day, now))
    return planned
