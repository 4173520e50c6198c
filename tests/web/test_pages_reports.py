"""The pages of the reporting rounds: open a round, write, submit, return, approve and accept a progress
report in the browser, with refusals shown in German and nothing changed."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi import FastAPI

from partnerprojekte.db.engine import Database
from partnerprojekte.model import Event
from partnerprojekte.reading.reports import show_portrait, show_report
from partnerprojekte.services import Services
from partnerprojekte.states.workflow import EventInput
from partnerprojekte.web.auth.security import set_password
from tests.people import MWIDE, PARTNER, STAB, VM
from tests.web.conftest import PEOPLE, to_coordination
from tests.web.test_pages import PASSWORD, Browser, alert, flash

UNCHANGED = [
    "mehrwert",
    "vorgehen",
    "nutzen_fuer",
    "juengste_entwicklung",
    "ausblick",
    "akteure",
    "zielgruppen",
]


@pytest.fixture
def people(tokens: dict[str, str], db: Database) -> None:
    """Everyone of ``PEOPLE`` with a password."""
    for email in PEOPLE:
        set_password(db, email, PASSWORD)


def recognised(services: Services) -> int:
    pid = to_coordination(services)
    services.transition(pid, Event.RECOGNISE, MWIDE, EventInput())
    services.transition(pid, Event.RECOGNISE, STAB, EventInput())
    return pid


def draft_form(**extra: str) -> dict[str, str]:
    form = {f"markierung_{s}": "unveraendert" for s in UNCHANGED}
    form.update(
        markierung_ziel="geaendert",
        wert_ziel="Geräte teilen statt kaufen.",
        markierung_aktueller_stand="geaendert",
        wert_aktueller_stand="Die Plattform hat 120 Geräte.",
        markierung_meilensteine="geaendert",
        wert_meilensteine="2026 | 100 Geräte auf der Plattform | 2026-02-01\n2027 | Ausbau nach Dortmund",
        markierung_bild="entfaellt",
        begruendung_bild="Bildrechte abgelaufen.",
    )
    form.update(extra)
    return form


def test_a_round_is_opened_and_a_report_runs_its_whole_way_in_the_browser(
    app: FastAPI, people: None, services: Services
) -> None:
    pid = recognised(services)
    pp = f"PP-{pid:04d}"
    stab = Browser(app, STAB)
    assert "Neue Berichtsrunde eröffnen" in stab.get("/berichtsrunden").text
    bad = stab.post("/berichtsrunden", {"jahr": "2026", "stichtag": "31.10.2026", "abgabe_bis": "2026-09-15"})
    assert bad.status_code == 422 and "Stichtag: „31.10.2026“ ist kein Datum" in alert(bad)
    page = stab.follow(
        stab.post("/berichtsrunden", {"jahr": "2026", "stichtag": "2026-10-31", "abgabe_bis": "2026-09-15"})
    )
    assert flash(page) == "Die Berichtsrunde 2026 ist eröffnet: 1 Fortschrittsmeldung(en) angefordert."
    assert pp in page.text

    partner = Browser(app, PARTNER)
    assert "Neue Berichtsrunde eröffnen" not in partner.get("/berichtsrunden").text
    form_page = partner.get(f"/berichtsrunden/2026/{pp}")
    assert form_page.status_code == 200 and "Entwurf speichern" in form_page.text
    # The first portrait is prefilled from the proposal: the lead sentence stands in the form.
    assert show_portrait(services.db, pid)["inhalt"]["ziel"] in form_page.text
    wrong = partner.post(f"/berichtsrunden/2026/{pp}/entwurf", draft_form(wert_meilensteine="irgendwann"))
    assert wrong.status_code == 422 and "Zeile 1: erwartet „Jahr | Text“" in alert(wrong)
    assert show_report(services.db, pid, 2026)["status"] == "offen"
    incomplete = partner.post(f"/berichtsrunden/2026/{pp}/einreichen", draft_form(markierung_mehrwert=""))
    assert incomplete.status_code == 409 and "„Mehrwert“ ist weder geändert" in alert(incomplete)
    assert "„Fortschrittsmeldung einreichen“ ist nicht möglich" in alert(incomplete)  # no code on a page
    page = partner.follow(partner.post(f"/berichtsrunden/2026/{pp}/einreichen", draft_form()))
    assert flash(page) == "Die Fortschrittsmeldung ist eingereicht; das Ressort prüft sie."
    assert "Aktueller Stand (geändert)" in page.text and "+Die Plattform hat 120 Geräte." in page.text

    assert Browser(app, VM).get(f"/berichtsrunden/2026/{pp}").status_code == 404  # not VM's project
    ressort = Browser(app, MWIDE)
    no_comment = ressort.post(f"/berichtsrunden/2026/{pp}/zurueckgeben", {"abschnitte": "aktueller_stand"})
    assert no_comment.status_code == 422 and "braucht einen Kommentar für den Partner" in alert(no_comment)
    page = ressort.follow(
        ressort.post(
            f"/berichtsrunden/2026/{pp}/zurueckgeben",
            {"kommentar": "Bitte die Zahl der Nutzer nennen.", "abschnitte": "aktueller_stand"},
        )
    )
    assert flash(page) == "Die Fortschrittsmeldung ist an den Partner zurückgegeben."
    revised = draft_form(wert_aktueller_stand="120 Geräte, 35 Start-ups nutzen sie.")
    partner.follow(partner.post(f"/berichtsrunden/2026/{pp}/einreichen", revised))
    ressort.follow(ressort.post(f"/berichtsrunden/2026/{pp}/freigeben"))
    page = stab.follow(stab.post(f"/berichtsrunden/2026/{pp}/annehmen"))
    assert flash(page) == "Die Fortschrittsmeldung ist für den Bericht angenommen und gesperrt."
    assert "Entwurf speichern" not in partner.get(f"/berichtsrunden/2026/{pp}").text
    portrait = show_portrait(services.db, pid)
    assert portrait["inhalt"]["aktueller_stand"] == "120 Geräte, 35 Start-ups nutzen sie."
    assert portrait["inhalt"]["meilensteine"][0] == {
        "jahr": 2026,
        "text": "100 Geräte auf der Plattform",
        "erreicht_am": "2026-02-01",
    }
    assert "bild" not in portrait["inhalt"]
    locked = partner.post(f"/berichtsrunden/2026/{pp}/entwurf", draft_form())
    assert locked.status_code == 409 and "angenommen und gesperrt" in alert(locked)


def test_only_the_arbeitsstab_opens_a_round_and_unknown_rounds_are_404(
    app: FastAPI, people: None, services: Services
) -> None:
    recognised(services)
    partner = Browser(app, PARTNER)
    assert partner.post("/berichtsrunden", {"jahr": "2026", "stichtag": "2026-10-31"}).status_code == 403
    assert partner.get("/berichtsrunden/2030").status_code == 404
    assert partner.get("/berichtsrunden/abc").status_code == 404


def test_an_invited_co_partner_drafts_in_the_browser_but_sees_no_proposal_and_cannot_submit(
    app: FastAPI, people: None, services: Services, db: Database, tokens: dict[str, str]
) -> None:
    from partnerprojekte.model import Role

    pid = recognised(services)
    pp = f"PP-{pid:04d}"
    co = "z.zentrum@zbz-witten.example.de"
    services.add_user(co, "Zora Zentrum", Role.PARTNER, organisation="ZBZ Witten")
    set_password(db, co, PASSWORD)
    services.open_round(2026, "R", dt.date(2026, 10, 31), dt.date(2026, 9, 15), STAB)
    helper = Browser(app, co)
    assert helper.get(f"/berichtsrunden/2026/{pp}").status_code == 404  # not invited yet
    assert pp not in helper.get("/berichtsrunden/2026").text
    services.invite_contributor(pid, co, PARTNER)
    page = helper.get(f"/berichtsrunden/2026/{pp}")
    assert page.status_code == 200 and "Entwurf speichern" in page.text and ">Einreichen<" not in page.text
    assert pp in helper.get("/berichtsrunden/2026").text
    assert helper.get(f"/vorschlaege/{pp}").status_code == 404  # the proposal itself stays the partner's
    page = helper.follow(helper.post(f"/berichtsrunden/2026/{pp}/entwurf", draft_form()))
    assert flash(page) == "Der Entwurf ist gespeichert."
    refused = helper.post(f"/berichtsrunden/2026/{pp}/einreichen", draft_form())
    assert refused.status_code == 403
    assert show_report(services.db, pid, 2026)["status"] == "entwurf"
