"""Engine and unit of work: SQLite (WAL, working savepoints) by default, PostgreSQL through its URL."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from partnerprojekte.db.read_cache import VersionedCache
from partnerprojekte.errors import ValidationError

Clock = Callable[[], dt.datetime]

# A pooled server connection unused for this long is pinged before it is handed out again.
IDLE_PING_SECONDS = 10.0


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
        # Straight to the driver: BEGIN needs none of the statement machinery (and runs every transaction).
        conn.connection.dbapi_connection.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _install_idle_ping(engine: Engine, idle_seconds: float) -> None:
    # pool_pre_ping costs a round trip on every checkout, i.e. on every transaction; a connection that
    # was used a moment ago is alive, so only one that sat idle in the pool is pinged. A dead one is
    # replaced by a fresh connection (DisconnectionError makes the pool retry the checkout).
    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < idle_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
            dbapi_conn.rollback()  # the ping must not leave a transaction open
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError("Verbindung zur Datenbank war abgebrochen") from exc


def initialised_engine(url: str) -> Engine:
    """An engine on a database that ``partnerprojekte init`` has set up; else a German error (and no engine).

    A missing schema is an operator's omission, not an outage: callers fail at once instead of retrying
    "no such table". Connecting to a missing SQLite file would create it (and its folder): checked first.
    """
    not_initialised = ValidationError(
        "Die Datenbank ist noch nicht eingerichtet: bitte zuerst „partnerprojekte init“ ausführen."
    )
    parsed = make_url(normalise_url(url))
    is_file = parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:")
    if is_file and not Path(str(parsed.database)).is_file():
        raise not_initialised
    engine = make_engine(url)
    try:
        if not inspect(engine).has_table("alembic_version"):
            raise not_initialised
    except BaseException:
        engine.dispose()
        raise
    return engine


def make_engine(url: str, *, idle_ping_seconds: float = IDLE_PING_SECONDS, **kwargs: Any) -> Engine:
    """Create an engine for a database URL with the settings this product relies on."""
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        _install_sqlite_hooks(engine)
        return engine
    engine = create_engine(url, **kwargs)
    _install_idle_ping(engine, idle_ping_seconds)
    return engine


@dataclass
class Database:
    """A database binding, a session factory and a clock: what every use case needs.

    ``bind`` is normally an Engine; tests bind a Connection inside an outer transaction and every
    unit of work then runs in a savepoint that the test rolls back.
    """

    bind: Engine | Connection
    clock: Clock = utc_now
    sessions: sessionmaker[Session] = field(init=False)
    # Figures derived from this database, kept per data version (read_cache); one per binding, so
    # that two databases in one process never share one.
    cache: VersionedCache = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.cache = VersionedCache()
        self.sessions = sessionmaker(
            self.bind, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )
        # The unit of work in progress in this context: a Session (write/read) or a bare Connection
        # (transaction); nested units join it.
        self._current: ContextVar[Session | Connection | None] = ContextVar(f"uow-{id(self)}", default=None)
        # A read-only session that nested ``read`` calls share (``reading_together``); writes never join it.
        self._shared_read: ContextVar[Session | None] = ContextVar(f"read-{id(self)}", default=None)

    @property
    def is_sqlite(self) -> bool:
        """Whether the backend is SQLite (one writer at a time)."""
        return self.bind.dialect.name == "sqlite"

    @property
    def is_postgres(self) -> bool:
        """Whether the backend is PostgreSQL."""
        return self.bind.dialect.name == "postgresql"

    @contextmanager
    def _session(self, outer: Connection | None) -> Iterator[Session]:
        # Inside a bare-Connection unit, a Session joins it in a savepoint of its own.
        if outer is None:
            with self.sessions() as session:
                yield session
        else:
            with Session(outer, expire_on_commit=False, join_transaction_mode="create_savepoint") as session:
                yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One transaction that writes: committed at the end, rolled back on any error.

        Nested calls join the outer transaction, so that several use cases can commit together
        (the import commits one proposal with all its events, or nothing of it).
        """
        outer = self._current.get()
        if isinstance(outer, Session):
            yield outer
            return
        with self._session(outer) as session:
            if self.is_sqlite and outer is None:
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
    def transaction(self) -> Iterator[Connection]:
        """One writing transaction on a bare Connection, for Core statements (the event path: no ORM
        session to set up, flush and tear down); committed at the end, rolled back on any error.

        Nested in ``write`` or ``transaction`` it joins the outer transaction.
        """
        outer = self._current.get()
        if outer is not None:
            yield outer if isinstance(outer, Connection) else outer.connection()
            return
        with self._begin() as conn:
            token = self._current.set(conn)
            try:
                yield conn
            finally:
                self._current.reset(token)

    @contextmanager
    def _begin(self) -> Iterator[Connection]:
        if isinstance(self.bind, Connection):
            # A test's connection: a savepoint inside the test's transaction, which the test rolls back.
            with self.bind.begin_nested():
                yield self.bind
            return
        with self.bind.connect() as conn:
            if self.is_sqlite:
                conn.execution_options(sqlite_immediate=True)  # see _install_sqlite_hooks
            with conn.begin():
                yield conn

    @contextmanager
    def reading_together(self) -> Iterator[None]:
        """Let every ``read`` inside share one read-only transaction (a page that reads a dozen times
        then needs one BEGIN and one ROLLBACK, not a dozen). Writes inside still open their own."""
        if self._shared_read.get() is not None or self._current.get() is not None:
            yield
            return
        with self.read() as session:
            token = self._shared_read.set(session)
            try:
                yield
            finally:
                self._shared_read.reset(token)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """One read-only transaction (inside a write, the writing one; inside ``reading_together``, the
        shared one)."""
        outer = self._current.get()
        if isinstance(outer, Session):
            yield outer
            return
        shared = self._shared_read.get()
        if shared is not None and outer is None:
            yield shared
            return
        with self._session(outer) as session:
            try:
                yield session
            finally:
                # Detach first: a rollback would expire what the caller takes out of the block.
                session.expunge_all()
                session.rollback()
