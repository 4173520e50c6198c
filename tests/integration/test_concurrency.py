"""Two people acting on one proposal at the same moment: exactly one wins, nothing is half-written.

These tests need real commits on separate connections, so they use their own database instead of
the rolled-back test transaction.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from partnerprojekte.config import Settings
from partnerprojekte.db import outbox as outbox_module
from partnerprojekte.db import store
from partnerprojekte.db.engine import Database, make_engine
from partnerprojekte.db.migrate import upgrade
from partnerprojekte.db.schema import AuditRow, OutboxRow, ProposalRow
from partnerprojekte.errors import ConflictError, TransitionRefused
from partnerprojekte.formats import proposal_from_document
from partnerprojekte.model import Event, Role, State, Visibility
from partnerprojekte.reading.queries import verify
from partnerprojekte.services import Services
from partnerprojekte.states.workflow import EventInput
from tests.conftest import create_postgres_database
from tests.helpers import proposal_doc

STAB = [
    "a.stab@stk.nrw.example",
    "b.stab@stk.nrw.example",
    "c.stab@stk.nrw.example",
    "d.stab@stk.nrw.example",
]
PARTNER = "kontakt@bio-security.example.de"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A committed database of its own, with people, dropped afterwards."""
    drop: Callable[[], None] | None = None
    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path / 'race.db'}")
    else:
        url, drop = create_postgres_database()
        eng = make_engine(url, pool_size=8)
    upgrade(eng)
    svc = Services(Database(eng), Settings())
    svc.load_reference_data()
    for email in STAB:
        svc.add_user(email, email.split("@")[0], Role.ARBEITSSTAB)
    svc.add_user(PARTNER, "Kai Kontakt", Role.PARTNER, organisation="Kompetenzzentrum Bio-Security GmbH")
    yield eng
    eng.dispose()
    if drop:
        drop()


def submit(eng: Engine) -> int:
    return (
        Services(Database(eng), Settings())
        .submit(proposal_from_document(proposal_doc()), PARTNER)
        .proposal_id
    )


def counts(eng: Engine, pid: int) -> tuple[int, int, int]:
    with eng.connect() as conn:
        audit = conn.scalar(select(func.count()).where(AuditRow.proposal_id == pid)) or 0
        mails = conn.scalar(select(func.count()).where(OutboxRow.proposal_id == pid)) or 0
        version = conn.scalar(select(ProposalRow.version).where(ProposalRow.id == pid)) or 0
    return audit, mails, version


def race(
    eng: Engine,
    actions: list[Callable[[Services], Any]],
    barrier_on_update: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> list[Any]:
    """Run the actions at once, each on its own connection; optionally hold writers until all have read."""
    barrier = threading.Barrier(len(actions), timeout=20)
    conditional_update = store.bump

    def bump_together(*args: Any, **kwargs: Any) -> bool:
        # Every action has read the proposal before anyone writes it: a true simultaneous start.
        barrier.wait()
        return conditional_update(*args, **kwargs)

    if barrier_on_update:
        monkeypatch.setattr(store, "bump", bump_together)

    def run(action: Callable[[Services], Any]) -> Any:
        try:
            return action(Services(Database(eng), Settings()))
        except (ConflictError, TransitionRefused) as exc:
            return exc

    with ThreadPoolExecutor(len(actions)) as pool:
        return list(pool.map(run, actions))


def test_same_event_twice_one_wins_the_other_is_refused(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid = submit(engine)
    before = counts(engine, pid)
    results = race(
        engine,
        [lambda s, who=who: s.transition(pid, Event.TAKE_UP, who, EventInput()) for who in STAB[:2]],
        barrier_on_update=engine.dialect.name == "postgresql",
        monkeypatch=monkeypatch,
    )
    winners = [r for r in results if not isinstance(r, Exception)]
    losers = [r for r in results if isinstance(r, Exception)]
    assert len(winners) == 1 and len(losers) == 1
    # The state no longer allows take_up: refused (exit 3), not a conflict.
    assert isinstance(losers[0], TransitionRefused) and losers[0].reason == "state"
    audit, mails, version = counts(engine, pid)
    assert (audit, version) == (before[0] + 1, before[2] + 1)
    assert mails == before[1] + 1  # one take_up mail to the partner, not two
    assert verify(Database(engine))["ok"]


def test_two_different_actions_at_once_one_gets_a_conflict(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers with BEGIN IMMEDIATE: the second reads the new state")
    pid = submit(engine)
    before = counts(engine, pid)
    results = race(
        engine,
        [
            lambda s: s.comment(pid, STAB[0], "Rückfrage an das Ressort", Visibility.INTERN),
            lambda s: s.comment(pid, STAB[1], "Termin mit dem Partner vereinbart", Visibility.INTERN),
        ],
        barrier_on_update=True,
        monkeypatch=monkeypatch,
    )
    conflicts = [r for r in results if isinstance(r, ConflictError)]
    assert len(conflicts) == 1, results
    audit, _, version = counts(engine, pid)
    assert (audit, version) == (before[0] + 1, before[2] + 1)
    assert verify(Database(engine))["ok"]


def test_many_clients_hammer_one_proposal(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    pid = submit(engine)
    services = Services(Database(engine), Settings())
    services.transition(pid, Event.TAKE_UP, STAB[0], EventInput())
    results = race(
        engine,
        [lambda s, who=who: s.comment(pid, who, f"Notiz von {who}", Visibility.INTERN) for who in STAB * 2],
        barrier_on_update=False,
        monkeypatch=monkeypatch,
    )
    done = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, Exception)]
    assert all(isinstance(r, ConflictError) for r in refused)
    audit, _, version = counts(engine, pid)
    assert audit == version == 2 + len(done)
    assert verify(Database(engine))["ok"]


def test_failure_after_the_audit_row_leaves_nothing(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    pid = submit(engine)
    before = counts(engine, pid)

    def broken(*args: Any, **kwargs: Any) -> int:
        raise RuntimeError("Outbox nicht schreibbar")

    monkeypatch.setattr(outbox_module, "fan_out", broken)
    with pytest.raises(RuntimeError):
        Services(Database(engine), Settings()).transition(pid, Event.TAKE_UP, STAB[0], EventInput())
    assert counts(engine, pid) == before
    with engine.connect() as conn:
        assert conn.scalar(select(ProposalRow.status).where(ProposalRow.id == pid)) is State.EINGEREICHT


def test_one_progress_report_submitted_twice_at_once_writes_one_version(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    import datetime as dt

    from partnerprojekte.reading.reports import show_portrait
    from partnerprojekte.states.report_table import ReportEvent

    svc = Services(Database(engine), Settings())
    svc.add_user("r.mwide@mwide.nrw.example", "Rita Ressort", Role.RESSORT, ressort="MWIDE")
    pid = submit(engine)
    svc.transition(pid, Event.TAKE_UP, STAB[0], EventInput())
    svc.assign_ressort(pid, "MWIDE", STAB[0])
    svc.transition(pid, Event.START_COORDINATION, STAB[0], EventInput())
    svc.transition(pid, Event.RECOGNISE, "r.mwide@mwide.nrw.example", EventInput())
    svc.transition(pid, Event.RECOGNISE, STAB[1], EventInput())
    svc.open_round(2026, "R", dt.date(2026, 10, 31), dt.date(2026, 9, 15), STAB[0])
    sections = ["ziel", "mehrwert", "vorgehen", "nutzen_fuer", "juengste_entwicklung", "aktueller_stand"]
    sections += ["ausblick", "meilensteine", "akteure", "zielgruppen"]
    entries = {s: {"markierung": "unveraendert"} for s in sections}
    svc.report_event(pid, 2026, ReportEvent.SAVE_DRAFT, PARTNER, entries=entries)
    before = counts(engine, pid)
    results = race(
        engine,
        [
            lambda s, who=who: s.report_event(pid, 2026, ReportEvent.SUBMIT_REPORT, who)
            for who in (PARTNER, STAB[2])
        ],
        barrier_on_update=engine.dialect.name == "postgresql",
        monkeypatch=monkeypatch,
    )
    assert len([r for r in results if not isinstance(r, Exception)]) == 1
    assert len([r for r in results if isinstance(r, (ConflictError, TransitionRefused))]) == 1
    audit, _, version = counts(engine, pid)
    assert (audit, version) == (before[0] + 1, before[2] + 1)
    assert [v["nummer"] for v in show_portrait(Database(engine), pid)["versionen"]] == [1, 2]
    assert verify(Database(engine))["ok"]
