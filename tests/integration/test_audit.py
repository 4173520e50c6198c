"""The audit chain detects an edited, deleted or reordered row; the log reconstructs past reports."""

from __future__ import annotations

import datetime as dt
from importlib.resources import files

import pytest
from sqlalchemy import delete, select, update

from partnerprojekte.db.engine import Database
from partnerprojekte.db.schema import AuditRow
from partnerprojekte.formats import proposal_from_document
from partnerprojekte.importer import run_import
from partnerprojekte.model import Event, Role
from partnerprojekte.reading.queries import report, verify
from partnerprojekte.services import Services
from partnerprojekte.states.workflow import EventInput
from tests.helpers import proposal_doc

STAB = "a.stab@stk.nrw.example"
PARTNER = "kontakt@bio-security.example.de"


@pytest.fixture
def chain(services: Services) -> int:
    """A proposal with four audit entries."""
    services.add_user(STAB, "Anna Stab", Role.ARBEITSSTAB)
    services.add_user(PARTNER, "Kai Kontakt", Role.PARTNER, organisation="Kompetenzzentrum Bio-Security GmbH")
    pid = services.submit(proposal_from_document(proposal_doc()), PARTNER).proposal_id
    services.transition(pid, Event.TAKE_UP, STAB, EventInput())
    services.assign_ressort(pid, "MWIDE", STAB)
    services.transition(pid, Event.START_COORDINATION, STAB, EventInput())
    # A second, untouched proposal must stay valid whatever happens to the first.
    services.submit(proposal_from_document(proposal_doc(title="Zweiter Vorschlag")), PARTNER)
    return pid


def tamper(db: Database, statement: object) -> None:
    with db.write() as s:
        s.execute(statement)  # type: ignore[call-overload]


def broken(db: Database) -> list[dict[str, object]]:
    result = verify(db)
    assert result["ok"] is (not result["broken"])
    return result["broken"]  # type: ignore[no-any-return]


def test_untouched_chain_verifies(db: Database, chain: int) -> None:
    result = verify(db)
    assert {k: result[k] for k in ("ok", "proposals", "entries", "broken")} == {
        "ok": True,
        "proposals": 2,
        "entries": 5,
        "broken": [],
    }
    assert result["user_broken"] is None


def test_edited_row(db: Database, chain: int) -> None:
    tamper(
        db,
        update(AuditRow)
        .where(AuditRow.proposal_id == chain, AuditRow.seq == 2)
        .values(actor_email="x@y.example"),
    )
    [problem] = broken(db)
    assert (problem["proposal_id"], problem["seq"]) == (chain, 2)
    assert problem["problem"] == "Inhalt verändert (Hash passt nicht)"


def test_edited_row_with_recomputed_hash_breaks_the_next_link(db: Database, chain: int) -> None:
    from partnerprojekte.db.audit import HASHED_FIELDS, row_hash

    with db.write() as s:
        row = s.scalar(select(AuditRow).where(AuditRow.proposal_id == chain, AuditRow.seq == 2))
        assert row is not None
        row.comment = "nachträglich eingefügt"
        row.hash = row_hash({k: getattr(row, k) for k in HASHED_FIELDS})
    [problem] = broken(db)
    assert problem["seq"] == 3
    assert "Verkettung" in str(problem["problem"])


def test_deleted_middle_row(db: Database, chain: int) -> None:
    tamper(db, delete(AuditRow).where(AuditRow.proposal_id == chain, AuditRow.seq == 2))
    [problem] = broken(db)
    assert problem["seq"] == 3
    assert "Eintrag Nr. 2 fehlt" in str(problem["problem"])


def test_deleted_last_row(db: Database, chain: int) -> None:
    tamper(db, delete(AuditRow).where(AuditRow.proposal_id == chain, AuditRow.seq == 4))
    [problem] = broken(db)
    assert "endet bei Eintrag Nr. 3" in str(problem["problem"])


def test_reordered_rows(db: Database, chain: int) -> None:
    tamper(db, update(AuditRow).where(AuditRow.proposal_id == chain, AuditRow.seq == 2).values(seq=99))
    tamper(db, update(AuditRow).where(AuditRow.proposal_id == chain, AuditRow.seq == 3).values(seq=2))
    tamper(db, update(AuditRow).where(AuditRow.proposal_id == chain, AuditRow.seq == 99).values(seq=3))
    [problem] = broken(db)
    assert problem["proposal_id"] == chain and problem["seq"] == 2


def test_scenario_reproduces_the_2021_counts(services: Services, db: Database) -> None:
    data = files("partnerprojekte.demo").joinpath("scenario.yaml").read_bytes()
    result = run_import(services, data, source="scenario.yaml")
    assert result.refused == [] and len(result.imported) == 26
    stand = report(db, as_of=dt.date(2021, 10, 31))
    assert stand["by_status"] == {
        "eingereicht": 0,
        "in_bearbeitung": 10,
        "in_abstimmung": 10,
        "anerkannt": 2,
        "nicht_weiterverfolgt": 2,
        "in_saeule_1_integriert": 2,
        "zurueckgezogen": 0,
    }
    assert stand["total"] == 26
    assert report(db, as_of=dt.date(2019, 12, 31))["total"] == 0
    # Before the first recognition (IHK-Netzwerk, March 2021) nothing was recognised yet.
    early = report(db, as_of=dt.date(2020, 12, 31))
    assert early["by_status"]["anerkannt"] == 0
    assert 0 < early["total"] <= 26
    assert verify(db)["ok"]
    # A second import of the same file changes nothing.
    again = run_import(services, data, source="scenario.yaml")
    assert again.imported == [] and len(again.skipped) == 26
