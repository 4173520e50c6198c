"""The unit of work and the connection pool: nesting, rollback, and reconnecting after a dead connection."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, create_engine, func, insert, select, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import OperationalError

from partnerprojekte.config import Settings
from partnerprojekte.db.engine import Database, make_engine
from partnerprojekte.db.migrate import upgrade
from partnerprojekte.db.schema import LoginAttemptRow, UserRow
from partnerprojekte.model import Role
from partnerprojekte.services import Services
from tests.conftest import create_postgres_database, own_database, postgres_admin_url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def committed(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    """A migrated database of its own whose commits are real (no test transaction around it)."""
    with own_database(request.param, tmp_path) as found:
        yield found


def _people(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(UserRow)) or 0


def test_a_session_inside_a_transaction_commits_and_rolls_back_with_it(
    committed: tuple[str, Engine],
) -> None:
    _, engine = committed
    svc = Services(Database(engine), Settings())

    def add_then_fail() -> None:
        with svc.db.transaction() as conn:
            svc.add_user("a.stab@stk.nrw.example", "Anna Stab", Role.ARBEITSSTAB)  # a Session joins
            with svc.db.read() as s:
                assert s.scalar(select(func.count()).select_from(UserRow)) == 1
            assert conn.scalar(select(func.count()).select_from(UserRow)) == 1
            raise RuntimeError("danach schiefgegangen")

    with pytest.raises(RuntimeError):
        add_then_fail()
    assert _people(engine) == 0
    with svc.db.transaction():
        svc.add_user("a.stab@stk.nrw.example", "Anna Stab", Role.ARBEITSSTAB)
    assert _people(engine) == 1


def test_a_transaction_inside_a_write_joins_it(committed: tuple[str, Engine]) -> None:
    _, engine = committed
    svc = Services(Database(engine), Settings())

    def add_then_fail() -> None:
        with svc.db.write() as s:
            with svc.db.transaction() as conn:
                assert conn is s.connection()
            svc.add_user("a.stab@stk.nrw.example", "Anna Stab", Role.ARBEITSSTAB)
            raise RuntimeError("danach schiefgegangen")

    with pytest.raises(RuntimeError):
        add_then_fail()
    assert _people(engine) == 0


@pytest.mark.parametrize(
    "value",
    [
        dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC),
        dt.datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC),
        dt.datetime(999, 1, 1, 0, 0, 0, 1, tzinfo=dt.UTC),
        dt.datetime(2026, 3, 29, 3, 30, tzinfo=ZoneInfo("Europe/Berlin")),
    ],
)
def test_sqlite_stores_datetimes_as_sqlalchemys_own_text(value: dt.datetime, tmp_path: Path) -> None:
    # UTCDateTime writes SQLite's text with isoformat: it must stay SQLAlchemy's format, byte for byte,
    # or comparisons with rows written before would break.
    engine = make_engine(f"sqlite:///{tmp_path / 'zeit.db'}")
    upgrade(engine)
    naive = value.astimezone(dt.UTC).replace(tzinfo=None)
    expected = sqlite.DATETIME().bind_processor(engine.dialect)(naive)  # type: ignore[no-untyped-call]
    with engine.begin() as conn:
        conn.execute(insert(LoginAttemptRow).values(key="k", at=value, success=True))
        stored = conn.exec_driver_sql("SELECT at FROM login_attempts").scalar()
        back = conn.scalar(select(LoginAttemptRow.at).where(LoginAttemptRow.at <= value))
    engine.dispose()
    assert stored == expected
    assert back == value


def _count_pings(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    pings: list[int] = []
    real = engine.dialect.do_ping

    def counting(dbapi_conn: Any) -> bool:
        pings.append(1)
        return real(dbapi_conn)

    monkeypatch.setattr(engine.dialect, "do_ping", counting)
    return pings


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A migrated PostgreSQL database of its own."""
    url, drop = create_postgres_database()
    engine = make_engine(url)
    upgrade(engine)
    Services(Database(engine), Settings()).load_reference_data()
    engine.dispose()
    yield url
    drop()


def _drop_connections(database: str | None) -> int:
    """Terminate every server connection to the database, as a restart or an idle timeout would."""
    admin_url = postgres_admin_url()
    assert admin_url is not None
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        killed = conn.scalar(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = :db AND pid <> pg_backend_pid()"
            ),
            {"db": database},
        )
    admin.dispose()
    return int(killed or 0)


@pytest.mark.postgres
def test_only_a_connection_that_sat_idle_is_pinged(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = make_engine(pg_url, idle_ping_seconds=0.2)
    pings = _count_pings(engine, monkeypatch)
    db = Database(engine)
    for _ in range(3):
        with db.transaction() as conn:
            conn.execute(text("SELECT 1"))
    assert pings == []  # each transaction takes the connection the one before just returned
    time.sleep(0.3)
    with db.transaction() as conn:
        conn.execute(text("SELECT 1"))
    assert pings == [1]
    engine.dispose()


@contextmanager
def _dropped_while_idle(pg_url: str, idle_ping_seconds: float) -> Iterator[tuple[Engine, Services]]:
    """An engine that used its pooled connection, which the server then dropped 0.3 s ago."""
    engine = make_engine(pg_url, idle_ping_seconds=idle_ping_seconds)
    svc = Services(Database(engine), Settings())
    svc.add_user("a.stab@stk.nrw.example", "Anna Stab", Role.ARBEITSSTAB)
    assert _drop_connections(engine.url.database) >= 1  # the engine's pooled connection is gone
    time.sleep(0.3)
    try:
        yield engine, svc
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_a_connection_the_server_dropped_while_idle_is_replaced(pg_url: str) -> None:
    with _dropped_while_idle(pg_url, idle_ping_seconds=0.2) as (engine, svc):
        svc.add_user("b.stab@stk.nrw.example", "Bernd Stab", Role.ARBEITSSTAB)
        assert _people(engine) == 2


@pytest.mark.postgres
def test_without_the_ping_a_dropped_connection_fails(pg_url: str) -> None:
    # The counterpart of the test above: it shows that the ping is what saves the use case.
    with _dropped_while_idle(pg_url, idle_ping_seconds=3600) as (_, svc), pytest.raises(OperationalError):
        svc.add_user("b.stab@stk.nrw.example", "Bernd Stab", Role.ARBEITSSTAB)
