"""Every input gets a clear answer: control characters, numbers from the URL, body size, no CDN."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select, text

from partnerprojekte.config import Settings
from partnerprojekte.db.engine import Database
from partnerprojekte.db.schema import CommentRow, ProposalRow, UserRow
from partnerprojekte.errors import ValidationError
from partnerprojekte.ids import format_id
from partnerprojekte.importer import parse_import
from partnerprojekte.model import Role
from partnerprojekte.services import Services
from partnerprojekte.web.app import STATIC_DIR, create_app
from partnerprojekte.web.auth.security import set_password
from tests.helpers import proposal_doc
from tests.people import PARTNER, STAB
from tests.web.conftest import PEOPLE, bearer, error, submit
from tests.web.test_pages import PASSWORD, Browser, alert, form_data, text_of

API = "/api/v1"


@pytest.fixture
def people(tokens: dict[str, str], db: Database) -> None:
    """Everyone of ``PEOPLE`` with the password of the page tests."""
    for who in PEOPLE:
        set_password(db, who, PASSWORD)


def comments(db: Database) -> list[str]:
    """The text of every stored comment."""
    with db.read() as s:
        return list(s.scalars(select(CommentRow.text)))


def page_error(response_text: str) -> str:
    """The visible text of a page (for its messages)."""
    return text_of(response_text)


# --- control characters ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "code"), [("\x0b", "U+000B"), ("\x00", "U+0000"), ("\x1b[31m", "U+001B"), ("\x7f", "U+007F")]
)
def test_a_comment_with_a_control_character_is_refused_naming_the_field(
    app: FastAPI, people: None, services: Services, db: Database, bad: str, code: str
) -> None:
    pid = format_id(submit(services))
    browser = Browser(app, STAB)
    response = browser.post(
        f"/vorschlaege/{pid}/kommentare", {"text": f"Bitte {bad}prüfen", "visibility": "intern"}
    )
    assert response.status_code == 422, response.text[:500]
    shown = page_error(response.text)
    assert "Kommentar" in shown and code in shown
    assert comments(db) == []


def test_tab_newline_and_the_crlf_of_a_textarea_are_kept(
    app: FastAPI, people: None, services: Services, db: Database
) -> None:
    pid = format_id(submit(services))
    written = "Erstens:\r\n\tFinanzierung ergänzen.\r\nZweitens: Orte nennen."
    response = Browser(app, STAB).post(f"/vorschlaege/{pid}/kommentare", {"text": written})
    assert response.status_code == 303
    assert comments(db) == [written.strip()]


def test_the_submission_form_refuses_a_control_character_in_the_title(
    app: FastAPI, people: None, db: Database
) -> None:
    browser = Browser(app, PARTNER)
    data = form_data(title="Ruhr-Lern\x0blabor", aktion="einreichen")
    response = browser.post("/vorschlaege/neu", data)
    assert response.status_code == 422
    # The form itself again, with the error at its input and the rest of what was typed.
    assert "Titel: enthält das Steuerzeichen U+000B" in alert(response)
    assert 'value="Kompetenzzentrum Bio-Security GmbH"' in response.text
    with db.read() as s:
        assert s.scalar(select(ProposalRow.id)) is None


@pytest.mark.parametrize(
    ("escape", "code"),
    [("\\u000b", "U+000B"), ("\\u0000", "U+0000"), ("\\ud800", "U+D800"), ("\\udfff", "U+DFFF")],
)
def test_the_api_refuses_control_characters_and_lone_surrogates_in_a_proposal(
    client: TestClient, tokens: dict[str, str], db: Database, escape: str, code: str
) -> None:
    body = json.dumps(proposal_doc(title="Ruhr-Lernlabor TITLE")).replace("TITLE", escape)
    headers = {**bearer(tokens, PARTNER), "Content-Type": "application/json"}
    response = client.post(f"{API}/proposals", content=body.encode(), headers=headers)
    assert response.status_code == 422, response.text
    fields = error(response)["fields"]
    assert [f["path"] for f in fields] == ["title"]
    assert code in fields[0]["message"]
    with db.read() as s:
        assert s.scalar(select(ProposalRow.id)) is None


def test_the_api_refuses_a_lone_surrogate_in_a_comment(
    client: TestClient, tokens: dict[str, str], services: Services, db: Database
) -> None:
    pid = format_id(submit(services))
    headers = {**bearer(tokens, STAB), "Content-Type": "application/json"}
    body = b'{"text": "Bitte \\udc80 pr\\u00fcfen", "visibility": "intern"}'
    response = client.post(f"{API}/proposals/{pid}/comments", content=body, headers=headers)
    assert response.status_code == 422, response.text
    assert [f["path"] for f in error(response)["fields"]] == ["text"]
    assert comments(db) == []


def test_an_import_file_with_a_control_character_names_its_path() -> None:
    doc = (
        '{"users": [{"email": "a@b.example", "name": "Anna\\u000bStab", "role": "arbeitsstab"}],'
        ' "proposals": []}'
    )
    with pytest.raises(ValidationError) as refused:
        parse_import(doc.encode(), source="alt.json")
    assert [e.path for e in refused.value.errors] == ["users[0].name"]
    assert "U+000B" in str(refused.value)


def test_a_user_name_with_a_control_character_is_refused(services: Services, db: Database) -> None:
    with pytest.raises(ValidationError, match="Name: enthält das Steuerzeichen U\\+000B"):
        services.add_user("neu@example.org", "Neu\x0bPerson", Role.ARBEITSSTAB)
    with db.read() as s:
        assert s.scalar(select(UserRow.id).where(UserRow.email == "neu@example.org")) is None


# --- exports of data stored before the rule ----------------------------------------------------


@pytest.fixture
def stored_control_title(services: Services, db: Database) -> int:
    """A proposal whose stored title holds U+000B (written before such titles were refused)."""
    pid = submit(services)
    with db.write() as s:
        s.execute(
            text("UPDATE proposals SET title = :t WHERE id = :id"), {"t": "Alt\x0bTitel\x01", "id": pid}
        )
    return pid


def test_the_xlsx_export_survives_a_stored_control_character(
    app: FastAPI, people: None, stored_control_title: int
) -> None:
    response = Browser(app, STAB).get("/vorschlaege/export.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    titles = {row[0]: row[1] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert titles[format_id(stored_control_title)] == "Alt\ufffdTitel\ufffd"


def test_the_csv_export_replaces_a_stored_control_character(
    app: FastAPI, people: None, stored_control_title: int
) -> None:
    response = Browser(app, STAB).get("/vorschlaege/export.csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    titles = {row[0]: row[1] for row in rows[1:]}
    assert titles[format_id(stored_control_title)] == "Alt\ufffdTitel\ufffd"


# --- numbers from the URL and forms ------------------------------------------------------------


@pytest.mark.parametrize("seite", ["²", "١", "99999999999999999999999", "-1", "1e3"])
def test_a_page_number_of_other_digits_or_out_of_range_shows_the_first_page(
    app: FastAPI, people: None, services: Services, seite: str
) -> None:
    submit(services)
    response = Browser(app, STAB).get("/vorschlaege", params={"seite": seite})
    assert response.status_code == 200


@pytest.mark.parametrize("number", ["²", "١", "99999999999999999999", "0"])
def test_a_revision_number_of_other_digits_is_not_found(
    app: FastAPI, people: None, services: Services, number: str
) -> None:
    pid = format_id(submit(services))
    assert Browser(app, STAB).get(f"/vorschlaege/{pid}/fassungen/1").status_code == 200
    response = Browser(app, STAB).get(f"/vorschlaege/{pid}/fassungen/{number}")
    assert response.status_code == 404
    assert "Die Fassung" in page_error(response.text)


_ARABIC_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


@pytest.mark.parametrize("form", ["PP-{}", "PP-000{}", "{}"])
def test_a_proposal_id_with_other_digits_is_not_found(
    app: FastAPI, people: None, services: Services, form: str
) -> None:
    number = submit(services)
    browser = Browser(app, STAB)
    assert browser.get(f"/vorschlaege/{form.format(number)}").status_code == 200
    assert browser.get(f"/vorschlaege/{form.format(number).translate(_ARABIC_DIGITS)}").status_code == 404


@pytest.mark.parametrize("user_id", ["99999999999999999999", "2147483648", "²", "١"])
def test_an_oversized_or_unicode_user_id_is_refused(app: FastAPI, people: None, user_id: str) -> None:
    response = Browser(app, "admin@it.nrw.example").post(f"/verwaltung/personen/{user_id}/deaktivieren")
    assert response.status_code == 422
    assert "Ungültige Eingabe" in page_error(response.text)


@pytest.mark.parametrize("version", ["²", "99999999999999999999"])
def test_a_version_of_other_digits_in_a_form_is_ignored(
    app: FastAPI, people: None, services: Services, version: str
) -> None:
    pid = format_id(submit(services))
    response = Browser(app, STAB).post(f"/vorschlaege/{pid}/aufgreifen", {"version": version})
    assert response.status_code == 303


# --- NUL on PostgreSQL (and SQLite) ------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "field", "label"),
    [
        ("/vorschlaege?q=Ruhr%00", None, "Suche"),
        ("/bericht?stichtag=2026-03-01%00", None, "Stichtag"),
        ("/vorschlaege/{pid}/ressort", "ressort", "Ressort"),
        ("/vorschlaege/{pid}/aufgreifen", "comment", "Kommentar"),
        ("/vorschlaege/{pid}/kommentare", "text", "Kommentar"),
    ],
)
def test_nul_in_any_field_is_a_field_error_not_a_500(
    app: FastAPI, people: None, services: Services, path: str, field: str | None, label: str
) -> None:
    pid = format_id(submit(services))
    browser = Browser(app, STAB)
    target = path.format(pid=pid)
    response = browser.post(target, {field: "MW\x00IDE"}) if field else browser.get(target)
    assert response.status_code == 422, response.text[:300]
    shown = page_error(response.text)
    assert label in shown and "U+0000" in shown


def test_nul_in_the_login_form_is_a_field_error(app: FastAPI) -> None:
    browser = Browser(app)
    response = browser.login("a\x00@b.example", "x")
    assert response.status_code == 422
    assert "E-Mail" in page_error(response.text)


# --- request size ------------------------------------------------------------------------------


def test_an_oversized_anonymous_form_is_413_in_german(app: FastAPI) -> None:
    with TestClient(app, base_url="http://127.0.0.1:8000") as client:
        response = client.post("/anmelden", data={"email": "x" * 1_200_000, "password": "p"})
    assert response.status_code == 413
    assert "Die Anfrage ist zu groß: höchstens 1,0 MiB sind erlaubt." in page_error(response.text)


def test_an_oversized_chunked_json_body_without_length_is_413(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"email": "'
        for _ in range(300):
            yield b"x" * 4096
        yield b'", "password": "p"}'

    response = client.post(f"{API}/session", content=chunks(), headers={"Content-Type": "application/json"})
    assert "content-length" not in {k.lower() for k in response.request.headers}
    assert response.status_code == 413
    assert error(response) == {
        "message": "Die Anfrage ist zu groß: höchstens 1,0 MiB sind erlaubt.",
        "kind": "too_large",
    }


def test_an_oversized_api_proposal_with_a_token_is_413(client: TestClient, tokens: dict[str, str]) -> None:
    headers = {**bearer(tokens, PARTNER), "Content-Type": "application/json"}
    response = client.post(f"{API}/proposals", content=b" " * 2_000_000, headers=headers)
    assert response.status_code == 413


# --- no third-party origin ---------------------------------------------------------------------

_EXTERNAL = re.compile(r"""(?:src|href|action)\s*=\s*["']?\s*(?:https?:)?//(?!127\.0\.0\.1[:/])""", re.I)
_CSS_EXTERNAL = re.compile(r"""url\(\s*["']?(?:https?:)?//|@import\s+["']?(?:https?:)?//""", re.I)


def test_no_template_or_static_file_references_another_origin() -> None:
    files = [p for p in STATIC_DIR.parent.rglob("*") if p.suffix in (".html", ".css", ".js")]
    assert len(files) > 5
    found = [f"{p.name}: {m.group()}" for p in files for m in _EXTERNAL.finditer(p.read_text())]
    found += [f"{p.name}: {m.group()}" for p in files for m in _CSS_EXTERNAL.finditer(p.read_text())]
    assert found == []


def test_no_page_loads_anything_from_another_origin(app: FastAPI, people: None, services: Services) -> None:
    pid = format_id(submit(services))
    anonymous = TestClient(app, base_url="http://127.0.0.1:8000")
    login = anonymous.get("/anmelden")
    assert login.status_code == 200 and _EXTERNAL.findall(login.text) == []
    pages = [
        "/vorschlaege",
        f"/vorschlaege/{pid}",
        "/vorschlaege/neu",
        "/uebersicht",
        "/bericht",
    ]
    browser = Browser(app, STAB)
    for path in pages:
        response = browser.get(path)
        assert response.status_code == 200, path
        assert _EXTERNAL.findall(response.text) == [], path
    docs = anonymous.get(f"{API}/docs")
    assert docs.status_code == 404
    assert "cdn" not in docs.text and "cdn" not in docs.headers["content-security-policy"]
    assert anonymous.get(f"{API}/openapi.json").status_code == 200


def test_swagger_ui_when_switched_on_comes_from_this_server(db: Database, tmp_path: Path) -> None:
    (tmp_path / "swagger-ui-bundle.js").write_text("window.SwaggerUIBundle = function () {};")
    (tmp_path / "swagger-ui.css").write_text("body {}")
    app = create_app(Settings(api_docs_assets=tmp_path), db)
    with TestClient(app, base_url="http://127.0.0.1:8000") as client:
        docs = client.get(f"{API}/docs")
        assert docs.status_code == 200
        assert "/api/v1/docs-assets/swagger-ui-bundle.js" in docs.text
        assert not re.findall(r"https?://(?!127\.0\.0\.1)", docs.text)
        assert "https:" not in docs.headers["content-security-policy"]
        assert client.get(f"{API}/docs-assets/swagger-ui.css").status_code == 200
