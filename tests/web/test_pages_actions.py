"""Actions on the decision page: POST with CSRF, 303 with a German message, refusals re-rendered in German."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from partnerprojekte.db.engine import Database
from partnerprojekte.model import Criterion, Event, State, Visibility
from partnerprojekte.reading.queries import show_proposal
from partnerprojekte.services import Services
from partnerprojekte.states.workflow import EventInput
from partnerprojekte.web.auth.security import set_password
from tests.conftest import Clock
from tests.helpers import needs_review_financing
from tests.people import MWIDE, MWIDE2, PARTNER, STAB, STAB2, VM
from tests.web.conftest import PEOPLE, bearer, to_coordination
from tests.web.test_pages import PASSWORD, Browser, alert, flash, h1, submit, text_of


@pytest.fixture
def people(tokens: dict[str, str], db: Database) -> None:
    """Everyone of ``PEOPLE`` with a password."""
    for email in PEOPLE:
        set_password(db, email, PASSWORD)


def status(services: Services, pid: int) -> State:
    """The stored status of a proposal."""
    return State(show_proposal(services.db, pid)["status"])


def url(pid: int, suffix: str = "") -> str:
    """The page of a proposal."""
    return f"/vorschlaege/PP-{pid:04d}{suffix}"


def test_arbeitsstab_takes_up_assigns_and_starts_coordination(
    app: FastAPI, people: None, services: Services
) -> None:
    pid = submit(services)
    stab = Browser(app, STAB)
    page = stab.follow(stab.post(url(pid, "/aufgreifen"), {"version": "1"}))
    assert flash(page) == f"PP-{pid:04d}: „Aufgreifen“ ist erledigt – Status jetzt „in Bearbeitung“."
    page = stab.follow(stab.post(url(pid, "/ressort"), {"ressort": "MWIDE"}))
    assert flash(page) == f"PP-{pid:04d}: Zuständig ist jetzt das Ressort MWIDE."
    page = stab.follow(stab.post(url(pid, "/abstimmung")))
    assert "Status jetzt „in Abstimmung“" in flash(page)
    assert status(services, pid) is State.IN_ABSTIMMUNG


def test_a_guard_refusal_is_shown_on_the_page_with_409(
    app: FastAPI, people: None, services: Services
) -> None:
    pid = submit(services)
    services.transition(pid, Event.TAKE_UP, STAB, EventInput())
    response = Browser(app, STAB).post(url(pid, "/abstimmung"))
    assert response.status_code == 409
    assert alert(response) == (
        "Das hat nicht geklappt „Abstimmung einleiten“ ist nicht möglich: "
        "Es ist noch kein zuständiges Ressort zugeordnet."
    )
    assert "Traceback" not in response.text
    assert h1(response).startswith(f"PP-{pid:04d}")
    assert status(services, pid) is State.IN_BEARBEITUNG


def test_the_api_names_the_refused_event_with_its_code_the_page_without(
    app: FastAPI, services: Services, client: TestClient, tokens: dict[str, str], db: Database
) -> None:
    pid = submit(services)
    services.transition(pid, Event.TAKE_UP, STAB, EventInput())
    api = client.post(
        f"/api/v1/proposals/PP-{pid:04d}/events/start_coordination", headers=bearer(tokens, STAB)
    )
    assert api.status_code == 409
    sentence = "ist nicht möglich: Es ist noch kein zuständiges Ressort zugeordnet."
    assert api.json()["error"]["message"] == f"„Abstimmung einleiten“ (start_coordination) {sentence}"
    set_password(db, STAB, PASSWORD)  # after the API call: a new password revokes the person's tokens
    page = Browser(app, STAB).post(url(pid, "/abstimmung"))
    assert alert(page) == f"Das hat nicht geklappt „Abstimmung einleiten“ {sentence}"


def test_missing_input_is_422_and_keeps_what_was_typed(
    app: FastAPI, people: None, services: Services
) -> None:
    pid = submit(services)
    services.transition(pid, Event.TAKE_UP, STAB, EventInput())
    data = {"reasons": [], "comment": "Doppelt mit einem Vorhaben der 1. Säule."}
    response = Browser(app, STAB).post(url(pid, "/nicht-weiterverfolgen"), data)
    assert response.status_code == 422
    assert "braucht mindestens einen Grund" in alert(response)
    assert "(--reason)" not in response.text
    assert "Doppelt mit einem Vorhaben der 1. Säule.</textarea>" in response.text
    assert 'class="action action-failed"' in response.text


def test_role_refusal_is_403(app: FastAPI, people: None, services: Services) -> None:
    pid = to_coordination(services)
    response = Browser(app, MWIDE).post(url(pid, "/aufgreifen"))
    assert response.status_code == 403
    assert "Diese Seite ist für Arbeitsstab bestimmt" in response.text


def test_actions_need_the_csrf_token(app: FastAPI, people: None, services: Services) -> None:
    pid = submit(services)
    response = Browser(app, STAB).post(url(pid, "/aufgreifen"), csrf=False)
    assert response.status_code == 403
    assert status(services, pid) is State.EINGEREICHT


def test_actions_on_an_invisible_proposal_are_404(app: FastAPI, people: None, services: Services) -> None:
    pid = to_coordination(services)
    response = Browser(app, VM).post(url(pid, "/anerkennen"))
    assert response.status_code == 404


def test_two_approvals_recognise_through_the_pages(app: FastAPI, people: None, services: Services) -> None:
    pid = to_coordination(services)
    reviewer = Browser(app, MWIDE)
    tasks = reviewer.get("/aufgaben")
    assert f"PP-{pid:04d}" in tasks.text
    page = reviewer.follow(reviewer.post(url(pid, "/anerkennen"), {"comment": "Passt.", "version": "4"}))
    assert flash(page) == (
        f"Ihre Zustimmung zu „Anerkennen“ für PP-{pid:04d} ist gespeichert. "
        "Es fehlt noch die Zustimmung: Arbeitsstab."
    )
    assert "Zustimmung zurücknehmen" in page.text
    assert f"PP-{pid:04d}" not in reviewer.get("/aufgaben").text

    stab = Browser(app, STAB)
    assert "zugestimmt hat bereits Carla Ostermann (Ressort)" in text_of(stab.get("/aufgaben").text)
    page = stab.follow(stab.post(url(pid, "/anerkennen")))
    assert flash(page) == f"PP-{pid:04d} ist als Partnerprojekt der Ruhr-Konferenz anerkannt."
    assert '<span class="badge badge-anerkannt">anerkannt</span>' in page.text
    assert status(services, pid) is State.ANERKANNT


def test_the_same_side_cannot_approve_twice(app: FastAPI, people: None, services: Services) -> None:
    pid = to_coordination(services)
    services.transition(pid, Event.RECOGNISE, MWIDE, EventInput())
    response = Browser(app, MWIDE2).post(url(pid, "/anerkennen"))
    assert response.status_code == 409
    assert "Die Zustimmung für Ressort liegt bereits vor (von Carla Ostermann)" in alert(response)


def test_withdraw_own_approval(app: FastAPI, people: None, services: Services) -> None:
    pid = to_coordination(services)
    services.transition(pid, Event.RECOGNISE, STAB, EventInput())
    stab = Browser(app, STAB)
    page = stab.follow(stab.post(url(pid, "/zustimmung-zuruecknehmen"), {"event": "recognise"}))
    assert flash(page) == "Ihre Zustimmung zu „Anerkennen“ ist zurückgenommen."
    assert "Der Anerkennung zustimmen" in page.text


def test_reviewer_requests_changes_for_the_partner(app: FastAPI, people: None, services: Services) -> None:
    pid = to_coordination(services)
    reviewer = Browser(app, MWIDE)
    page = reviewer.follow(
        reviewer.post(url(pid, "/aenderungen"), {"comment": "Bitte die Eigenmittel belegen.", "version": "4"})
    )
    assert "Status jetzt „in Bearbeitung“" in flash(page)
    partner_page = Browser(app, PARTNER).get(url(pid))
    assert "Bitte die Eigenmittel belegen." in partner_page.text
    assert "Änderungen angefordert" in partner_page.text


def test_reviewer_confirms_a_criterion_with_justification(
    app: FastAPI, people: None, services: Services, db: Database
) -> None:
    pid = to_coordination(services, needs_review_financing())
    reviewer = Browser(app, MWIDE)
    page = reviewer.get(url(pid))
    assert "Kriterium „Vorschläge zur Finanzierung“ bestätigen" in page.text
    response = reviewer.post(url(pid, "/bestaetigen"), {"criterion": "financing", "comment": ""})
    assert response.status_code == 422
    assert "braucht eine schriftliche Begründung" in alert(response)
    data = {"criterion": Criterion.FINANCING.value, "comment": "Förderbescheid liegt als Entwurf vor."}
    page = reviewer.follow(reviewer.post(url(pid, "/bestaetigen"), data))
    assert flash(page) == "Kriterium „Vorschläge zur Finanzierung“ ist für die aktuelle Fassung bestätigt."
    assert "vom Ressort bestätigt" in page.text
    # The justification is internal: the partner sees neither it nor the confirmation entry.
    partner_page = Browser(app, PARTNER).get(url(pid))
    assert "Förderbescheid liegt als Entwurf vor." not in partner_page.text


def test_partner_never_reads_internal_comments(app: FastAPI, people: None, services: Services) -> None:
    pid = to_coordination(services)
    services.comment(pid, STAB, "Intern: Haushaltslage klären.", Visibility.INTERN)
    services.comment(pid, STAB, "Für Sie: Wir melden uns im März.", Visibility.PARTNER)
    services.transition(pid, Event.RECOGNISE, MWIDE, EventInput(comment="Intern: fachlich gut."))
    page = Browser(app, PARTNER).get(url(pid))
    assert "Für Sie: Wir melden uns im März." in page.text
    assert "Haushaltslage" not in page.text
    assert "fachlich gut" not in page.text
    assert "Zustimmung gegeben" not in page.text
    # Staff read both, marked by visibility.
    staff = Browser(app, STAB2).get(url(pid))
    assert "Intern: Haushaltslage klären." in staff.text and "Für Sie: Wir melden uns im März." in staff.text


def test_comment_form_with_visibility(app: FastAPI, people: None, services: Services) -> None:
    pid = submit(services)
    stab = Browser(app, STAB)
    page = stab.follow(
        stab.post(url(pid, "/kommentare"), {"text": "Bitte anrufen.", "visibility": "partner"})
    )
    assert flash(page) == "Ihr Kommentar ist gespeichert."
    assert "Bitte anrufen." in Browser(app, PARTNER).get(url(pid)).text
    response = stab.post(url(pid, "/kommentare"), {"text": "   "})
    assert response.status_code == 422
    assert "Der Kommentar darf nicht leer sein." in alert(response)


def test_partner_withdraws_after_confirming(app: FastAPI, people: None, services: Services) -> None:
    pid = submit(services)
    partner = Browser(app, PARTNER)
    confirm = partner.get(url(pid, "/zurueckziehen"))
    assert h1(confirm) == f"PP-{pid:04d} zurückziehen?"
    assert "Das ist endgültig" in confirm.text
    assert status(services, pid) is State.EINGEREICHT
    page = partner.follow(
        partner.post(url(pid, "/zurueckziehen"), {"comment": "Kein Bedarf mehr.", "version": "1"})
    )
    assert "Status jetzt „zurückgezogen“" in flash(page)
    assert status(services, pid) is State.ZURUECKGEZOGEN


def test_integrate_needs_a_valid_saeule_1_id(app: FastAPI, people: None, services: Services) -> None:
    pid = submit(services)
    services.transition(pid, Event.TAKE_UP, STAB, EventInput())
    stab = Browser(app, STAB)
    response = stab.post(url(pid, "/saeule-1"), {"saeule_1_projekt": "13/06", "comment": "Passt zu 13-06."})
    assert response.status_code == 422
    assert "„13/06“ ist keine gültige Säule-1-Projekt-ID" in alert(response)
    assert 'value="13/06"' in response.text
    data = {"saeule_1_projekt": "13-06", "comment": "Geht in 13-06 auf.", "visibility": "partner"}
    page = stab.follow(stab.post(url(pid, "/saeule-1"), data))
    assert "in ein Projekt der 1. Säule integriert" in flash(page)
    assert "(Projekt 13-06)" in page.text


def test_decline_and_reopen(app: FastAPI, people: None, services: Services) -> None:
    pid = submit(services)
    stab = Browser(app, STAB)
    data = {"reasons": ["doppelung", "sonstiges"], "comment": "Doppelt."}
    page = stab.follow(stab.post(url(pid, "/nicht-weiterverfolgen"), data))
    assert "Status jetzt „nicht weiterverfolgt“" in flash(page)
    assert "Gründe: Doppelung mit einem anderen Vorhaben; sonstige Gründe" in text_of(page.text)
    page = stab.follow(
        stab.post(url(pid, "/wieder-aufnehmen"), {"comment": "Neue Lage.", "visibility": "intern"})
    )
    assert "Status jetzt „in Bearbeitung“" in flash(page)


def test_stale_version_is_a_conflict_with_fresh_page(app: FastAPI, people: None, services: Services) -> None:
    pid = submit(services)
    response = Browser(app, STAB).post(url(pid, "/aufgreifen"), {"version": "7"})
    assert response.status_code == 409
    assert "Die Seite zeigt jetzt den aktuellen Stand." in alert(response)
    assert status(services, pid) is State.EINGEREICHT


def test_unknown_action_is_404(app: FastAPI, people: None, services: Services) -> None:
    pid = submit(services)
    assert Browser(app, STAB).post(url(pid, "/zaubern")).status_code == 404


def test_tasks_overdue_first_with_age_in_days(
    app: FastAPI, people: None, services: Services, clock: Clock
) -> None:
    old = to_coordination(services)
    clock.advance(days=12)
    new = to_coordination(services)
    clock.advance(days=1)
    page = Browser(app, MWIDE).get("/aufgaben")
    text = text_of(page.text)
    assert text.index(f"PP-{old:04d}") < text.index(f"PP-{new:04d}")
    assert "überfällig seit 13 Tagen" in text
    assert "seit 1 Tag" in text
    assert "warten. Überfälliges steht oben. 2 Aufgaben, davon 1 überfällig" in text


def test_admin_makes_no_decisions(app: FastAPI, people: None, services: Services) -> None:
    pid = to_coordination(services)
    admin_page = Browser(app, "admin@it.nrw.example").get(url(pid))
    assert "Entscheidungen und Aktionen" not in admin_page.text
    assert Browser(app, "admin@it.nrw.example").post(url(pid, "/anerkennen")).status_code == 403


def test_history_is_shown_in_berlin_time(
    app: FastAPI, people: None, services: Services, clock: Clock
) -> None:
    clock.now = dt.datetime(2026, 7, 1, 8, 0, tzinfo=dt.UTC)
    pid = submit(services)
    page = Browser(app, STAB).get(url(pid))
    assert "01.07.2026, 10:00 Uhr" in page.text


def test_an_expired_session_leads_to_the_login_and_back(
    app: FastAPI, people: None, services: Services, clock: Clock
) -> None:
    pid = submit(services)
    stab = Browser(app, STAB)
    token = stab.csrf()
    clock.advance(hours=9)
    response = stab.client.post(url(pid, "/aufgreifen"), data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/anmelden?weiter=%2Fvorschlaege%2FPP-{pid:04d}%2Faufgreifen"
    assert status(services, pid) is State.EINGEREICHT
    # Logged in again, the action's address leads to the proposal's page (nothing happens by GET).
    again = Browser(app, STAB)
    page = again.get(url(pid, "/aufgreifen"))
    assert page.status_code == 303 and page.headers["location"] == url(pid)
    assert status(services, pid) is State.EINGEREICHT
