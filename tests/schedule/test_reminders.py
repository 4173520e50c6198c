"""Daily reminders (spec §7) on SQLite and PostgreSQL, with the clock moved over days and weeks."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select, update

from partnerprojekte.config import Settings
from partnerprojekte.db.engine import Database
from partnerprojekte.db.schema import OutboxRow, RessortRow
from partnerprojekte.formats import proposal_from_document
from partnerprojekte.ids import format_id
from partnerprojekte.mailing.planned import EXISTS, QUEUED, WOULD_QUEUE
from partnerprojekte.mailing.reminders import run_reminders
from partnerprojekte.model import Event, ReasonCode
from partnerprojekte.reading.owed import days_waiting
from partnerprojekte.services import Services
from partnerprojekte.states.workflow import EventInput
from tests.conftest import Clock
from tests.helpers import proposal_doc
from tests.people import MWIDE, MWIDE2, PARTNER, STAB, STAB2
from tests.schedule.conftest import berlin, context, mails, request_changes, submit, to_coordination

pytestmark = pytest.mark.usefixtures("people")

SUBMITTED = "reminder.eingereicht.arbeitsstab"
REVISION = "reminder.changes_requested.partner"


def run(db: Database, settings: Settings) -> int:
    """One real run; how many rows it inserted."""
    return run_reminders(db, settings).queued


def test_submitted_14_days_reminds_the_arbeitsstab_then_every_7_days(
    services: Services, db: Database, settings: Settings, clock: Clock
) -> None:
    pid = submit(services)
    pp = format_id(pid)
    clock.advance(days=13)
    assert run(db, settings) == 0
    clock.advance(days=1)
    assert run(db, settings) == 2
    assert mails(db, "reminder.") == [
        (SUBMITTED, STAB, f"reminder:{pp}:eingereicht:round-1:{STAB}"),
        (SUBMITTED, STAB2, f"reminder:{pp}:eingereicht:round-1:{STAB2}"),
    ]
    clock.advance(hours=5)  # the same day, a second run
    again = run_reminders(db, settings)
    assert (again.queued, again.already_queued) == (0, 2)
    clock.advance(days=6)  # day 20: still round 1
    assert run(db, settings) == 0
    clock.advance(days=1)  # day 21: round 2
    assert run(db, settings) == 2
    assert [k for _, _, k in mails(db, "reminder.")][2:] == [
        f"reminder:{pp}:eingereicht:round-2:{STAB}",
        f"reminder:{pp}:eingereicht:round-2:{STAB2}",
    ]


def test_only_the_current_round_is_sent_no_backlog(
    services: Services, db: Database, settings: Settings, clock: Clock
) -> None:
    pid = submit(services)
    clock.advance(days=35)  # the daily run was down for weeks: rounds 1 to 3 were missed
    report = run_reminders(db, settings)
    assert [(m.round, m.days) for m in report.mails] == [(4, 35), (4, 35)]
    assert {k for _, _, k in mails(db, "reminder.")} == {
        f"reminder:{format_id(pid)}:eingereicht:round-4:{STAB}",
        f"reminder:{format_id(pid)}:eingereicht:round-4:{STAB2}",
    }


def test_context_of_a_submitted_reminder(
    services: Services, db: Database, settings: Settings, clock: Clock
) -> None:
    pid = submit(services)
    clock.advance(days=14)
    run(db, settings)
    assert context(db, f"reminder:{format_id(pid)}:eingereicht:round-1:{STAB}") == {
        "proposal": format_id(pid),
        "proposal_id": pid,
        "title": "KLIC.Ruhr – Kompetenzverbund Life-Sciences.Ruhr",
        "organisation": "Kompetenzzentrum Bio-Security GmbH",
        "status": "eingereicht",
        "status_label": "eingereicht",
        "ressort": None,
        "days": 14,
        "round": 1,
        "missing": [],
        "approved_event": None,
    }


def test_days_are_calendar_days_in_berlin(
    services: Services, db: Database, settings: Settings, clock: Clock
) -> None:
    submit(services)  # Monday 2 March, 09:00
    # 07:30 on the 14th day after is 1.5 hours short of 14 × 24 hours: the reminder is due all the same.
    report = run_reminders(db, settings, as_of=berlin(2026, 3, 16, 7, 30))
    assert report.queued == 2
    assert [m.days for m in report.mails] == [14, 14]
    assert days_waiting(berlin(2026, 3, 2, 23, 59), dt.date(2026, 3, 3), "Europe/Berlin") == 1


def test_the_arbeitsstab_mailbox_is_reminded_too(services: Services, db: Database, clock: Clock) -> None:
    settings = Settings(arbeitsstab_mailbox="Arbeitsstab@STK.nrw.example")
    submit(services)
    clock.advance(days=14)
    assert {r for _, r, _ in mails(db, "reminder.")} == set()
    run_reminders(db, settings)
    assert {r for _, r, _ in mails(db, "reminder.")} == {STAB, STAB2, "arbeitsstab@stk.nrw.example"}


def test_a_proposal_taken_up_is_no_longer_reminded(
    services: Services, db: Database, settings: Settings, clock: Clock
) -> None:
    pid = submit(services)
    clock.advance(days=10)
    services.transition(pid, Event.TAKE_UP, STAB, EventInput())
    clock.advance(days=30)  # in Bearbeitung after take_up (not after request_changes): nobody is reminded
    assert run(db, settings) == 0


def test_changes_requested_reminds_the_partner_at_21_and_35_days(
    services: Services, db: Database, settings: Settings, clock: Clock
) -> None:
    pid = to_coordination(services)
    request_changes(services, pid)
    clock.advance(days=20)
    assert run(db, settings) == 0
    clock.advance(days=1)
    assert run(db, settings) == 1
    [(kind, recipient, key)] = mails(db, "reminder.")
    assert (kind, recipient) == (REVISION, PARTNER)
    assert key.startswith(f"reminder:{format_id(pid)}:changes_requested:seq-") and key.endswith(
        f":round-1:{PARTNER}"
    )
    ctx = context(db, key)
    assert (ctx["status"], ctx["status_label"], ctx["ressort"], ctx["days"], ctx["round"]) == (
        "in_bearbeitung",
        "in Bearbeitung",
        "MWIDE",
        21,
        1,
    )
    clock.advance(days=13)  # day 34
    assert run(db, settings) == 0
    clock.advance(days=1)  # day 35
    assert run(db, settings) == 1
    assert mails(db, "reminder.")[-1][2].endswith(f":round-2:{PARTNER}")


def test_a_revision_stops_the_partner_reminder(
    services: Services, db: Database, settings: Settings, clock: Clock
) -> None:
    pid = to_coordination(services)
    request_changes(services, pid)
    clock.advance(days=5)
    services.revise(pid, proposal_from_document(proposal_doc()), PARTNER)
    clock.advance(days=30)
    assert run(db, settings) == 0


def test_a_second_request_changes_starts_a_new_cycle(
    services: Services, db: Database, settings: Settings, clock: Clock
) -> None:
    pid = to_coordination(services)
    request_changes(services, pid)
    clock.advance(days=21)
    assert run(db, settings) == 1
    services.revise(pid, proposal_from_document(proposal_doc()), PARTNER)
    services.transition(pid, Event.START_COORDINATION, STAB, EventInput())
    request_changes(services, pid)
    clock.advance(days=21)
    assert run(db, settings) == 1  # round 1 again, under the new request's key
    first, second = (k for _, _, k in mails(db, "reminder."))
    assert first != second
    assert first.endswith(f":round-1:{PARTNER}") and second.endswith(f":round-1:{PARTNER}")


def test_owed_approval_reminds_at_10_and_escalates_at_20_days(
    services: Services, db: Database, settings: Settings, clock: Clock
) -> None:
    pid = to_coordination(services)
    services.transition(pid, Event.RECOGNISE, STAB, EventInput())  # the Ressort's approval is owed
    clock.advance(days=9)
    assert run(db, settings) == 0
    clock.advance(days=1)
    report = run_reminders(db, settings)
    assert (report.queued, report.escalated) == (2, 0)
    owed = mails(db, "reminder.")
    assert [(k, r) for k, r, _ in owed] == [
        ("reminder.approval_owed.ressort", MWIDE),
        ("reminder.approval_owed.ressort", MWIDE2),
    ]
    ctx = context(db, owed[0][2])
    assert (ctx["missing"], ctx["approved_event"], ctx["days"], ctx["round"], ctx["status"]) == (
        ["ressort"],
        "recognise",
        10,
        1,
        "in_abstimmung",
    )
    clock.advance(days=9)  # day 19
    assert run(db, settings) == 0
    clock.advance(days=1)  # day 20
    report = run_reminders(db, settings)
    assert (report.queued, report.escalated) == (2, 2)
    assert [(k, r) for k, r, _ in mails(db, "reminder.")][2:] == [
        ("reminder.approval_escalated.arbeitsstab", STAB),
        ("reminder.approval_escalated.arbeitsstab", STAB2),
    ]
    # No repeats after the escalation: the weekly digest keeps listing the approval as overdue.
    clock.advance(days=30)
    assert run(db, settings) == 0


def test_owed_approval_of_the_arbeitsstab(
    services: Services, db: Database, settings: Settings, clock: Clock
) -> None:
    pid = to_coordination(services)
    services.transition(
        pid, Event.DECLINE, MWIDE, EventInput(comment="Doppelt vorhanden", reasons=(ReasonCode.DOPPELUNG,))
    )
    clock.advance(days=10)
    run(db, settings)
    assert [(k, r) for k, r, _ in mails(db, "reminder.")] == [
        ("reminder.approval_owed.arbeitsstab", STAB),
        ("reminder.approval_owed.arbeitsstab", STAB2),
    ]


def test_the_ressort_mailbox_is_reminded_with_its_reviewers(
    services: Services, db: Database, settings: Settings, clock: Clock
) -> None:
    with db.write() as s:
        s.execute(
            update(RessortRow)
            .where(RessortRow.abbreviation == "MWIDE")
            .values(mailbox="poststelle@mwide.example")
        )
    pid = to_coordination(services)
    services.transition(pid, Event.RECOGNISE, STAB, EventInput())
    clock.advance(days=10)
    run(db, settings)
    assert {r for _, r, _ in mails(db, "reminder.")} == {MWIDE, MWIDE2, "poststelle@mwide.example"}


def test_a_withdrawn_approval_owes_nothing(
    services: Services, db: Database, settings: Settings, clock: Clock
) -> None:
    pid = to_coordination(services)
    services.transition(pid, Event.RECOGNISE, STAB, EventInput())
    services.withdraw_approval(pid, Event.RECOGNISE, STAB)
    clock.advance(days=25)
    assert run(db, settings) == 0


def test_a_decision_ends_all_reminders(
    services: Services, db: Database, settings: Settings, clock: Clock
) -> None:
    pid = to_coordination(services)
    services.transition(pid, Event.RECOGNISE, STAB, EventInput())
    clock.advance(days=5)
    services.transition(pid, Event.RECOGNISE, MWIDE, EventInput())
    clock.advance(days=60)
    assert run(db, settings) == 0


def test_a_repeated_run_inserts_nothing_twice(
    services: Services, db: Database, settings: Settings, clock: Clock
) -> None:
    submit(services)
    coord = to_coordination(services)
    services.transition(coord, Event.RECOGNISE, STAB, EventInput())
    changes = to_coordination(services)
    request_changes(services, changes)
    clock.advance(days=21)
    first = run_reminders(db, settings)
    # eingereicht round 2 (2), changes requested (1), approval owed (2) and escalated (2)
    assert first.queued == 7
    with db.read() as s:
        before = s.scalar(select(func.count()).select_from(OutboxRow))
    second = run_reminders(db, settings)
    assert (second.queued, second.already_queued) == (0, 7)
    assert {m.status for m in second.mails} == {EXISTS}
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(OutboxRow)) == before


def test_dry_run_writes_nothing_and_tells_what_a_run_would_queue(
    services: Services, db: Database, settings: Settings, clock: Clock
) -> None:
    submit(services)
    clock.advance(days=14)
    with db.read() as s:
        before = s.scalar(select(func.count()).select_from(OutboxRow))
    trial = run_reminders(db, settings, dry_run=True)
    assert trial.dry_run and trial.queued == 2
    assert {m.status for m in trial.mails} == {WOULD_QUEUE}
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(OutboxRow)) == before
    real = run_reminders(db, settings)
    assert [(m.key, QUEUED) for m in trial.mails] == [(m.key, m.status) for m in real.mails]
    assert {m.status for m in run_reminders(db, settings, dry_run=True).mails} == {EXISTS}
    assert real.to_json()["queued"] == 2
