"""The German pages: login, every page for its role, access refused, the submission form, CSRF.

A ``Browser`` is a TestClient with its own cookies, logged in through the login form like a person.
"""

from __future__ import annotations

import html
import re
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from partnerprojekte.db.engine import Database
from partnerprojekte.formats import proposal_from_document
from partnerprojekte.model import Event, Visibility
from partnerprojekte.services import Services
from partnerprojekte.states.workflow import EventInput
from partnerprojekte.web.auth.security import set_password
from tests.helpers import proposal_doc
from tests.people import MWIDE, PARTNER, STAB, VM
from tests.web.conftest import ADMIN, OTHER, OTHER_ORG, PEOPLE, to_coordination

PASSWORD = "Ruhr-Konferenz-2026!"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def text_of(fragment: str) -> str:
    """Visible text of an HTML fragment (tags removed, entities decoded, blanks collapsed)."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def h1(response: httpx.Response) -> str:
    """The text of the page's first-level heading."""
    found = re.search(r"<h1[^>]*>(.*?)</h1>", response.text, re.S)
    assert found, response.text[:500]
    return text_of(found.group(1))


def flash(response: httpx.Response) -> str:
    """The flash message shown on a page ('' if none)."""
    found = re.search(r'<div class="flash[^"]*" role="status">(.*?)</div>', response.text, re.S)
    return text_of(found.group(1)) if found else ""


def alert(response: httpx.Response) -> str:
    """The error summary of a page ('' if none)."""
    found = re.search(r'<div class="error-summary"[^>]*>(.*?)</div>', response.text, re.S)
    return text_of(found.group(1)) if found else ""


class Browser:
    """A person's browser: own cookies, logged in through the form, remembering the CSRF token."""

    def __init__(self, app: FastAPI, email: str | None = None, password: str = PASSWORD) -> None:
        self.client = TestClient(app, base_url="http://127.0.0.1:8000")
        self.token = ""
        if email is not None:
            response = self.login(email, password)
            assert response.status_code == 303, response.text

    def login(self, email: str, password: str = PASSWORD, weiter: str = "") -> httpx.Response:
        """Fill in and send the login form."""
        page = self.client.get("/anmelden")
        token = _CSRF.search(page.text)
        assert token, page.text
        data = {"email": email, "password": password, "csrf_token": token.group(1), "weiter": weiter}
        response = self.client.post("/anmelden", data=data, follow_redirects=False)
        if response.status_code == 303:
            self.token = ""
        return response

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        """GET a page (redirects not followed unless asked)."""
        kwargs.setdefault("follow_redirects", False)
        response = self.client.get(path, **kwargs)
        found = _CSRF.search(response.text)
        if found:
            self.token = found.group(1)
        return response

    def csrf(self) -> str:
        """The session's CSRF token (read from a page)."""
        if not self.token:
            self.get("/zustandsdiagramm")
        return self.token

    def post(self, path: str, data: dict[str, Any] | None = None, *, csrf: bool = True) -> httpx.Response:
        """POST a form as the page would (with the CSRF token unless told otherwise)."""
        form = dict(data or {})
        if csrf:
            form["csrf_token"] = self.csrf()
        return self.client.post(path, data=form, follow_redirects=False)

    def follow(self, response: httpx.Response) -> httpx.Response:
        """The page a 303 leads to."""
        assert response.status_code == 303, (response.status_code, response.text[:2000])
        return self.get(response.headers["location"])


@pytest.fixture
def people(tokens: dict[str, str], db: Database) -> None:
    """Everyone of ``PEOPLE`` with the password ``PASSWORD``."""
    for email in PEOPLE:
        set_password(db, email, PASSWORD)


def submit(services: Services, **changes: Any) -> int:
    """A proposal of the partner's organisation (through the use case)."""
    return services.submit(proposal_from_document(proposal_doc(**changes)), PARTNER).proposal_id


def form_data(**changes: str) -> dict[str, str]:
    """A complete submission form as a partner fills it in."""
    data = {
        "title": "Ruhr-Lernlabor Wasserstoff",
        "summary": "Ein mobiles Lernlabor bringt Wasserstofftechnik in die Berufsschulen.",
        "submitter.name": "Kompetenzzentrum Bio-Security GmbH",
        "submitter.kind": "unternehmen",
        "submitter.location": "Bönen",
        "submitter.contact.name": "Kai Kontakt",
        "submitter.contact.email": "kontakt@bio-security.example.de",
        "partners[0].name": "Westfälische Hochschule",
        "partners[0].kind": "hochschule",
        "partners[1].name": "",
        "partners[1].kind": "",
        "cooperation_value": "Hochschule und Unternehmen bringen Didaktik und Anlagen in die Schulen.",
        "handlungsfelder[0].key": "bildung_forschung",
        "handlungsfelder[0].rationale": "Stärkt die berufliche Bildung in einer Zukunftstechnik.",
        "effect_area.places": "Bochum\nGelsenkirchen",
        "effect_area.scope": "regional",
        "financing.total_cost_eur": "250.000",
        "financing.sources[0].kind": "foerdermittel",
        "financing.sources[0].name": "Ausbildungsprogramm NRW",
        "financing.sources[0].amount_eur": "250.000",
        "financing.sources[0].secured": "true",
    }
    data.update(changes)
    return data


# --- login and logout ----------------------------------------------------------------------------


def test_login_page_is_german_with_first_time_hint(app: FastAPI) -> None:
    response = Browser(app).get("/anmelden")
    assert response.status_code == 200
    assert '<html lang="de">' in response.text
    assert 'href="#inhalt"' in response.text and 'id="inhalt"' in response.text
    assert h1(response) == "Anmelden"
    assert "Zum ersten Mal hier?" in response.text
    assert '<label for="email">E-Mail-Adresse</label>' in response.text
    assert '<label for="password">Passwort</label>' in response.text


def test_anonymous_pages_lead_to_the_login(app: FastAPI) -> None:
    browser = Browser(app)
    response = browser.get("/vorschlaege/neu")
    assert response.status_code == 303
    assert response.headers["location"] == "/anmelden?weiter=%2Fvorschlaege%2Fneu"
    assert browser.get("/").headers["location"] == "/anmelden"


def test_login_goes_on_to_where_the_person_wanted(app: FastAPI, people: None) -> None:
    browser = Browser(app)
    response = browser.login(PARTNER, weiter="/vorschlaege/neu")
    assert response.headers["location"] == "/vorschlaege/neu"
    page = browser.follow(response)
    assert h1(page) == "Neuer Vorschlag für ein Partnerprojekt"
    assert flash(page) == "Willkommen, Kai Kontakt."


@pytest.mark.parametrize(
    "target",
    ["//evil.example/x", "https://evil.example/", "/\\evil.example", "/vorschlaege\r\nSet-Cookie: x=1"],
)
def test_login_never_leads_to_another_site(app: FastAPI, people: None, target: str) -> None:
    response = Browser(app).login(PARTNER, weiter=target)
    assert response.headers["location"] == "/vorschlaege"


@pytest.mark.parametrize(
    ("who", "home"),
    [(PARTNER, "/vorschlaege"), (MWIDE, "/aufgaben"), (STAB, "/uebersicht"), (ADMIN, "/verwaltung/personen")],
)
def test_start_page_leads_each_role_home(app: FastAPI, people: None, who: str, home: str) -> None:
    assert Browser(app, who).get("/").headers["location"] == home


def test_wrong_password_is_shown_in_german(app: FastAPI, people: None) -> None:
    response = Browser(app).login(PARTNER, "falsch-falsch-falsch")
    assert response.status_code == 401
    assert "E-Mail-Adresse oder Passwort ist falsch" in alert(response)
    assert 'value="kontakt@bio-security.example.de"' in response.text


def test_missing_fields_are_named(app: FastAPI) -> None:
    response = Browser(app).login("", "")
    assert response.status_code == 422
    assert "Bitte geben Sie Ihre E-Mail-Adresse ein." in alert(response)
    assert "Bitte geben Sie Ihr Passwort ein." in alert(response)


def test_too_many_failures_are_throttled(app: FastAPI, people: None) -> None:
    browser = Browser(app)
    for _ in range(5):
        assert browser.login(PARTNER, "falsch-falsch-falsch").status_code == 401
    response = browser.login(PARTNER)
    assert response.status_code == 429
    assert "Zu viele fehlgeschlagene Anmeldeversuche" in alert(response)
    assert int(response.headers["Retry-After"]) > 0


def test_login_without_csrf_token_is_refused(app: FastAPI, people: None) -> None:
    client = TestClient(app, base_url="http://127.0.0.1:8000")
    response = client.post("/anmelden", data={"email": PARTNER, "password": PASSWORD}, follow_redirects=False)
    assert response.status_code == 403
    assert "Sicherheitsmerkmal" in response.text
    assert "pp_session" not in response.cookies


def test_logout_ends_the_session(app: FastAPI, people: None) -> None:
    browser = Browser(app, PARTNER)
    assert h1(browser.get("/abmelden")) == "Abmelden"
    page = browser.follow(browser.post("/abmelden"))
    assert flash(page) == "Sie sind abgemeldet."
    assert browser.get("/vorschlaege").status_code == 303


# --- every page for its role ---------------------------------------------------------------------

PAGES: list[tuple[str, str, str]] = [
    (PARTNER, "/vorschlaege", "Meine Vorschläge"),
    (PARTNER, "/vorschlaege/neu", "Neuer Vorschlag für ein Partnerprojekt"),
    (PARTNER, "/vorschlaege/PP-{pid}", "PP-{pid} KLIC.Ruhr – Kompetenzverbund Life-Sciences.Ruhr"),
    (PARTNER, "/vorschlaege/PP-{pid}/fassungen/1", "PP-{pid} Fassung 1 (aktuell)"),
    (PARTNER, "/vorschlaege/PP-{pid}/zurueckziehen", "PP-{pid} zurückziehen?"),
    (PARTNER, "/zustandsdiagramm", "So läuft die Qualifizierung ab"),
    (MWIDE, "/aufgaben", "Meine Aufgaben"),
    (MWIDE, "/vorschlaege", "Vorschläge des Ressorts MWIDE"),
    (MWIDE, "/vorschlaege/PP-{pid}", "PP-{pid} KLIC.Ruhr – Kompetenzverbund Life-Sciences.Ruhr"),
    (MWIDE, "/bericht", "Stand Partnerprojekte – Ressort MWIDE"),
    (STAB, "/uebersicht", "Stand Partnerprojekte"),
    (STAB, "/aufgaben", "Aufgaben des Arbeitsstabs"),
    (STAB, "/vorschlaege", "Alle Vorschläge"),
    (STAB, "/vorschlaege/neu", "Neuer Vorschlag für ein Partnerprojekt"),
    (STAB, "/vorschlaege/PP-{pid}", "PP-{pid} KLIC.Ruhr – Kompetenzverbund Life-Sciences.Ruhr"),
    (STAB, "/bericht", "Stand Partnerprojekte"),
    (STAB, "/zustandsdiagramm", "So läuft die Qualifizierung ab"),
    (ADMIN, "/verwaltung/personen", "Personen und Rollen"),
    (ADMIN, "/uebersicht", "Stand Partnerprojekte"),
    (ADMIN, "/vorschlaege/PP-{pid}", "PP-{pid} KLIC.Ruhr – Kompetenzverbund Life-Sciences.Ruhr"),
]


@pytest.mark.parametrize(("who", "path", "heading"), PAGES)
def test_every_page_renders_for_its_role(
    app: FastAPI, people: None, services: Services, who: str, path: str, heading: str
) -> None:
    pid = f"{to_coordination(services):04d}"
    response = Browser(app, who).get(path.format(pid=pid))
    assert response.status_code == 200, response.text[:3000]
    assert h1(response) == heading.format(pid=pid)
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-store"
    # No inline script or style: the Content-Security-Policy forbids them.
    assert "<script>" not in response.text and " style=" not in response.text


FORBIDDEN: list[tuple[str, str]] = [
    (PARTNER, "/aufgaben"),
    (PARTNER, "/uebersicht"),
    (PARTNER, "/bericht"),
    (PARTNER, "/verwaltung/personen"),
    (MWIDE, "/vorschlaege/neu"),
    (MWIDE, "/uebersicht"),
    (MWIDE, "/verwaltung/personen"),
    (MWIDE, "/vorschlaege/PP-{pid}/ueberarbeiten"),
    (STAB, "/verwaltung/personen"),
    (ADMIN, "/aufgaben"),
    (ADMIN, "/vorschlaege/neu"),
]


@pytest.mark.parametrize(("who", "path"), FORBIDDEN)
def test_pages_of_other_roles_are_403_in_german(
    app: FastAPI, people: None, services: Services, who: str, path: str
) -> None:
    pid = f"{to_coordination(services):04d}"
    response = Browser(app, who).get(path.format(pid=pid))
    assert response.status_code == 403
    assert h1(response) == "Kein Zugriff"
    assert "Diese Seite ist für" in response.text


@pytest.mark.parametrize("who", [OTHER, VM])
@pytest.mark.parametrize("suffix", ["", "/fassungen/1", "/ueberarbeiten", "/zurueckziehen"])
def test_a_proposal_one_may_not_see_does_not_exist(
    app: FastAPI, people: None, services: Services, who: str, suffix: str
) -> None:
    pid = to_coordination(services)
    response = Browser(app, who).get(f"/vorschlaege/PP-{pid:04d}{suffix}")
    # Another Ressort and another organisation get exactly the answer for a missing proposal.
    missing = Browser(app, who).get(f"/vorschlaege/PP-9999{suffix}")
    assert response.status_code == missing.status_code == 404
    assert h1(response) == h1(missing) == "Nicht gefunden"
    assert "KLIC" not in response.text


@pytest.mark.parametrize(
    "path", ["/vorschlaege/PP-9999", "/vorschlaege/quatsch", "/vorschlaege/PP-0001/fassungen/7"]
)
def test_unknown_proposal_is_a_german_404(app: FastAPI, people: None, services: Services, path: str) -> None:
    submit(services)
    response = Browser(app, STAB).get(path)
    assert response.status_code == 404
    assert h1(response) == "Nicht gefunden"
    assert "Traceback" not in response.text


def test_reviewer_sees_only_proposals_of_their_ressort(
    app: FastAPI, people: None, services: Services
) -> None:
    mine = to_coordination(services)
    unassigned = submit(services, title="Noch ohne Ressort")
    page = Browser(app, MWIDE).get("/vorschlaege")
    assert f"PP-{mine:04d}" in page.text
    assert f"PP-{unassigned:04d}" not in page.text


def test_partner_sees_only_their_organisation(app: FastAPI, people: None, services: Services) -> None:
    own = submit(services)
    doc = proposal_doc(title="Vorhaben des anderen Vereins")
    doc["submitter"]["name"] = OTHER_ORG
    other = services.submit(proposal_from_document(doc), OTHER).proposal_id
    page = Browser(app, PARTNER).get("/vorschlaege")
    assert f"PP-{own:04d}" in page.text
    assert f"PP-{other:04d}" not in page.text and "anderen Vereins" not in page.text


# --- the submission form -------------------------------------------------------------------------


def test_new_form_is_prefilled_for_the_partner(app: FastAPI, people: None) -> None:
    page = Browser(app, PARTNER).get("/vorschlaege/neu")
    assert re.search(
        r'name="submitter.name" value="Kompetenzzentrum Bio-Security GmbH"[^>]* readonly', page.text
    )
    assert 'value="kontakt@bio-security.example.de"' in page.text
    # Every input has a label.
    ids = set(re.findall(r'<(?:input|select|textarea)[^>]* id="([^"]+)"', page.text))
    labelled = set(re.findall(r'<label for="([^"]+)"', page.text))
    assert ids <= labelled, ids - labelled


def test_check_button_shows_what_is_missing_and_why(app: FastAPI, people: None) -> None:
    browser = Browser(app, PARTNER)
    response = browser.post(
        "/vorschlaege/neu", form_data(**{"effect_area.places": "Bochum", "aktion": "pruefen"})
    )
    assert response.status_code == 200
    panel = text_of(response.text.split('id="kriterien"', 1)[1])
    assert "Regionale Wirkung ✗ nicht erfüllt" in panel
    assert (
        "Nur 1 Kommune des Ruhrgebiets: Bochum (mindestens 2 nötig), kein weiterer Ort – wirkt nur lokal."
        in panel
    )
    assert "Geprüft: Gesamtergebnis ✗ nicht erfüllt" in panel
    # Nothing is stored by checking.
    assert "Ruhr-Lernlabor Wasserstoff" not in browser.get("/vorschlaege").text


def test_invalid_form_names_each_field_in_german(app: FastAPI, people: None, services: Services) -> None:
    data = form_data(
        title="Kurz",
        **{
            "submitter.contact.email": "keine-adresse",
            "financing.sources[0].amount_eur": "viel",
            "partners[1].name": "Stadtwerke Bochum",
            "aktion": "einreichen",
        },
    )
    response = Browser(app, PARTNER).post("/vorschlaege/neu", data)
    assert response.status_code == 422
    summary = alert(response)
    assert "Titel: mindestens 5 Zeichen, gefunden 4" in summary
    assert "E-Mail der Ansprechperson: keine gültige E-Mail-Adresse" in summary
    assert "Finanzierungsquelle 1 – Betrag: erwartet eine Zahl" in summary
    assert "Partner 2 – Art: Pflichtfeld fehlt" in summary
    assert 'href="#f-partners-1-kind"' in response.text
    assert 'id="f-title" name="title" value="Kurz" aria-required="true" aria-describedby' in response.text
    assert 'aria-invalid="true"' in response.text
    assert "Ruhr-Lernlabor" not in Browser(app, STAB).get("/vorschlaege").text


def test_another_row_without_javascript(app: FastAPI, people: None) -> None:
    response = Browser(app, PARTNER).post("/vorschlaege/neu", form_data(aktion="zeile:partners"))
    assert response.status_code == 200
    assert 'name="partners[2].name"' in response.text
    assert 'value="Westfälische Hochschule"' in response.text


def test_submitting_stores_and_leads_to_the_proposal(app: FastAPI, people: None) -> None:
    browser = Browser(app, PARTNER)
    response = browser.post("/vorschlaege/neu", form_data(aktion="einreichen"))
    assert response.status_code == 303
    page = browser.follow(response)
    assert h1(page).endswith("Ruhr-Lernlabor Wasserstoff")
    assert "ist eingereicht" in flash(page)
    assert '<span class="badge badge-eingereicht">eingereicht</span>' in page.text
    # German amounts ("250.000") were read as 250000 euros.
    assert "Gesamtkosten 250.000 €" in text_of(page.text)


def test_partner_cannot_submit_for_another_organisation(app: FastAPI, people: None) -> None:
    data = form_data(aktion="einreichen", **{"submitter.name": OTHER_ORG})
    response = Browser(app, PARTNER).post("/vorschlaege/neu", data)
    assert response.status_code == 403
    assert "Anderer Verein e. V." in alert(response)


def test_form_post_without_csrf_token_is_refused(app: FastAPI, people: None) -> None:
    response = Browser(app, PARTNER).post("/vorschlaege/neu", form_data(aktion="einreichen"), csrf=False)
    assert response.status_code == 403
    assert h1(response) == "Kein Zugriff"
    assert "CSRF" in response.text


def test_revise_is_prefilled_and_stores_a_new_revision(
    app: FastAPI, people: None, services: Services
) -> None:
    pid = submit(services)
    browser = Browser(app, PARTNER)
    page = browser.get(f"/vorschlaege/PP-{pid:04d}/ueberarbeiten")
    assert 'value="KLIC.Ruhr – Kompetenzverbund Life-Sciences.Ruhr"' in html.unescape(page.text)
    assert 'value="900.000"' in page.text
    assert "Bönen\nWitten\nDortmund" in page.text
    data = form_data(aktion="speichern", version="1", title="KLIC.Ruhr – zweite Fassung")
    page = browser.follow(browser.post(f"/vorschlaege/PP-{pid:04d}/ueberarbeiten", data))
    assert "überarbeitete Fassung" in flash(page)
    assert h1(page).endswith("KLIC.Ruhr – zweite Fassung")
    assert f"/vorschlaege/PP-{pid:04d}/fassungen/2" in page.text


def test_revise_with_a_stale_version_is_a_conflict(app: FastAPI, people: None, services: Services) -> None:
    pid = submit(services)
    services.comment(pid, STAB, "Bitte Zahlen prüfen.", Visibility.INTERN)
    data = form_data(aktion="speichern", version="1")
    response = Browser(app, PARTNER).post(f"/vorschlaege/PP-{pid:04d}/ueberarbeiten", data)
    assert response.status_code == 409
    assert "inzwischen geändert" in alert(response)


def test_revising_after_coordination_started_leads_back(
    app: FastAPI, people: None, services: Services
) -> None:
    pid = to_coordination(services)
    browser = Browser(app, PARTNER)
    page = browser.follow(browser.get(f"/vorschlaege/PP-{pid:04d}/ueberarbeiten"))
    assert "Überarbeiten ist nur möglich" in flash(page)


def test_state_diagram_is_embedded(app: FastAPI, people: None) -> None:
    page = Browser(app, PARTNER).get("/zustandsdiagramm")
    assert "<svg" in page.text and "Zustände eines Partnerprojekt-Vorschlags" in page.text


def test_api_check_is_what_the_live_check_calls(app: FastAPI, people: None) -> None:
    """The live check sends the form as a §5 document with the session's CSRF token in a header."""
    browser = Browser(app, PARTNER)
    doc = proposal_doc()
    doc["effect_area"] = {"places": ["Bochum"], "scope": "regional"}
    response = browser.client.post("/api/v1/check", json=doc, headers={"X-CSRF-Token": browser.csrf()})
    assert response.status_code == 200
    assert response.json()["criteria"]["regional_effect"]["result"] == "not_met"


def test_taken_up_proposal_shows_the_partner_hint(app: FastAPI, people: None, services: Services) -> None:
    pid = submit(services)
    services.transition(pid, Event.TAKE_UP, STAB, EventInput())
    page = Browser(app, PARTNER).get(f"/vorschlaege/PP-{pid:04d}")
    assert "wird gemeinsam mit Ihnen konkretisiert" in page.text
    assert "Vorschlag überarbeiten" in page.text
