"""Weekly digests (spec §7) on SQLite and PostgreSQL: contents, empty digests, opt-out, ISO weeks."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select

from partnerprojekte.config import Settings
from partnerprojekte.db.engine import Database
from partnerprojekte.db.schema import OutboxRow
from partnerprojekte.errors import NotFound, ValidationError
from partnerprojekte.ids import format_id
from partnerprojekte.mailing.digests import EMPTY, OPT_OUT, run_digests, set_digest_opt_out
from partnerprojekte.model import Event
from partnerprojekte.services import Services
from partnerprojekte.states.workflow import EventInput
from tests.conftest import Clock
from tests.people import MWIDE, MWIDE2, PARTNER, STAB, STAB2, VM
from tests.schedule.conftest import MKW, berlin, context, mails, request_changes, submit, to_coordination

pytestmark = pytest.mark.usefixtures("people")

KW11 = "2026-W11"


def build_history(services: Services, clock: Clock) -> dict[str, int]:
    """Five proposals: two from early February, three with events in the week before Monday 9 March."""
    clock.now = berlin(2026, 2, 2, 9)
    ids = {"old": submit(services, "Altes Vorhaben ohne Bearbeitung")}
    ids["coord"] = to_coordination(services, "Vorhaben in Abstimmung")
    ids["changes"] = to_coordination(services, "Vorhaben mit Änderungswunsch")
    clock.now = berlin(2026, 2, 20, 10)
    services.transition(ids["coord"], Event.RECOGNISE, STAB, EventInput())  # MWIDE owes its approval
    clock.now = berlin(2026, 3, 3, 10)
    ids["new"] = submit(services, "Neues Vorhaben der Woche")
    clock.now = berlin(2026, 3, 4, 11)
    request_changes(services, ids["changes"])
    clock.now = berlin(2026, 3, 5, 12)
    ids["vm"] = submit(services, "Verkehrsvorhaben")
    services.transition(ids["vm"], Event.TAKE_UP, STAB, EventInput())
    services.assign_ressort(ids["vm"], "VM", STAB)
    clock.now = berlin(2026, 3, 9, 7)  # the Monday digest run
    return ids


def counts(**given: int) -> list[dict[str, Any]]:
    """The seven states in the order of the Fortschrittsbericht, with the given counts."""
    labels = {
        "anerkannt": "anerkannt",
        "abstimmung": "in Abstimmung",
        "bearbeitung": "in Bearbeitung",
        "eingereicht": "eingereicht",
        "nicht": "nicht weiterverfolgt",
        "saeule": "in ein Projekt der 1. Säule integriert",
        "zurueck": "zurückgezogen",
    }
    return [{"label": label, "count": given.get(key, 0)} for key, label in labels.items()]


def outbox_count(db: Database) -> int:
    """All outbox rows."""
    with db.read() as s:
        return s.scalar(select(func.count()).select_from(OutboxRow)) or 0


def test_ressort_reviewer_digest(services: Services, db: Database, settings: Settings, clock: Clock) -> None:
    ids = build_history(services, clock)
    report = run_digests(db, settings)
    assert report.week == KW11
    ctx = context(db, f"digest:{KW11}:{MWIDE}")
    at = berlin(2026, 3, 4, 11).isoformat()
    awaiting = {
        "proposal": format_id(ids["coord"]),
        "title": "Vorhaben in Abstimmung",
        "event": "recognise",
        "days": 17,
        "overdue": True,
    }
    assert ctx == {
        "person_name": "Carla Ostermann",
        "ressort": "MWIDE",
        "week": "KW 11/2026",
        "as_of": "2026-03-09",
        "awaiting": [awaiting],
        "overdue": [awaiting],
        "new_responsibilities": [],
        "changes": [
            {
                "proposal": format_id(ids["changes"]),
                "title": "Vorhaben mit Änderungswunsch",
                "from_label": "in Abstimmung",
                "to_label": "in Bearbeitung",
                "at": at,
            }
        ],
        "counts": counts(abstimmung=1, bearbeitung=1),
        "reports_owed": [],
        "reports_overdue": [],
    }
    vm = context(db, f"digest:{KW11}:{VM}")
    assert vm["new_responsibilities"] == [
        {
            "proposal": format_id(ids["vm"]),
            "title": "Verkehrsvorhaben",
            "since": berlin(2026, 3, 5, 12).isoformat(),
        }
    ]
    assert [(c["from_label"], c["to_label"]) for c in vm["changes"]] == [("eingereicht", "in Bearbeitung")]
    assert vm["awaiting"] == [] and vm["counts"] == counts(bearbeitung=1)


def test_arbeitsstab_digest(services: Services, db: Database, settings: Settings, clock: Clock) -> None:
    ids = build_history(services, clock)
    run_digests(db, settings)
    ctx = context(db, f"digest:{KW11}:{STAB}")
    pp = {k: format_id(v) for k, v in ids.items()}
    assert ctx == {
        "person_name": "Anna Stab",
        "week": "KW 11/2026",
        "as_of": "2026-03-09",
        "total": 5,
        "counts": counts(abstimmung=1, bearbeitung=2, eingereicht=2),
        "new_submissions": [
            {
                "proposal": pp["new"],
                "title": "Neues Vorhaben der Woche",
                "organisation": "Kompetenzzentrum Bio-Security GmbH",
                "at": berlin(2026, 3, 3, 10).isoformat(),
            },
            {
                "proposal": pp["vm"],
                "title": "Verkehrsvorhaben",
                "organisation": "Kompetenzzentrum Bio-Security GmbH",
                "at": berlin(2026, 3, 5, 12).isoformat(),
            },
        ],
        "changes": [
            {
                "proposal": pp["changes"],
                "title": "Vorhaben mit Änderungswunsch",
                "from_label": "in Abstimmung",
                "to_label": "in Bearbeitung",
                "at": berlin(2026, 3, 4, 11).isoformat(),
            },
            {
                "proposal": pp["vm"],
                "title": "Verkehrsvorhaben",
                "from_label": "eingereicht",
                "to_label": "in Bearbeitung",
                "at": berlin(2026, 3, 5, 12).isoformat(),
            },
        ],
        "overdue": [
            {
                "proposal": pp["old"],
                "title": "Altes Vorhaben ohne Bearbeitung",
                "what": "eingereicht, noch nicht aufgegriffen",
                "days": 35,
                "owed_by": "Arbeitsstab",
            },
            {
                "proposal": pp["coord"],
                "title": "Vorhaben in Abstimmung",
                "what": "Zustimmung zu „Anerkennen“ steht aus",
                "days": 17,
                "owed_by": "Ressort MWIDE",
            },
        ],
        "next_steps": [
            {
                "proposal": pp["old"],
                "title": "Altes Vorhaben ohne Bearbeitung",
                "status_label": "eingereicht",
                "owed_by": "Arbeitsstab",
                "days": 35,
            },
            {
                "proposal": pp["coord"],
                "title": "Vorhaben in Abstimmung",
                "status_label": "in Abstimmung",
                "owed_by": "Ressort MWIDE: Zustimmung zu „Anerkennen“ fehlt",
                "days": 35,
            },
            {
                "proposal": pp["new"],
                "title": "Neues Vorhaben der Woche",
                "status_label": "eingereicht",
                "owed_by": "Arbeitsstab",
                "days": 6,
            },
            {
                "proposal": pp["changes"],
                "title": "Vorhaben mit Änderungswunsch",
                "status_label": "in Bearbeitung",
                "owed_by": "Partner",
                "days": 5,
            },
            {
                "proposal": pp["vm"],
                "title": "Verkehrsvorhaben",
                "status_label": "in Bearbeitung",
                "owed_by": "Partner",
                "days": 4,
            },
        ],
        "reports_owed": [],
        "reports_overdue": [],
    }
    assert context(db, f"digest:{KW11}:{STAB2}")["person_name"] == "Bernd Stab"


def test_who_gets_a_digest_and_who_does_not(
    services: Services, db: Database, settings: Settings, clock: Clock
) -> None:
    build_history(services, clock)
    set_digest_opt_out(db, MWIDE2, True)
    report = run_digests(db, settings)
    assert [(m.kind, m.recipient_email) for m in report.mails] == [
        ("digest.arbeitsstab", STAB),
        ("digest.arbeitsstab", STAB2),
        ("digest.ressort", MWIDE),
        ("digest.ressort", VM),
    ]
    assert [(s.email, s.reason) for s in report.skipped] == [(MWIDE2, OPT_OUT), (MKW, EMPTY)]
    assert {r for _, r, _ in mails(db, "digest.")} == {STAB, STAB2, MWIDE, VM}
    assert PARTNER not in {r for _, r, _ in mails(db, "digest.")}
    assert report.mails[2].summary == {
        "awaiting": 1,
        "new_responsibilities": 0,
        "changes": 1,
        "reports_overdue": 0,
        "overdue": 1,
        "reports_owed": 0,
    }
    assert report.to_json()["empty"] == 1 and report.to_json()["opted_out"] == 1


def test_opt_out_leaves_decisions_untouched(
    services: Services, db: Database, settings: Settings, clock: Clock
) -> None:
    ids = build_history(services, clock)
    assert set_digest_opt_out(db, MWIDE, True).changed
    assert not set_digest_opt_out(db, MWIDE, True).changed
    run_digests(db, settings)
    assert MWIDE not in {r for _, r, _ in mails(db, "digest.")}
    services.transition(ids["coord"], Event.RECOGNISE, MWIDE, EventInput())  # the decision still reaches them
    assert ("recognise.ressort", MWIDE) in {(k, r) for k, r, _ in mails(db, "recognise.")}
    set_digest_opt_out(db, MWIDE, False)
    assert [m.recipient_email for m in run_digests(db, settings, only_to=MWIDE).mails] == [MWIDE]


def test_opt_out_of_an_unknown_or_a_partner(services: Services, db: Database) -> None:
    with pytest.raises(NotFound):
        set_digest_opt_out(db, "niemand@example.org", True)
    with pytest.raises(ValidationError, match="Wochenüberblick"):
        set_digest_opt_out(db, PARTNER, True)


def test_only_to_one_person(services: Services, db: Database, settings: Settings, clock: Clock) -> None:
    build_history(services, clock)
    report = run_digests(db, settings, only_to=f"  {VM.upper()} ")
    assert [m.recipient_email for m in report.mails] == [VM]
    assert [r for _, r, _ in mails(db, "digest.")] == [VM]
    with pytest.raises(NotFound, match="niemand@example.org"):
        run_digests(db, settings, only_to="niemand@example.org")
    with pytest.raises(ValidationError, match="Partner"):
        run_digests(db, settings, only_to=PARTNER)
    assert not run_digests(db, settings, only_to=MKW).mails  # empty: skipped, not queued


def test_once_per_person_and_iso_week(
    services: Services, db: Database, settings: Settings, clock: Clock
) -> None:
    build_history(services, clock)
    first = run_digests(db, settings)
    assert first.queued == 5
    assert sorted(k for _, _, k in mails(db, "digest.")) == sorted(
        f"digest:{KW11}:{m}" for m in (STAB, STAB2, MWIDE, MWIDE2, VM)
    )
    again = run_digests(db, settings, as_of=dt.date(2026, 3, 13))  # a Friday of the same week
    assert (again.week, again.queued, again.already_queued) == (KW11, 0, 5)
    clock.advance(days=7)
    later = run_digests(db, settings)  # the next Monday: a new week, a new key
    assert later.week == "2026-W12"
    assert all(m.key.startswith("digest:2026-W12:") for m in later.mails)
    # No event in the past week: what is overdue (Arbeitsstab) or awaits approval (MWIDE) is still worth it.
    assert [m.recipient_email for m in later.mails] == [STAB, STAB2, MWIDE, MWIDE2]
    assert [(s.email, s.reason) for s in later.skipped] == [(MKW, EMPTY), (VM, EMPTY)]


def test_a_scheduler_moment_counts_as_its_day(
    services: Services, db: Database, settings: Settings, clock: Clock
) -> None:
    build_history(services, clock)
    report = run_digests(db, settings, as_of=dt.datetime(2026, 3, 8, 23, 30, tzinfo=dt.UTC), dry_run=True)
    assert (report.week, report.as_of) == (KW11, dt.date(2026, 3, 9))  # 00:30 in Berlin


def test_dry_run_writes_nothing(services: Services, db: Database, settings: Settings, clock: Clock) -> None:
    build_history(services, clock)
    before = outbox_count(db)
    trial = run_digests(db, settings, dry_run=True)
    assert trial.queued == 5 and {m.status for m in trial.mails} == {"would_queue"}
    assert outbox_count(db) == before
    assert run_digests(db, settings).queued == 5
    assert outbox_count(db) == before + 5


def test_empty_digests_are_not_queued(
    services: Services, db: Database, settings: Settings, clock: Clock
) -> None:
    clock.now = berlin(2026, 2, 2, 9)
    pid = submit(services)
    services.transition(pid, Event.TAKE_UP, STAB, EventInput())
    clock.now = berlin(2026, 3, 9, 7)
    report = run_digests(db, settings)
    assert report.mails == []
    assert {s.reason for s in report.skipped} == {EMPTY}
    assert len(report.skipped) == 6
    assert mails(db, "digest.") == []


def test_week_boundary_is_monday_0700_berlin(
    services: Services, db: Database, settings: Settings, clock: Clock
) -> None:
    clock.now = berlin(2026, 3, 9, 6, 59)
    before = submit(services, "Kurz vor sieben")
    clock.now = berlin(2026, 3, 9, 7, 0)
    after = submit(services, "Punkt sieben")
    kw11 = run_digests(db, settings, dry_run=True, only_to=STAB)
    kw12 = run_digests(db, settings, as_of=dt.date(2026, 3, 16), dry_run=True, only_to=STAB)
    assert kw11.mails[0].summary["new_submissions"] == 1
    assert kw12.mails[0].summary["new_submissions"] == 1
    run_digests(db, settings, only_to=STAB)
    run_digests(db, settings, as_of=dt.date(2026, 3, 16), only_to=STAB)
    assert [s["proposal"] for s in context(db, f"digest:{KW11}:{STAB}")["new_submissions"]] == [
        format_id(before)
    ]
    assert [s["proposal"] for s in context(db, f"digest:2026-W12:{STAB}")["new_submissions"]] == [
        format_id(after)
    ]
