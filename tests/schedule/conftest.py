"""People and histories for the reminder and digest tests, built through the use cases."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from partnerprojekte.db.engine import Database
from partnerprojekte.db.schema import OutboxRow
from partnerprojekte.formats import proposal_from_document
from partnerprojekte.model import Event, Role
from partnerprojekte.services import Services
from partnerprojekte.states.workflow import EventInput
from tests.helpers import proposal_doc
from tests.people import PARTNER, STAB
from tests.people import add_people as add_common_people

MKW = "k.kultur@mkw.nrw.example"


def add_people(services: Services) -> None:
    """The people of ``tests.people`` and a reviewer of MKW."""
    add_common_people(services)
    services.add_user(MKW, "Klara Kultur", Role.RESSORT, ressort="MKW")


@pytest.fixture
def people(services: Services) -> None:
    """The people of every schedule test."""
    add_people(services)


def submit(services: Services, title: str | None = None, **changes: Any) -> int:
    """Submit the base proposal (optionally with another title) as the partner."""
    doc = proposal_doc(**changes)
    if title:
        doc["title"] = title
    return services.submit(proposal_from_document(doc), PARTNER).proposal_id


def to_coordination(services: Services, title: str | None = None, ressort: str = "MWIDE") -> int:
    """Submit, take up, assign a Ressort and start coordination."""
    pid = submit(services, title)
    services.transition(pid, Event.TAKE_UP, STAB, EventInput())
    services.assign_ressort(pid, ressort, STAB)
    services.transition(pid, Event.START_COORDINATION, STAB, EventInput())
    return pid


def request_changes(services: Services, pid: int) -> None:
    """The Arbeitsstab asks the partner for changes."""
    services.transition(
        pid, Event.REQUEST_CHANGES, STAB, EventInput(comment="Bitte die Finanzierung genauer darlegen.")
    )


def mails(db: Database, prefix: str = "") -> list[tuple[str, str, str]]:
    """(kind, recipient, key) of the outbox rows whose kind starts with ``prefix``, in insertion order."""
    with db.read() as s:
        rows = s.execute(
            select(OutboxRow.kind, OutboxRow.recipient_email, OutboxRow.idempotency_key)
            .where(OutboxRow.kind.startswith(prefix))
            .order_by(OutboxRow.id)
        )
        return [(k, r, key) for k, r, key in rows]


def context(db: Database, key: str) -> dict[str, Any]:
    """The template context of one outbox row."""
    with db.read() as s:
        value = s.scalar(select(OutboxRow.context).where(OutboxRow.idempotency_key == key))
        assert value is not None, key
        return dict(value)


def berlin(year: int, month: int, day: int, hour: int = 9, minute: int = 0) -> dt.datetime:
    """A wall-clock time in Berlin as an aware UTC datetime."""
    from zoneinfo import ZoneInfo

    return dt.datetime(year, month, day, hour, minute, tzinfo=ZoneInfo("Europe/Berlin")).astimezone(dt.UTC)
