"""``/api/v1`` of the reporting rounds: the same roles as the pages and the CLI, 404 for projects one may
not see, German errors with field paths."""

from __future__ import annotations

from fastapi.testclient import TestClient

from partnerprojekte.model import Event
from partnerprojekte.services import Services
from partnerprojekte.states.workflow import EventInput
from tests.people import MWIDE, PARTNER, STAB, VM
from tests.web.conftest import bearer, to_coordination

ROUND = {"jahr": 2026, "stichtag": "2026-10-31", "abgabe_bis": "2026-09-15"}
SECTIONS = ["ziel", "mehrwert", "vorgehen", "nutzen_fuer", "juengste_entwicklung", "aktueller_stand"]
SECTIONS += ["ausblick", "meilensteine", "akteure", "zielgruppen"]


def recognised(services: Services) -> str:
    pid = to_coordination(services)
    services.transition(pid, Event.RECOGNISE, MWIDE, EventInput())
    services.transition(pid, Event.RECOGNISE, STAB, EventInput())
    return f"PP-{pid:04d}"


def test_a_report_through_the_api(client: TestClient, tokens: dict[str, str], services: Services) -> None:
    pp = recognised(services)
    as_partner, as_mwide, as_stab = bearer(tokens, PARTNER), bearer(tokens, MWIDE), bearer(tokens, STAB)
    refused = client.post("/api/v1/rounds", json=ROUND, headers=as_partner)
    assert refused.status_code == 403 and refused.json()["error"]["kind"] == "refused"
    bad = client.post("/api/v1/rounds", json={**ROUND, "stichtag": "31.10.2026"}, headers=as_stab)
    assert bad.status_code == 422
    opened = client.post("/api/v1/rounds", json=ROUND, headers=as_stab)
    assert opened.status_code == 201 and opened.json()["meldungen"] == [pp]
    assert client.post("/api/v1/rounds", json=ROUND, headers=as_stab).status_code == 409

    base = f"/api/v1/rounds/2026/reports/{pp}"
    assert client.get(base, headers=bearer(tokens, VM)).status_code == 404
    assert client.get("/api/v1/rounds/2026/reports", headers=bearer(tokens, VM)).json() == []
    entries = {s: {"markierung": "unveraendert"} for s in SECTIONS}
    entries["aktueller_stand"] = {"markierung": "geaendert", "inhalt": "Die Plattform hat 120 Geräte."}
    wrong = client.post(
        f"{base}/events/save_draft", json={"abschnitte": {"ziel": {"markierung": "neu"}}}, headers=as_partner
    )
    assert wrong.status_code == 422 and "abschnitte.ziel.markierung" in wrong.text
    saved = client.post(f"{base}/events/save_draft", json={"abschnitte": entries}, headers=as_partner)
    assert saved.status_code == 200 and saved.json()["status"] == "entwurf"
    submitted = client.post(f"{base}/events/submit_report", json={}, headers=as_partner).json()
    assert (submitted["status"], submitted["porträt_version"]) == ("eingereicht", 2)
    no_comment = client.post(f"{base}/events/return_report", json={}, headers=as_mwide)
    assert no_comment.status_code == 409 and "Kommentar" in no_comment.json()["error"]["message"]
    assert client.post(f"{base}/events/approve_report", json={}, headers=as_partner).status_code == 403
    assert (
        client.post(f"{base}/events/approve_report", json={}, headers=as_mwide).json()["status"] == "geprueft"
    )
    assert (
        client.post(f"{base}/events/accept_report", json={}, headers=as_stab).json()["status"] == "angenommen"
    )
    assert client.get(base, headers=as_partner).json()["status"] == "angenommen"

    portrait = client.get(f"/api/v1/proposals/{pp}/portrait", headers=as_partner).json()
    assert portrait["version"] == 2 and portrait["inhalt"]["aktueller_stand"].startswith("Die Plattform")
    diff = client.get(f"/api/v1/proposals/{pp}/portrait/diff?von=1&bis=2", headers=as_partner).json()
    assert [d["abschnitt"] for d in diff] == ["aktueller_stand"]
    code = client.put(f"/api/v1/proposals/{pp}/project-code", json={"projekt_id": "UN-NEU"}, headers=as_stab)
    assert code.json()["projekt_id"] == "UN-NEU"
    assert client.get(f"/api/v1/proposals/{pp}/portrait", headers=bearer(tokens, VM)).status_code == 404
    done = client.post(
        f"/api/v1/proposals/{pp}/complete", json={"kommentar": "Regelbetrieb."}, headers=as_stab
    )
    assert done.json()["umsetzungsstand"] == "abgeschlossen"
    rounds = client.get("/api/v1/rounds", headers=as_stab).json()
    assert rounds[0]["jahr"] == 2026 and rounds[0]["meldungen"] == {"angenommen": 1}
