"""Reminders and digests started twice at once, as separate processes (Prefect may start a scheduled run
twice, two workers may take the same one): every mail is queued and sent once, as by a single run."""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from partnerprojekte.config import Settings
from partnerprojekte.db.engine import Database, make_engine
from partnerprojekte.db.migrate import upgrade
from partnerprojekte.model import Event
from partnerprojekte.services import Services
from partnerprojekte.states.workflow import EventInput
from tests.conftest import Clock, create_postgres_database
from tests.faults.conftest import CLI, ROOT
from tests.faults.test_smtp_chaos import expected_ids, open_rows, received_ids, sender_env
from tests.people import STAB
from tests.schedule.conftest import add_people, berlin, mails, request_changes, submit, to_coordination
from tests.smtp_server import SmtpSink

# Monday 9 March to Monday 23 March 2026: reminder rounds fall due and two digest weeks begin.
DAYS = ["2026-03-09", "2026-03-11", "2026-03-16", "2026-03-18", "2026-03-23"]
AT_ONCE = 3  # processes per job and day


def prepare(url: str) -> Engine:
    """People and a history from early February: submitted, in coordination, changes requested."""
    engine = make_engine(url)
    upgrade(engine)
    services = Services(Database(engine, clock=Clock(berlin(2026, 2, 2))), Settings())
    services.load_reference_data()
    add_people(services)
    for n in range(3):
        submit(services, f"Eingereicht {n}")
    coord = to_coordination(services, "Anerkannt")
    services.transition(coord, Event.RECOGNISE, STAB, EventInput())
    for n in range(3):
        to_coordination(services, f"In Abstimmung {n}", ressort=("MWIDE", "MKW", "VM")[n])
    request_changes(services, to_coordination(services, "Änderungen erbeten"))
    return engine


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def twins(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Engine, str, Engine]]:
    """Two databases with the same history: one for the runs at once, one for single runs."""
    drops: list[Callable[[], None]] = []
    urls = []
    for name in ("at-once", "single"):
        if request.param == "sqlite":
            urls.append(f"sqlite:///{tmp_path / name}.db")
        else:
            url, drop = create_postgres_database()
            urls.append(url)
            drops.append(drop)
    engines = [prepare(u) for u in urls]
    yield urls[0], engines[0], urls[1], engines[1]
    for e in engines:
        e.dispose()
    for drop in drops:
        drop()


def run_together(commands: list[list[str]], env: dict[str, str]) -> list[dict[str, object]]:
    """Start every command at once; wait for all; their JSON reports (each must succeed)."""
    procs = [
        subprocess.Popen(
            [CLI, *c, "--json"], env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for c in commands
    ]
    reports = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0 and "Traceback" not in err, (proc.args, proc.returncode, err[-2000:])
        reports.append(json.loads(out))
    return reports


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_reminder_and_digest_runs_started_at_once_as_processes_mail_each_person_once(
    twins: tuple[str, Engine, str, Engine], smtp: SmtpSink, record_property: pytest.RecordProperty
) -> None:
    url, engine, single_url, single_engine = twins
    env = sender_env(url, smtp)
    single_env = sender_env(single_url, smtp)
    together = 0
    for day in DAYS:
        jobs = [["reminders", "run", "--as-of", day], ["digest", "run", "--as-of", day]]
        reports = run_together([job for job in jobs for _ in range(AT_ONCE)], env)
        together += sum(int(r["queued"]) for r in reports)  # type: ignore[call-overload]
        for job in jobs:
            run_together([job], single_env)

    at_once = Counter(mails(Database(engine), "reminder.") + mails(Database(engine), "digest."))
    single = Counter(mails(Database(single_engine), "reminder.") + mails(Database(single_engine), "digest."))
    assert single, "the history queues nothing: the test would prove nothing"
    assert max(at_once.values()) == 1
    assert at_once == single  # the same mails as single runs, each once
    assert together == sum(at_once.values())  # the runs' reports add up: no run counted another's

    result = subprocess.run(
        [CLI, "outbox", "deliver"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    db = Database(engine)
    assert open_rows(db) == 0
    seen = received_ids(smtp)
    assert set(seen) == set(expected_ids(db)) and max(seen.values()) == 1
    kinds = Counter(kind.split(".")[0] for kind, _, _ in at_once)
    figures = (
        f"{len(DAYS)} Tage × {AT_ONCE} gleichzeitige Prozesse je Erinnerungen und Wochenüberblick: "
        f"{kinds['reminder']} Erinnerungen, {kinds['digest']} Wochenüberblicke vorgemerkt, je genau einmal "
        f"(gleich den Einzelläufen); {len(seen)} Mails an der Senke, 0 doppelt"
    )
    record_property("figures", figures)
    print(figures)
