"""The database goes away under load: connections terminated, then the whole server down for 20 s.

A PostgreSQL cluster of the test's own (another port) serves a real web process (``web serve``) under
read and write load and a long-lived process running the real ``deliver-notifications`` flow. Meanwhile
every request is answered – 503 with a German message while the database is away, never another 5xx –,
both processes recover without a restart, every acknowledged write is stored and every mail arrives.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from partnerprojekte.config import Settings
from partnerprojekte.db.engine import Database, make_engine
from partnerprojekte.db.migrate import upgrade
from partnerprojekte.db.schema import CommentRow
from partnerprojekte.formats import proposal_from_document
from partnerprojekte.mailing.delivery import queue_samples
from partnerprojekte.services import Services
from partnerprojekte.web.auth.security import create_api_token
from tests.faults.conftest import CLI, ROOT
from tests.faults.pg_cluster import OwnCluster
from tests.faults.test_smtp_chaos import expected_ids, open_rows, received_ids, sender_env
from tests.helpers import proposal_doc
from tests.people import PARTNER, STAB, add_people
from tests.smtp_server import SmtpSink, free_port

CLIENTS = 8
TERMINATIONS = 5
OUTAGE_SECONDS = 20.0
MESSAGES, BATCH = 300, 25


@dataclass(frozen=True)
class Answer:
    """One request of the load: when, what, and how it was answered."""

    started: float
    ended: float
    write: bool
    status: int  # 0: no HTTP answer at all
    kind: str | None = None
    retry_after: str | None = None
    text: str | None = None  # the comment a 201 acknowledged


class Load:
    """Clients that each read a proposal of their own and write comments on it until told to stop."""

    def __init__(self, base: str, token: str, proposals: list[str]) -> None:
        # One proposal per client: two comments on one proposal at once may meet as 409, which is
        # right but not what this test is about.
        self.base, self.proposals = base, proposals
        self.headers = {"Authorization": f"Bearer {token}"}
        self.answers: list[Answer] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._client, args=(n,), daemon=True) for n in range(CLIENTS)
        ]

    def _client(self, n: int) -> None:
        with httpx.Client(base_url=self.base, headers=self.headers, timeout=15) as client:
            i = 0
            while not self._stop.is_set():
                i += 1
                write = i % 3 == 0
                text = f"Lastkommentar {n}-{i}"
                started = time.monotonic()
                try:
                    if write:
                        r = client.post(
                            f"/api/v1/proposals/{self.proposals[n]}/comments",
                            json={"text": text, "visibility": "intern"},
                        )
                    else:
                        r = client.get(f"/api/v1/proposals/{self.proposals[n]}")
                except httpx.HTTPError:
                    answer = Answer(started, time.monotonic(), write, 0)
                else:
                    kind = r.json().get("error", {}).get("kind") if r.status_code >= 400 else None
                    answer = Answer(
                        started,
                        time.monotonic(),
                        write,
                        r.status_code,
                        kind,
                        r.headers.get("Retry-After"),
                        text if r.status_code == 201 else None,
                    )
                with self._lock:
                    self.answers.append(answer)
                time.sleep(0.05)

    def start(self) -> Load:
        """Start the clients."""
        for t in self._threads:
            t.start()
        return self

    def stop(self) -> None:
        """Stop the clients and wait for them."""
        self._stop.set()
        for t in self._threads:
            t.join(timeout=30)

    def between(self, start: float, end: float) -> list[Answer]:
        """The answers to requests that started and ended inside a window."""
        with self._lock:
            return [a for a in self.answers if a.started >= start and a.ended <= end]


def wait_until_up(base: str, token: str, seconds: float) -> None:
    """Wait for the web process to answer."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if (
                httpx.get(f"{base}/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code
                == 200
            ):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("die Web-Anwendung ist nicht gestartet")


def flow_runs(path: Path) -> list[dict[str, Any]]:
    """The flow loop's runs so far, one JSON line each (a line being written is left for later)."""
    lines = path.read_text(encoding="utf-8").split("\n")[:-1]
    return [json.loads(line) for line in lines]


def stop_process(process: subprocess.Popen[bytes], seconds: float) -> str | None:
    """SIGTERM, and if it has not ended after ``seconds``, SIGKILL to its whole session; what went wrong.

    Returns instead of raising, so that a teardown stops every process even when the first one hangs.
    """
    if process.poll() is None:
        process.terminate()
    failure = None
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        failure = f"{process.args} endete nicht binnen {seconds:.0f} s nach SIGTERM"
    # Its children (the flow loop's temporary Prefect server) end with it; whatever stayed goes now.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    return failure


@pytest.fixture
def cluster() -> OwnCluster:
    """A running cluster of this test's own."""
    try:
        own = OwnCluster().init()
    except RuntimeError as exc:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"kein eigener PostgreSQL-Cluster möglich: {exc}")
    own.start()
    yield own  # type: ignore[misc]
    own.destroy()


@pytest.fixture
def smtp() -> SmtpSink:
    """A mail server that takes its time a little (so the outage meets messages in flight)."""
    server = SmtpSink().start()
    server.slow(0.15, 1)
    yield server  # type: ignore[misc]
    server.stop()


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.timeout(600)
def test_terminated_connections_and_a_20_s_outage_give_503_meanwhile_and_lose_nothing(
    cluster: OwnCluster,
    smtp: SmtpSink,
    tmp_path: Path,
    record_property: pytest.RecordProperty,
    request: pytest.FixtureRequest,
) -> None:
    url = cluster.create_database("faults")
    engine = make_engine(url)
    upgrade(engine)
    services = Services(Database(engine), Settings())
    services.load_reference_data()
    add_people(services)
    proposals = [
        services.submit(proposal_from_document(proposal_doc()), PARTNER).to_json()["id"]
        for _ in range(CLIENTS)
    ]
    token = create_api_token(Database(engine), STAB, "Last")
    assert queue_samples(Database(engine), MESSAGES) == MESSAGES
    engine.dispose()  # the test's own pool holds nothing while the server is away

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = sender_env(
        url,
        smtp,
        PARTNERPROJEKTE_MAIL__BATCH_SIZE=str(BATCH),
        PARTNERPROJEKTE_MAIL__SENDING_TIMEOUT_SECONDS="5",
        PREFECT_HOME=str(tmp_path / "prefect"),
        PREFECT_LOGGING_LEVEL="INFO",
    )
    log = (tmp_path / "web.log").open("w")
    flow_log = (tmp_path / "flows.log").open("w")
    check = make_engine(url)
    # Also on failure: an engine left open is collected later, in another test, as a ResourceWarning.
    request.addfinalizer(check.dispose)
    # Each in a session of its own, so that a process that does not stop is killed with what it started
    # (the flow loop's temporary Prefect server). The flow loop's lines go to a file, not a pipe: a pipe
    # a surviving child still holds never ends, and closing it under a reading thread blocks for ever.
    web = subprocess.Popen(
        [CLI, "web", "serve", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    runs_file = tmp_path / "runs.jsonl"
    runs_out = runs_file.open("w")
    flows = subprocess.Popen(
        [sys.executable, "-m", "tests.faults.flow_loop", "0.5"],
        env=env,
        cwd=ROOT,
        stdout=runs_out,
        stderr=flow_log,
        start_new_session=True,
    )
    try:
        wait_until_up(base, token, 60)
        started = time.monotonic()
        while not smtp.messages and time.monotonic() - started < 90:  # Prefect's first start takes a while
            time.sleep(0.2)
        assert smtp.messages, "the flow sent nothing"
        load = Load(base, token, proposals).start()
        time.sleep(3)
        cut = time.monotonic()
        terminated = 0
        for _ in range(TERMINATIONS):
            terminated += cluster.terminate_backends("faults")
            time.sleep(1)
        time.sleep(2)
        down = time.monotonic()
        mailed_before = len(smtp.messages)
        cluster.stop("immediate")  # a crash: no goodbye to the clients
        time.sleep(OUTAGE_SECONDS)
        up_again = time.monotonic()
        cluster.start()
        up = time.monotonic()
        recovered = None
        while recovered is None and time.monotonic() - up < 60:
            time.sleep(0.2)
            after = [a for a in load.between(up, time.monotonic()) if a.status in (200, 201)]
            recovered = after[0].ended - up if after else None
        time.sleep(5)
        load.stop()
        end = time.monotonic()
        assert web.poll() is None and flows.poll() is None, "a process died"

        # Mail: the flow loop goes on by itself until every message is out.
        deadline = time.monotonic() + 180
        while open_rows(Database(check)) and time.monotonic() < deadline:
            time.sleep(1)
        assert open_rows(Database(check)) == 0, "messages left behind"
        while not any(r["ok"] and r["at"] > up for r in flow_runs(runs_file)) and time.monotonic() < deadline:
            time.sleep(0.5)
    finally:
        failures = [f for f in (stop_process(flows, 60), stop_process(web, 30)) if f]
        for file in (runs_out, log, flow_log):
            file.close()
        assert not failures, failures

    answers = load.answers
    by_status = Counter(a.status for a in answers)
    assert set(by_status) <= {200, 201, 503}, by_status  # never a 500, never a hang (0)
    for a in answers:
        if a.status == 503:
            assert a.kind == "unavailable" and a.retry_after == "30", a
    cut_off = Counter(a.status for a in load.between(cut, down))
    # While the server is away, every request gets its 503 (a moment of grace for the crash itself).
    outage = load.between(down + 1, up_again)
    assert outage and all(a.status == 503 for a in outage), Counter(a.status for a in outage)
    assert recovered is not None and recovered < 15, recovered
    tail = load.between(end - 4, end)
    assert tail and all(a.status in (200, 201) for a in tail), Counter(a.status for a in tail)

    # Every acknowledged write is stored; one answered 503 may or may not be (the commit's answer was lost).
    acknowledged = {a.text for a in answers if a.text}
    with Database(check).read() as s:
        stored = set(s.scalars(select(CommentRow.text).where(CommentRow.text.like("Lastkommentar %"))))
        comments = s.scalar(select(func.count()).select_from(CommentRow)) or 0
    assert acknowledged <= stored, sorted(acknowledged - stored)[:5]
    unanswered_writes = sum(1 for a in answers if a.write and a.status == 503)
    assert len(stored - acknowledged) <= unanswered_writes

    rows = expected_ids(Database(check))
    seen = received_ids(smtp)
    assert set(seen) == set(rows), "a message was lost"
    assert all(r.status == "sent" for r in rows.values())
    duplicates = sum(n - 1 for n in seen.values())
    disruptions = TERMINATIONS + 1
    assert duplicates <= disruptions * BATCH, duplicates

    # The outage met mail in flight; the flow's task retries or its next run took it up, in the same process.
    assert 0 < mailed_before < MESSAGES, mailed_before
    runs = flow_runs(runs_file)
    failed = [r for r in runs if not r["ok"]]
    retries = (tmp_path / "flows.log").read_text(encoding="utf-8").count(" will start ")
    assert failed or retries, "the flow never noticed the outage"
    assert runs[-1]["ok"], runs[-3:]
    verify = subprocess.run([CLI, "verify"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert verify.returncode == 0, verify.stdout + verify.stderr

    figures = (
        f"{len(answers)} Anfragen von {CLIENTS} Clients ({by_status[200]}×200, {by_status[201]}×201, "
        f"{by_status[503]}×503, 0 andere); {terminated} Verbindungen beendet in {TERMINATIONS} Runden "
        f"(dabei {cut_off[503]} × 503 von {cut_off.total()}); "
        f"{OUTAGE_SECONDS:.0f} s Ausfall: {len(outage)} Anfragen alle 503, wieder 2xx "
        f"{recovered:.1f} s nach dem Neustart; {len(acknowledged)} bestätigte Kommentare alle gespeichert "
        f"({len(stored - acknowledged)} mit 503 beantwortete doch gespeichert); {MESSAGES} Mails zugestellt "
        f"({mailed_before} vor dem Ausfall), "
        f"{duplicates} doppelt (Grenze {disruptions} × {BATCH}); Ablauf {len(runs)} Läufe, {len(failed)} "
        f"fehlgeschlagen, {retries} Wiederholungen von Aufgaben, ohne Neustart erholt; {comments} Kommentare"
    )
    record_property("figures", figures)
    print(figures)
