"""``partnerprojekte run`` for real: a Prefect server on 127.0.0.1, the deployments live, a clean stop."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from partnerprojekte.config import Settings
from partnerprojekte.db.engine import Database, make_engine
from partnerprojekte.db.migrate import upgrade
from partnerprojekte.formats import proposal_from_document
from partnerprojekte.model import Role
from partnerprojekte.runner import run_deployment_once
from partnerprojekte.services import Services
from tests.helpers import proposal_doc
from tests.smtp_server import free_port

EXE = Path(sys.executable).parent / "partnerprojekte"
NAMES = ["deliver-notifications", "send-reminders", "weekly-digest"]
SCHEDULES = {
    "deliver-notifications": "* * * * *",
    "send-reminders": "30 7 * * *",
    "weekly-digest": "0 7 * * 1",
}


class Output:
    """The lines a child process prints, collected by a thread so the test can wait for one of them."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self._proc = proc
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in line for line in self.lines):
                return
            if self._proc.poll() is not None:
                self._thread.join(2)
                break
            time.sleep(0.1)
        pytest.fail(f"„{text}“ did not appear:\n" + "\n".join(self.lines))

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def close(self) -> None:
        """Read to the end and close the pipe (the child has ended)."""
        self._thread.join(10)
        assert self._proc.stdout is not None
        # A reader still waiting means a grandchild outlived the run and holds the pipe: closing it now
        # would wait for the reader's lock for ever. The test's own check names those processes.
        if not self._thread.is_alive():
            self._proc.stdout.close()


def processes_using(marker: str) -> list[int]:
    """Processes whose environment mentions the marker (the test's data directory): children of the run."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if marker.encode() in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def prepare_database(data: Path) -> None:
    """A database as after a first submission: three notifications wait in the outbox."""
    settings = Settings(data_dir=data)
    engine = make_engine(settings.resolved_database_url())
    try:
        upgrade(engine)
        svc = Services(Database(engine), settings)
        svc.load_reference_data()
        svc.add_user("a.stab@stk.nrw.example", "Anna Stab", Role.ARBEITSSTAB)
        svc.add_user("b.stab@stk.nrw.example", "Bernd Stab", Role.ARBEITSSTAB)
        svc.add_user(
            "kontakt@bio-security.example.de",
            "Kai Kontakt",
            Role.PARTNER,
            organisation="Kompetenzzentrum Bio-Security GmbH",
        )
        svc.submit(proposal_from_document(proposal_doc()), "kontakt@bio-security.example.de")
    finally:
        engine.dispose()


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_run_serves_the_deployments_on_a_local_prefect_server_and_stops_cleanly(tmp_path: Path) -> None:
    data = tmp_path / "daten"
    prepare_database(data)
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PARTNERPROJEKTE_", "PREFECT_"))}
    env.update(
        PARTNERPROJEKTE_DATA_DIR=str(data),
        PARTNERPROJEKTE_SERVE__PREFECT_PORT=str(port),
        PARTNERPROJEKTE_SERVE__WEB_PORT=str(free_port()),
        DO_NOT_TRACK="1",
        PYTHONUNBUFFERED="1",
    )
    proc = subprocess.Popen(
        [str(EXE), "run", "--no-demo"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    out = Output(proc)
    try:
        out.wait_for("Beenden mit Strg+C.", timeout=150)
        assert f"Prefect-UI:  http://127.0.0.1:{port}" in out.text
        assert f"E-Mails:     {data / 'mail'}" in out.text

        with httpx.Client(base_url=api, timeout=10, trust_env=False) as client:
            assert client.get("/health").json() is True
            found = client.post("/deployments/filter", json={"deployments": {"name": {"any_": NAMES}}}).json()
            assert sorted(d["name"] for d in found) == NAMES
            for d in found:
                assert [(s["schedule"]["cron"], s["schedule"]["timezone"]) for s in d["schedules"]] == [
                    (SCHEDULES[d["name"]], "Europe/Berlin")
                ]
                assert d["paused"] is False

            # The schedules are live: the server's scheduler has planned runs of the every-minute job.
            deliver_id = next(d["id"] for d in found if d["name"] == "deliver-notifications")
            deadline = time.monotonic() + 60
            planned: list[object] = []
            while time.monotonic() < deadline and not planned:
                planned = client.post(
                    "/flow_runs/filter",
                    json={"deployments": {"id": {"any_": [deliver_id]}}, "limit": 5},
                ).json()
                time.sleep(1)
            assert planned, "the Prefect scheduler planned no runs (see daten/logs/prefect-server.log)"

        # One run through the server and the served process, as the scheduler starts it every minute.
        outcome = run_deployment_once(api)

        assert outcome.ok, outcome
        assert str(outcome).startswith("erfolgreich beendet – Zustellung:"), outcome
        # A scheduled run may have taken some of the rows first; together they send all three.
        deadline = time.monotonic() + 60
        while len(list((data / "mail").glob("*.eml"))) < 3 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert len(list((data / "mail").glob("*.eml"))) == 3
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise
        finally:
            out.close()

    assert proc.returncode == 0, out.text
    assert out.text.rstrip().endswith("Beendet.")
    deadline = time.monotonic() + 10
    while processes_using(str(data)) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = processes_using(str(data))
    for pid in left:  # not for the rest of the suite to meet
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    assert left == [], "child processes outlived partnerprojekte run"
