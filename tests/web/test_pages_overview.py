"""Dashboard, printable report, list filters and search, exports (CSV for German Excel, XLSX), people."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from fastapi import FastAPI
from openpyxl import load_workbook
from sqlalchemy import select

from partnerprojekte.db.engine import Database
from partnerprojekte.db.schema import UserRow
from partnerprojekte.formats import proposal_from_document
from partnerprojekte.model import Event, ReasonCode
from partnerprojekte.services import Services
from partnerprojekte.states.workflow import EventInput
from partnerprojekte.web.auth.security import set_password
from partnerprojekte.web.exports import HEADER
from tests.conftest import Clock
from tests.helpers import needs_review_financing, proposal_doc
from tests.people import MWIDE, PARTNER, STAB, VM
from tests.web.conftest import ADMIN, OTHER, OTHER_ORG, PEOPLE, to_coordination
from tests.web.test_pages import PASSWORD, Browser, alert, flash, h1, submit, text_of


@pytest.fixture
def people(tokens: dict[str, str], db: Database) -> None:
    """Everyone of ``PEOPLE`` with a password."""
    for email in PEOPLE:
        set_password(db, email, PASSWORD)


@pytest.fixture
def stock(services: Services, clock: Clock) -> dict[str, int]:
    """Four proposals in different states, of two organisations, two of them with MWIDE responsible."""
    coordinated = to_coordination(services)
    clock.advance(days=3)
    fresh = submit(
        services,
        title="Quartiersnetzwerk Emscher",
        handlungsfelder=[
            {"key": "vielfalt", "rationale": "Stärkt den Zusammenhalt in den Quartieren der Emscher."}
        ],
    )
    declined = submit(services, title="Einzelne Radstation in Bochum")
    services.transition(
        declined, Event.DECLINE, STAB, EventInput(comment="Nur lokal.", reasons=(ReasonCode.REGIONAL_EFFECT,))
    )
    doc = proposal_doc(title='=HYPERLINK("http://evil.example")')
    doc["submitter"]["name"] = OTHER_ORG
    other = services.submit(proposal_from_document(doc), OTHER).proposal_id
    services.assign_ressort(other, "VM", STAB)
    clock.advance(days=2)
    return {"coordinated": coordinated, "fresh": fresh, "declined": declined, "other": other}


# --- dashboard and report ------------------------------------------------------------------------


def test_dashboard_shows_the_stand_as_charts_with_tables(
    app: FastAPI, people: None, stock: dict[str, int]
) -> None:
    page = Browser(app, STAB).get("/uebersicht")
    assert page.status_code == 200
    text = text_of(page.text)
    assert (
        "Insgesamt 4 Vorschläge: 1 ist „in Abstimmung“; 2 sind eingereicht und noch nicht aufgegriffen; "
        "1 wird aktuell nicht weiterverfolgt."
    ) in text
    assert '<figure class="chart" aria-labelledby="nach-status-titel">' in page.text
    assert '<th scope="row">in Abstimmung</th>\n        <td class="num">1</td>' in page.text
    assert (
        '<th scope="row">Gelebte Vielfalt – starker Zusammenhalt</th>\n        <td class="num">1</td>'
        in page.text
    )
    assert '<th scope="row">VM</th>' in page.text and '<th scope="row">noch kein Ressort</th>' in page.text
    # Bars are decoration for the table next to them.
    assert 'aria-hidden="true" focusable="false"' in page.text


def test_dashboard_time_in_each_state(app: FastAPI, people: None, services: Services, clock: Clock) -> None:
    first = submit(services)
    clock.advance(days=4)
    services.transition(first, Event.TAKE_UP, STAB, EventInput())
    second = submit(services)
    clock.advance(days=2)
    services.transition(second, Event.TAKE_UP, STAB, EventInput())
    clock.advance(days=1)
    page = Browser(app, STAB).get("/uebersicht")
    row = text_of(
        page.text.split('data-label="Status"><span class="badge badge-eingereicht">', 1)[1].split("</tr>")[0]
    )
    # Two stays in "eingereicht" ended: after 4 and 2 days (median and mean 3), none running.
    assert row.split() == ["eingereicht", "2", "3", "Tage", "3", "Tage", "0", "–"]
    row = text_of(
        page.text.split('data-label="Status"><span class="badge badge-in_bearbeitung">', 1)[1].split("</tr>")[
            0
        ]
    )
    # Both are still "in Bearbeitung", for 3 and 1 days.
    assert row.split() == ["in", "Bearbeitung", "0", "–", "–", "2", "2", "Tage"]


def test_report_on_a_past_day_is_printable(
    app: FastAPI, people: None, stock: dict[str, int], clock: Clock
) -> None:
    browser = Browser(app, STAB)
    today = browser.get("/bericht")
    assert "Stichtag" in today.text and 'href="/static/print.css" media="print"' in today.text
    assert '<tfoot><tr><th scope="row">Summe</th><td class="num">4</td>' in today.text
    first_day = browser.get("/bericht?stichtag=2026-03-02")
    assert first_day.status_code == 200
    assert "Stichtag 02.03.2026" in text_of(first_day.text)
    assert '<tfoot><tr><th scope="row">Summe</th><td class="num">1</td>' in first_day.text


@pytest.mark.parametrize(
    ("value", "message"),
    [("gestern", "„gestern“ ist kein Datum der Form JJJJ-MM-TT"), ("2099-01-01", "liegt in der Zukunft")],
)
def test_report_day_is_checked(app: FastAPI, people: None, value: str, message: str) -> None:
    response = Browser(app, STAB).get(f"/bericht?stichtag={value}")
    assert response.status_code == 422
    assert message in alert(response)


def test_reviewer_report_covers_their_ressort(app: FastAPI, people: None, stock: dict[str, int]) -> None:
    page = Browser(app, MWIDE).get("/bericht")
    assert h1(page) == "Stand Partnerprojekte – Ressort MWIDE"
    assert '<tfoot><tr><th scope="row">Summe</th><td class="num">1</td>' in page.text


# --- list, filters and search --------------------------------------------------------------------


def test_list_filters_by_status_ressort_and_handlungsfeld(
    app: FastAPI, people: None, stock: dict[str, int]
) -> None:
    browser = Browser(app, STAB)
    found = browser.get("/vorschlaege?status=nicht_weiterverfolgt")
    assert "Einzelne Radstation in Bochum" in found.text and "Quartiersnetzwerk" not in found.text
    found = browser.get("/vorschlaege?ressort=VM")
    assert f"PP-{stock['other']:04d}" in found.text and "1 Vorschlag" in found.text
    found = browser.get("/vorschlaege?handlungsfeld=vielfalt")
    assert "Quartiersnetzwerk Emscher" in found.text and "1 Vorschlag" in found.text
    assert "Filter zurücksetzen" in found.text


def test_full_text_search_reaches_into_the_proposal(
    app: FastAPI, people: None, stock: dict[str, int]
) -> None:
    browser = Browser(app, STAB)
    # "ZBZ Witten" is a partner named only inside the document.
    found = browser.get("/vorschlaege?q=zbz+witten")
    assert "4 Vorschläge" in found.text
    found = browser.get("/vorschlaege?q=emscher+zusammenhalt")
    assert "1 Vorschlag" in found.text and "Quartiersnetzwerk Emscher" in found.text
    found = browser.get(f"/vorschlaege?q=PP-{stock['declined']:04d}")
    assert "1 Vorschlag" in found.text
    assert "Keine Vorschläge für diese Auswahl." in browser.get("/vorschlaege?q=gibtesnicht").text


def test_partner_list_shows_the_path_of_each_proposal(
    app: FastAPI, people: None, stock: dict[str, int]
) -> None:
    page = Browser(app, PARTNER).get("/vorschlaege")
    assert page.text.count('<li class="card">') == 3
    assert "HYPERLINK" not in page.text
    declined = page.text.split("Einzelne Radstation in Bochum", 1)[1].split("</li>\n  </ul>")[0]
    assert 'step step-done step-current" aria-current="step"' in declined
    assert "nicht weiterverfolgt" in declined


# --- exports ------------------------------------------------------------------------------------


def read_csv(body: bytes) -> list[list[str]]:
    """Rows of a CSV export as German Excel reads it."""
    assert body.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        (STAB, {"coordinated", "fresh", "declined", "other"}),
        (ADMIN, {"coordinated", "fresh", "declined", "other"}),
        (PARTNER, {"coordinated", "fresh", "declined"}),
        (OTHER, {"other"}),
        (MWIDE, {"coordinated"}),
        (VM, {"other"}),
    ],
)
def test_csv_export_has_the_rows_the_person_may_see(
    app: FastAPI, people: None, stock: dict[str, int], who: str, expected: set[str]
) -> None:
    response = Browser(app, who).get("/vorschlaege/export.csv")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="partnerprojekte-2026-03-07.csv"'
    rows = read_csv(response.content)
    assert rows[0] == list(HEADER)
    assert {row[0] for row in rows[1:]} == {f"PP-{stock[name]:04d}" for name in expected}


def test_csv_export_content_in_german(app: FastAPI, people: None, stock: dict[str, int]) -> None:
    rows = read_csv(Browser(app, STAB).get("/vorschlaege/export.csv").content)
    by_id = {row[0]: dict(zip(HEADER, row, strict=True)) for row in rows[1:]}
    coordinated = by_id[f"PP-{stock['coordinated']:04d}"]
    assert coordinated["Status"] == "in Abstimmung"
    assert coordinated["Regionale Wirkung"] == "erfüllt"
    assert coordinated["Gesamtergebnis"] == "erfüllt"
    assert coordinated["Zuständiges Ressort"] == "MWIDE"
    assert coordinated["Eingereicht am"] == "02.03.2026"
    # A title that looks like a formula stays text in Excel.
    assert by_id[f"PP-{stock['other']:04d}"]["Titel"] == '\'=HYPERLINK("http://evil.example")'


def test_export_keeps_the_filters(app: FastAPI, people: None, stock: dict[str, int]) -> None:
    browser = Browser(app, STAB)
    rows = read_csv(browser.get("/vorschlaege/export.csv?status=eingereicht").content)
    assert len(rows) == 3
    page = browser.get("/vorschlaege?status=eingereicht")
    assert 'href="/vorschlaege/export.csv?status=eingereicht"' in page.text


def test_xlsx_export(app: FastAPI, people: None, services: Services, stock: dict[str, int]) -> None:
    needs_review = to_coordination(services, needs_review_financing())
    response = Browser(app, MWIDE).get("/vorschlaege/export.xlsx")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows: list[tuple[Any, ...]] = list(sheet.iter_rows(values_only=True))
    assert rows[0] == HEADER
    assert [row[0] for row in rows[1:]] == [f"PP-{stock['coordinated']:04d}", f"PP-{needs_review:04d}"]
    last = dict(zip(HEADER, rows[2], strict=True))
    assert last["Vorschläge zur Finanzierung"] == "zu prüfen"
    assert last["Gesamtergebnis"] == "zu prüfen"
    assert last["Eingereicht am"] == dt.datetime(2026, 3, 7)
    assert sheet.freeze_panes == "A2"


def test_xlsx_stores_formula_like_titles_as_text(app: FastAPI, people: None, stock: dict[str, int]) -> None:
    content = Browser(app, STAB).get("/vorschlaege/export.xlsx").content
    sheet = load_workbook(io.BytesIO(content)).active
    titles = {row[0].value: row[1] for row in sheet.iter_rows(min_row=2)}
    cell = titles[f"PP-{stock['other']:04d}"]
    assert cell.data_type == "s"
    assert cell.value == '=HYPERLINK("http://evil.example")'


def test_exports_need_a_login(app: FastAPI) -> None:
    response = Browser(app).get("/vorschlaege/export.csv")
    assert response.status_code == 303


# --- people ------------------------------------------------------------------------------------


def user_id_of(db: Database, email: str) -> int:
    """The id of a user."""
    with db.read() as s:
        found = s.scalar(select(UserRow.id).where(UserRow.email == email))
    assert found is not None
    return found


def test_admin_adds_a_person_but_cannot_give_them_a_password(app: FastAPI, people: None) -> None:
    admin = Browser(app, ADMIN)
    assert 'type="password"' not in admin.get("/verwaltung/personen").text
    data = {
        "name": "Paula Partner",
        "email": "p.partner@stadtwerke.example",
        "role": "partner",
        "organisation": "Stadtwerke Bochum",
        "ressort": "MWIDE",
        # A field the old form had: ignored now, the person chooses her password through her link.
        "password": "ein-langes-Passwort-1",
    }
    page = admin.follow(admin.post("/verwaltung/personen", data))
    assert flash(page) == (
        "Paula Partner (p.partner@stadtwerke.example) ist als Partner angelegt; der Aktivierungslink geht "
        "per E-Mail an sie, ihr Passwort wählt sie selbst."
    )
    assert "Stadtwerke Bochum" in page.text
    assert Browser(app).login("p.partner@stadtwerke.example", "ein-langes-Passwort-1").status_code == 401


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"role": ""}, "Bitte eine Rolle auswählen."),
        ({"role": "ressort", "ressort": ""}, "Für die Rolle „ressort“ ist ein Ressort anzugeben."),
        ({"email": "keine-adresse"}, "„keine-adresse“ ist keine gültige E-Mail-Adresse."),
        ({"email": STAB}, "Eine Person mit a.stab@stk.nrw.example gibt es bereits."),
    ],
)
def test_adding_a_person_is_validated_in_german(
    app: FastAPI, people: None, changes: dict[str, str], message: str
) -> None:
    data = {
        "name": "Rita Ressort",
        "email": "r.ressort@mwide.nrw.example",
        "role": "ressort",
        "ressort": "MWIDE",
    }
    data.update(changes)
    response = Browser(app, ADMIN).post("/verwaltung/personen", data)
    assert response.status_code == 422
    assert message in alert(response)
    assert 'value="Rita Ressort"' in response.text


def test_deactivated_person_is_logged_out_and_cannot_log_in(app: FastAPI, people: None, db: Database) -> None:
    partner = Browser(app, PARTNER)
    admin = Browser(app, ADMIN)
    user_id = user_id_of(db, PARTNER)
    page = admin.follow(admin.post(f"/verwaltung/personen/{user_id}/deaktivieren"))
    assert "ist deaktiviert" in flash(page)
    assert partner.get("/vorschlaege").status_code == 303
    assert Browser(app).login(PARTNER).status_code == 401
    # Reactivating mails the person a link; until she uses it, the account stays deactivated.
    page = admin.follow(admin.post(f"/verwaltung/personen/{user_id}/aktivieren"))
    assert "Aktivierungslink an Kai Kontakt" in flash(
        page
    ) and "wieder aktiv, sobald sie ihn benutzt" in flash(page)
    assert Browser(app).login(PARTNER).status_code == 401


def test_admin_cannot_deactivate_themself(app: FastAPI, people: None, db: Database) -> None:
    admin = Browser(app, ADMIN)
    user_id = user_id_of(db, ADMIN)
    page = admin.follow(admin.post(f"/verwaltung/personen/{user_id}/deaktivieren"))
    assert flash(page) == "Sie können sich nicht selbst deaktivieren."


def test_people_page_needs_admin_and_csrf(app: FastAPI, people: None) -> None:
    assert Browser(app, STAB).post("/verwaltung/personen", {"name": "X"}).status_code == 403
    response = Browser(app, ADMIN).post("/verwaltung/personen", {"name": "X"}, csrf=False)
    assert response.status_code == 403
    assert "CSRF" in response.text
