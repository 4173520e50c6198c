"""Shared pieces of the fault tests: a committed database of the test's own, the CLI's environment."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from partnerprojekte.config import Settings
from partnerprojekte.db.engine import Database, make_engine
from partnerprojekte.db.migrate import upgrade
from partnerprojekte.services import Services
from tests.conftest import create_postgres_database
from tests.people import add_people

ROOT = Path(__file__).resolve().parents[2]
# The installed command, next to this interpreter (the package has no __main__).
CLI = str(Path(sys.executable).with_name("partnerprojekte"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def committed(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    """A migrated database with the usual people that other processes can reach: (URL, engine)."""
    drop: Callable[[], None] | None = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'faults.db'}"
    else:
        url, drop = create_postgres_database()
    engine = make_engine(url)
    upgrade(engine)
    services = Services(Database(engine), Settings())
    services.load_reference_data()
    add_people(services)
    yield url, engine
    engine.dispose()
    if drop:
        drop()


def process_env(url: str, **extra: str) -> dict[str, str]:
    """The environment of a product process: this database, no telemetry, no settings of ours."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARTNERPROJEKTE_")}
    env.update(
        PARTNERPROJEKTE_DATABASE_URL=url,
        DO_NOT_TRACK="1",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PYTHONIOENCODING="utf-8",
        PYTHONPATH=str(ROOT),
        **extra,
    )
    return env
