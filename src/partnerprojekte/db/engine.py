"""Engine and unit of work: SQLite (WAL, working savepoints) by default, PostgreSQL through its URL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    """The real clock (aware, UTC)."""
    return dt.datetime.now(dt.UTC)


def normalise_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and use the psycopg 3 driver for them."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def _install_sqlite_hooks(engine: Engine) -> None:
    # pysqlite's legacy transaction handling breaks SAVEPOINT: take over BEGIN ourselves.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers take the write lock up front: a deferred transaction that read first and
        # writes later fails at once with SQLITE_BUSY under WAL instead of waiting.
        immediate = conn.get_execution_options().get("sqlite_immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine for a database URL with the settings this product relies on."""
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        _install_sqlite_hooks(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


@dataclass
class Database:
    """A database binding, a session factory and a clock: what every use case needs.

    ``bind`` is normally an Engine; tests bind a Connection inside an outer transaction and every
    unit of work then runs in a savepoint that the test rolls back.
    """

    bind: Engine | Connection
    clock: Clock = utc_now
    sessions: sessionmaker[Session] = field(init=False)

    def __post_init__(self) -> None:
        self.sessions = sessionmaker(
            self.bind, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )
        self._current: ContextVar[Session | None] = ContextVar(f"uow-{id(self)}", default=None)

    @property
    def is_sqlite(self) -> bool:
        """Whether the backend is SQLite (one writer at a time)."""
        return self.bind.dialect.name == "sqlite"

    @property
    def is_postgres(self) -> bool:
        """Whether the backend is PostgreSQL."""
        return self.bind.dialect.name == "postgresql"

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One transaction that writes: committed at the end, rolled back on any error.

        Nested calls join the outer transaction, so that several use cases can commit together
        (the import commits one proposal with all its events, or nothing of it).
        """
        outer = self._current.get()
        if outer is not None:
            yield outer
            return
        with self.sessions() as session:
            if self.is_sqlite:
                session.connection(execution_options={"sqlite_immediate": True})
            token = self._current.set(session)
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
            finally:
                self._current.reset(token)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """One read-only transaction (inside a write, the writing one)."""
        outer = self._current.get()
        if outer is not None:
            yield outer
            return
        with self.sessions() as session:
            try:
                yield session
            finally:
                # Detach first: a rollback would expire what the caller takes out of the block.
                session.expunge_all()
                session.rollback()
