"""32 processes fire conflicting events on one proposal, 20 rounds: exactly one wins each time, the
others exit 3 (refused: the state moved on) or 4 (conflict: lost the race), nothing is lost or doubled."""

from __future__ import annotations

import collections
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from partnerprojekte.config import Settings
from partnerprojekte.db.engine import Database
from partnerprojekte.db.schema import AuditRow, OutboxRow, ProposalRow
from partnerprojekte.formats import proposal_from_document
from partnerprojekte.reading.queries import verify
from partnerprojekte.services import Services
from tests.faults.conftest import ROOT, process_env
from tests.helpers import proposal_doc
from tests.people import PARTNER, STAB, STAB2

PROCESSES = 32
ROUNDS = 20
# From ``eingereicht`` both events are possible, and after either one neither is any more.
DECLINE = ["transition", "{pid}", "decline", "--reason", "doppelung", "--comment", "Doppelung."]
WITHDRAW = ["transition", "{pid}", "withdraw"]
TARGET = {"decline": "nicht_weiterverfolgt", "withdraw": "zurueckgezogen"}


def _template(n: int) -> tuple[str, list[str]]:
    """Half decline (two Arbeitsstab members), half withdraw (partner and Arbeitsstab)."""
    if n % 2 == 0:
        return "decline", [*DECLINE, "--as", (STAB, STAB2)[n % 4 // 2]]
    return "withdraw", [*WITHDRAW, "--as", (PARTNER, STAB)[n % 4 // 2]]


def _wait(paths: list[Path], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not all(p.exists() for p in paths):
        assert time.monotonic() < deadline, f"{sum(not p.exists() for p in paths)} Prozesse antworten nicht"
        time.sleep(0.01)


@pytest.mark.slow
@pytest.mark.timeout(420)
def test_exactly_one_of_32_processes_wins_each_of_20_rounds(
    committed: tuple[str, Engine], tmp_path: Path, record_property: pytest.RecordProperty
) -> None:
    url, engine = committed
    db = Database(engine)
    services = Services(db, Settings())
    signals = tmp_path / "signals"
    signals.mkdir()
    kinds = [_template(n) for n in range(PROCESSES)]
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.faults.worker_cli", str(signals), str(ROUNDS), f"w{n}", *args],
            env=process_env(url),
            cwd=ROOT,
        )
        for n, (_, args) in enumerate(kinds)
    ]
    exits: collections.Counter[int] = collections.Counter()
    winners: collections.Counter[str] = collections.Counter()
    durations: list[float] = []
    try:
        _wait([signals / f"ready-w{n}" for n in range(PROCESSES)], 240)
        for r in range(ROUNDS):
            pid = services.submit(proposal_from_document(proposal_doc()), PARTNER).proposal_id
            with db.read() as s:
                before = s.scalar(
                    select(func.count()).select_from(OutboxRow).where(OutboxRow.proposal_id == pid)
                )
            started = time.monotonic()
            (signals / "go.tmp").write_text(str(pid))
            (signals / "go.tmp").rename(signals / f"go-{r}")  # all at once, never half written
            outs = [signals / f"{r}-w{n}.out" for n in range(PROCESSES)]
            _wait(outs, 120)
            durations.append(time.monotonic() - started)
            results = [p.read_text(encoding="utf-8").split("\n", 1) for p in outs]
            codes = [int(code) for code, _ in results]
            exits.update(codes)
            won = [kinds[n][0] for n, code in enumerate(codes) if code == 0]
            assert len(won) == 1, (r, codes, [err for _, err in results if err][:3])
            assert set(codes) - {0} <= {3, 4}, [
                e for c, (_, e) in zip(codes, results, strict=True) if c not in (0, 3, 4)
            ][:3]
            winners.update(won)
            with db.read() as s:
                row = s.get(ProposalRow, pid)
                assert row is not None and row.status.value == TARGET[won[0]]
                assert row.version == 2
                events = list(s.scalars(select(AuditRow.event).where(AuditRow.proposal_id == pid)))
                assert events == ["submit", won[0]]
                mail = list(
                    s.execute(
                        select(OutboxRow.kind, OutboxRow.recipient_email).where(OutboxRow.proposal_id == pid)
                    )
                )
            # The winner's notifications, each once; the submit's receipts untouched.
            assert len(mail) == len(set(mail)), collections.Counter(mail).most_common(3)
            assert {k.split(".")[0] for k, _ in mail} == {"submit", won[0]}
            assert sum(1 for k, _ in mail if k.startswith("submit.")) == before
    finally:
        (signals / "stop").touch()
        for w in workers:
            try:
                w.wait(timeout=30)
            except subprocess.TimeoutExpired:
                w.kill()
    assert verify(db)["ok"]
    assert exits[0] == ROUNDS and exits[0] + exits[3] + exits[4] == ROUNDS * PROCESSES
    figures = (
        f"{ROUNDS} Runden × {PROCESSES} Prozesse: Exit 0 {exits[0]}, Exit 3 {exits[3]}, Exit 4 {exits[4]}; "
        f"Sieger {dict(winners)}; je Runde Median {sorted(durations)[len(durations) // 2]:.2f} s, "
        f"längste {max(durations):.2f} s"
    )
    record_property("figures", figures)
    print(figures)
