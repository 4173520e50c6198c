"""Migrations on a database that holds data: a9d1c0000007 drops the old title search and gives it back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, inspect, text

from partnerprojekte.config import Settings
from partnerprojekte.db.engine import Database
from partnerprojekte.db.migrate import alembic_config
from partnerprojekte.formats import proposal_from_document
from partnerprojekte.reading import listing
from partnerprojekte.reading.listing import ListQuery
from partnerprojekte.services import Services
from tests.conftest import own_database
from tests.helpers import proposal_doc
from tests.people import PARTNER, add_people


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated database of its own."""
    with own_database(request.param, tmp_path) as (_, found):
        yield found


def migrate(engine: Engine, direction: str, revision: str) -> None:
    """``alembic upgrade|downgrade revision`` on the engine."""
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, direction)(cfg, revision)


def columns(engine: Engine) -> set[str]:
    """The columns of ``proposals``."""
    return {c["name"] for c in inspect(engine).get_columns("proposals")}


def test_the_title_search_column_goes_and_comes_back_filled(engine: Engine) -> None:
    services = Services(Database(engine), Settings())
    add_people(services)
    pid = services.submit(
        proposal_from_document(proposal_doc(title="Wärmenetz ÖSTLICH")), PARTNER
    ).proposal_id
    assert "title_text" not in columns(engine)

    migrate(engine, "downgrade", "a9d1c0000006")
    assert "title_text" in columns(engine)
    with engine.connect() as conn:
        title_text = conn.scalar(text("SELECT title_text FROM proposals WHERE id = :id"), {"id": pid})
    assert title_text is not None and title_text.startswith("wärmenetz östlich ")

    migrate(engine, "upgrade", "head")
    assert "title_text" not in columns(engine)
    found, total = listing.page(Database(engine), ListQuery.search("östlich"), None)
    assert [r["id"] for r in found] == [f"PP-{pid:04d}"] and total == 1
