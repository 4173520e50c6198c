"""The reminder and digest runs write contexts that every reminder and digest template renders."""

from __future__ import annotations

import pytest

from partnerprojekte.config import Settings
from partnerprojekte.db.engine import Database
from partnerprojekte.mailing.delivery import deliver_pending
from partnerprojekte.mailing.digests import run_digests
from partnerprojekte.mailing.reminders import run_reminders
from partnerprojekte.model import Event
from partnerprojekte.services import Services
from partnerprojekte.states.workflow import EventInput
from tests.conftest import Clock
from tests.notifications.conftest import outbox_rows, submit
from tests.people import MWIDE, PARTNER, STAB
from tests.smtp_server import SmtpSink

pytestmark = pytest.mark.usefixtures("people")


def test_reminders_and_digests_render_and_arrive(
    services: Services, db: Database, clock: Clock, smtp: SmtpSink, mail_settings: Settings
) -> None:
    waiting = submit(services)
    owed = submit(services)
    services.transition(owed, Event.TAKE_UP, STAB, EventInput())
    services.assign_ressort(owed, "MWIDE", STAB)
    services.transition(owed, Event.START_COORDINATION, STAB, EventInput())
    services.transition(owed, Event.RECOGNISE, STAB, EventInput())
    changes = submit(services)
    services.transition(changes, Event.TAKE_UP, STAB, EventInput())
    services.assign_ressort(changes, "MWIDE", STAB)
    services.transition(changes, Event.START_COORDINATION, STAB, EventInput())
    services.transition(
        changes, Event.REQUEST_CHANGES, MWIDE, EventInput(comment="Bitte die Finanzierung belegen.")
    )
    deliver_pending(db, mail_settings)
    smtp.clear()
    clock.advance(days=21)  # Monday 23 March 2026, KW 13
    run_reminders(db, mail_settings)
    run_digests(db, mail_settings)
    kinds = {r.kind for r in outbox_rows(db) if r.status == "pending"}
    assert {
        "reminder.eingereicht.arbeitsstab",
        "reminder.changes_requested.partner",
        "digest.ressort",
        "digest.arbeitsstab",
    } <= kinds
    assert any(k.startswith("reminder.approval_") for k in kinds)
    report = deliver_pending(db, mail_settings)
    assert (report.dead, report.retried) == (0, 0), report.errors
    assert report.sent == len(smtp.messages) > 0
    subjects = [m.subject for m in smtp.messages]
    assert any(
        s.startswith(f"[PP-{waiting:04d}] Erinnerung: seit 21 Tagen nicht aufgegriffen") for s in subjects
    )
    assert any(s.startswith(f"[PP-{owed:04d}] ") and "Zustimmung" in s for s in smtp.subjects(MWIDE))
    assert any("Ihre Überarbeitung steht noch aus" in s for s in smtp.subjects(PARTNER))
    assert "Wochenübersicht Partnerprojekte – KW 13/2026 (MWIDE)" in smtp.subjects(MWIDE)
    [digest] = [m for m in smtp.to(STAB) if m.subject.startswith("Wochenübersicht")]
    assert "Stand Partnerprojekte (3 Vorschläge)" in digest.part("plain")
