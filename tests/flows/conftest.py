"""Fixtures for the flow tests: one Prefect test server for the whole session, a real product per test.

Prefect reads its settings from the environment when it is first imported, so telemetry is switched off
and Prefect's home (profiles, local storage) moved to a throwaway folder here, before any test module of
this folder is collected; the test modules import Prefect inside fixtures and tests only.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine

from partnerprojekte.config import Settings, get_settings
from partnerprojekte.db.engine import Database, make_engine
from partnerprojekte.db.migrate import upgrade
from partnerprojekte.services import Services
from tests.conftest import Clock

_PREFECT_HOME = tempfile.mkdtemp(prefix="pp-prefect-home-")
atexit.register(shutil.rmtree, _PREFECT_HOME, True)
os.environ.update(
    {"DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_HOME": _PREFECT_HOME}
)


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[None]:
    """Prefect's test harness (a temporary API server with SQLite), started once for the session."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    # Without heartbeats a synchronous flow run does not wait about a second for the heartbeat thread.
    with (
        prefect_test_harness(server_startup_timeout=60),
        temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}),
    ):
        yield


@dataclass
class Product:
    """The product as a flow sees it: settings from the environment, a migrated SQLite database."""

    settings: Settings
    engine: Engine
    clock: Clock

    @property
    def db(self) -> Database:
        """The database with the test's movable clock (for the history the flows work on)."""
        return Database(self.engine, clock=self.clock)

    @property
    def services(self) -> Services:
        """The use cases, to create real outbox rows."""
        return Services(self.db, self.settings)

    @property
    def mail_dir(self) -> Path:
        """Where the file transport writes ``.eml`` files."""
        return self.settings.resolved_outbox_dir()

    def eml_files(self) -> list[Path]:
        """The e-mails written so far."""
        return sorted(self.mail_dir.glob("**/*.eml")) if self.mail_dir.exists() else []


@pytest.fixture
def product(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: Clock) -> Iterator[Product]:
    """A migrated database in a fresh data directory that ``get_settings()`` (and so every flow) uses."""
    for name in list(os.environ):
        if name.startswith("PARTNERPROJEKTE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PARTNERPROJEKTE_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    settings = get_settings()
    engine = make_engine(settings.resolved_database_url())
    upgrade(engine)
    Services(Database(engine), settings).load_reference_data()
    try:
        yield Product(settings, engine, clock)
    finally:
        engine.dispose()
        get_settings.cache_clear()
