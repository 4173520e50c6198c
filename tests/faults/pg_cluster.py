"""A PostgreSQL cluster of the test's own, on another port: it may be stopped, killed and started again."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg

from tests.smtp_server import free_port


def _binaries() -> Path | None:
    """The newest installed server's bin folder (Debian: /usr/lib/postgresql/N/bin)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class OwnCluster:
    """``initdb`` in a folder of the test, ``pg_ctl`` to start and stop it; listens on 127.0.0.1 only."""

    def __init__(self) -> None:
        bin_dir = _binaries()
        if bin_dir is None:
            raise RuntimeError("Kein PostgreSQL-Server installiert (initdb fehlt)")
        self.bin = bin_dir
        # Not under pytest's tmp_path: as root that is a folder (0700) the postgres user cannot enter.
        self.folder = Path(tempfile.mkdtemp(prefix="pp-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        # The server refuses to run as root: as root, the cluster belongs to the postgres user.
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def _run(self, *args: str) -> None:
        done = subprocess.run([*self._as, *args], capture_output=True, text=True, timeout=120)
        if done.returncode:
            raise RuntimeError(f"{Path(args[0]).name} {args[1:]}: {done.stdout}{done.stderr}")

    def init(self) -> OwnCluster:
        """Create the cluster (trust authentication: it only listens on loopback and its own socket)."""
        if self._as:
            shutil.chown(self.folder, "postgres", "postgres")
        self._run(
            str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8"
        )
        return self

    def start(self) -> None:
        """Start and wait until it accepts connections."""
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.folder / "log"),
            "-w",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        """Stop it (``immediate`` is a crash: no checkpoint, clients cut off)."""
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def url(self, database: str = "postgres") -> str:
        """The URL of one of its databases."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """A new database in the cluster; its URL."""
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def terminate_backends(self, database: str) -> int:
        """End every connection to a database (what an administrator or a failover does); how many."""
        with psycopg.connect(self.url(), autocommit=True) as conn:
            row = conn.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (database,),
            ).fetchone()
        return int(row[0]) if row else 0

    def destroy(self) -> None:
        """Stop it if it runs and remove its files."""
        with contextlib.suppress(RuntimeError):  # it was not running
            self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)
