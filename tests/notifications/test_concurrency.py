"""Two senders at the same time never send the same row (real connections, real commits)."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from sqlalchemy import Engine

from partnerprojekte.config import Settings
from partnerprojekte.db.engine import Database, make_engine
from partnerprojekte.db.migrate import upgrade
from partnerprojekte.mailing.delivery import DeliveryReport, deliver_pending
from partnerprojekte.notifications.transport import Item, SendResult, SmtpTransport
from partnerprojekte.services import Services
from tests.conftest import create_postgres_database
from tests.notifications.conftest import add_people, mail_settings_for, outbox_rows, submit
from tests.smtp_server import SmtpSink

PROPOSALS = 40  # three rows each: the partner and two Arbeitsstab members


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A fresh, migrated database that commits for real (no rollback fixture: two connections)."""
    drop = None
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'senders.db'}")
    else:
        url, drop = create_postgres_database()
        engine = make_engine(url)
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        if drop:
            drop()


class SlowSmtp(SmtpTransport):
    """SMTP with a pause per batch, so that the two senders' batches surely overlap."""

    async def send_batch(self, messages: Sequence[Item]) -> list[SendResult]:
        await asyncio.sleep(0.02)
        return await super().send_batch(messages)


@pytest.mark.slow
def test_two_concurrent_senders_send_every_row_exactly_once(engine: Engine, smtp: SmtpSink) -> None:
    db = Database(engine)
    services = Services(db, Settings())
    services.load_reference_data()
    add_people(services)
    for _ in range(PROPOSALS):
        submit(services)
    settings = mail_settings_for(smtp, batch_size=10, max_concurrency=2)
    start = threading.Barrier(2)
    reports: dict[str, DeliveryReport] = {}
    errors: list[BaseException] = []

    def sender(name: str) -> None:
        try:
            start.wait(timeout=10)
            reports[name] = deliver_pending(
                Database(engine), settings, transport=SlowSmtp(settings.mail), worker=name
            )
        except BaseException as exc:  # surfaced below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=sender, args=(name,)) for name in ("sender-a", "sender-b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    rows = outbox_rows(db)
    assert len(rows) == 3 * PROPOSALS
    assert {(r.status, r.attempts) for r in rows} == {("sent", 1)}
    ids = Counter(m.message["Message-ID"] for m in smtp.messages)
    assert len(ids) == 3 * PROPOSALS and set(ids.values()) == {1}
    assert reports["sender-a"].sent + reports["sender-b"].sent == 3 * PROPOSALS
    # Both did a share of the work; every row was recorded by the sender that claimed it.
    by_sender = Counter(r.claimed_by for r in rows)
    assert by_sender["sender-a"] > 0 and by_sender["sender-b"] > 0
    assert by_sender["sender-a"] == reports["sender-a"].sent
