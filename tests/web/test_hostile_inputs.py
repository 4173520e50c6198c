"""Hostile inputs × every injection point of the pages and the API, on SQLite and PostgreSQL.

One application per database for the whole module (real commits, so that what was stored is then shown,
exported and mailed). Every answer: no 5xx, no traceback, no raw markup of the payload; every 422 names
its field. At the end the exports hold no formula cell and the mails no raw markup.
"""

from __future__ import annotations

import csv
import email
import io
import json
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from openpyxl import load_workbook

from partnerprojekte.config import Settings
from partnerprojekte.db.engine import Database
from partnerprojekte.formats import proposal_from_document
from partnerprojekte.ids import format_id
from partnerprojekte.mailing.delivery import deliver_pending
from partnerprojekte.model import Event, Role
from partnerprojekte.services import Services
from partnerprojekte.states.workflow import EventInput
from partnerprojekte.web.app import create_app
from partnerprojekte.web.auth.security import create_api_token
from tests.conftest import own_database
from tests.helpers import proposal_doc
from tests.people import MWIDE, ORG, PARTNER, STAB

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

ADMIN = "admin@it.nrw.example"
MARKUP = "<script>alert(1)</script>"

# The corpus: what an attacker or a careless paste sends.
CORPUS: dict[str, str] = {
    "nul": "a\x00b",
    "vt": "Titel\x0bmit VT",
    "esc": "\x1b[31mrot",
    "del": "x\x7f",
    "cr_lf_header": "Betreff\r\nBcc: opfer@example.org",
    "superscript": "²",
    "arabic_digits": "١٢",
    "huge_number": "9" * 40,
    "negative": "-1",
    "huge_string": "Ruhr " * 4_000,
    "script": MARKUP,
    "attribute": '"><img src=x onerror=alert(1)>',
    "formula_eq": '=HYPERLINK("http://evil.example","klick")',
    "formula_plus": "+1+1",
    "formula_minus": "-2+3",
    "formula_at": "@SUMME(A1:A9)",
    "traversal": "../../../etc/passwd",
    "sql": "'; DROP TABLE proposals; --",
    "rtl_override": "Projekt \u202egnp.exe",
    "emoji": "Wasserstoff 😀👍🏽",
    "template": "{{ 7*7 }}{% raw %}",
    "percent_nul": "%00",
}
# Only JSON can carry a lone surrogate (a form post's decoding replaces it).
JSON_ONLY = {"surrogate": "Titel \ud800 allein"}


@dataclass
class World:
    """The application over one database, the people's tokens and a proposal to act on."""

    client: TestClient
    db: Database
    settings: Settings
    tokens: dict[str, str]
    pid: str

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp(f"hostile-{request.param}")
    with own_database(request.param, tmp) as (_, engine):
        db = Database(engine)
        settings = Settings(data_dir=tmp)
        services = Services(db, settings)
        services.add_user(STAB, "Anna Stab", Role.ARBEITSSTAB)
        services.add_user(MWIDE, "Carla Ostermann", Role.RESSORT, ressort="MWIDE")
        services.add_user(PARTNER, "Kai Kontakt", Role.PARTNER, organisation=ORG)
        services.add_user(ADMIN, "Ada Admin", Role.ADMIN)
        tokens = {who: create_api_token(db, who, "Tests") for who in (STAB, MWIDE, PARTNER, ADMIN)}
        pid = services.submit(proposal_from_document(proposal_doc()), PARTNER).proposal_id
        services.transition(pid, Event.TAKE_UP, STAB, EventInput())
        app = create_app(settings, db)
        with TestClient(app, base_url="http://127.0.0.1:8000", raise_server_exceptions=False) as client:
            yield World(client, db, settings, tokens, format_id(pid))


def check(response: httpx.Response, payload: str, field: str) -> None:
    """No 5xx, no traceback, no raw markup; a refusal names its field."""
    where = f"{response.request.method} {str(response.request.url)[:120]}"
    assert response.status_code < 500, (where, response.text[:300])
    body = response.text
    assert "Traceback" not in body and 'File "' not in body, where
    if "<" in payload and "html" in response.headers.get("content-type", ""):
        assert payload not in body, where
    if response.status_code == 422:
        if response.headers.get("content-type", "").startswith("application/json"):
            detail = response.json()["error"]
            paths = [f["path"] for f in detail.get("fields", [])]
            assert any(field in p for p in paths) or f"{field}:" in detail["message"], (where, field, detail)
        else:
            assert field in body, (where, field, body[:400])


# --- query parameters and URL paths ------------------------------------------------------------

QUERY_POINTS = [
    ("/vorschlaege", "q", "Suche"),
    ("/vorschlaege", "status", "Status"),
    ("/vorschlaege", "ressort", "Ressort"),
    ("/vorschlaege", "handlungsfeld", "Handlungsfeld"),
    ("/vorschlaege", "seite", "Seite"),
    ("/vorschlaege/export.csv", "q", "Suche"),
    ("/bericht", "stichtag", "Stichtag"),
    ("/api/v1/proposals", "q", "q"),
    ("/api/v1/proposals", "page", "page"),
    ("/api/v1/proposals", "ressort", "ressort"),
    ("/api/v1/report", "as_of", "as_of"),
]
PATH_POINTS = [
    ("/vorschlaege/{p}", "Vorschlag"),
    ("/vorschlaege/{pid}/fassungen/{p}", "Fassung"),
    ("/api/v1/proposals/{p}", "proposal_id"),
    ("/api/v1/proposals/{p}/history", "proposal_id"),
]


@pytest.mark.parametrize("name", list(CORPUS))
def test_query_parameters_and_paths(world: World, name: str) -> None:
    payload = CORPUS[name]
    for path, param, field in QUERY_POINTS:
        who = MWIDE if path.startswith("/api/v1/report") else STAB
        check(world.client.get(path, params={param: payload}, headers=world.headers(who)), payload, field)
    for path, field in PATH_POINTS:
        url = path.format(p=quote(payload, safe=""), pid=world.pid)
        check(world.client.get(url, headers=world.headers(STAB)), payload, field)
    response = world.client.post(
        f"/verwaltung/personen/{quote(payload, safe='')}/deaktivieren", headers=world.headers(ADMIN)
    )
    check(response, payload, "user_id")
    login = world.client.get("/anmelden", params={"weiter": payload})
    check(login, payload, "Weiter")
    assert "evil.example" not in login.headers.get("location", "")


# --- form fields -------------------------------------------------------------------------------


def proposal_form(**changes: str) -> dict[str, str]:
    """A complete submission form."""
    data = {
        "title": "Ruhr-Lernlabor Wasserstoff",
        "summary": "Ein mobiles Lernlabor bringt Wasserstofftechnik in die Berufsschulen.",
        "submitter.name": ORG,
        "submitter.kind": "unternehmen",
        "submitter.location": "Bönen",
        "submitter.contact.name": "Kai Kontakt",
        "submitter.contact.email": PARTNER,
        "partners[0].name": "Westfälische Hochschule",
        "partners[0].kind": "hochschule",
        "cooperation_value": "Hochschule und Unternehmen bringen Didaktik und Anlagen in die Schulen.",
        "handlungsfelder[0].key": "bildung_forschung",
        "handlungsfelder[0].rationale": "Stärkt die berufliche Bildung.",
        "effect_area.places": "Bochum\nGelsenkirchen",
        "effect_area.scope": "regional",
        "financing.total_cost_eur": "250000",
        "financing.sources[0].kind": "foerdermittel",
        "financing.sources[0].name": "Ausbildungsprogramm NRW",
        "financing.sources[0].amount_eur": "250000",
        "themenforum": "3",
        "aktion": "einreichen",
    }
    data.update(changes)
    return data


FORM_FIELDS = [
    ("title", "Titel"),
    ("summary", "Kurzbeschreibung"),
    ("submitter.location", "Sitz"),
    ("partners[0].name", "Partner 1"),
    ("financing.total_cost_eur", "Gesamtkosten"),
    ("themenforum", "Themenforum"),
    ("aktion", "Aktion"),
]


@pytest.mark.parametrize("name", list(CORPUS))
def test_form_fields(world: World, name: str) -> None:
    payload = CORPUS[name]
    partner, stab = world.headers(PARTNER), world.headers(STAB)
    for field, label in FORM_FIELDS:
        response = world.client.post(
            "/vorschlaege/neu", data=proposal_form(**{field: payload}), headers=partner, follow_redirects=True
        )
        check(response, payload, label)
    actions = [
        ("kommentare", {"text": payload, "visibility": "intern"}, "Kommentar"),
        ("kommentare", {"text": "Bitte prüfen.", "visibility": payload}, "Sichtbarkeit"),
        ("ressort", {"ressort": payload}, "Ressort"),
        ("aenderungen", {"comment": payload, "version": payload}, "Kommentar"),
        ("gibt-es-nicht", {"x": payload}, "x"),
    ]
    for action, data, label in actions:
        url = f"/vorschlaege/{world.pid}/{action}"
        check(world.client.post(url, data=data, headers=stab, follow_redirects=True), payload, label)
    person = {"email": f"neu-{name}@example.org", "name": payload, "role": "arbeitsstab", "organisation": ""}
    response = world.client.post(
        "/verwaltung/personen", data=person, headers=world.headers(ADMIN), follow_redirects=True
    )
    check(response, payload, "Name")
    login = world.client.post("/anmelden", data={"email": payload, "password": payload, "csrf_token": "x"})
    check(login, payload, "E-Mail")


# --- API JSON ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [*CORPUS, *JSON_ONLY])
def test_api_json_fields(world: World, name: str) -> None:
    payload = {**CORPUS, **JSON_ONLY}[name]
    json_headers = {"Content-Type": "application/json"}
    for field in ("title", "summary", "cooperation_value"):
        body = json.dumps(proposal_doc(**{field: payload}))
        response = world.client.post(
            "/api/v1/proposals", content=body.encode(), headers={**world.headers(PARTNER), **json_headers}
        )
        check(response, payload, field)
    stab = {**world.headers(STAB), **json_headers}
    calls: list[tuple[str, dict[str, Any], str]] = [
        (f"/api/v1/proposals/{world.pid}/comments", {"text": payload, "visibility": "intern"}, "text"),
        (f"/api/v1/proposals/{world.pid}/events/request_changes", {"comment": payload}, "comment"),
        (f"/api/v1/proposals/{world.pid}/events/take_up", {"saeule_1_projekt": payload}, "saeule_1_projekt"),
        ("/api/v1/check", proposal_doc(title=payload), "title"),
    ]
    for url, data, field in calls:
        check(world.client.post(url, content=json.dumps(data).encode(), headers=stab), payload, field)
    response = world.client.put(
        f"/api/v1/proposals/{world.pid}/ressort",
        content=json.dumps({"ressort": payload}).encode(),
        headers=stab,
    )
    check(response, payload, "ressort")
    response = world.client.post(
        "/api/v1/session",
        content=json.dumps({"email": payload, "password": payload}).encode(),
        headers=json_headers,
    )
    check(response, payload, "email")


# --- what was stored: pages, exports and mails -------------------------------------------------


def test_stored_payloads_are_escaped_exported_without_formulas_and_mailed_escaped(world: World) -> None:
    stab, partner = world.headers(STAB), world.headers(PARTNER)
    # Stored here as well, so that this test does not depend on the order the others ran in.
    for title in (MARKUP + " Titel", '=HYPERLINK("http://evil.example")', "@SUMME(A1)", "-2+3 Projekt"):
        stored = world.client.post(
            "/vorschlaege/neu", data=proposal_form(title=title), headers=partner, follow_redirects=False
        )
        assert stored.status_code == 303, stored.text[:300]
    comment = {"text": MARKUP, "visibility": "partner"}
    url = f"/vorschlaege/{world.pid}/kommentare"
    posted = world.client.post(url, data=comment, headers=stab, follow_redirects=False)
    assert posted.status_code == 303, " ".join(re.sub(r"<[^>]+>", " ", posted.text).split())[-1500:]
    listed = world.client.get("/vorschlaege", headers=stab)
    assert listed.status_code == 200
    assert MARKUP not in listed.text
    for suffix in ("", "/fassungen/1"):
        page = world.client.get(f"/vorschlaege/{world.pid}{suffix}", headers=stab)
        assert page.status_code == 200 and MARKUP not in page.text
    csv_export = world.client.get("/vorschlaege/export.csv", headers=stab)
    assert csv_export.status_code == 200
    rows = list(csv.reader(io.StringIO(csv_export.content.decode("utf-8-sig")), delimiter=";"))
    assert len(rows) > 2, "the corpus' proposals were stored and exported"
    cells = [cell for row in rows[1:] for cell in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    xlsx = world.client.get("/vorschlaege/export.xlsx", headers=stab)
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    assert not [c.coordinate for row in sheet.iter_rows() for c in row if c.data_type == "f"]
    deliver_pending(world.db, world.settings)
    mails = sorted(Path(world.settings.resolved_outbox_dir()).rglob("*.eml"))
    assert mails, "the comments and submissions were mailed"
    for path in mails:
        message = email.message_from_bytes(path.read_bytes())
        for part in message.walk():
            if isinstance(part, Message) and part.get_content_type() == "text/html":
                assert MARKUP not in part.get_payload(decode=True).decode("utf-8"), path.name
        for header in ("Subject", "To", "From"):
            assert "\n" not in str(message.get(header, "")).replace("\n ", " ")
        assert message.get("Bcc") is None
