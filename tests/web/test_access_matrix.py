"""Every role × action × ownership through the API: the status each combination gets (spec §1 and §3).

Subjects: the partner of the submitting organisation and of another one; a reviewer of the responsible
Ressort, of another Ressort, and of a Ressort while none is assigned; Arbeitsstab; admin; anonymous.
Each subject acts on a fresh proposal in the state the action needs, so that every status comes from
who is asking and not from what an earlier subject did.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient

from partnerprojekte.formats import proposal_from_document
from partnerprojekte.ids import format_id
from partnerprojekte.model import Event, ReasonCode
from partnerprojekte.services import Services
from partnerprojekte.states.workflow import EventInput
from tests.helpers import needs_review_financing, proposal_doc
from tests.people import MWIDE, MWIDE2, PARTNER, STAB, VM
from tests.web.conftest import ADMIN, OTHER, OTHER_ORG, bearer, error

# Subjects: (e-mail or None, whether the proposal gets a responsible Ressort (MWIDE)).
SUBJECTS: dict[str, tuple[str | None, bool]] = {
    "partner_own": (PARTNER, True),
    "partner_other": (OTHER, True),
    "ressort_responsible": (MWIDE, True),
    "ressort_other": (VM, True),
    "ressort_none_assigned": (MWIDE, False),
    "arbeitsstab": (STAB, True),
    "admin": (ADMIN, True),
    "anonymous": (None, True),
}
NAMES = list(SUBJECTS)


def _submit(svc: Services, doc: dict[str, Any] | None = None) -> int:
    return svc.submit(proposal_from_document(doc or proposal_doc()), PARTNER).proposal_id


def _stage(svc: Services, state: str, assigned: bool, doc: dict[str, Any] | None = None) -> int:
    """A proposal in ``state``; with ``assigned`` MWIDE is responsible (states beyond need it anyway)."""
    pid = _submit(svc, doc)
    if assigned:
        svc.assign_ressort(pid, "MWIDE", STAB)
    if state == "eingereicht" or not assigned:
        # Without a Ressort nothing is visible to a reviewer; the state does not matter then.
        return pid
    svc.transition(pid, Event.TAKE_UP, STAB, EventInput())
    if state == "in_bearbeitung":
        return pid
    if state == "nicht_weiterverfolgt":
        inp = EventInput(comment="Kein Bedarf.", reasons=(ReasonCode.DOPPELUNG,))
        svc.transition(pid, Event.DECLINE, STAB, inp)
        return pid
    svc.transition(pid, Event.START_COORDINATION, STAB, EventInput())
    assert state == "in_abstimmung"
    return pid


Setup = Callable[[Services, str | None, bool], int | None]


def staged(state: str, doc: Callable[[], dict[str, Any]] | None = None) -> Setup:
    """Setup: a proposal in this state."""
    return lambda svc, who, assigned: _stage(svc, state, assigned, doc() if doc else None)


def own_approval(svc: Services, who: str | None, assigned: bool) -> int:
    """Setup: in coordination, with the subject's own approval of ``recognise`` if they may give one."""
    pid = _stage(svc, "in_abstimmung", assigned)
    if who in (MWIDE, STAB) and assigned:
        svc.transition(pid, Event.RECOGNISE, who, EventInput())
    return pid


def ressort_approved(svc: Services, who: str | None, assigned: bool) -> int:
    """Setup: in coordination with the Ressort's approval of ``recognise`` given by a colleague."""
    pid = _stage(svc, "in_abstimmung", assigned)
    if assigned:
        svc.transition(pid, Event.RECOGNISE, MWIDE2, EventInput())
    return pid


def no_proposal(svc: Services, who: str | None, assigned: bool) -> None:
    """Setup: nothing (actions that are not about one proposal)."""
    return None


@dataclass(frozen=True)
class Action:
    """One API call and the status every subject gets."""

    method: str
    path: str  # {id} is replaced by the proposal's id
    setup: Setup
    expected: dict[str, int]
    body: dict[str, Any] | None = None
    content: Callable[[], dict[str, Any]] | None = None  # a proposal document as the body
    headers: dict[str, str] = field(default_factory=dict)


def table(
    partner_own: int,
    partner_other: int,
    ressort_responsible: int,
    ressort_other: int,
    ressort_none_assigned: int,
    arbeitsstab: int,
    admin: int,
    anonymous: int = 401,
) -> dict[str, int]:
    """The expected statuses in the order of ``SUBJECTS``."""
    values = [
        partner_own,
        partner_other,
        ressort_responsible,
        ressort_other,
        ressort_none_assigned,
        arbeitsstab,
        admin,
        anonymous,
    ]
    return dict(zip(NAMES, values, strict=True))


# A proposal-bound action everyone who may see it may try: partner_other, ressort_other and
# ressort_none_assigned never see the proposal, so they get 404 (never 403, which would betray it).
ACTIONS: dict[str, Action] = {
    "list": Action("GET", "/proposals", no_proposal, table(200, 200, 200, 200, 200, 200, 200)),
    "show": Action(
        "GET", "/proposals/{id}", staged("in_abstimmung"), table(200, 404, 200, 404, 404, 200, 200)
    ),
    "history": Action(
        "GET", "/proposals/{id}/history", staged("in_abstimmung"), table(200, 404, 200, 404, 404, 200, 200)
    ),
    "check": Action(
        "POST", "/check", no_proposal, table(200, 200, 200, 200, 200, 200, 200), content=proposal_doc
    ),
    # The document names the partner's organisation: another organisation's partner may not submit it.
    "submit": Action(
        "POST", "/proposals", no_proposal, table(201, 403, 403, 403, 403, 201, 403), content=proposal_doc
    ),
    "revise": Action(
        "PUT",
        "/proposals/{id}",
        staged("in_bearbeitung"),
        table(200, 404, 403, 404, 404, 200, 403),
        content=proposal_doc,
    ),
    "take_up": Action(
        "POST",
        "/proposals/{id}/events/take_up",
        staged("eingereicht"),
        table(403, 404, 403, 404, 404, 200, 403),
    ),
    "take_up_wrong_state": Action(
        "POST",
        "/proposals/{id}/events/take_up",
        staged("in_abstimmung"),
        table(403, 404, 403, 404, 404, 409, 403),
    ),
    "start_coordination": Action(
        "POST",
        "/proposals/{id}/events/start_coordination",
        staged("in_bearbeitung"),
        table(403, 404, 403, 404, 404, 200, 403),
    ),
    "request_changes": Action(
        "POST",
        "/proposals/{id}/events/request_changes",
        staged("in_abstimmung"),
        table(403, 404, 200, 404, 404, 200, 403),
        body={"comment": "Bitte die Finanzierung genauer darlegen.", "visibility": "partner"},
    ),
    # The first approval of an approval-gated event: recorded, nothing fires yet.
    "recognise_approve": Action(
        "POST",
        "/proposals/{id}/events/recognise",
        staged("in_abstimmung"),
        table(403, 404, 200, 404, 404, 200, 403),
    ),
    # The Ressort has approved already: the reviewer is refused (409), the Arbeitsstab completes it.
    "recognise_complete": Action(
        "POST", "/proposals/{id}/events/recognise", ressort_approved, table(403, 404, 409, 404, 404, 200, 403)
    ),
    "decline_in_coordination": Action(
        "POST",
        "/proposals/{id}/events/decline",
        staged("in_abstimmung"),
        table(403, 404, 200, 404, 404, 200, 403),
        body={"comment": "Doppelt mit einem anderen Vorhaben.", "reasons": ["doppelung"]},
    ),
    # Before coordination only the Arbeitsstab declines: the workflow refuses the reviewer's role.
    "decline_in_bearbeitung": Action(
        "POST",
        "/proposals/{id}/events/decline",
        staged("in_bearbeitung"),
        table(403, 404, 403, 404, 404, 200, 403),
        body={"comment": "Doppelt mit einem anderen Vorhaben.", "reasons": ["doppelung"]},
    ),
    "integrate_into_pillar_1": Action(
        "POST",
        "/proposals/{id}/events/integrate_into_pillar_1",
        staged("in_bearbeitung"),
        table(403, 404, 403, 404, 404, 200, 403),
        body={"comment": "Geht in 13-06 auf.", "saeule_1_projekt": "13-06"},
    ),
    "reopen": Action(
        "POST",
        "/proposals/{id}/events/reopen",
        staged("nicht_weiterverfolgt"),
        table(403, 404, 403, 404, 404, 200, 403),
        body={"comment": "Neue Partner gefunden."},
    ),
    "withdraw": Action(
        "POST",
        "/proposals/{id}/events/withdraw",
        staged("eingereicht"),
        table(200, 404, 403, 404, 404, 200, 403),
    ),
    "withdraw_approval": Action(
        "DELETE",
        "/proposals/{id}/approvals/recognise",
        own_approval,
        table(403, 404, 200, 404, 404, 200, 403),
    ),
    # Without an own approval there is nothing to withdraw: refused by the workflow (409).
    "withdraw_missing_approval": Action(
        "DELETE",
        "/proposals/{id}/approvals/recognise",
        staged("in_abstimmung"),
        table(403, 404, 409, 404, 404, 409, 403),
    ),
    "assign_ressort": Action(
        "PUT",
        "/proposals/{id}/ressort",
        staged("in_bearbeitung"),
        table(403, 404, 403, 404, 404, 200, 403),
        body={"ressort": "VM"},
    ),
    "confirm": Action(
        "POST",
        "/proposals/{id}/confirmations",
        staged("in_abstimmung", needs_review_financing),
        table(403, 404, 201, 404, 404, 403, 403),
        body={"criterion": "financing", "comment": "Zusage des Landes liegt schriftlich vor."},
    ),
    "comment_intern": Action(
        "POST",
        "/proposals/{id}/comments",
        staged("in_bearbeitung"),
        table(403, 404, 201, 404, 404, 201, 403),
        body={"text": "Intern: Rücksprache mit dem Ressort.", "visibility": "intern"},
    ),
    "comment_partner": Action(
        "POST",
        "/proposals/{id}/comments",
        staged("in_bearbeitung"),
        table(201, 404, 201, 404, 404, 201, 403),
        body={"text": "Bitte ergänzen Sie die Partner.", "visibility": "partner"},
    ),
    "report": Action("GET", "/report", no_proposal, table(403, 403, 200, 200, 200, 200, 200)),
}


@pytest.mark.parametrize("action", list(ACTIONS))
def test_role_action_ownership_table(
    action: str, client: TestClient, services: Services, tokens: dict[str, str]
) -> None:
    spec = ACTIONS[action]
    got: dict[str, int] = {}
    for name, (who, assigned) in SUBJECTS.items():
        pid = spec.setup(services, who, assigned)
        path = "/api/v1" + spec.path.replace("{id}", format_id(pid) if pid else "")
        kwargs: dict[str, Any] = {"headers": {**bearer(tokens, who), **spec.headers}}
        if spec.content is not None:
            kwargs["json"] = spec.content()
        elif spec.body is not None:
            kwargs["json"] = spec.body
        response = client.request(spec.method, path, **kwargs)
        got[name] = response.status_code
        if response.status_code >= 400:
            # Every refusal is German and structured, whatever the status.
            detail = error(response)
            assert detail["message"] and detail["kind"], (name, detail)
    assert got == spec.expected


def test_every_event_and_action_is_in_the_table() -> None:
    events = {e.value for e in Event} - {"submit", "revise"}
    covered = {a.path.rsplit("/", 1)[-1] for a in ACTIONS.values() if "/events/" in a.path}
    assert events <= covered
    assert {
        "show",
        "history",
        "list",
        "check",
        "submit",
        "revise",
        "report",
        "confirm",
        "assign_ressort",
    } <= set(ACTIONS)


def test_invisible_proposal_is_indistinguishable_from_a_missing_one(
    client: TestClient, services: Services, tokens: dict[str, str]
) -> None:
    pid = _stage(services, "in_abstimmung", True)
    # A missing id of the same length, so that even the Content-Length matches.
    missing = format_id(pid + 1000)
    paths = [
        "",
        "/history",
        "/events/take_up",
        "/comments",
        "/ressort",
        "/approvals/recognise",
        "/confirmations",
    ]
    methods = {"": "GET", "/history": "GET", "/ressort": "PUT", "/approvals/recognise": "DELETE"}
    bodies = {
        "/comments": {"text": "x"},
        "/ressort": {"ressort": "VM"},
        "/confirmations": {"criterion": "financing", "comment": "x"},
    }
    for who in (OTHER, VM):
        for suffix in paths:
            method = methods.get(suffix, "POST")
            seen = client.request(
                method,
                f"/api/v1/proposals/{format_id(pid)}{suffix}",
                headers=bearer(tokens, who),
                json=bodies.get(suffix),
            )
            absent = client.request(
                method,
                f"/api/v1/proposals/{missing}{suffix}",
                headers=bearer(tokens, who),
                json=bodies.get(suffix),
            )
            assert seen.status_code == absent.status_code == 404, (who, suffix)
            assert seen.json() == {
                "error": {
                    "message": absent.json()["error"]["message"].replace(missing, format_id(pid)),
                    "kind": "not_found",
                }
            }
            assert seen.headers == absent.headers


def test_list_never_contains_invisible_proposals(
    client: TestClient, services: Services, tokens: dict[str, str]
) -> None:
    own = _stage(services, "in_abstimmung", True)  # MWIDE responsible
    unassigned = _submit(services)
    other_doc = proposal_doc()
    other_doc["submitter"] = {**other_doc["submitter"], "name": OTHER_ORG}
    foreign = services.submit(proposal_from_document(other_doc), OTHER).proposal_id
    services.assign_ressort(foreign, "VM", STAB)
    visible = {
        PARTNER: {own, unassigned},
        OTHER: {foreign},
        MWIDE: {own},
        VM: {foreign},
        STAB: {own, unassigned, foreign},
        ADMIN: {own, unassigned, foreign},
    }
    for who, expected in visible.items():
        for query in ("", "?status=in_abstimmung", "?ressort=VM", "?q=KLIC", "?per_page=1&page=2"):
            body = client.get(f"/api/v1/proposals{query}", headers=bearer(tokens, who)).json()
            ids = {item["id"] for item in body["items"]}
            assert ids <= {format_id(p) for p in expected}, (who, query)
        full = client.get("/api/v1/proposals", headers=bearer(tokens, who)).json()
        assert {item["id"] for item in full["items"]} == {format_id(p) for p in expected}, who
        assert full["total"] == len(expected)


def test_order_of_checks_401_404_403_422(
    client: TestClient, services: Services, tokens: dict[str, str]
) -> None:
    pid = format_id(_stage(services, "eingereicht", True))
    bad = {"reasons": ["gibt_es_nicht"]}
    url = f"/api/v1/proposals/{pid}/events/take_up"
    assert client.post(url, json=bad).status_code == 401
    assert client.post(url, json=bad, headers=bearer(tokens, VM)).status_code == 404
    assert client.post(url, json=bad, headers=bearer(tokens, PARTNER)).status_code == 403
    assert client.post(url, json=bad, headers=bearer(tokens, STAB)).status_code == 422
    # Proposal documents too: the role is refused before the document is read.
    assert client.post("/api/v1/proposals", json={"x": 1}, headers=bearer(tokens, MWIDE)).status_code == 403
    assert client.put(f"/api/v1/proposals/{pid}", json={}, headers=bearer(tokens, MWIDE)).status_code == 403
    assert client.put(f"/api/v1/proposals/{pid}", json={}, headers=bearer(tokens, STAB)).status_code == 422
