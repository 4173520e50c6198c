"""Fixtures for driving the real console script ``partnerprojekte`` in subprocesses.

Every call runs the installed entry point (not ``python -m``) with its own data directory, so what the
tests see is what a person at a terminal sees: exit code, stdout, stderr.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

EXE = Path(sys.executable).parent / "partnerprojekte"

STAB = "a.stab@stk.nrw.example"
STAB2 = "b.berater@stk.nrw.example"
MWIDE = "c.ostermann@mwide.nrw.example"
VM = "v.verkehr@vm.nrw.example"
PARTNER = "kontakt@bio-security.example.de"
ADMIN = "admin@it.nrw.example"
ADMIN2 = "admin2@it.nrw.example"

# The people of the shared template database: (email, name, role, extra options). The first
# administrator is created without --as (bootstrap); she creates a second one. The Arbeitsstab is
# created by the first, the Ressorts by the second: an approval of each may count together.
PEOPLE: list[tuple[str, str, str, list[str]]] = [
    (ADMIN, "Ada Admin", "admin", []),
    (ADMIN2, "Zoe Zweitadmin", "admin", []),  # the first two administrators need no --as
    (STAB, "Anna Stab", "arbeitsstab", ["--as", ADMIN]),
    (STAB2, "Bernd Berater", "arbeitsstab", ["--as", ADMIN]),
    (MWIDE, "Carla Ostermann", "ressort", ["--ressort", "MWIDE", "--as", ADMIN2]),
    (VM, "Volker Verkehr", "ressort", ["--ressort", "VM", "--as", ADMIN2]),
    (
        PARTNER,
        "Kai Kontakt",
        "partner",
        ["--organisation", "Kompetenzzentrum Bio-Security GmbH", "--as", ADMIN],
    ),
]


@dataclass(frozen=True)
class Result:
    """What one run of the console script produced."""

    args: tuple[str, ...]
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        """stdout and stderr together (for messages whose stream does not matter)."""
        return self.out + self.err

    def json(self) -> Any:
        """stdout parsed as JSON."""
        return json.loads(self.out)

    def __str__(self) -> str:
        command = " ".join(self.args)
        return f"partnerprojekte {command} -> exit {self.code}\n--- stdout\n{self.out}--- stderr\n{self.err}"


class Cli:
    """Runs ``partnerprojekte`` against one data directory (or database URL) and checks the basics."""

    def __init__(self, data_dir: Path, env: dict[str, str], workdir: Path) -> None:
        self.data_dir = data_dir
        self.env = dict(env, PARTNERPROJEKTE_DATA_DIR=str(data_dir))
        self.workdir = workdir

    @property
    def db_file(self) -> Path:
        """The SQLite database of this data directory."""
        return self.data_dir / "partnerprojekte.db"

    def __call__(self, *args: str | Path, expect: int | None = 0, stdin: bytes | None = None) -> Result:
        """Run the command; ``expect`` is the exit code it must end with (None: don't check)."""
        argv = tuple(str(a) for a in args)
        proc = subprocess.run(
            [str(EXE), *argv],
            input=stdin,
            capture_output=True,
            env=self.env,
            cwd=self.workdir,
            timeout=120,
            check=False,
        )
        result = Result(argv, proc.returncode, proc.stdout.decode("utf-8"), proc.stderr.decode("utf-8"))
        # No traceback ever reaches a user (spec §8), whatever the command and its outcome.
        assert "Traceback" not in result.text, str(result)
        if expect is not None:
            assert result.code == expect, str(result)
        return result

    def write(self, name: str, content: dict[str, Any] | list[Any] | str | bytes) -> Path:
        """Write a file for the command line: a document as YAML (``.yaml``) or JSON (``.json``)."""
        path = self.workdir / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        elif isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        elif name.endswith(".json"):
            path.write_text(json.dumps(content, ensure_ascii=False, indent=2), encoding="utf-8")
        else:
            path.write_text(yaml.safe_dump(content, allow_unicode=True, sort_keys=False), encoding="utf-8")
        return path


@pytest.fixture(scope="session")
def cli_env(pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of every run: ours without PARTNERPROJEKTE_* settings, with a bytecode cache.

    The bytecode goes to a private directory (``PYTHONPYCACHEPREFIX``, kept in pytest's cache between
    sessions), never next to the sources; without it every subprocess would compile SQLAlchemy and
    pydantic afresh (more than a second each).
    """
    cache = getattr(pytestconfig, "cache", None)
    pycache = cache.mkdir("cli-pycache") if cache is not None else tmp_path_factory.mktemp("pycache")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARTNERPROJEKTE_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    env["DO_NOT_TRACK"] = "1"
    env["PYTHONIOENCODING"] = "utf-8"
    return env


@pytest.fixture
def empty_cli(tmp_path: Path, cli_env: dict[str, str]) -> Cli:
    """A data directory that does not exist yet: nothing initialised."""
    work = tmp_path / "work"
    work.mkdir()
    return Cli(tmp_path / "data", cli_env, work)


@pytest.fixture(scope="session")
def template_dir(tmp_path_factory: pytest.TempPathFactory, cli_env: dict[str, str]) -> Path:
    """One database set up as a person would: ``init`` and ``users add`` for every role."""
    base = tmp_path_factory.mktemp("template")
    cli = Cli(base / "data", cli_env, base)
    cli("init")
    for email, name, role, extra in PEOPLE:
        cli("users", "add", email, "--name", name, "--role", role, *extra)
    return base / "data"


@pytest.fixture
def cli(tmp_path: Path, cli_env: dict[str, str], template_dir: Path) -> Cli:
    """A private copy of the initialised template database with its people."""
    data = tmp_path / "data"
    shutil.copytree(template_dir, data)
    work = tmp_path / "work"
    work.mkdir()
    return Cli(data, cli_env, work)


@pytest.fixture
def pg_cli(tmp_path: Path, cli_env: dict[str, str]) -> Iterator[tuple[Cli, str]]:
    """The console script on a fresh PostgreSQL database (created here, dropped afterwards)."""
    from tests.conftest import create_postgres_database

    url, drop = create_postgres_database()
    work = tmp_path / "work"
    work.mkdir()
    cli = Cli(tmp_path / "data", dict(cli_env, PARTNERPROJEKTE_DATABASE_URL=url), work)
    try:
        yield cli, url
    finally:
        drop()
