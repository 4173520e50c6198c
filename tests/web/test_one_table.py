"""Who may do what comes from one place: a role added to an event's or an action's row in the table changes
the core's decision, the API's gate and the page's button together."""

from __future__ import annotations

import dataclasses

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from partnerprojekte.db.engine import Database
from partnerprojekte.db.schema import OutboxRow
from partnerprojekte.errors import TransitionRefused
from partnerprojekte.formats import proposal_from_document
from partnerprojekte.model import Action, Audience, Event, Role, State
from partnerprojekte.services import Services
from partnerprojekte.states import table
from partnerprojekte.states.workflow import Actor, EventInput, ProposalFacts, authorize_assign_ressort
from tests.helpers import proposal_doc
from tests.people import MWIDE, PARTNER, STAB
from tests.web.conftest import bearer


def in_progress(services: Services) -> int:
    """A proposal in ``in_bearbeitung`` with MWIDE responsible (ready to go into coordination)."""
    pid = services.submit(proposal_from_document(proposal_doc()), PARTNER).proposal_id
    services.transition(pid, Event.TAKE_UP, STAB, EventInput())
    services.assign_ressort(pid, "MWIDE", STAB)
    return pid


def with_role(monkeypatch: pytest.MonkeyPatch, event: Event, role: Role) -> None:
    """The one edit: ``role`` joins the rows of ``event`` in the transition table."""
    rows = tuple(
        dataclasses.replace(spec, roles=(*spec.roles, role)) if spec.event is event else spec
        for spec in table.TRANSITIONS
    )
    monkeypatch.setattr(table, "TRANSITIONS", rows)


def start_button(client: TestClient, tokens: dict[str, str], pid: int) -> bool:
    page = client.get(f"/vorschlaege/{pid}", headers=bearer(tokens, MWIDE))
    assert page.status_code == 200
    return 'id="aktion-abstimmung"' in page.text


def test_a_role_added_to_an_event_row_may_fire_it_in_the_core_the_api_and_the_page(
    services: Services, client: TestClient, tokens: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    before, after = in_progress(services), in_progress(services)
    # Today only the Arbeitsstab starts the coordination: the reviewer sees no button, the API says 403,
    # and the core refuses it for the role.
    assert not start_button(client, tokens, before)
    api = client.post(f"/api/v1/proposals/{before}/events/start_coordination", headers=bearer(tokens, MWIDE))
    assert api.status_code == 403, api.text
    with pytest.raises(TransitionRefused) as refused:
        services.transition(before, Event.START_COORDINATION, MWIDE, EventInput())
    assert refused.value.reason == "role"

    with_role(monkeypatch, Event.START_COORDINATION, Role.RESSORT)

    assert start_button(client, tokens, after)
    api = client.post(f"/api/v1/proposals/{after}/events/start_coordination", headers=bearer(tokens, MWIDE))
    assert api.status_code == 200, api.text
    assert api.json()["status"] == "in_abstimmung"
    page = client.post(
        f"/vorschlaege/{before}/abstimmung", headers=bearer(tokens, MWIDE), data={"version": "3"}
    )
    assert page.status_code != 403, page.text
    # The page's form did it too (after its redirect, the proposal's page shows the new state).
    shown = client.get(f"/api/v1/proposals/{before}", headers=bearer(tokens, MWIDE)).json()
    assert shown["status"] == "in_abstimmung", shown


def test_a_role_added_to_an_action_row_may_do_it_in_the_core_the_api_and_the_page(
    services: Services, client: TestClient, tokens: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pid = in_progress(services)
    reviewer = Actor(0, MWIDE, "Carla Ostermann", Role.RESSORT, ressort="MWIDE")
    facts = ProposalFacts(State.IN_BEARBEITUNG, "Emschergenossenschaft", responsible_ressort="MWIDE")

    def assign_form() -> bool:
        page = client.get(f"/vorschlaege/{pid}", headers=bearer(tokens, MWIDE))
        return 'id="aktion-ressort"' in page.text

    def api_assign() -> int:
        body = {"ressort": "VM"}
        return client.put(
            f"/api/v1/proposals/{pid}/ressort", headers=bearer(tokens, MWIDE), json=body
        ).status_code

    assert not assign_form() and api_assign() == 403
    with pytest.raises(TransitionRefused) as refused:
        authorize_assign_ressort(facts, reviewer)
    assert refused.value.reason == "role"

    rows = tuple(
        dataclasses.replace(spec, roles=(*spec.roles, Role.RESSORT))
        if spec.action is Action.ASSIGN_RESSORT
        else spec
        for spec in table.ACTIONS
    )
    monkeypatch.setattr(table, "ACTIONS", rows)

    authorize_assign_ressort(facts, reviewer)  # the core lets the reviewer do it now
    assert assign_form()
    assert api_assign() == 200


def test_a_group_added_to_an_event_row_is_told_when_it_fires(
    services: Services, db: Database, tokens: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Telling another group about an event is one edit in the table, too."""

    def kinds(pid: int, seq: int) -> set[str]:
        with db.read() as s:
            found = s.scalars(
                select(OutboxRow.kind).where(OutboxRow.proposal_id == pid, OutboxRow.audit_seq == seq)
            )
            return set(found)

    before = services.submit(proposal_from_document(proposal_doc()), PARTNER).proposal_id
    after = services.submit(proposal_from_document(proposal_doc()), PARTNER).proposal_id
    taken = services.transition(before, Event.TAKE_UP, STAB, EventInput())
    assert kinds(before, taken.seq) == {"take_up.partner"}

    rows = tuple(
        dataclasses.replace(spec, notify=(*spec.notify, Audience.ARBEITSSTAB))
        if spec.event is Event.TAKE_UP
        else spec
        for spec in table.TRANSITIONS
    )
    monkeypatch.setattr(table, "TRANSITIONS", rows)

    taken = services.transition(after, Event.TAKE_UP, STAB, EventInput())
    assert kinds(after, taken.seq) == {"take_up.partner", "take_up.arbeitsstab"}
