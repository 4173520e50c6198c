"""Three journeys through the pages in a real browser: submit, approve as the Ressort, recognise."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.e2e.conftest import (
    ADMIN,
    MWIDE,
    PARTNER,
    STAB,
    LiveApp,
    Shots,
    login,
    no_horizontal_scroll,
    seed_in_coordination,
)

pytestmark = pytest.mark.slow


def _expect() -> Any:
    from playwright.sync_api import expect

    # The live check waits for a pause in typing; a busy CI machine gets time for that and the request.
    expect.set_options(timeout=10_000)
    return expect


def fill_proposal(page: Any, *, places: str) -> None:
    """Fill the submission form with a realistic proposal whose places are given."""
    page.get_by_label("Titel").fill("Ruhr-Lernlabor Wasserstoff für Berufsschulen")
    page.get_by_label("Kurzbeschreibung").fill(
        "Ein mobiles Lernlabor bringt Wasserstofftechnik in die Berufsschulen der Region."
    )
    page.get_by_label("Art der Organisation").select_option("unternehmen")
    page.get_by_label("Sitz (Ort)").fill("Bönen")
    partner = page.get_by_role("group", name="Partner 1", exact=True)
    partner.get_by_label("Name", exact=True).fill("Westfälische Hochschule")
    partner.get_by_label("Art", exact=True).select_option("hochschule")
    page.get_by_label("Mehrwert der Zusammenarbeit").fill(
        "Die Hochschule liefert die Didaktik, das Unternehmen die Anlagen; gemeinsam erreichen sie Schulen, "
        "die allein keinen Zugang zu dieser Technik hätten."
    )
    field = page.get_by_role("group", name="Handlungsfeld 1", exact=True)
    field.get_by_label("Handlungsfeld", exact=True).select_option("bildung_forschung")
    field.get_by_label("Begründung", exact=True).fill(
        "Stärkt die berufliche Bildung in einer Zukunftstechnik."
    )
    page.get_by_label("Orte, in denen das Projekt wirkt").fill(places)
    page.get_by_label("Gesamtkosten in Euro").fill("250.000")
    source = page.get_by_role("group", name="Finanzierungsquelle 1", exact=True)
    source.get_by_label("Art", exact=True).select_option("foerdermittel")
    source.get_by_label("Bezeichnung", exact=True).fill("Ausbildungsprogramm NRW")
    source.get_by_label("Betrag in Euro", exact=True).fill("250.000")
    source.get_by_label("gesichert (zugesagt)", exact=True).check()


def test_partner_submits_after_the_live_check(live_app: LiveApp, new_page: Any, shots: Shots) -> None:
    """Journey 1: a partner sees why one town is not enough, adds another, submits and sees „eingereicht“."""
    expect = _expect()
    page = new_page()
    page.goto(live_app.url("/vorschlaege/neu"))
    expect(page).to_have_url(re.compile(r"/anmelden\?weiter="))
    expect(page.get_by_role("heading", name="Anmelden", level=1)).to_be_visible()
    # The first Tab reaches the skip link, and it becomes visible.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Zum Inhalt springen")).to_be_focused()
    expect(page.get_by_role("link", name="Zum Inhalt springen")).to_be_in_viewport()
    shots(page, "anmeldung")
    page.get_by_label("E-Mail-Adresse").fill(PARTNER)
    page.get_by_label("Passwort").fill("falsch-falsch-falsch")
    page.get_by_role("button", name="Anmelden").click()
    expect(page.get_by_role("alert")).to_contain_text("E-Mail-Adresse oder Passwort ist falsch")
    shots(page, "anmeldung-falsch")
    page.get_by_label("Passwort").fill("Ruhr-Konferenz-2026!")
    page.get_by_role("button", name="Anmelden").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Neuer Vorschlag für ein Partnerprojekt")
    shots(page, "formular-leer")

    fill_proposal(page, places="Bochum")
    regional = page.locator('[data-criterion="regional_effect"]')
    expect(regional.locator("[data-verdict]")).to_have_text(re.compile("nicht erfüllt"))
    expect(regional.locator("[data-explanation]")).to_contain_text("wirkt nur lokal")
    expect(page.locator("[data-check-status]")).to_contain_text("nicht erfüllt")
    shots(page, "live-check-nur-lokal")

    # Rows are added and removed in place; the check follows.
    page.get_by_role("button", name="Weitere Zeile: Partner").click()
    third = page.get_by_role("group", name="Partner 3", exact=True)
    expect(third.get_by_label("Name", exact=True)).to_be_focused()
    third.get_by_label("Name", exact=True).fill("Stadt Gelsenkirchen")
    third.get_by_label("Art", exact=True).select_option("kommune")
    page.get_by_role("button", name="Partner 2 entfernen").click()
    expect(
        page.get_by_role("group", name="Partner 2", exact=True).get_by_label("Name", exact=True)
    ).to_have_value("Stadt Gelsenkirchen")
    cooperation = page.locator('[data-criterion="cooperation"] [data-explanation]')
    expect(cooperation).to_contain_text("3 Organisationen aus 3 Bereichen")

    page.get_by_label("Orte, in denen das Projekt wirkt").fill("Bochum\nGelsenkirchen\nKreis Unna")
    expect(regional.locator("[data-verdict]")).to_have_text(re.compile("^✓ erfüllt"))
    expect(regional.locator("[data-explanation]")).to_contain_text("Gelsenkirchen")
    expect(page.locator("[data-check-status]")).to_contain_text("erfüllt")
    shots(page, "live-check-erfuellt")

    page.get_by_role("button", name="Einreichen").click()
    expect(page.get_by_role("status").first).to_contain_text("ist eingereicht")
    expect(page.locator(".meta-status .badge")).to_have_text("eingereicht")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ruhr-Lernlabor Wasserstoff")
    shots(page, "eingereicht")

    page.get_by_role("link", name="Meine Vorschläge").first.click()
    card = page.locator(".card", has_text="Ruhr-Lernlabor Wasserstoff")
    expect(card.locator(".badge")).to_have_text("eingereicht")
    shots(page, "meine-vorschlaege")


def test_submission_form_on_a_phone(live_app: LiveApp, new_page: Any, shots: Shots) -> None:
    """The submission form fits a 375 px wide phone screen without horizontal scrolling."""
    expect = _expect()
    page = new_page(width=375, height=812)
    login(page, live_app, PARTNER, path="/vorschlaege/neu")
    expect(page.get_by_role("heading", level=1)).to_have_text("Neuer Vorschlag für ein Partnerprojekt")
    fill_proposal(page, places="Bochum")
    expect(page.locator('[data-criterion="regional_effect"] [data-explanation]')).to_contain_text("lokal")
    assert no_horizontal_scroll(page)
    # Far from the panel, a bar at the bottom keeps the result in sight and leads to it.
    page.get_by_label("Titel").scroll_into_view_if_needed()
    jump = page.get_by_role("link", name=re.compile("Kriterien-Check"))
    expect(jump).to_be_visible()
    expect(jump).to_contain_text("nicht erfüllt")
    shots(page, "formular-375-oben", full_page=False)
    shots(page, "formular-375")


def test_reviewer_approves_the_recognition(live_app: LiveApp, new_page: Any, shots: Shots) -> None:
    """Journey 2: the Ressort reviewer finds the proposal in „Meine Aufgaben“ and approves the recognition."""
    expect = _expect()
    title = "Betriebliches Mobilitätsmanagement der IHKs im Ruhrgebiet"
    seed_in_coordination(live_app.services, title)
    page = new_page()
    login(page, live_app, MWIDE)
    expect(page.get_by_role("heading", level=1)).to_have_text("Meine Aufgaben")
    task = page.locator(".task", has_text=title)
    expect(task).to_contain_text("Entscheidung über die Anerkennung")
    shots(page, "meine-aufgaben")

    task.get_by_role("link", name=title).click()
    expect(page.get_by_role("heading", name="Kriterien")).to_be_visible()
    expect(page.locator(".meta-status .badge")).to_have_text("in Abstimmung")
    shots(page, "entscheidungsseite")

    form = page.locator("#aktion-anerkennen")
    form.get_by_label("Anmerkung").fill("Fachlich überzeugend; passt zur Mobilitätsstrategie.")
    form.get_by_role("button", name="Der Anerkennung zustimmen").click()
    expect(page.get_by_role("status").first).to_contain_text("Es fehlt noch die Zustimmung: Arbeitsstab")
    expect(page.locator(".meta-status .badge")).to_have_text("in Abstimmung")
    expect(page.locator(".pending")).to_contain_text("Carla Ostermann")
    shots(page, "zugestimmt")

    page.get_by_role("link", name="Meine Aufgaben").first.click()
    expect(page.locator(".task", has_text=title)).to_have_count(0)
    shots(page, "aufgaben-danach")


def test_arbeitsstab_completes_the_recognition(live_app: LiveApp, new_page: Any, shots: Shots) -> None:
    """Journey 3: the Arbeitsstab gives the second approval and the proposal is „anerkannt“."""
    expect = _expect()
    title = "KLIC.Ruhr – Kompetenzverbund Life-Sciences.Ruhr"
    pid = seed_in_coordination(live_app.services, title, ressort_approves=True)
    page = new_page()
    login(page, live_app, STAB)
    expect(page.get_by_role("heading", level=1)).to_have_text("Stand Partnerprojekte")
    expect(page.get_by_role("figure", name="Nach Status")).to_be_visible()
    shots(page, "uebersicht")

    page.get_by_role("navigation", name="Hauptnavigation").get_by_role("link", name="Aufgaben").click()
    task = page.locator(".task", has_text=title).first
    expect(task).to_contain_text("zugestimmt hat bereits Carla Ostermann")
    shots(page, "aufgaben")

    page.goto(live_app.url(f"/vorschlaege/PP-{pid:04d}"))
    form = page.locator("#aktion-anerkennen")
    form.get_by_role("button", name="Der Anerkennung zustimmen").click()
    expect(page.get_by_role("status").first).to_contain_text(
        "als Partnerprojekt der Ruhr-Konferenz anerkannt"
    )
    expect(page.locator(".meta-status .badge")).to_have_text("anerkannt")
    expect(page.locator(".timeline")).to_contain_text("Als Partnerprojekt der Ruhr-Konferenz anerkannt")
    shots(page, "anerkannt")


def test_dashboard_on_a_phone(live_app: LiveApp, new_page: Any, shots: Shots) -> None:
    """The dashboard fits a 375 px wide phone screen; the charts keep their tables."""
    expect = _expect()
    seed_in_coordination(live_app.services, "Quartiersarbeit im Revier")
    page = new_page(width=375, height=812)
    login(page, live_app, STAB)
    expect(page.get_by_role("heading", level=1)).to_have_text("Stand Partnerprojekte")
    expect(page.get_by_role("table").first).to_be_visible()
    assert no_horizontal_scroll(page)
    shots(page, "uebersicht-375")


def test_arbeitsstab_takes_up_and_starts_coordination(live_app: LiveApp, new_page: Any, shots: Shots) -> None:
    """The coordination steps before the decision: take up, assign the Ressort, start coordination."""
    expect = _expect()
    from partnerprojekte.formats import proposal_from_document
    from tests.helpers import proposal_doc

    doc = proposal_doc(title="Gründungsnetzwerk Emscher-Lippe")
    pid = live_app.services.submit(proposal_from_document(doc), PARTNER).proposal_id
    page = new_page()
    login(page, live_app, STAB, path=f"/vorschlaege/PP-{pid:04d}")
    expect(page.locator(".meta-status .badge")).to_have_text("eingereicht")
    shots(page, "eingereicht")
    page.locator("#aktion-aufgreifen").get_by_role("button", name="Aufgreifen").click()
    expect(page.locator(".meta-status .badge")).to_have_text("in Bearbeitung")

    page.locator("#aktion-abstimmung").get_by_role("button", name="Abstimmung einleiten").click()
    expect(page.get_by_role("alert")).to_contain_text("noch kein zuständiges Ressort")
    shots(page, "abgelehnt-ohne-ressort")

    page.locator("#aktion-ressort").get_by_label("Ressort").select_option("MWIDE")
    page.locator("#aktion-ressort").get_by_role("button", name="Ressort zuordnen").click()
    expect(page.get_by_role("status").first).to_contain_text("Zuständig ist jetzt das Ressort MWIDE")
    page.locator("#aktion-abstimmung").get_by_role("button", name="Abstimmung einleiten").click()
    expect(page.locator(".meta-status .badge")).to_have_text("in Abstimmung")
    shots(page, "in-abstimmung")


def test_submission_works_without_javascript(live_app: LiveApp, new_page: Any, shots: Shots) -> None:
    """Without JavaScript „Prüfen“ posts the form and shows the criteria; „Einreichen“ stores it."""
    expect = _expect()
    page = new_page(javascript=False)
    login(page, live_app, PARTNER, path="/vorschlaege/neu")
    fill_proposal(page, places="Bochum")
    page.get_by_role("button", name="Weitere Zeile: Partner").click()
    expect(page.get_by_role("group", name="Partner 3", exact=True)).to_be_visible()
    expect(page.get_by_label("Titel")).to_have_value("Ruhr-Lernlabor Wasserstoff für Berufsschulen")
    page.locator(".form-actions").get_by_role("button", name="Prüfen").click()
    expect(page.locator('[data-criterion="regional_effect"]')).to_contain_text("wirkt nur lokal")
    shots(page, "geprueft-ohne-js")
    page.get_by_label("Orte, in denen das Projekt wirkt").fill("Bochum\nHerne")
    page.get_by_role("button", name="Einreichen").click()
    expect(page.locator(".meta-status .badge")).to_have_text("eingereicht")
    shots(page, "eingereicht-ohne-js")


@pytest.mark.parametrize("width", [1280, 375])
def test_other_pages_for_the_record(live_app: LiveApp, new_page: Any, shots: Shots, width: int) -> None:
    """Report (as printed), state diagram and the people page: rendered, and no sideways scrolling."""
    expect = _expect()
    seed_in_coordination(live_app.services, "Kulturpfad Industriekultur", ressort_approves=True)
    page = new_page(width=width, height=900 if width > 400 else 812)
    login(page, live_app, STAB, path="/bericht")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Stand Partnerprojekte")
    expect(page.get_by_role("button", name="Drucken")).to_be_visible()
    assert no_horizontal_scroll(page)
    page.emulate_media(media="print")
    expect(page.get_by_role("navigation", name="Hauptnavigation")).to_be_hidden()
    shots(page, f"bericht-druck-{width}")
    page.emulate_media(media="screen")
    page.goto(live_app.url("/zustandsdiagramm"))
    expect(page.locator(".diagram svg")).to_be_visible()
    assert no_horizontal_scroll(page)
    shots(page, f"zustandsdiagramm-{width}")
    admin = new_page(width=width, height=900 if width > 400 else 812)
    login(admin, live_app, ADMIN)
    expect(admin.get_by_role("heading", level=1)).to_have_text("Personen und Rollen")
    assert no_horizontal_scroll(admin)
    shots(admin, f"personen-{width}")


def test_browser_and_server_build_the_same_document(live_app: LiveApp, new_page: Any) -> None:
    """The live check (JavaScript) and the server read the form into the same §5 document."""
    from partnerprojekte.web.pages.proposal_form import ProposalForm

    expect = _expect()
    page = new_page()
    login(page, live_app, PARTNER, path="/vorschlaege/neu")
    fill_proposal(page, places="Bochum; Herne,\n Kreis Wesel \n")
    page.get_by_role("button", name="Weitere Zeile: Finanzierungsquelle").click()
    page.get_by_role("button", name="Weitere Zeile: Finanzierungsquelle").click()
    # A gap (row 2 left empty, only ticked) and German amounts with cents.
    page.get_by_role("group", name="Finanzierungsquelle 2", exact=True).get_by_label(
        "gesichert (zugesagt)", exact=True
    ).check()
    fourth = page.get_by_role("group", name="Finanzierungsquelle 4", exact=True)
    fourth.get_by_label("Art", exact=True).select_option("eigenmittel")
    fourth.get_by_label("Bezeichnung", exact=True).fill("  Partner  ")
    fourth.get_by_label("Betrag in Euro", exact=True).fill("1.234,50 €")
    page.get_by_label("Themenforum").select_option("5")
    page.get_by_label("Beginn").fill("2026-05-01")
    # Both dates: a period with a start only is incomplete, and "Geprüft" then showed only when the check
    # of an earlier keystroke answered before the last one (the test passed or failed by timing).
    page.get_by_label("Ende", exact=True).fill("2027-12-31")
    expect(page.locator("[data-check-status]")).to_contain_text("Geprüft")
    page.wait_for_load_state("networkidle")  # the answer to the last keystroke, not an earlier one
    expect(page.locator("[data-check-status]")).to_contain_text("Geprüft")
    values = page.evaluate(
        "() => Object.fromEntries([...new FormData(document.getElementById('vorschlag-formular'))]"
        ".filter(([k]) => k !== 'csrf_token'))"
    )
    in_browser = page.evaluate(
        "() => window.partnerprojekteForm.buildDocument(document.getElementById('vorschlag-formular'))"
    )
    on_server, row_map = ProposalForm.from_form(values).to_document()
    assert in_browser["doc"] == on_server
    assert in_browser["rowMap"] == row_map
    assert on_server["financing"]["sources"][1] == {
        "kind": "eigenmittel",
        "name": "Partner",
        "amount_eur": "1234.50",
        "secured": False,
    }
    assert on_server["effect_area"]["places"] == ["Bochum", "Herne", "Kreis Wesel"]
    assert row_map["financing.sources"] == [0, 3]
    assert on_server["period"] == {"start": "2026-05-01", "end": "2027-12-31"}
