"""The dependency rule holds and the migrations create exactly the schema of the models."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from partnerprojekte.db.engine import make_engine
from partnerprojekte.db.migrate import upgrade
from partnerprojekte.db.schema import Base
from tests.conftest import create_postgres_database

ROOT = Path(__file__).resolve().parents[2]


def test_import_contracts_are_kept() -> None:
    lint = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_migrations_match_the_models(tmp_path: Path, backend: str) -> None:
    drop = None
    if backend == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'schema.db'}")
    else:
        url, drop = create_postgres_database()
        engine = make_engine(url)
    try:
        upgrade(engine)
        upgrade(engine)  # idempotent
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        # An index declared for one dialect only (``ddl_if``) is not expected on the other.
        diff = [d for d in diff if not (d[0] == "add_index" and _other_dialect(d[1], engine.dialect.name))]
        assert diff == []
    finally:
        engine.dispose()
        if drop:
            drop()


def _other_dialect(index: Any, dialect: str) -> bool:
    declared = {i.name: i for table in Base.metadata.tables.values() for i in table.indexes}
    only = getattr(declared.get(index.name), "_ddl_if", None)
    return only is not None and only.dialect is not None and only.dialect != dialect
