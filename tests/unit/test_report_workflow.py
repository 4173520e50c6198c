"""The progress-report machine: each row of its table, its guards and its refusals, without IO."""

from __future__ import annotations

from dataclasses import replace

import pytest

from partnerprojekte.errors import TransitionRefused
from partnerprojekte.model import Role
from partnerprojekte.portrait import (
    OPTIONAL_SECTIONS,
    Mark,
    Section,
    SectionEntry,
    TargetGroup,
    Umsetzungsstand,
    apply_entries,
    section_problem,
)
from partnerprojekte.states.engine import triggers
from partnerprojekte.states.facts import Actor
from partnerprojekte.states.report_table import (
    REPORT_TRANSITIONS,
    ReportEvent,
    ReportGuard,
    ReportState,
)
from partnerprojekte.states.report_workflow import (
    ReportFacts,
    ReportInput,
    allowed_report_events,
    decide_report,
    report_machine,
)

RS, RE = ReportState, ReportEvent
ORG = "IHK zu Dortmund"
PARTNER = Actor(1, "kontakt@ihk.example", "Petra Partner", Role.PARTNER, organisation=ORG)
CO_PARTNER = Actor(2, "co@hwk.example", "Carl Ko", Role.PARTNER, organisation="Handwerkskammer Dortmund")
OTHER_PARTNER = Actor(3, "x@other.example", "Fremd", Role.PARTNER, organisation="Andere GmbH")
STAB = Actor(4, "stab@stk.example", "Jürgen Hein", Role.ARBEITSSTAB)
VM = Actor(5, "vm@example.org", "Volker Verkehr", Role.RESSORT, ressort="VM")
MWIDE = Actor(6, "mwide@example.org", "Maria Wirtschaft", Role.RESSORT, ressort="MWIDE")
ADMIN = Actor(7, "admin@example.org", "Ada Admin", Role.ADMIN)

COMPLETE = {
    s: SectionEntry(Mark.UNVERAENDERT)
    for s in Section
    if s not in OPTIONAL_SECTIONS and s is not Section.AUSBLICK
} | {Section.AUSBLICK: SectionEntry(Mark.GEAENDERT, {"jahr": 2023, "text": "Die zweite Runde folgt."})}


def report(state: ReportState, **changes: object) -> ReportFacts:
    facts = ReportFacts(state, ORG, "VM", COMPLETE, contributors=frozenset({CO_PARTNER.user_id}))
    return replace(facts, **changes)  # type: ignore[arg-type]


def reached(
    facts: ReportFacts, event: ReportEvent, actor: Actor, inp: ReportInput | None = None
) -> ReportState:
    return decide_report(facts, event, actor, inp or ReportInput()).to_state


def refusal(
    facts: ReportFacts, event: ReportEvent, actor: Actor, inp: ReportInput | None = None
) -> TransitionRefused:
    with pytest.raises(TransitionRefused) as refused:
        decide_report(facts, event, actor, inp or ReportInput())
    return refused.value


DRAFT = ReportInput(has_entries=True)
COMMENT = ReportInput(comment="Bitte den Stand 2022 ergänzen.")


def test_the_whole_path_from_owed_to_accepted() -> None:
    assert reached(report(RS.OFFEN), RE.SAVE_DRAFT, PARTNER, DRAFT) is RS.ENTWURF
    assert reached(report(RS.ENTWURF), RE.SAVE_DRAFT, PARTNER, DRAFT) is RS.ENTWURF
    assert reached(report(RS.ENTWURF), RE.SUBMIT_REPORT, PARTNER) is RS.EINGEREICHT
    assert reached(report(RS.EINGEREICHT), RE.APPROVE_REPORT, VM) is RS.GEPRUEFT
    assert reached(report(RS.GEPRUEFT), RE.ACCEPT_REPORT, STAB) is RS.ANGENOMMEN


def test_returned_by_the_ressort_or_later_by_the_arbeitsstab_with_a_comment() -> None:
    assert reached(report(RS.EINGEREICHT), RE.RETURN_REPORT, VM, COMMENT) is (RS.ZURUECKGEGEBEN)
    assert reached(report(RS.GEPRUEFT), RE.RETURN_REPORT, STAB, COMMENT) is (RS.ZURUECKGEGEBEN)
    missing = refusal(report(RS.EINGEREICHT), RE.RETURN_REPORT, VM, ReportInput(comment="  "))
    assert (missing.reason, missing.field) == ("input", "comment")
    assert str(missing) == "„Zurückgeben“ (return_report) braucht einen Kommentar für den Partner."
    # After the Ressort's approval only the Arbeitsstab sends it back.
    late = refusal(report(RS.GEPRUEFT), RE.RETURN_REPORT, VM, COMMENT)
    assert late.reason == "role" and "nur für Arbeitsstab" in str(late)


def test_an_incomplete_report_is_refused_naming_every_section() -> None:
    entries = dict(COMPLETE)
    del entries[Section.MEHRWERT]
    entries[Section.AUSBLICK] = SectionEntry(Mark.GEAENDERT, "  ")
    entries[Section.AKTEURE] = SectionEntry(Mark.ENTFAELLT)
    refused = refusal(report(RS.ENTWURF, entries=entries), RE.SUBMIT_REPORT, PARTNER)
    assert (refused.reason, refused.rule, refused.field) == (
        "guard",
        ReportGuard.SECTIONS_COMPLETE,
        "entries",
    )
    assert str(refused) == (
        "„Fortschrittsmeldung einreichen“ (submit_report) ist nicht möglich: "
        "„Mehrwert“ ist weder geändert noch als unverändert markiert; "
        "„Ausblick“ ist als geändert markiert, hat aber keinen Inhalt; "
        "„Akteure und Partner“ entfällt, aber ohne Begründung."
    )
    entries[Section.MEHRWERT] = SectionEntry(Mark.UNVERAENDERT)
    entries[Section.AUSBLICK] = SectionEntry(Mark.GEAENDERT, {"jahr": 2023, "text": "Neu."})
    entries[Section.AKTEURE] = SectionEntry(Mark.ENTFAELLT, reason="Die Partner stehen jetzt unter Vorgehen.")
    assert reached(report(RS.ENTWURF, entries=entries), RE.SUBMIT_REPORT, PARTNER) is (RS.EINGEREICHT)


def test_returned_sections_must_be_revised_before_the_report_goes_back() -> None:
    returned = report(RS.ZURUECKGEGEBEN, returned=frozenset({Section.ZIEL, Section.AUSBLICK}))
    refused = refusal(replace(returned, revised=frozenset({Section.AUSBLICK})), RE.SUBMIT_REPORT, PARTNER)
    assert refused.rule == ReportGuard.RETURNED_SECTIONS_REVISED
    assert str(refused).endswith("Zurückgegeben und noch nicht überarbeitet: „Ziel“.")
    revised = replace(returned, revised=frozenset({Section.ZIEL, Section.AUSBLICK}))
    assert reached(revised, RE.SUBMIT_REPORT, PARTNER) is RS.EINGEREICHT


def test_an_accepted_report_is_locked() -> None:
    for event in ReportEvent:
        refused = refusal(report(RS.ANGENOMMEN), event, STAB, DRAFT)
        assert refused.reason == "state" and "angenommen und gesperrt" in str(refused)


def test_an_invited_co_partner_drafts_but_does_not_submit() -> None:
    assert reached(report(RS.OFFEN), RE.SAVE_DRAFT, CO_PARTNER, DRAFT) is RS.ENTWURF
    refused = refusal(report(RS.ENTWURF), RE.SUBMIT_REPORT, CO_PARTNER)
    assert refused.reason == "role" and "Handwerkskammer Dortmund" in str(refused)
    uninvited = refusal(report(RS.OFFEN, contributors=frozenset()), RE.SAVE_DRAFT, CO_PARTNER, DRAFT)
    assert uninvited.reason == "role"


@pytest.mark.parametrize(
    ("state", "event", "actor", "says"),
    [
        (RS.ENTWURF, RE.SUBMIT_REPORT, OTHER_PARTNER, "gehört zu „IHK zu Dortmund“"),
        (RS.EINGEREICHT, RE.APPROVE_REPORT, MWIDE, "nur für das zuständige Ressort VM"),
        (RS.EINGEREICHT, RE.APPROVE_REPORT, STAB, "nur für Ressort erlaubt"),
        (RS.EINGEREICHT, RE.APPROVE_REPORT, PARTNER, "nur für Ressort erlaubt"),
        (RS.GEPRUEFT, RE.ACCEPT_REPORT, VM, "nur für Arbeitsstab erlaubt"),
        (
            RS.GEPRUEFT,
            RE.ACCEPT_REPORT,
            ADMIN,
            "Administration trifft keine Entscheidungen",
        ),
    ],
    ids=["other-org", "other-ressort", "stab-approves", "partner-approves", "ressort-accepts", "admin"],
)
def test_who_may_not(state: ReportState, event: ReportEvent, actor: Actor, says: str) -> None:
    refused = refusal(report(state), event, actor)
    assert refused.reason == "role" and says in str(refused)


def test_a_draft_needs_a_section_and_the_wrong_state_names_the_right_ones() -> None:
    empty = refusal(report(RS.OFFEN), RE.SAVE_DRAFT, PARTNER, ReportInput())
    assert (empty.reason, empty.field) == ("input", "entries")
    early = refusal(report(RS.OFFEN), RE.SUBMIT_REPORT, PARTNER)
    assert str(early) == (
        "„Fortschrittsmeldung einreichen“ (submit_report) ist im Status „offen“ nicht möglich; "
        "möglich im Status „Entwurf“, „zurückgegeben“."
    )
    assert early.worded(codes=False).startswith("„Fortschrittsmeldung einreichen“ ist im Status")


def test_approval_needs_an_assigned_ressort() -> None:
    refused = refusal(report(RS.EINGEREICHT, responsible_ressort=None), RE.APPROVE_REPORT, VM)
    assert refused.reason == "role" and "kein zuständiges Ressort zugeordnet" in str(refused)


PEOPLE = (PARTNER, CO_PARTNER, OTHER_PARTNER, STAB, VM, MWIDE, ADMIN)


@pytest.mark.parametrize("state", list(ReportState))
def test_allowed_events_are_what_decide_lets_each_person_try(state: ReportState) -> None:
    facts = report(state)
    for actor in PEOPLE:
        allowed = set(allowed_report_events(facts, actor))
        for event in ReportEvent:
            outcome = attempt(facts, event, actor)
            if outcome is None:
                assert event in allowed, (state, actor.email, event)
            elif outcome in ("role", "state"):
                assert event not in allowed, (state, actor.email, event)


def attempt(facts: ReportFacts, event: RE, actor: Actor) -> str | None:
    """``None`` if the event is decided, else the reason of its refusal."""
    try:
        decide_report(facts, event, actor, ReportInput(comment="Text", has_entries=True))
    except TransitionRefused as exc:
        return exc.reason
    return None


def test_the_machine_is_the_table() -> None:
    machine = report_machine()
    for state in ReportState:
        from_table = {spec.event.value for spec in REPORT_TRANSITIONS if state in spec.sources}
        assert set(triggers(machine, state.value)) == from_table
    # Every state but the first is reached by some row; only the accepted report has no way out.
    reached_states = {spec.dest for spec in REPORT_TRANSITIONS if spec.dest}
    assert reached_states == set(ReportState) - {RS.OFFEN}
    assert {s for s in ReportState if not triggers(machine, s.value)} == {RS.ANGENOMMEN}


def test_every_portrait_value_has_its_german_label() -> None:
    assert Mark.ENTFAELLT.label == "entfällt" and Umsetzungsstand.PRUEFUNG_LAEUFT.label == "Prüfung läuft"
    for values in (Section, TargetGroup, Umsetzungsstand, Mark, ReportState, ReportEvent):
        assert all(value.label.strip() for value in values), values


@pytest.mark.parametrize(
    ("section", "value", "problem"),
    [
        (Section.ZIEL, 7, "braucht Inhalt als Text"),
        (Section.ZIEL, "x" * 6001, "ist zu lang (6001 Zeichen, höchstens 6000)"),
        (
            Section.AUSBLICK,
            {"jahr": 1999, "text": "t"},
            "braucht „jahr“ als Jahreszahl zwischen 2000 und 2100",
        ),
        (Section.AUSBLICK, {"text": "t"}, "braucht die Felder „jahr“, „text“"),
        (
            Section.MEILENSTEINE,
            [{"jahr": 2021, "text": "Start", "erreicht_am": "2021-13-01"}],
            "(Meilenstein 1) braucht „erreicht_am“ als Datum JJJJ-MM-TT, gefunden „2021-13-01“",
        ),
        (
            Section.MEILENSTEINE,
            [{"jahr": 2022, "text": "t", "farbe": "rot"}],
            "(Meilenstein 1) kennt das Feld „farbe“ nicht",
        ),
        (Section.ZIELGRUPPEN, ["unternehmen", "piraten"], "kennt die Zielgruppe „piraten“ nicht"),
        (
            Section.ZITAT,
            {"text": "t", "autor": "A", "amt": "OB", "bis": "bald"},
            "braucht „bis“ als Datum JJJJ-MM-TT, gefunden „bald“",
        ),
        (
            Section.BILD,
            {"datei": "a.png", "bildunterschrift": "B", "rechteinhaber": "C", "alternativtext": " "},
            "braucht „alternativtext“ als Text",
        ),
        (Section.AKTEURE, [], "braucht eine Liste von 1 bis 60 Namen"),
    ],
)
def test_a_structured_section_names_what_is_wrong(section: Section, value: object, problem: str) -> None:
    assert section_problem(section, value) == problem


def test_well_formed_sections_pass_and_a_report_applies_to_the_last_portrait() -> None:
    good: dict[Section, object] = {
        Section.ZIEL: "Mobilität verbessern.",
        Section.AUSBLICK: {"jahr": 2022, "text": "Weiter so."},
        Section.MEILENSTEINE: [
            {"jahr": 2020, "text": "Start", "erreicht_am": "2020-05-01"},
            {"jahr": 2023, "text": "Ziel"},
        ],
        Section.AKTEURE: ["IHK Essen"],
        Section.ZIELGRUPPEN: ["unternehmen", "kommunen"],
        Section.ZITAT: {"text": "Gut.", "autor": "A. B.", "amt": "Präsident", "bis": "2022-06-30"},
        Section.BILD: {
            "datei": "a.png",
            "bildunterschrift": "B",
            "rechteinhaber": "C",
            "alternativtext": "D",
        },
    }
    assert {s: section_problem(s, v) for s, v in good.items()} == dict.fromkeys(good)
    entries = {
        Section.ZIEL: SectionEntry(Mark.UNVERAENDERT),
        Section.AUSBLICK: SectionEntry(Mark.GEAENDERT, {"jahr": 2023, "text": "Neu."}),
        Section.BILD: SectionEntry(Mark.ENTFAELLT, reason="Rechte abgelaufen"),
    }
    after = apply_entries(good, entries)
    assert after[Section.ZIEL] == "Mobilität verbessern."
    assert after[Section.AUSBLICK] == {"jahr": 2023, "text": "Neu."}
    assert Section.BILD not in after and list(after) == [s for s in Section if s in after]
