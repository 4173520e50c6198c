"""Two scheduled runs at the same moment (Prefect may start one twice): every row is queued once.

These tests need real commits on separate connections, so they use a database of their own instead
of the rolled-back test transaction.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select

from partnerprojekte.config import Settings
from partnerprojekte.db.engine import Database, make_engine
from partnerprojekte.db.migrate import upgrade
from partnerprojekte.db.schema import OutboxRow
from partnerprojekte.mailing.digests import run_digests
from partnerprojekte.mailing.reminders import run_reminders
from partnerprojekte.model import Event
from partnerprojekte.services import Services
from partnerprojekte.states.workflow import EventInput
from tests.conftest import Clock, create_postgres_database
from tests.people import STAB
from tests.schedule.conftest import add_people, berlin, request_changes, submit, to_coordination


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A committed database of its own with people and a history from early February 2026."""
    drop: Callable[[], None] | None = None
    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path / 'runs.db'}")
    else:
        url, drop = create_postgres_database()
        eng = make_engine(url, pool_size=4)
    upgrade(eng)
    services = Services(Database(eng, clock=Clock(berlin(2026, 2, 2))), Settings())
    services.load_reference_data()
    add_people(services)
    submit(services)
    coord = to_coordination(services)
    services.transition(coord, Event.RECOGNISE, STAB, EventInput())
    request_changes(services, to_coordination(services))
    yield eng
    eng.dispose()
    if drop:
        drop()


def at_once(eng: Engine, job: Callable[[Database], int]) -> list[int]:
    """Run the job twice at the same moment, each on its own connection; what each one queued."""
    barrier = threading.Barrier(2, timeout=20)
    # PostgreSQL: both runs have read everything before either inserts. SQLite lets one writer in at a
    # time (BEGIN IMMEDIATE), so the second run starts when the first has committed.
    hold = eng.dialect.name == "postgresql"

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if hold and statement.lstrip().upper().startswith("INSERT INTO OUTBOX"):
            barrier.wait()

    event.listen(eng, "before_cursor_execute", before)
    try:
        with ThreadPoolExecutor(2) as pool:
            clock = Clock(berlin(2026, 3, 9, 7, 30))
            return list(pool.map(lambda _: job(Database(eng, clock=clock)), range(2)))
    finally:
        event.remove(eng, "before_cursor_execute", before)


def rows(eng: Engine, prefix: str) -> int:
    """How many outbox rows of kinds starting with ``prefix`` exist."""
    with eng.connect() as conn:
        return conn.scalar(select(func.count()).where(OutboxRow.kind.startswith(prefix))) or 0


def test_two_reminder_runs_at_once_queue_each_reminder_once(engine: Engine) -> None:
    queued = at_once(engine, lambda db: run_reminders(db, Settings()).queued)
    # eingereicht round 3 (2), changes requested (1), approval owed (2) and escalated (2)
    assert sorted(queued) == [0, 7]
    assert rows(engine, "reminder.") == 7


def test_two_digest_runs_at_once_queue_each_digest_once(engine: Engine) -> None:
    queued = at_once(engine, lambda db: run_digests(db, Settings()).queued)
    assert sorted(queued) == [0, 4]  # Arbeitsstab (2) and MWIDE (2); VM and MKW have nothing
    assert rows(engine, "digest.") == 4
