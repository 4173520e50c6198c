"""Shared fixtures: databases (SQLite and PostgreSQL), a movable clock, proposal documents."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from partnerprojekte.config import Settings
from partnerprojekte.db.engine import Database, make_engine, normalise_url
from partnerprojekte.db.migrate import upgrade
from partnerprojekte.services import Services
from tests.smtp_server import SmtpSink

PG_ENV = "PARTNERPROJEKTE_TEST_POSTGRES_URL"


class Clock:
    """A clock the tests move by hand."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **kwargs: float) -> dt.datetime:
        self.now += dt.timedelta(**kwargs)
        return self.now


def postgres_admin_url() -> str | None:
    """The PostgreSQL URL for tests; under CI=true its absence is an error, not a skip."""
    url = os.environ.get(PG_ENV)
    if url:
        return normalise_url(url)
    if os.environ.get("CI") == "true":
        pytest.fail(f"{PG_ENV} is not set, but CI=true requires the PostgreSQL tests to run")
    return None


def create_postgres_database() -> tuple[str, Any]:
    """A fresh, empty PostgreSQL database; returns its URL and a function that drops it."""
    admin_url = postgres_admin_url()
    if admin_url is None:
        pytest.skip(f"{PG_ENV} not set: PostgreSQL tests skipped locally")
    name = f"pp_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url, drop


@contextmanager
def own_database(backend: str, tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    """A migrated database with the reference data whose commits are real (no test transaction around
    it); its URL and engine, dropped afterwards."""
    if backend == "sqlite":
        url, drop = f"sqlite:///{tmp_path / 'own.db'}", None
    else:
        url, drop = create_postgres_database()
    engine = make_engine(url)
    try:
        upgrade(engine)
        Services(Database(engine), Settings()).load_reference_data()
        yield url, engine
    finally:
        engine.dispose()
        if drop:
            drop()


@pytest.fixture(scope="session")
def migrated_engines(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Engine]]:
    """One migrated engine per backend for the whole session, created lazily."""
    engines: dict[str, Engine] = {}
    yield engines
    for engine in engines.values():
        engine.dispose()


def _engine_for(backend: str, cache: dict[str, Engine], tmp: Path) -> Engine:
    if backend in cache:
        return cache[backend]
    if backend == "sqlite":
        engine = make_engine(f"sqlite:///{tmp / 'test.db'}")
    else:
        url, drop = create_postgres_database()
        engine = make_engine(url)
        _DROPS.append(drop)
    upgrade(engine)
    Services(Database(engine), Settings()).load_reference_data()
    cache[backend] = engine
    return engine


# Databases created for the session, dropped when it ends (after the engines are disposed).
_DROPS: list[Any] = []


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Drop the PostgreSQL databases this session created."""
    for drop in _DROPS:
        drop()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    """Every database test runs on SQLite and on PostgreSQL."""
    return str(request.param)


@pytest.fixture
def clock() -> Clock:
    """A clock at Monday 2026-03-02 09:00 Berlin time."""
    return Clock(dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC))


@pytest.fixture
def db(
    backend: str,
    migrated_engines: dict[str, Engine],
    tmp_path_factory: pytest.TempPathFactory,
    clock: Clock,
) -> Iterator[Database]:
    """A database whose every change is rolled back after the test (savepoint recipe)."""
    engine = _engine_for(backend, migrated_engines, tmp_path_factory.getbasetemp())
    with engine.connect() as conn:
        outer = conn.begin()
        try:
            yield Database(conn, clock=clock)
        finally:
            outer.rollback()


@pytest.fixture
def settings() -> Settings:
    """Settings with the defaults of the spec."""
    return Settings()


@pytest.fixture
def services(db: Database, settings: Settings) -> Services:
    """The use cases over the test database."""
    return Services(db, settings)


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    """A real aiosmtpd server on 127.0.0.1 and a free port, stopped after the test (one for every suite;
    a module that needs a slow one overrides it)."""
    sink = SmtpSink().start()
    try:
        yield sink
    finally:
        sink.stop()
