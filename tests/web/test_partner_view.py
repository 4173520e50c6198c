"""Issue 9 §1: partners see through the API only what their pages show them – no official's e-mail
address, and no reasons of an approval-gated decline that was not taken (pending or withdrawn)."""

from __future__ import annotations

import json

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from partnerprojekte.db.engine import Database
from partnerprojekte.model import Event, ReasonCode, Role, Visibility
from partnerprojekte.services import Services
from partnerprojekte.states.workflow import EventInput
from partnerprojekte.web.auth.security import set_password
from tests.people import MWIDE, PARTNER, STAB
from tests.web.conftest import PEOPLE, bearer, to_coordination
from tests.web.test_pages import PASSWORD, Browser

OFFICIALS = [email for email, (_, role, _, _) in PEOPLE.items() if role is not Role.PARTNER]
PENDING_WHY = "Vertraulich: Die Finanzierung trägt nicht (noch nicht entschieden)."
WITHDRAWN_WHY = "Vertraulich: Doppelung mit 13-06 (zurückgenommen)."
TAKEN_WHY = "Die Kofinanzierung ist nicht gesichert."


def decline_approval(services: Services, pid: int, text: str) -> None:
    services.transition(
        pid,
        Event.DECLINE,
        MWIDE,
        EventInput(comment=text, visibility=Visibility.PARTNER, reasons=(ReasonCode.DOPPELUNG,)),
    )


@pytest.fixture
def proposals(services: Services, tokens: dict[str, str]) -> dict[str, int]:
    """One proposal per case, all of the partner's organisation, each with officials' comments."""
    found: dict[str, int] = {}
    for case in ("pending", "withdrawn", "taken", "recognised"):
        pid = to_coordination(services)
        services.comment(pid, STAB, "Bitte die Kostenaufstellung ergänzen.", Visibility.PARTNER)
        found[case] = pid
    decline_approval(services, found["pending"], PENDING_WHY)
    decline_approval(services, found["withdrawn"], WITHDRAWN_WHY)
    services.withdraw_approval(found["withdrawn"], Event.DECLINE, MWIDE)
    services.transition(
        found["taken"],
        Event.DECLINE,
        MWIDE,
        EventInput(comment=TAKEN_WHY, visibility=Visibility.PARTNER, reasons=(ReasonCode.FINANCING,)),
    )
    services.transition(
        found["taken"], Event.DECLINE, STAB, EventInput(comment="Abgelehnt.", reasons=(ReasonCode.FINANCING,))
    )
    services.transition(found["recognised"], Event.RECOGNISE, MWIDE, EventInput())
    services.transition(found["recognised"], Event.RECOGNISE, STAB, EventInput())
    return found


def partner_api_text(client: TestClient, tokens: dict[str, str], pid: int) -> str:
    """Everything the partner's GET endpoints say about one proposal (and the list and /me)."""
    headers = bearer(tokens, PARTNER)
    parts = []
    for path in (
        "/api/v1/me",
        "/api/v1/proposals",
        f"/api/v1/proposals/PP-{pid:04d}",
        f"/api/v1/proposals/PP-{pid:04d}/history",
    ):
        response = client.get(path, headers=headers)
        assert response.status_code == 200, (path, response.text)
        parts.append(json.dumps(response.json(), ensure_ascii=False))
    return "\n".join(parts)


def test_the_partner_api_names_no_official_by_address(
    client: TestClient, tokens: dict[str, str], proposals: dict[str, int]
) -> None:
    for pid in proposals.values():
        text = partner_api_text(client, tokens, pid)
        leaked = [email for email in OFFICIALS if email in text]
        assert not leaked, (pid, leaked)
    # Which body acted stays visible, as on the pages.
    history = client.get(
        f"/api/v1/proposals/PP-{proposals['taken']:04d}/history", headers=bearer(tokens, PARTNER)
    )
    actors = {entry["actor"] for entry in history.json()}
    assert {"Arbeitsstab", PARTNER} <= actors
    decided = history.json()[-1]
    assert [a["user"] for a in decided["approvals"]] == ["Ressort MWIDE", "Arbeitsstab"]
    # Officials still see the addresses.
    staff = client.get(f"/api/v1/proposals/PP-{proposals['taken']:04d}/history", headers=bearer(tokens, STAB))
    assert MWIDE in json.dumps(staff.json())


def test_a_partner_reads_a_declines_reasons_only_once_it_was_decided(
    client: TestClient, tokens: dict[str, str], proposals: dict[str, int]
) -> None:
    assert PENDING_WHY not in partner_api_text(client, tokens, proposals["pending"])
    assert WITHDRAWN_WHY not in partner_api_text(client, tokens, proposals["withdrawn"])
    assert TAKEN_WHY in partner_api_text(client, tokens, proposals["taken"])
    # The officials read the pending reasons (it is their deliberation).
    path = f"/api/v1/proposals/PP-{proposals['pending']:04d}"
    staff = client.get(path, headers=bearer(tokens, STAB)).json()
    assert PENDING_WHY in [c["text"] for c in staff["comments"]]


def test_the_partners_pages_show_the_same(
    app: FastAPI, db: Database, tokens: dict[str, str], proposals: dict[str, int]
) -> None:
    set_password(db, PARTNER, PASSWORD)
    partner = Browser(app, PARTNER)
    for case, pid in proposals.items():
        page = partner.get(f"/vorschlaege/PP-{pid:04d}").text
        assert not [email for email in OFFICIALS if email in page], case
        assert PENDING_WHY not in page and WITHDRAWN_WHY not in page
    assert TAKEN_WHY in partner.get(f"/vorschlaege/PP-{proposals['taken']:04d}").text
