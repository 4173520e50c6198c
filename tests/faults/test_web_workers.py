"""``web serve --workers 2``: two processes answer on one port, and what one writes the other shows at once.

The read cache is per process; it is keyed by the data version read from the database, so a submission
answered by one worker – or written by another process altogether – must change the counts every worker
answers with, on the very next request.
"""

from __future__ import annotations

import re
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from partnerprojekte.config import Settings
from partnerprojekte.db.engine import Database
from partnerprojekte.formats import proposal_from_document
from partnerprojekte.services import Services
from partnerprojekte.web.auth.security import create_api_token
from tests.faults.conftest import CLI, ROOT, process_env
from tests.helpers import proposal_doc
from tests.people import STAB
from tests.smtp_server import free_port

ROUNDS = 12


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_two_workers_answer_and_each_shows_the_other_ones_writes_at_once(
    committed: tuple[str, Engine], tmp_path: Path
) -> None:
    url, engine = committed
    services = Services(Database(engine), Settings())
    token = create_api_token(services.db, STAB, "Zwei Prozesse")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "web.log"
    with log_path.open("w") as log:
        web = subprocess.Popen(
            [CLI, "web", "serve", "--port", str(port), "--workers", "2"],
            env=process_env(url),
            cwd=ROOT,
            stdout=log,
            stderr=log,
        )
    try:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30) as c:
            deadline = time.monotonic() + 60
            while len(set(re.findall(r"Started server process \[(\d+)\]", log_path.read_text()))) < 2:
                assert web.poll() is None and time.monotonic() < deadline, log_path.read_text()[-2000:]
                time.sleep(0.2)
            while True:
                try:
                    if c.get("/api/v1/proposals").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, log_path.read_text()[-2000:]
                time.sleep(0.2)
            for n in range(1, ROUNDS + 1):
                if n % 2:
                    # A new connection per request: the kernel hands each to one of the two workers.
                    created = httpx.post(
                        f"{base}/api/v1/proposals",
                        json=proposal_doc(title=f"Runde {n}"),
                        headers={"Authorization": f"Bearer {token}"},
                        timeout=30,
                    )
                    assert created.status_code == 201, created.text
                else:
                    # Written by a third process (this one, as the command line would): no worker saw it,
                    # so only the data version in the database can tell them.
                    services.submit(proposal_from_document(proposal_doc(title=f"Runde {n}")), STAB)
                for _ in range(4):
                    listed = httpx.get(
                        f"{base}/api/v1/proposals",
                        headers={"Authorization": f"Bearer {token}"},
                        timeout=30,
                    )
                    assert listed.status_code == 200 and listed.json()["total"] == n, listed.text
                    report = httpx.get(
                        f"{base}/api/v1/report", headers={"Authorization": f"Bearer {token}"}, timeout=30
                    )
                    assert report.json()["total"] == n, report.text
    finally:
        web.send_signal(signal.SIGTERM)
        code = web.wait(timeout=30)
    workers = set(re.findall(r"Started server process \[(\d+)\]", log_path.read_text()))
    assert len(workers) == 2, log_path.read_text()[-2000:]
    assert code == 0, log_path.read_text()[-2000:]
