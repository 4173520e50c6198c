"""Reminders of progress reports: one mail per person and stage listing all their open reports, idempotent."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from partnerprojekte.config import Settings
from partnerprojekte.db.engine import Database
from partnerprojekte.db.schema import OutboxRow
from partnerprojekte.ids import format_id
from partnerprojekte.mailing.digests import run_digests
from partnerprojekte.mailing.planned import EXISTS, QUEUED
from partnerprojekte.mailing.reminders import reminder_moment, run_reminders
from partnerprojekte.mailing.report_reminders import stage_of
from partnerprojekte.model import Event
from partnerprojekte.services import Services
from partnerprojekte.states.report_table import ReportEvent as RE
from partnerprojekte.states.workflow import EventInput
from tests.integration.test_reports import complete_entries
from tests.people import MWIDE, PARTNER, STAB
from tests.schedule.conftest import context, mails, to_coordination

pytestmark = pytest.mark.usefixtures("people")

DUE = dt.date(2026, 4, 30)
TZ = "Europe/Berlin"


def recognised(services: Services, title: str) -> int:
    pid = to_coordination(services, title)
    services.transition(pid, Event.RECOGNISE, MWIDE, EventInput())
    services.transition(pid, Event.RECOGNISE, STAB, EventInput())
    return pid


def run(db: Database, settings: Settings, day: dt.date) -> list[tuple[str, str]]:
    """The report reminders a run on ``day`` queued or found: (kind, status)."""
    report = run_reminders(db, settings, as_of=reminder_moment(day, TZ))
    return [(m.kind, m.status) for m in report.mails if m.kind.startswith("reminder.report_")]


def test_the_stage_follows_the_deadline() -> None:
    days = [-30, -15, -14, -4, -3, 0, 1, 7, 8, 30]
    stages = [stage_of(DUE, DUE + dt.timedelta(days=d)) for d in days]
    assert stages == [
        None,
        None,
        "due-14",
        "due-14",
        "due-3",
        "due-3",
        "overdue",
        "overdue",
        "escalated",
        "escalated",
    ]


def test_one_mail_per_person_lists_all_open_reports_and_a_second_run_adds_nothing(
    services: Services, db: Database, settings: Settings
) -> None:
    first = recognised(services, "Erstes Partnerprojekt")
    second = recognised(services, "Zweites Partnerprojekt")
    services.open_round(2026, "Fortschrittsbericht 2026", dt.date(2026, 10, 31), DUE, STAB)
    early = DUE - dt.timedelta(days=20)
    assert run(db, settings, early) == []
    two_weeks = DUE - dt.timedelta(days=14)
    assert run(db, settings, two_weeks) == [("reminder.report_due.partner", QUEUED)]
    assert run(db, settings, two_weeks) == [("reminder.report_due.partner", EXISTS)]
    assert run(db, settings, two_weeks + dt.timedelta(days=1)) == [("reminder.report_due.partner", EXISTS)]
    [(kind, recipient, key)] = mails(db, "reminder.report_")
    assert (kind, recipient, key) == (
        "reminder.report_due.partner",
        PARTNER,
        f"report-reminder:2026:due-14:{PARTNER}",
    )
    listed = context(db, key)
    assert [r["proposal"] for r in listed["reports"]] == [format_id(first), format_id(second)]
    assert listed["days_left"] == 14
    assert run(db, settings, DUE - dt.timedelta(days=3)) == [("reminder.report_due.partner", QUEUED)]

    # One report is in; after the deadline the partner hears of the other only.
    services.report_event(first, 2026, RE.SAVE_DRAFT, PARTNER, entries=complete_entries())
    services.report_event(first, 2026, RE.SUBMIT_REPORT, PARTNER)
    assert run(db, settings, DUE + dt.timedelta(days=1)) == [("reminder.report_overdue.partner", QUEUED)]
    overdue = context(db, f"report-reminder:2026:overdue:{PARTNER}")
    assert [r["proposal"] for r in overdue["reports"]] == [format_id(second)]

    # A week later the Ressort's reviewers and the Arbeitsstab are told, each once.
    escalated = run(db, settings, DUE + dt.timedelta(days=8))
    assert {kind for kind, _ in escalated} == {
        "reminder.report_escalated.ressort",
        "reminder.report_escalated.arbeitsstab",
    }
    assert all(status == QUEUED for _, status in escalated)
    recipients = [r for k, r, _ in mails(db, "reminder.report_escalated")]
    assert len(recipients) == len(set(recipients)) and MWIDE in recipients and STAB in recipients
    assert all(status == EXISTS for _, status in run(db, settings, DUE + dt.timedelta(days=9)))


def test_the_weekly_digests_list_owed_and_overdue_reports(
    services: Services, db: Database, settings: Settings
) -> None:
    pid = recognised(services, "Erstes Partnerprojekt")
    services.open_round(2026, "Fortschrittsbericht 2026", dt.date(2026, 10, 31), DUE, STAB)
    report = run_digests(db, settings, as_of=DUE + dt.timedelta(days=4))
    stab = context(db, f"digest:{report.week}:{STAB}")
    mwide = context(db, f"digest:{report.week}:{MWIDE}")
    item = {
        "proposal": format_id(pid),
        "title": "Erstes Partnerprojekt",
        "ressort": "MWIDE",
        "round": 2026,
        "due_date": DUE.isoformat(),
        "status_label": "offen",
        "overdue": True,
    }
    assert stab["reports_owed"] == stab["reports_overdue"] == [item]
    assert mwide["reports_owed"] == [item]
    rendered = render_outbox_text(db, f"digest:{report.week}:{MWIDE}", settings)
    assert "Offene Fortschrittsmeldungen (1, davon 1 überfällig)" in rendered


def render_outbox_text(db: Database, key: str, settings: Settings) -> str:
    """The plain text of a queued mail as it would be sent."""
    from partnerprojekte.notifications.render import render

    with db.read() as s:
        row = s.scalars(select(OutboxRow).where(OutboxRow.idempotency_key == key)).one()
        return render(row.kind, row.context, recipient_name=row.recipient_name, settings=settings).text
