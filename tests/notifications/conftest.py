"""Fixtures for the notification tests: a real SMTP server, mail settings pointing at it, people."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from partnerprojekte.config import MailSettings, Settings
from partnerprojekte.db.engine import Database
from partnerprojekte.db.schema import OutboxRow
from partnerprojekte.formats import proposal_from_document
from partnerprojekte.services import Services
from tests.helpers import proposal_doc
from tests.people import PARTNER, add_people
from tests.smtp_server import SmtpSink

BASE_URL = "https://partnerprojekte.nrw.example"


def mail_settings_for(sink: SmtpSink, **changes: Any) -> Settings:
    """Settings that send to the test server (no TLS, short timeouts, a real-looking base URL)."""
    values: dict[str, Any] = {
        "smtp_host": "127.0.0.1",
        "smtp_port": sink.port,
        "smtp_security": "none",
        "timeout_seconds": 5,
        "base_url": BASE_URL,
        "sender": "Arbeitsstab Ruhr-Konferenz <partnerprojekte@stk.nrw.example>",
    }
    return Settings(mail=MailSettings(**{**values, **changes}))


@pytest.fixture
def mail_settings(smtp: SmtpSink) -> Settings:
    """Settings whose SMTP host is the test server."""
    return mail_settings_for(smtp)


@pytest.fixture
def people(services: Services) -> None:
    """The people of ``add_people`` in the test database."""
    add_people(services)


def submit(services: Services, **changes: Any) -> int:
    """Submit the realistic base proposal (with changes) as the partner; returns its id."""
    return services.submit(proposal_from_document(proposal_doc(**changes)), PARTNER).proposal_id


def outbox_rows(db: Database, proposal_id: int | None = None) -> list[OutboxRow]:
    """The outbox rows (of one proposal), oldest first."""
    query = select(OutboxRow).order_by(OutboxRow.id)
    if proposal_id is not None:
        query = query.where(OutboxRow.proposal_id == proposal_id)
    with db.read() as s:
        rows = list(s.scalars(query))
        s.expunge_all()
        return rows
