"""SIGKILL in the middle of transitions: each proposal's state, audit rows and outbox rows are all there
or none of them – after 30 kills at random moments of a process that does nothing but fire events."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from partnerprojekte.audience import audiences_for
from partnerprojekte.db.engine import Database
from partnerprojekte.db.schema import AuditRow, CommentRow, OutboxRow, ProposalRow
from partnerprojekte.reading.queries import verify
from tests.faults.conftest import ROOT, process_env

KILLS = 30
PROPOSALS = 8


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_killed_process_leaves_every_transition_whole_or_absent(
    committed: tuple[str, Engine], tmp_path: Path, record_property: pytest.RecordProperty
) -> None:
    url, engine = committed
    db = Database(engine)
    rng = random.Random(9)
    versions: list[int] = []
    for _ in range(KILLS):
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.faults.churn", str(PROPOSALS)],
            env=process_env(url),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
            time.sleep(rng.uniform(0.05, 0.8))
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            if proc.stdout is not None:
                proc.stdout.close()
        with db.read() as s:
            versions.append(s.scalar(select(func.sum(ProposalRow.version))) or 0)
    assert versions[-1] > versions[0] + KILLS, "the victim hardly fired any events"
    with db.read() as s:
        for row in s.scalars(select(ProposalRow)):
            audits = list(
                s.scalars(select(AuditRow).where(AuditRow.proposal_id == row.id).order_by(AuditRow.seq))
            )
            # The row's state is exactly that of its last audit entry; no entry is missing or extra.
            assert [a.seq for a in audits] == list(range(1, row.version + 1))
            assert audits[-1].to_state == row.status.value and audits[-1].hash == row.audit_head
            mail = dict(
                s.execute(
                    select(OutboxRow.audit_seq, func.count())
                    .where(OutboxRow.proposal_id == row.id)
                    .group_by(OutboxRow.audit_seq)
                ).all()
            )
            # Every entry that notifies has its mail, and no mail belongs to an entry that is not there.
            for a in audits:
                assert (mail.get(a.seq, 0) > 0) == bool(audiences_for(a.event)), (row.id, a.seq, a.event)
            assert set(mail) <= {a.seq for a in audits}
            comments = set(s.scalars(select(CommentRow.audit_seq).where(CommentRow.proposal_id == row.id)))
            assert comments == {a.seq for a in audits if a.comment}
    assert verify(db)["ok"]
    figures = f"{KILLS} SIGKILL; {versions[-1] - PROPOSALS} Ereignisse geschrieben, alle vollständig"
    record_property("figures", figures)
    print(figures)
