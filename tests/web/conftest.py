"""Fixtures for the API: an application over the rolled-back test database, people with API tokens."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI

with warnings.catch_warnings():
    # Starlette 1.x prefers the httpx2 package, which the lock file does not have; httpx works the same.
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

from partnerprojekte.config import Settings
from partnerprojekte.db.engine import Database
from partnerprojekte.formats import proposal_from_document
from partnerprojekte.model import Event, Role
from partnerprojekte.services import Services
from partnerprojekte.states.workflow import EventInput
from partnerprojekte.web.app import create_app
from partnerprojekte.web.auth import security
from partnerprojekte.web.auth.security import create_api_token
from tests.helpers import proposal_doc
from tests.people import MWIDE, MWIDE2, ORG, PARTNER, STAB, STAB2, VM

OTHER = "info@anderer-verein.example.de"
ADMIN = "admin@it.nrw.example"
OTHER_ORG = "Anderer Verein e. V."

# e-mail -> (name, role, Ressort, organisation)
PEOPLE: dict[str, tuple[str, Role, str | None, str | None]] = {
    STAB: ("Anna Stab", Role.ARBEITSSTAB, None, None),
    STAB2: ("Bernd Stab", Role.ARBEITSSTAB, None, None),
    MWIDE: ("Carla Ostermann", Role.RESSORT, "MWIDE", None),
    MWIDE2: ("Dieter Wirt", Role.RESSORT, "MWIDE", None),
    VM: ("Vera Verkehr", Role.RESSORT, "VM", None),
    PARTNER: ("Kai Kontakt", Role.PARTNER, None, ORG),
    OTHER: ("Olga Anders", Role.PARTNER, None, OTHER_ORG),
    ADMIN: ("Ada Admin", Role.ADMIN, None, None),
}


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2id with small parameters: the defaults cost ~0.7 s per hash here, and tests hash a lot."""
    hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(security, "_hasher", lambda: hasher)


@pytest.fixture
def app(db: Database, settings: Settings) -> FastAPI:
    """The application over the test database."""
    return create_app(settings, db)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """A client on plain http (development: cookies without ``Secure``)."""
    with TestClient(app, base_url="http://127.0.0.1:8000") as c:
        yield c


@pytest.fixture
def tokens(services: Services, db: Database) -> dict[str, str]:
    """Every person of ``PEOPLE`` with an API token, by e-mail."""
    result = {}
    for email, (name, role, ressort, organisation) in PEOPLE.items():
        services.add_user(email, name, role, ressort=ressort, organisation=organisation)
        result[email] = create_api_token(db, email, "Tests")
    return result


def bearer(tokens: dict[str, str], who: str | None) -> dict[str, str]:
    """The Authorization header of a person (none for anonymous)."""
    return {"Authorization": f"Bearer {tokens[who]}"} if who else {}


def submit(services: Services, doc: dict[str, Any] | None = None, who: str = PARTNER) -> int:
    """Submit a proposal through the use case (not the API); returns its id."""
    return services.submit(proposal_from_document(doc or proposal_doc()), who).proposal_id


def to_coordination(services: Services, doc: dict[str, Any] | None = None, who: str = PARTNER) -> int:
    """A proposal in ``in_abstimmung`` with MWIDE responsible."""
    pid = submit(services, doc, who)
    services.transition(pid, Event.TAKE_UP, STAB, EventInput())
    services.assign_ressort(pid, "MWIDE", STAB)
    services.transition(pid, Event.START_COORDINATION, STAB, EventInput())
    return pid


def error(response: httpx.Response) -> dict[str, Any]:
    """The ``error`` object of an error answer."""
    body = response.json()
    assert set(body) == {"error"}, body
    detail: dict[str, Any] = body["error"]
    return detail
