"""Fixtures for the notification tests: a real SMTP server, mail settings pointing at it, people."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from partnerprojekte.config import MailSettings, Settings
from partnerprojekte.db.engine import Database
from partnerprojekte.db.schema import OutboxRow
from partnerprojekte.formats import proposal_from_document
from partnerprojekte.model import Role
from partnerprojekte.services import Services
from tests.helpers import proposal_doc
from tests.smtp_server import SmtpSink

STAB = "a.stab@stk.nrw.example"
STAB2 = "b.stab@stk.nrw.example"
MWIDE = "c.ostermann@mwide.nrw.example"
MWIDE2 = "d.wirt@mwide.nrw.example"
VM = "v.verkehr@vm.nrw.example"
PARTNER = "kontakt@bio-security.example.de"
ORG = "Kompetenzzentrum Bio-Security GmbH"
BASE_URL = "https://partnerprojekte.nrw.example"


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    """An aiosmtpd server on 127.0.0.1 and a free port, stopped after the test."""
    sink = SmtpSink().start()
    try:
        yield sink
    finally:
        sink.stop()


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


def add_people(services: Services) -> None:
    """Two Arbeitsstab members, two MWIDE reviewers, one VM reviewer and the partner contact."""
    services.add_user(STAB, "Anna Stab", Role.ARBEITSSTAB)
    services.add_user(STAB2, "Bernd Stab", Role.ARBEITSSTAB)
    services.add_user(MWIDE, "Carla Ostermann", Role.RESSORT, ressort="MWIDE")
    services.add_user(MWIDE2, "Dieter Wirt", Role.RESSORT, ressort="MWIDE")
    services.add_user(VM, "Vera Verkehr", Role.RESSORT, ressort="VM")
    services.add_user(PARTNER, "Kai Kontakt", Role.PARTNER, organisation=ORG)


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
