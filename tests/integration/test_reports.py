"""Life after recognition on a real database (SQLite and PostgreSQL): rounds, progress reports, portraits."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from sqlalchemy import select

from partnerprojekte.db import reports as rdb
from partnerprojekte.db.engine import Database
from partnerprojekte.db.schema import AuditRow, CommentRow, OutboxRow, ProposalRow
from partnerprojekte.errors import ConflictError, NotFound, TransitionRefused, ValidationError
from partnerprojekte.model import Event, Role, State
from partnerprojekte.reading.queries import verify
from partnerprojekte.reading.reports import (
    list_reports,
    list_rounds,
    portrait_diff,
    show_portrait,
    show_report,
)
from partnerprojekte.services import Services
from partnerprojekte.states.report_table import ReportEvent as RE
from partnerprojekte.states.workflow import EventInput
from tests.integration.test_services import to_coordination
from tests.people import MWIDE, PARTNER, STAB, VM

pytestmark = pytest.mark.usefixtures("people")

CO = "mitpartner@zbz-witten.example.de"
STICHTAG, DUE = dt.date(2026, 10, 31), dt.date(2026, 9, 15)


def recognised(services: Services) -> int:
    pid = to_coordination(services)
    services.transition(pid, Event.RECOGNISE, MWIDE, EventInput())
    services.transition(pid, Event.RECOGNISE, STAB, EventInput())
    return pid


def complete_entries(**changed: Any) -> dict[str, Any]:
    """Every required section marked unchanged, the given ones changed with their value."""
    required = ["ziel", "mehrwert", "vorgehen", "nutzen_fuer", "juengste_entwicklung", "aktueller_stand"]
    required += ["ausblick", "meilensteine", "akteure", "zielgruppen"]
    entries: dict[str, Any] = {s: {"markierung": "unveraendert"} for s in required}
    for section, value in changed.items():
        entries[section] = {"markierung": "geaendert", "inhalt": value}
    return entries


def audit_events(db: Database, pid: int) -> list[str]:
    with db.read() as s:
        return list(
            s.scalars(select(AuditRow.event).where(AuditRow.proposal_id == pid).order_by(AuditRow.seq))
        )


def kinds(db: Database, pid: int) -> list[str]:
    with db.read() as s:
        query = select(OutboxRow.kind).where(OutboxRow.proposal_id == pid).order_by(OutboxRow.id)
        found = [k for k in s.scalars(query) if "report" in k]
    return [k for k, _ in itertools.groupby(found)]  # a Ressort's mail goes to each of its reviewers


def test_a_round_makes_each_recognised_project_owe_a_report_with_a_prefilled_portrait(
    services: Services, db: Database
) -> None:
    pid = recognised(services)
    other = to_coordination(services)  # not recognised: owes nothing
    opened = services.open_round(2026, "Fortschrittsbericht 2026", STICHTAG, DUE, STAB)
    assert opened.owed == [pid]
    assert show_report(db, pid, 2026)["status"] == "offen"
    with pytest.raises(NotFound, match="keine Meldung"):
        show_report(db, other, 2026)
    portrait = show_portrait(db, pid)
    assert portrait["version"] == 1 and portrait["umsetzungsstand"] == "in_umsetzung"
    assert portrait["inhalt"]["ziel"].endswith(".") and portrait["inhalt"]["akteure"]
    assert audit_events(db, pid)[-1] == "open_report"
    with db.read() as s:
        row = s.get(ProposalRow, pid)
        assert row is not None and row.status is State.ANERKANNT  # the qualification state stays
    assert list_rounds(db)[0]["meldungen"] == {"offen": 1}
    assert verify(db)["ok"]
    with pytest.raises(ConflictError, match="bereits eröffnet"):
        services.open_round(2026, "Noch einmal", STICHTAG, DUE, STAB)


@pytest.mark.parametrize(
    ("year", "name", "due", "field"),
    [(1999, "R", DUE, "jahr"), (2026, " ", DUE, "name"), (2026, "R", dt.date(2026, 11, 1), "abgabe_bis")],
)
def test_a_round_with_bad_input_names_the_field_and_changes_nothing(
    services: Services, db: Database, year: int, name: str, due: dt.date, field: str
) -> None:
    recognised(services)
    with pytest.raises(ValidationError) as refused:
        services.open_round(year, name, STICHTAG, due, STAB)
    assert [e.path for e in refused.value.errors] == [field]
    assert list_rounds(db) == []


def test_only_the_arbeitsstab_opens_a_round(services: Services, db: Database) -> None:
    recognised(services)
    for who in (PARTNER, MWIDE):
        with pytest.raises(TransitionRefused) as refused:
            services.open_round(2026, "R", STICHTAG, DUE, who)
        assert refused.value.reason == "role"
    assert list_rounds(db) == []


def test_the_whole_path_with_a_return_writes_versions_audit_and_mail(
    services: Services, db: Database
) -> None:
    pid = recognised(services)
    services.open_round(2026, "Fortschrittsbericht 2026", STICHTAG, DUE, STAB)
    draft = services.report_event(
        pid,
        2026,
        RE.SAVE_DRAFT,
        PARTNER,
        entries={"aktueller_stand": {"markierung": "geaendert", "inhalt": "Das Netzwerk hat 40 Betriebe."}},
    )
    assert draft.state == "entwurf"
    with pytest.raises(TransitionRefused) as incomplete:
        services.report_event(pid, 2026, RE.SUBMIT_REPORT, PARTNER)
    assert incomplete.value.rule == "sections_complete" and "„Mehrwert“" in str(incomplete.value)
    services.report_event(
        pid,
        2026,
        RE.SAVE_DRAFT,
        PARTNER,
        entries=complete_entries(aktueller_stand="Das Netzwerk hat 40 Betriebe."),
    )
    submitted = services.report_event(pid, 2026, RE.SUBMIT_REPORT, PARTNER, umsetzungsstand="in_umsetzung")
    assert (submitted.state, submitted.portrait_version) == ("eingereicht", 2)
    # VM is not responsible; MWIDE is.
    with pytest.raises(TransitionRefused):
        services.report_event(pid, 2026, RE.APPROVE_REPORT, VM)
    back = services.report_event(
        pid,
        2026,
        RE.RETURN_REPORT,
        MWIDE,
        comment="Bitte die Meilensteine 2026 ergänzen.",
        sections=["meilensteine"],
    )
    assert back.state == "zurueckgegeben" and back.returned == ["meilensteine"]
    with pytest.raises(TransitionRefused) as unrevised:
        services.report_event(pid, 2026, RE.SUBMIT_REPORT, PARTNER)
    assert unrevised.value.rule == "returned_sections_revised"
    milestones = [{"jahr": 2026, "text": "40 Betriebe im Netzwerk", "erreicht_am": "2026-06-01"}]
    services.report_event(
        pid,
        2026,
        RE.SAVE_DRAFT,
        PARTNER,
        entries={"meilensteine": {"markierung": "geaendert", "inhalt": milestones}},
    )
    again = services.report_event(pid, 2026, RE.SUBMIT_REPORT, PARTNER)
    assert again.portrait_version == 3
    services.report_event(pid, 2026, RE.APPROVE_REPORT, MWIDE)
    accepted = services.report_event(pid, 2026, RE.ACCEPT_REPORT, STAB)
    assert accepted.state == "angenommen"
    portrait = show_portrait(db, pid)
    assert portrait["version"] == 3
    assert portrait["inhalt"]["aktueller_stand"] == "Das Netzwerk hat 40 Betriebe."
    assert portrait["inhalt"]["meilensteine"] == milestones
    assert [v["nummer"] for v in portrait["versionen"]] == [1, 2, 3]
    diff = portrait_diff(db, pid, 1, 3)
    assert {d["abschnitt"] for d in diff} == {"aktueller_stand", "meilensteine"}
    assert any(line.startswith("+") and "40 Betriebe" in line for d in diff for line in d["zeilen"])
    # Locked once accepted.
    with pytest.raises(TransitionRefused, match="angenommen und gesperrt"):
        services.report_event(pid, 2026, RE.SAVE_DRAFT, PARTNER, entries=complete_entries())
    assert audit_events(db, pid)[-9:] == [
        "open_report",
        "save_draft",
        "save_draft",
        "submit_report",
        "return_report",
        "save_draft",
        "submit_report",
        "approve_report",
        "accept_report",
    ]
    assert kinds(db, pid) == [
        "submit_report.partner",
        "submit_report.ressort",
        "return_report.partner",
        "return_report.arbeitsstab",
        "submit_report.partner",
        "submit_report.ressort",
        "approve_report.arbeitsstab",
        "accept_report.partner",
        "accept_report.ressort",
    ]
    with db.read() as s:
        comment = s.scalars(select(CommentRow).where(CommentRow.event == "return_report")).one()
        assert comment.visibility.value == "partner"
    assert verify(db)["ok"]
    assert list_reports(db, 2026)[0]["status"] == "angenommen"


def test_a_refused_report_event_changes_nothing(services: Services, db: Database) -> None:
    pid = recognised(services)
    services.open_round(2026, "R", STICHTAG, DUE, STAB)
    before = audit_events(db, pid)
    bad = {"ziel": {"markierung": "vielleicht"}, "unsinn": {"markierung": "geaendert"}}
    with pytest.raises(ValidationError) as refused:
        services.report_event(pid, 2026, RE.SAVE_DRAFT, PARTNER, entries=bad)
    assert [e.path for e in refused.value.errors] == ["abschnitte.ziel.markierung", "abschnitte.unsinn"]
    with pytest.raises(ValidationError, match="umsetzungsstand"):
        services.report_event(
            pid, 2026, RE.SAVE_DRAFT, PARTNER, entries=complete_entries(), umsetzungsstand="90 %"
        )
    with pytest.raises(NotFound, match="Berichtsrunde 2030"):
        services.report_event(pid, 2030, RE.SAVE_DRAFT, PARTNER, entries=complete_entries())
    services.add_user("admin@stk.nrw.example", "Ada Admin", Role.ADMIN)
    with pytest.raises(TransitionRefused) as admin:
        services.report_event(pid, 2026, RE.SAVE_DRAFT, "admin@stk.nrw.example", entries=complete_entries())
    assert admin.value.reason == "role"
    assert audit_events(db, pid) == before
    assert show_report(db, pid, 2026)["status"] == "offen"


def test_an_invited_co_partner_may_draft_but_not_submit(services: Services, db: Database) -> None:
    pid = recognised(services)
    services.add_user(CO, "Zora Zentrum", Role.PARTNER, organisation="ZBZ Witten")
    services.open_round(2026, "R", STICHTAG, DUE, STAB)
    with pytest.raises(TransitionRefused):
        services.report_event(pid, 2026, RE.SAVE_DRAFT, CO, entries=complete_entries())
    with pytest.raises(TransitionRefused):
        services.invite_contributor(pid, CO, CO)  # not the lead partner
    services.invite_contributor(pid, CO, PARTNER)
    with pytest.raises(ConflictError):
        services.invite_contributor(pid, CO, PARTNER)
    with pytest.raises(ValidationError, match="nur Partner"):
        services.invite_contributor(pid, MWIDE, PARTNER)
    assert services.report_event(pid, 2026, RE.SAVE_DRAFT, CO, entries=complete_entries()).state == "entwurf"
    with pytest.raises(TransitionRefused) as refused:
        services.report_event(pid, 2026, RE.SUBMIT_REPORT, CO)
    assert refused.value.reason == "role"


def test_a_completed_project_keeps_its_portrait_and_owes_no_more_reports(
    services: Services, db: Database
) -> None:
    pid = recognised(services)
    services.set_project_code(pid, "UN-NEU", STAB)
    with pytest.raises(TransitionRefused):
        services.complete_project(pid, PARTNER, "Fertig.")
    with pytest.raises(ValidationError, match="Begründung"):
        services.complete_project(pid, STAB, "  ")
    services.complete_project(pid, STAB, "Die Plattform läuft im Regelbetrieb.")
    with pytest.raises(ConflictError):
        services.complete_project(pid, STAB, "Noch einmal.")
    portrait = show_portrait(db, pid)
    assert (portrait["projekt_id"], portrait["umsetzungsstand"]) == ("UN-NEU", "abgeschlossen")
    assert services.open_round(2027, "R", dt.date(2027, 10, 31), dt.date(2027, 9, 15), STAB).owed == []
    assert verify(db)["ok"]


def test_steps_on_a_project_not_recognised_are_refused(services: Services) -> None:
    pid = to_coordination(services)
    for step in (
        lambda: services.set_project_code(pid, "X-1", STAB),
        lambda: services.complete_project(pid, STAB, "Fertig."),
        lambda: services.invite_contributor(pid, PARTNER, STAB),
    ):
        with pytest.raises(TransitionRefused) as refused:
            step()
        assert refused.value.reason == "state"


def test_two_openings_of_one_round_at_once_end_in_a_conflict(
    services: Services, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    recognised(services)
    services.open_round(2026, "R", STICHTAG, DUE, STAB)
    # The second opening did not see the first (it read before the first committed): the unique year
    # stops it in the database, and it reports a conflict instead of a database error.
    monkeypatch.setattr(rdb, "find_round", lambda conn, year: None)
    with pytest.raises(ConflictError, match="bereits eröffnet"):
        services.open_round(2026, "R", STICHTAG, DUE, STAB)
    monkeypatch.undo()
    assert [r["jahr"] for r in list_rounds(db)] == [2026]


def test_a_yaml_date_in_a_milestone_is_stored_as_its_iso_text(services: Services, db: Database) -> None:
    pid = recognised(services)
    services.open_round(2026, "R", STICHTAG, DUE, STAB)
    milestones = [{"jahr": 2026, "text": "Start", "erreicht_am": dt.date(2026, 2, 1)}]
    entries = complete_entries(meilensteine=milestones)
    services.report_event(pid, 2026, RE.SAVE_DRAFT, PARTNER, entries=entries)
    stored = show_report(db, pid, 2026)["abschnitte"]["meilensteine"]["inhalt"]
    assert stored == [{"jahr": 2026, "text": "Start", "erreicht_am": "2026-02-01"}]
    assert services.report_event(pid, 2026, RE.SUBMIT_REPORT, PARTNER).state == "eingereicht"


def test_sending_a_returned_section_back_unchanged_is_no_revision(services: Services, db: Database) -> None:
    pid = recognised(services)
    services.open_round(2026, "R", STICHTAG, DUE, STAB)
    entries = complete_entries(aktueller_stand="Stand A.")
    services.report_event(pid, 2026, RE.SAVE_DRAFT, PARTNER, entries=entries)
    services.report_event(pid, 2026, RE.SUBMIT_REPORT, PARTNER)
    services.report_event(
        pid, 2026, RE.RETURN_REPORT, MWIDE, comment="Bitte ergänzen.", sections=["aktueller_stand"]
    )
    services.report_event(pid, 2026, RE.SAVE_DRAFT, PARTNER, entries=entries)  # the same text again
    with pytest.raises(TransitionRefused) as refused:
        services.report_event(pid, 2026, RE.SUBMIT_REPORT, PARTNER)
    assert refused.value.rule == "returned_sections_revised"
    services.report_event(
        pid, 2026, RE.SAVE_DRAFT, PARTNER, entries=complete_entries(aktueller_stand="Stand B.")
    )
    assert services.report_event(pid, 2026, RE.SUBMIT_REPORT, PARTNER).state == "eingereicht"
