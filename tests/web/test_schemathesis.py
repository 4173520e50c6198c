"""Property-based requests from the OpenAPI document (schemathesis): no request makes the server fail.

schemathesis' own pytest integration (``from_fixture``) does not work with pytest 9 (it reads a private
node attribute); the operations are therefore parametrised here and each drawn with Hypothesis.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from partnerprojekte.config import Settings
from partnerprojekte.db.engine import Database, make_engine
from partnerprojekte.model import Event
from partnerprojekte.services import Services
from partnerprojekte.states.workflow import EventInput
from partnerprojekte.web.app import create_app
from tests.helpers import needs_review_financing
from tests.people import MWIDE, STAB
from tests.web.conftest import submit, to_coordination


def _operations() -> list[tuple[str, str]]:
    # Building the application touches no database; the document is the same for every backend.
    document = create_app(Settings(), Database(make_engine("sqlite://"))).openapi()
    return [(method.upper(), path) for path, item in document["paths"].items() for method in item]


OPERATIONS = _operations()


@pytest.fixture
def api_schema(app: FastAPI, tokens: dict[str, str], services: Services) -> schemathesis.BaseSchema:
    """The API's own OpenAPI document, over a database with proposals in several states."""
    submit(services)  # PP-0001, eingereicht
    pid = to_coordination(services, needs_review_financing())  # PP-0002, in_abstimmung
    services.transition(pid, Event.RECOGNISE, MWIDE, EventInput(comment="Passt."))
    recognised = to_coordination(services)  # PP-0003, anerkannt, owes a progress report for 2026
    services.transition(recognised, Event.RECOGNISE, MWIDE, EventInput())
    services.transition(recognised, Event.RECOGNISE, STAB, EventInput())
    services.open_round(2026, "Fortschrittsbericht 2026", dt.date(2026, 10, 31), dt.date(2026, 9, 15), STAB)
    return schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)


def test_every_operation_is_exercised() -> None:
    assert len(OPERATIONS) == 25
    assert ("POST", "/api/v1/rounds/{year}/reports/{proposal_id}/events/{event}") in OPERATIONS
    assert ("POST", "/api/v1/proposals/{proposal_id}/events/{event}") in OPERATIONS


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_no_server_error(
    api_schema: schemathesis.BaseSchema, tokens: dict[str, str], method: str, path: str
) -> None:
    operation = api_schema[path][method]
    # Valid and invalid requests alike: the error mapping must hold for whatever arrives.
    cases = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)
    )
    headers = {"Authorization": f"Bearer {tokens[STAB]}"}

    @given(case=cases)
    @settings(
        max_examples=20,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def run(case: schemathesis.Case[Any]) -> None:
        case.call_and_validate(headers=headers, checks=[not_a_server_error])

    run()
