"""Import: one transaction per proposal, refusals named, invalid files change nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select

from partnerprojekte.db.engine import Database
from partnerprojekte.db.schema import OutboxRow, ProposalRow, UserRow
from partnerprojekte.errors import ValidationError
from partnerprojekte.importer import run_import
from partnerprojekte.reading.queries import history, verify
from partnerprojekte.services import Services
from tests.helpers import proposal_doc

STAB = "a.stab@stk.nrw.example"
MWIDE = "c.ostermann@mwide.nrw.example"
PARTNER = "kontakt@bio-security.example.de"


def import_file(*proposals: dict[str, Any]) -> bytes:
    return json.dumps(
        {
            "users": [
                {"email": STAB, "name": "Anna Stab", "role": "arbeitsstab"},
                {"email": MWIDE, "name": "Carla Ostermann", "role": "ressort", "ressort": "MWIDE"},
                {
                    "email": PARTNER,
                    "name": "Kai Kontakt",
                    "role": "partner",
                    "organisation": "Kompetenzzentrum Bio-Security GmbH",
                },
            ],
            "proposals": list(proposals),
        }
    ).encode()


def entry(title: str, events: list[dict[str, Any]], at: str = "2020-02-03T10:00:00+01:00") -> dict[str, Any]:
    return {
        "proposal": proposal_doc(title=title),
        "submitted_by": PARTNER,
        "submitted_at": at,
        "events": events,
    }


RECOGNISED = [
    {"event": "take_up", "by": STAB, "at": "2020-02-20T09:00:00+01:00"},
    {"event": "assign_ressort", "ressort": "MWIDE", "by": STAB, "at": "2020-02-21T09:00:00+01:00"},
    {"event": "start_coordination", "by": STAB, "at": "2020-03-01T09:00:00+01:00"},
    {"event": "recognise", "by": MWIDE, "at": "2021-03-01T09:00:00+01:00", "comment": "Zustimmung MWIDE"},
    {"event": "recognise", "by": STAB, "at": "2021-03-02T09:00:00+01:00"},
]


def count(db: Database, model: Any) -> int:
    with db.read() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def test_history_is_replayed_with_its_timestamps(services: Services, db: Database) -> None:
    result = run_import(services, import_file(entry("Anerkanntes Vorhaben Ruhr", RECOGNISED)))
    assert result.users_added == 3
    [item] = result.imported
    assert item["status"] == "anerkannt" and item["events"] == 5
    entries = history(db, int(item["id"][3:]))
    assert [e["event"] for e in entries] == [
        "submit",
        "take_up",
        "assign_ressort",
        "start_coordination",
        "approve",
        "recognise",
    ]
    assert entries[-1]["at"].startswith("2021-03-02T08:00:00")
    with db.read() as s:
        assert set(s.scalars(select(OutboxRow.status))) == {"suppressed"}  # history is never mailed
    assert verify(db)["ok"]


def test_a_refused_event_aborts_only_its_proposal(services: Services, db: Database) -> None:
    bad_events = [{"event": "recognise", "by": STAB, "at": "2020-02-20T09:00:00+01:00"}]
    result = run_import(
        services,
        import_file(
            entry("Gutes Vorhaben eins", RECOGNISED),
            entry("Schlechtes Vorhaben", bad_events),
            entry("Gutes Vorhaben zwei", RECOGNISED[:1]),
        ),
    )
    assert [i["title"] for i in result.imported] == ["Gutes Vorhaben eins", "Gutes Vorhaben zwei"]
    [refused] = result.refused
    assert refused["index"] == 1 and refused["event"] == "recognise" and refused["event_index"] == 0
    assert "„Schlechtes Vorhaben“" in refused["message"]
    assert "Ereignis 1 (recognise" in refused["message"]
    assert "„eingereicht“ nicht möglich" in refused["message"]
    with db.read() as s:
        titles = set(s.scalars(select(ProposalRow.title)))
    assert titles == {"Gutes Vorhaben eins", "Gutes Vorhaben zwei"}
    assert verify(db)["ok"]


def test_reimport_skips_what_is_there(services: Services) -> None:
    data = import_file(entry("Gutes Vorhaben eins", RECOGNISED))
    run_import(services, data)
    again = run_import(services, data)
    assert again.imported == [] and again.users_added == 0
    assert "bereits importiert" in again.skipped[0]["message"]


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda d: d["proposals"][0]["proposal"].update(titel="x"), "proposals[0].proposal.titel"),
        (lambda d: d["proposals"][0]["events"][0].update(event="anerkennen"), "proposals[0].events[0].event"),
        (lambda d: d["proposals"][0].update(submitted_at="gestern"), "proposals[0].submitted_at"),
        (lambda d: d["users"][0].update(role="chef"), "users[0].role"),
        (lambda d: d.update(extra=1), "extra"),
    ],
)
def test_invalid_file_changes_nothing(services: Services, db: Database, change: Any, path: str) -> None:
    doc = json.loads(import_file(entry("Gutes Vorhaben eins", RECOGNISED)))
    change(doc)
    with pytest.raises(ValidationError) as invalid:
        run_import(services, json.dumps(doc).encode())
    assert any(e.path == path for e in invalid.value.errors), invalid.value.render()
    assert count(db, ProposalRow) == 0 and count(db, UserRow) == 0


def test_events_out_of_time_order_are_refused(services: Services, db: Database) -> None:
    events = [dict(e) for e in RECOGNISED]
    events[2]["at"] = "2019-12-31T09:00:00+01:00"  # before the submission and the earlier events
    with pytest.raises(ValidationError) as invalid:
        run_import(services, import_file(entry("Vorhaben mit falscher Zeit", events)))
    assert [e.path for e in invalid.value.errors] == ["proposals[0].events[2].at"]
    assert "zeitlicher Reihenfolge" in invalid.value.render()
    assert count(db, ProposalRow) == 0
