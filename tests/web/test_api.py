"""Every endpoint of ``/api/v1`` with its answers and errors, as an integration sees them."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from partnerprojekte.db.engine import Database
from partnerprojekte.db.schema import ProposalRow
from partnerprojekte.ids import format_id
from partnerprojekte.model import Event, Visibility
from partnerprojekte.services import Services
from partnerprojekte.states.workflow import EventInput
from tests.conftest import Clock
from tests.helpers import needs_review_financing, proposal_doc
from tests.people import MWIDE, MWIDE2, PARTNER, STAB, VM
from tests.web.conftest import ADMIN, OTHER, bearer, error, submit, to_coordination

API = "/api/v1"


def count(db: Database) -> int:
    with db.read() as s:
        return s.scalar(select(func.count()).select_from(ProposalRow)) or 0


# --- check ---------------------------------------------------------------------------------------


def test_check_returns_the_check_json_shape_and_stores_nothing(
    client: TestClient, tokens: dict[str, str], db: Database
) -> None:
    response = client.post(f"{API}/check", json=needs_review_financing(), headers=bearer(tokens, PARTNER))
    assert response.status_code == 200
    body = response.json()
    assert body["overall"] == "needs_review"
    assert set(body["criteria"]) == {"handlungsfeld_fit", "regional_effect", "cooperation", "financing"}
    assert body["criteria"]["financing"]["result"] == "needs_review"
    assert "%" in body["criteria"]["financing"]["explanation"]
    assert count(db) == 0


def test_check_accepts_yaml(client: TestClient, tokens: dict[str, str]) -> None:
    text = yaml.safe_dump(proposal_doc(), allow_unicode=True).encode()
    headers = {**bearer(tokens, PARTNER), "Content-Type": "application/yaml"}
    response = client.post(f"{API}/check", content=text, headers=headers)
    assert response.status_code == 200 and response.json()["overall"] == "met"


def test_invalid_document_is_422_with_german_field_paths(client: TestClient, tokens: dict[str, str]) -> None:
    doc = proposal_doc()
    doc["financing"]["sources"][1]["amount_eur"] = -5
    doc["effect_area"]["scope"] = "weltweit"
    doc["farbe"] = "blau"
    response = client.post(f"{API}/check", json=doc, headers=bearer(tokens, PARTNER))
    assert response.status_code == 422
    detail = error(response)
    assert detail["kind"] == "invalid"
    paths = {f["path"]: f["message"] for f in detail["fields"]}
    assert set(paths) == {"financing.sources[1].amount_eur", "effect_area.scope", "farbe"}
    assert "lokal" in paths["effect_area.scope"]  # names the allowed values
    assert detail["message"].startswith("Ungültige Eingabe: ")


@pytest.mark.parametrize(
    ("content", "expected"),
    [(b"", "leer"), (b"[1, 2]", "Objekt"), (b'{"title": ', "")],
)
def test_broken_documents_are_422(
    client: TestClient, tokens: dict[str, str], content: bytes, expected: str
) -> None:
    headers = {**bearer(tokens, PARTNER), "Content-Type": "application/json"}
    response = client.post(f"{API}/check", content=content, headers=headers)
    assert response.status_code == 422
    assert expected in error(response)["message"]


def test_oversized_document_is_refused(client: TestClient, tokens: dict[str, str], app: Any) -> None:
    app.state.settings.max_proposal_bytes = 1_000
    headers = {**bearer(tokens, PARTNER), "Content-Type": "application/json"}
    response = client.post(f"{API}/check", content=b" " * 5_000, headers=headers)
    assert response.status_code == 422
    assert "zu groß" in error(response)["message"]


def test_wrong_media_type_is_415(client: TestClient, tokens: dict[str, str]) -> None:
    headers = {**bearer(tokens, PARTNER), "Content-Type": "text/plain"}
    response = client.post(f"{API}/check", content=b"title: x", headers=headers)
    assert response.status_code == 415
    assert "application/json" in error(response)["message"]


# --- submit and revise ---------------------------------------------------------------------------


def test_submit_is_201_with_id_status_check_and_location(client: TestClient, tokens: dict[str, str]) -> None:
    response = client.post(f"{API}/proposals", json=proposal_doc(), headers=bearer(tokens, PARTNER))
    assert response.status_code == 201
    body = response.json()
    assert (
        body["id"].startswith("PP-") and body["status"] == "eingereicht" and body["check"]["overall"] == "met"
    )
    assert response.headers["location"] == f"{API}/proposals/{body['id']}"
    assert client.get(response.headers["location"], headers=bearer(tokens, PARTNER)).status_code == 200


def test_invalid_submit_stores_nothing(client: TestClient, tokens: dict[str, str], db: Database) -> None:
    response = client.post(
        f"{API}/proposals", json=proposal_doc(title="kurz"), headers=bearer(tokens, PARTNER)
    )
    assert response.status_code == 422
    assert error(response)["fields"][0]["path"] == "title"
    assert count(db) == 0


def test_partner_cannot_submit_for_another_organisation(client: TestClient, tokens: dict[str, str]) -> None:
    response = client.post(f"{API}/proposals", json=proposal_doc(), headers=bearer(tokens, OTHER))
    assert response.status_code == 403
    detail = error(response)
    assert detail["kind"] == "refused" and detail["reason"] == "role"
    assert "Kompetenzzentrum Bio-Security GmbH" in detail["message"]


def test_revise_stores_a_new_revision(client: TestClient, tokens: dict[str, str], services: Services) -> None:
    pid = format_id(submit(services))
    response = client.put(
        f"{API}/proposals/{pid}", json=needs_review_financing(), headers=bearer(tokens, PARTNER)
    )
    assert response.status_code == 200
    assert response.json()["event"] == "revise" and response.json()["check"]["overall"] == "needs_review"
    shown = client.get(f"{API}/proposals/{pid}", headers=bearer(tokens, PARTNER)).json()
    assert shown["revision"] == 2 and shown["overall"] == "needs_review"


def test_revise_with_stale_version_is_a_conflict(
    client: TestClient, tokens: dict[str, str], services: Services
) -> None:
    pid = format_id(submit(services))
    response = client.put(
        f"{API}/proposals/{pid}?expected_version=7", json=proposal_doc(), headers=bearer(tokens, PARTNER)
    )
    assert response.status_code == 409
    detail = error(response)
    assert detail["kind"] == "conflict" and "inzwischen geändert" in detail["message"]
    ok = client.put(
        f"{API}/proposals/{pid}?expected_version=1", json=proposal_doc(), headers=bearer(tokens, PARTNER)
    )
    assert ok.status_code == 200


def test_revise_in_coordination_is_refused_with_state_reason(
    client: TestClient, tokens: dict[str, str], services: Services
) -> None:
    pid = format_id(to_coordination(services))
    response = client.put(f"{API}/proposals/{pid}", json=proposal_doc(), headers=bearer(tokens, PARTNER))
    assert response.status_code == 409
    detail = error(response)
    assert detail["reason"] == "state" and detail["state"] == "in_abstimmung" and detail["event"] == "revise"
    assert "nicht möglich" in detail["message"]


# --- list ----------------------------------------------------------------------------------------


def _other_org_doc(title: str) -> dict[str, Any]:
    doc = proposal_doc(title=title)
    doc["submitter"] = {**doc["submitter"], "name": "Stadtwerke Übach GmbH"}
    return doc


def test_list_filters_search_and_pages(
    client: TestClient, tokens: dict[str, str], services: Services
) -> None:
    first = submit(services)
    second = submit(services, _other_org_doc("Wärmenetz Östliches Ruhrgebiet"), who=STAB)
    third = to_coordination(services)
    headers = bearer(tokens, STAB)

    def ids(query: str) -> list[str]:
        body = client.get(f"{API}/proposals{query}", headers=headers).json()
        return [item["id"] for item in body["items"]]

    assert ids("") == [format_id(p) for p in (first, second, third)]
    assert ids("?status=in_abstimmung") == [format_id(third)]
    assert ids("?ressort=mwide") == [format_id(third)]
    assert ids("?handlungsfeld=wirtschaft") == [format_id(p) for p in (first, second, third)]
    assert ids("?handlungsfeld=mobilitaet") == []
    # Case-insensitive with umlauts, every word must match.
    assert ids("?q=wärmenetz") == [format_id(second)]
    assert ids("?q=ÜBACH") == [format_id(second)]
    assert ids("?q=klic%20bio-security") == [format_id(first), format_id(third)]
    # The same search as the pages': the id and every text of the current revision, not the title only.
    assert ids("?q=sharing-plattform") == [format_id(p) for p in (first, second, third)]
    assert ids(f"?q={format_id(second).lower()}") == [format_id(second)]
    assert ids("?q=gibtesnicht") == []
    page = client.get(f"{API}/proposals?per_page=2&page=2", headers=headers).json()
    assert page == {**page, "total": 3, "page": 2, "per_page": 2}
    assert [i["id"] for i in page["items"]] == [format_id(third)]


@pytest.mark.parametrize(
    ("query", "path", "message"),
    [
        ("?status=fertig", "query.status", "unbekannter Wert 'fertig'"),
        ("?ressort=XYZ", "query.ressort", "unbekanntes Ressort „XYZ“"),
        ("?handlungsfeld=sport", "query.handlungsfeld", "erlaubt"),
        ("?page=0", "query.page", "muss mindestens 1 sein"),
        ("?per_page=1000", "query.per_page", "darf höchstens 200 sein"),
        ("?page=zwei", "query.page", "erwartet eine ganze Zahl"),
    ],
)
def test_list_parameter_errors_are_german(
    client: TestClient, tokens: dict[str, str], query: str, path: str, message: str
) -> None:
    response = client.get(f"{API}/proposals{query}", headers=bearer(tokens, STAB))
    assert response.status_code == 422
    (field,) = error(response)["fields"]
    assert field["path"] == path and message in field["message"]


# --- show and history ----------------------------------------------------------------------------


@pytest.fixture
def discussed(services: Services) -> int:
    """A proposal in coordination with internal and partner comments and a pending approval."""
    pid = to_coordination(services, needs_review_financing())
    services.comment(pid, STAB, "Intern: Finanzierung wackelt.", Visibility.INTERN)
    services.comment(pid, MWIDE, "Bitte Zusage nachreichen.", Visibility.PARTNER)
    services.confirm(pid, next(iter(_needs_review())), MWIDE, "Zusage liegt dem Ressort vor.")
    services.transition(
        pid, Event.RECOGNISE, MWIDE2, EventInput(comment="Intern: passt.", visibility=Visibility.INTERN)
    )
    return pid


def _needs_review() -> list[Any]:
    from partnerprojekte.model import Criterion

    return [Criterion.FINANCING]


def test_show_for_arbeitsstab_has_everything(
    client: TestClient, tokens: dict[str, str], discussed: int
) -> None:
    body = client.get(f"{API}/proposals/{format_id(discussed)}", headers=bearer(tokens, STAB)).json()
    assert [c["visibility"] for c in body["comments"]] == ["intern", "partner", "intern"]
    assert body["pending_approvals"][0]["user"] == MWIDE2
    assert body["confirmations"][0]["criterion"] == "financing"
    assert body["document"]["title"] == proposal_doc()["title"]
    assert body["contact"]["email"] == PARTNER
    assert "recognise" in body["permissions"]["events"] and body["permissions"]["assign_ressort"]


def test_show_for_partner_hides_internal_matters(
    client: TestClient, tokens: dict[str, str], discussed: int
) -> None:
    body = client.get(f"{API}/proposals/{format_id(discussed)}", headers=bearer(tokens, PARTNER)).json()
    assert [c["text"] for c in body["comments"]] == ["Bitte Zusage nachreichen."]
    assert body["pending_approvals"] == [] and body["confirmations"] == []
    assert all(h["assigned_by"] is None for h in body["ressort_history"])
    assert body["permissions"] == {
        "events": ["withdraw"],
        "withdraw_approval": [],
        "assign_ressort": False,
        "confirm_criteria": [],
        "comment": True,
        "comment_visibilities": ["partner"],
    }


def test_show_permissions_of_the_reviewer(client: TestClient, tokens: dict[str, str], discussed: int) -> None:
    body = client.get(f"{API}/proposals/{format_id(discussed)}", headers=bearer(tokens, MWIDE2)).json()
    perms = body["permissions"]
    assert perms["withdraw_approval"] == ["recognise"]
    assert perms["confirm_criteria"] == ["financing"]
    assert set(perms["events"]) == {"request_changes", "recognise", "decline"}


def test_history_for_partner_is_redacted(client: TestClient, tokens: dict[str, str], discussed: int) -> None:
    full = client.get(f"{API}/proposals/{format_id(discussed)}/history", headers=bearer(tokens, STAB)).json()
    partner = client.get(
        f"{API}/proposals/{format_id(discussed)}/history", headers=bearer(tokens, PARTNER)
    ).json()
    assert {e["event"] for e in full} >= {"approve", "confirm_criterion", "comment"}
    assert not {e["event"] for e in partner} & {"approve", "confirm_criterion", "withdraw_approval"}
    texts = [e["comment"] for e in partner if e["comment"]]
    assert texts == ["Bitte Zusage nachreichen."]
    redacted = [e for e in partner if e.get("redacted")]
    assert len(redacted) == 1 and redacted[0]["event"] == "comment" and redacted[0]["comment"] is None
    assert all("Intern" not in str(e) for e in partner)


def test_partner_sees_who_decided_but_not_the_approvers_comments(
    client: TestClient, tokens: dict[str, str], services: Services
) -> None:
    pid = to_coordination(services)
    services.transition(pid, Event.RECOGNISE, MWIDE, EventInput(comment="Geheim: Minister will es."))
    services.transition(pid, Event.RECOGNISE, STAB, EventInput())
    partner = client.get(f"{API}/proposals/{format_id(pid)}/history", headers=bearer(tokens, PARTNER)).json()
    fired = [e for e in partner if e["event"] == "recognise"]
    assert len(fired) == 1
    # Which bodies decided, as the pages say it: no official's e-mail address for a partner (issue 9 §1).
    assert [a["user"] for a in fired[0]["approvals"]] == ["Ressort MWIDE", "Arbeitsstab"]
    assert all(a["comment"] is None for a in fired[0]["approvals"])
    assert "Geheim" not in str(partner)


@pytest.mark.parametrize("pid", ["PP-0999", "abc", "PP-0"])
def test_unknown_or_malformed_id_is_404(client: TestClient, tokens: dict[str, str], pid: str) -> None:
    response = client.get(f"{API}/proposals/{pid}", headers=bearer(tokens, STAB))
    assert response.status_code == 404
    assert error(response)["kind"] == "not_found"
    assert "PP-0001" in error(response)["message"] or "gibt es nicht" in error(response)["message"]


# --- events --------------------------------------------------------------------------------------


def test_two_approvals_recognise(client: TestClient, tokens: dict[str, str], services: Services) -> None:
    pid = format_id(to_coordination(services))
    first = client.post(
        f"{API}/proposals/{pid}/events/recognise", json={"comment": "Passt."}, headers=bearer(tokens, MWIDE)
    )
    assert first.status_code == 200
    assert first.json() == {
        "id": pid,
        "event": "recognise",
        "status": "in_abstimmung",
        "fired": False,
        "pending_approvals": [
            {"event": "recognise", "approved_by": [MWIDE], "missing_roles": ["arbeitsstab"]}
        ],
        "notifications": first.json()["notifications"],
        "check": None,
    }
    second = client.post(f"{API}/proposals/{pid}/events/recognise", headers=bearer(tokens, STAB))
    assert second.status_code == 200
    assert second.json()["fired"] is True and second.json()["status"] == "anerkannt"


def test_withdraw_own_approval(client: TestClient, tokens: dict[str, str], services: Services) -> None:
    pid = format_id(to_coordination(services))
    client.post(f"{API}/proposals/{pid}/events/recognise", headers=bearer(tokens, MWIDE))
    response = client.delete(f"{API}/proposals/{pid}/approvals/recognise", headers=bearer(tokens, MWIDE))
    assert response.status_code == 200 and response.json()["event"] == "withdraw_approval"
    again = client.delete(f"{API}/proposals/{pid}/approvals/recognise", headers=bearer(tokens, MWIDE))
    assert again.status_code == 409
    assert error(again)["reason"] == "approval" and "keine offene Zustimmung" in error(again)["message"]


def test_guard_refusal_names_the_criterion(
    client: TestClient, tokens: dict[str, str], services: Services
) -> None:
    doc = proposal_doc(partners=[])  # a single organisation: cooperation not met
    pid = submit(services, doc)
    services.transition(pid, Event.TAKE_UP, STAB, EventInput())
    services.assign_ressort(pid, "MWIDE", STAB)
    response = client.post(
        f"{API}/proposals/{format_id(pid)}/events/start_coordination", headers=bearer(tokens, STAB)
    )
    assert response.status_code == 409
    detail = error(response)
    assert detail == {
        **detail,
        "kind": "refused",
        "reason": "guard",
        "criterion": "cooperation",
        "event": "start_coordination",
        "state": "in_bearbeitung",
    }
    assert "nicht erfüllt" in detail["message"]


def test_missing_ressort_guard(client: TestClient, tokens: dict[str, str], services: Services) -> None:
    pid = submit(services)
    services.transition(pid, Event.TAKE_UP, STAB, EventInput())
    response = client.post(
        f"{API}/proposals/{format_id(pid)}/events/start_coordination", headers=bearer(tokens, STAB)
    )
    assert response.status_code == 409
    assert error(response)["reason"] == "guard" and "kein zuständiges Ressort" in error(response)["message"]


def test_missing_input_is_409_input(client: TestClient, tokens: dict[str, str], services: Services) -> None:
    pid = format_id(submit(services))
    response = client.post(
        f"{API}/proposals/{pid}/events/decline", json={"comment": "Nein."}, headers=bearer(tokens, STAB)
    )
    assert response.status_code == 409
    assert error(response)["reason"] == "input" and "mindestens einen Grund" in error(response)["message"]
    # Which input, as data; the message names no command-line option (the core used to write "(--reason)").
    assert error(response)["field"] == "reasons" and "--" not in error(response)["message"]


def test_request_changes_needs_a_partner_comment(
    client: TestClient, tokens: dict[str, str], services: Services
) -> None:
    pid = format_id(to_coordination(services))
    body = {"comment": "Nur intern.", "visibility": "intern"}
    response = client.post(
        f"{API}/proposals/{pid}/events/request_changes", json=body, headers=bearer(tokens, MWIDE)
    )
    assert response.status_code == 409 and "für den Partner" in error(response)["message"]


@pytest.mark.parametrize(
    ("body", "path", "message"),
    [
        ({"reasons": ["keine_lust"]}, "reasons[0]", "unbekannter Wert 'keine_lust'"),
        ({"visibility": "geheim"}, "visibility", "erlaubt: intern, partner"),
        ({"expected_version": 0}, "expected_version", "muss mindestens 1 sein"),
        ({"comment": "a\u0000b"}, "comment", "unzulässige Zeichen"),
        ({"kommentar": "x"}, "kommentar", "unbekanntes Feld"),
        ({"comment": 5}, "comment", "erwartet Text"),
    ],
)
def test_event_body_errors_are_german_with_paths(
    client: TestClient,
    tokens: dict[str, str],
    services: Services,
    body: dict[str, Any],
    path: str,
    message: str,
) -> None:
    pid = format_id(submit(services))
    response = client.post(f"{API}/proposals/{pid}/events/decline", json=body, headers=bearer(tokens, STAB))
    assert response.status_code == 422
    fields = error(response)["fields"]
    assert fields[0]["path"] == path and message in fields[0]["message"], fields


def test_unknown_event_is_422(client: TestClient, tokens: dict[str, str], services: Services) -> None:
    pid = format_id(submit(services))
    for event in ("fly", "submit", "revise"):
        response = client.post(f"{API}/proposals/{pid}/events/{event}", headers=bearer(tokens, STAB))
        assert response.status_code == 422
        (field,) = error(response)["fields"]
        assert field["path"] == "path.event" and "take_up" in field["message"]


def test_event_with_stale_version_is_a_conflict(
    client: TestClient, tokens: dict[str, str], services: Services
) -> None:
    pid = format_id(submit(services))
    response = client.post(
        f"{API}/proposals/{pid}/events/take_up", json={"expected_version": 5}, headers=bearer(tokens, STAB)
    )
    assert response.status_code == 409 and error(response)["kind"] == "conflict"


# --- actions -------------------------------------------------------------------------------------


def test_assign_ressort(client: TestClient, tokens: dict[str, str], services: Services) -> None:
    pid = format_id(submit(services))
    response = client.put(
        f"{API}/proposals/{pid}/ressort", json={"ressort": " vm "}, headers=bearer(tokens, STAB)
    )
    assert response.status_code == 200 and response.json()["event"] == "assign_ressort"
    # Now VM sees it and MWIDE does not.
    assert client.get(f"{API}/proposals/{pid}", headers=bearer(tokens, VM)).status_code == 200
    again = client.put(f"{API}/proposals/{pid}/ressort", json={"ressort": "VM"}, headers=bearer(tokens, STAB))
    assert again.status_code == 409 and "bereits zuständig" in error(again)["message"]


def test_assign_unknown_ressort_is_422(
    client: TestClient, tokens: dict[str, str], services: Services
) -> None:
    pid = format_id(submit(services))
    response = client.put(
        f"{API}/proposals/{pid}/ressort", json={"ressort": "XYZ"}, headers=bearer(tokens, STAB)
    )
    assert response.status_code == 422
    (field,) = error(response)["fields"]
    assert field["path"] == "ressort" and "Unbekanntes Ressort „XYZ“" in field["message"]


def test_confirm_criterion(client: TestClient, tokens: dict[str, str], services: Services) -> None:
    pid = format_id(to_coordination(services, needs_review_financing()))
    body = {"criterion": "financing", "comment": "Zusage liegt vor."}
    response = client.post(f"{API}/proposals/{pid}/confirmations", json=body, headers=bearer(tokens, MWIDE))
    assert response.status_code == 201 and response.json()["event"] == "confirm_criterion"
    not_review = {"criterion": "cooperation", "comment": "passt"}
    refused = client.post(
        f"{API}/proposals/{pid}/confirmations", json=not_review, headers=bearer(tokens, MWIDE)
    )
    assert refused.status_code == 409
    assert error(refused)["reason"] == "guard" and error(refused)["criterion"] == "cooperation"
    empty = client.post(
        f"{API}/proposals/{pid}/confirmations", json={"criterion": "financing"}, headers=bearer(tokens, MWIDE)
    )
    assert empty.status_code == 422 and error(empty)["fields"] == [
        {"path": "comment", "message": "Pflichtfeld fehlt"}
    ]


def test_comments(client: TestClient, tokens: dict[str, str], services: Services) -> None:
    pid = format_id(submit(services))
    assert (
        client.post(
            f"{API}/proposals/{pid}/comments", json={"text": "Frage"}, headers=bearer(tokens, PARTNER)
        ).status_code
        == 201
    )
    assert (
        client.post(
            f"{API}/proposals/{pid}/comments", json={"text": "Notiz"}, headers=bearer(tokens, STAB)
        ).status_code
        == 201
    )
    shown = client.get(f"{API}/proposals/{pid}", headers=bearer(tokens, STAB)).json()["comments"]
    # Without a visibility: the partner's comment is for the partner, the Arbeitsstab's internal.
    assert [(c["text"], c["visibility"]) for c in shown] == [("Frage", "partner"), ("Notiz", "intern")]
    empty = client.post(f"{API}/proposals/{pid}/comments", json={"text": ""}, headers=bearer(tokens, STAB))
    assert empty.status_code == 422 and error(empty)["fields"][0]["path"] == "text"
    blank = client.post(
        f"{API}/proposals/{pid}/comments", json={"text": "  \n "}, headers=bearer(tokens, STAB)
    )
    assert blank.status_code == 422
    assert error(blank)["fields"] == [{"path": "text", "message": "darf nicht leer sein"}]
    intern = client.post(
        f"{API}/proposals/{pid}/comments",
        json={"text": "x", "visibility": "intern"},
        headers=bearer(tokens, PARTNER),
    )
    assert intern.status_code == 403 and "Interne Kommentare" in error(intern)["message"]


def test_admin_makes_no_process_decisions(
    client: TestClient, tokens: dict[str, str], services: Services
) -> None:
    pid = format_id(submit(services))
    response = client.post(f"{API}/proposals/{pid}/events/take_up", headers=bearer(tokens, ADMIN))
    assert response.status_code == 403
    assert "Administration trifft keine Entscheidungen" in error(response)["message"]


# --- report and me -------------------------------------------------------------------------------


def test_report_for_arbeitsstab_and_ressort(
    client: TestClient, tokens: dict[str, str], services: Services, clock: Clock
) -> None:
    to_coordination(services)
    submit(services)
    full = client.get(f"{API}/report", headers=bearer(tokens, STAB)).json()
    assert (
        full["total"] == 2
        and full["by_status"]["in_abstimmung"] == 1
        and full["by_status"]["eingereicht"] == 1
    )
    assert full["by_ressort"] == {"MWIDE": 1, "unassigned": 1}
    mine = client.get(f"{API}/report", headers=bearer(tokens, MWIDE)).json()
    assert mine["scope"] == "MWIDE" and mine["total"] == 1 and mine["by_status"]["in_abstimmung"] == 1
    other = client.get(f"{API}/report", headers=bearer(tokens, VM)).json()
    assert other["total"] == 0
    past = client.get(f"{API}/report?as_of=2026-03-01", headers=bearer(tokens, STAB)).json()
    assert past["as_of"] == "2026-03-01" and past["total"] == 0


def test_report_errors(client: TestClient, tokens: dict[str, str]) -> None:
    future = client.get(f"{API}/report?as_of=2030-01-01", headers=bearer(tokens, STAB))
    assert future.status_code == 422
    assert error(future)["fields"][0] == {
        "path": "query.as_of",
        "message": error(future)["fields"][0]["message"],
    }
    assert "Zukunft" in error(future)["message"]
    bad = client.get(f"{API}/report?as_of=gestern", headers=bearer(tokens, STAB))
    assert bad.status_code == 422 and "JJJJ-MM-TT" in error(bad)["fields"][0]["message"]
    partner = client.get(f"{API}/report", headers=bearer(tokens, PARTNER))
    assert partner.status_code == 403 and "Partner" in error(partner)["message"]
    assert client.get(f"{API}/report").status_code == 401


def test_me(client: TestClient, tokens: dict[str, str]) -> None:
    body = client.get(f"{API}/me", headers=bearer(tokens, MWIDE)).json()
    assert body == {
        "email": MWIDE,
        "name": "Carla Ostermann",
        "role": "ressort",
        "role_label": "Ressort",
        "ressort": "MWIDE",
        "organisation": None,
        "auth": "token",
        "csrf_token": None,
    }
    anonymous = client.get(f"{API}/me")
    assert anonymous.status_code == 401
    assert error(anonymous) == {"message": "Bitte melden Sie sich an.", "kind": "unauthenticated"}


def test_openapi_document_describes_the_api(client: TestClient) -> None:
    doc = client.get(f"{API}/openapi.json").json()
    assert "/api/v1/proposals/{proposal_id}/events/{event}" in doc["paths"]
    assert all(path.startswith("/api/v1/") for path in doc["paths"])
    body = doc["paths"]["/api/v1/proposals"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/Proposal"}
    assert "financing" in doc["components"]["schemas"]["Proposal"]["properties"]
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    # The Swagger UI would load its script from a CDN: off unless its assets are configured.
    assert client.get(f"{API}/docs").status_code == 404


def test_undecodable_body_is_german(client: TestClient, tokens: dict[str, str], services: Services) -> None:
    pid = format_id(submit(services))
    headers = {**bearer(tokens, STAB), "Content-Type": "application/json"}
    response = client.post(f"{API}/proposals/{pid}/comments", content=b"\xde\x59\x8f", headers=headers)
    assert response.status_code == 400
    assert error(response)["message"].startswith("Der Inhalt der Anfrage lässt sich nicht lesen")


def test_control_characters_in_a_document_are_refused(
    client: TestClient, tokens: dict[str, str], db: Database
) -> None:
    doc = proposal_doc()
    doc["submitter"] = {**doc["submitter"], "name": "Null\u0000Byte"}
    doc["partners"][1]["name"] = "Glocke\u0007"
    response = client.post(f"{API}/proposals", json=doc, headers=bearer(tokens, STAB))
    assert response.status_code == 422
    assert [f["path"] for f in error(response)["fields"]] == ["submitter.name", "partners[1].name"]
    assert "U+0000" in error(response)["fields"][0]["message"]
    assert count(db) == 0
