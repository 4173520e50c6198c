"""Weekly digests for 10,000 and 100,000 proposals on SQLite: seconds per run and how they grow.

Goal of the issue: every weekly digest for 100,000 proposals and 20 Ressorts in under 5 s on SQLite,
growing no worse than linearly from 10,000. The databases are filled with bulk inserts (not through
the use cases, which would take an hour); the histories follow the paths of the workflow, so every
query of the digest finds realistic rows: an audit trail per proposal, Ressort assignments, pending
approvals, requests for changes with and without a revision, and about 1 % of the events in the week
before the digest. Run: ``python -m benchmarks.bench_digests [--sizes 10000 100000] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from partnerprojekte.config import Settings
from partnerprojekte.db.engine import Database, make_engine
from partnerprojekte.db.migrate import upgrade
from partnerprojekte.mailing.digests import run_digests
from partnerprojekte.mailing.reminders import run_reminders
from partnerprojekte.reference import load_reference

AS_OF = dt.date(2026, 3, 9)  # a Monday
NOW = dt.datetime(2026, 3, 9, 6, 0, tzinfo=dt.UTC)  # 07:00 in Berlin
HISTORY_DAYS = 730
STEP_DAYS = 30.0  # mean time between two steps of one proposal
RESSORTS = 20
REVIEWERS_PER_RESSORT = 3
ARBEITSSTAB = 5
GOAL_SECONDS = 5.0
LINEAR_SLACK = 1.2  # caches hold less of a database ten times larger: a per-row cost a little higher
SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores a DateTime in SQLite (naive UTC)

# Shares of the current states, roughly as in the Fortschrittsbericht (many decided, many in progress).
STATUS_SHARES = {
    "anerkannt": 0.25,
    "in_abstimmung": 0.15,
    "in_bearbeitung": 0.25,
    "eingereicht": 0.10,
    "nicht_weiterverfolgt": 0.10,
    "in_saeule_1_integriert": 0.10,
    "zurueckgezogen": 0.05,
}


def ts(at: dt.datetime) -> str:
    """A UTC moment in SQLAlchemy's SQLite format."""
    return at.astimezone(dt.UTC).replace(tzinfo=None).strftime(SQLITE_TIME)


@dataclass
class Fill:
    """The rows of one synthetic database, built in memory and inserted in bulk."""

    proposals: list[tuple[Any, ...]] = field(default_factory=list)
    audit: list[tuple[Any, ...]] = field(default_factory=list)
    approvals: list[tuple[Any, ...]] = field(default_factory=list)
    assignments: list[tuple[Any, ...]] = field(default_factory=list)


def people(ressorts: Sequence[str]) -> list[tuple[Any, ...]]:
    """(id, email, name, role, ressort, organisation) of the Arbeitsstab, the reviewers and a partner."""
    rows: list[tuple[Any, ...]] = [
        (1, "kontakt@partner.bench.example", "Kai Kontakt", "partner", None, "Bench GmbH")
    ]
    for i in range(ARBEITSSTAB):
        rows.append((len(rows) + 1, f"stab{i}@stk.bench.example", f"Stab {i}", "arbeitsstab", None, None))
    for abk in ressorts:
        for i in range(REVIEWERS_PER_RESSORT):
            slug = abk.lower().replace("/", "-")
            rows.append(
                (len(rows) + 1, f"r{i}@{slug}.bench.example", f"Prüfer {i} {abk}", "ressort", abk, None)
            )
    return rows


def build(n: int, ressorts: Sequence[str], rng: random.Random) -> Fill:
    """The rows of ``n`` proposals whose audit trails follow the workflow's paths."""
    fill = Fill()
    stab_id, partner_id = 2, 1
    reviewer_of = {abk: 2 + ARBEITSSTAB + i * REVIEWERS_PER_RESSORT for i, abk in enumerate(ressorts)}
    statuses = list(STATUS_SHARES)
    weights = list(STATUS_SHARES.values())
    end = NOW - dt.timedelta(hours=1)
    for pid in range(1, n + 1):
        status = rng.choices(statuses, weights)[0]
        at = end - dt.timedelta(days=rng.uniform(0, HISTORY_DAYS))
        ressort = ressorts[pid % len(ressorts)] if status not in ("eingereicht", "zurueckgezogen") else None
        steps: list[tuple[str, str | None, str]] = [("submit", None, "eingereicht")]
        pending: list[tuple[str, str]] = []  # (event, role) of pending approvals
        if status == "in_bearbeitung":
            steps += [
                ("take_up", "eingereicht", "in_bearbeitung"),
                ("assign_ressort", None, "in_bearbeitung"),
            ]
            if rng.random() < 0.4:
                steps += [
                    ("start_coordination", "in_bearbeitung", "in_abstimmung"),
                    ("request_changes", "in_abstimmung", "in_bearbeitung"),
                ]
                if rng.random() < 0.3:
                    steps.append(("revise", "in_bearbeitung", "in_bearbeitung"))
        elif status == "in_abstimmung":
            steps += [
                ("take_up", "eingereicht", "in_bearbeitung"),
                ("assign_ressort", None, "in_bearbeitung"),
                ("start_coordination", "in_bearbeitung", "in_abstimmung"),
            ]
            if rng.random() < 0.4:
                role = rng.choice(("arbeitsstab", "ressort"))
                steps.append(("approve", "in_abstimmung", "in_abstimmung"))
                pending.append(("recognise", role))
        elif status == "anerkannt":
            steps += [
                ("take_up", "eingereicht", "in_bearbeitung"),
                ("assign_ressort", None, "in_bearbeitung"),
                ("start_coordination", "in_bearbeitung", "in_abstimmung"),
                ("approve", "in_abstimmung", "in_abstimmung"),
                ("recognise", "in_abstimmung", "anerkannt"),
            ]
        elif status == "nicht_weiterverfolgt":
            steps += [("take_up", "eingereicht", "in_bearbeitung"), ("decline", "in_bearbeitung", status)]
        elif status == "in_saeule_1_integriert":
            steps += [
                ("take_up", "eingereicht", "in_bearbeitung"),
                ("assign_ressort", None, "in_bearbeitung"),
                ("integrate_into_pillar_1", "in_bearbeitung", status),
            ]
        elif status == "zurueckgezogen":
            steps.append(("withdraw", "eingereicht", status))
        # A month between steps on average; a history that would run past now is moved back in time.
        moments = [at]
        for _ in steps[1:]:
            moments.append(moments[-1] + dt.timedelta(days=rng.expovariate(1 / STEP_DAYS)))
        if moments[-1] > end:
            shift = moments[-1] - end + dt.timedelta(days=rng.uniform(0, STEP_DAYS))
            moments = [m - shift for m in moments]
        at = moments[0]
        status_since = at
        submitted = at
        for seq, ((event, from_state, to_state), moment) in enumerate(zip(steps, moments, strict=True), 1):
            state_before = steps[seq - 2][2] if seq > 1 else None
            frm = from_state if from_state is not None else state_before
            if frm != to_state:
                status_since = moment
            actor = partner_id if event in ("submit", "revise", "withdraw") else stab_id
            audit_ressort = ressort if event != "submit" else None
            fill.audit.append(
                (pid, seq, event, frm, to_state, actor, "x@bench.example", "arbeitsstab", audit_ressort,
                 None, None, "[]", None, 1, "{}", "[]", "{}", ts(moment), "0" * 64, "1" * 64)
            )  # fmt: skip
            if event == "assign_ressort" and ressort is not None:
                fill.assignments.append((pid, ressort, stab_id, ts(moment), None))
            if event == "approve":
                for ev, role in pending or [("recognise", "ressort")]:
                    user = reviewer_of[ressort] if role == "ressort" and ressort else stab_id
                    state = "pending" if pending else "fired"
                    closed = None if pending else ts(moments[-1])
                    fill.approvals.append(
                        (
                            pid,
                            ev,
                            "in_abstimmung",
                            user,
                            role,
                            ressort,
                            None,
                            None,
                            "[]",
                            state,
                            ts(moment),
                            closed,
                        )
                    )
        fill.proposals.append(
            (pid, status, len(steps), f"Vorhaben Nr. {pid} der Ruhr-Konferenz", f"Organisation {pid % 997}",
             "Kai Kontakt", "kontakt@partner.bench.example", " wirtschaft ", ressort, 1, "met", "{}",
             partner_id, ts(submitted), ts(moments[-1]), ts(status_since), "0" * 64)
        )  # fmt: skip
    return fill


def fill_database(path: Path, n: int, seed: int, with_index: bool = False) -> float:
    """Create, migrate and fill a SQLite database; returns the seconds the fill took."""
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    ref = load_reference()
    ressorts = list(ref.ressorts)[:RESSORTS]
    extra = [f"BENCH{i}" for i in range(RESSORTS - len(ressorts))]  # the reference data has 17 Ressorts
    ressorts += extra
    started = time.perf_counter()
    data = build(n, ressorts, random.Random(seed))
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO ressorts (abbreviation, name, mailbox) VALUES (?, ?, NULL)",
            [(abk, ref.ressorts[abk].name if abk in ref.ressorts else abk) for abk in ressorts],
        )
        conn.executemany(
            "INSERT INTO users (id, email, name, role, ressort, organisation, digest_opt_out, active, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, 0, 1, ?)",
            [(*u, ts(NOW - dt.timedelta(days=HISTORY_DAYS + 1))) for u in people(ressorts)],
        )
        conn.executemany(
            "INSERT INTO proposals (id, status, version, title, organisation, contact_name, contact_email, "
            "handlungsfelder, responsible_ressort, current_revision, overall, check_result, submitted_by, "
            "submitted_at, updated_at, status_since, audit_head) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            data.proposals,
        )
        conn.executemany(
            "INSERT INTO audit_log (proposal_id, seq, event, from_state, to_state, actor_id, actor_email, "
            "role, ressort, comment, visibility, reasons, saeule_1_projekt, revision, criteria, approvals, "
            f"details, at, prev_hash, hash) VALUES ({', '.join('?' * 20)})",
            data.audit,
        )
        conn.executemany(
            "INSERT INTO approvals (proposal_id, event, from_state, user_id, role, ressort, comment, "
            "visibility, reasons, status, created_at, closed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            data.approvals,
        )
        conn.executemany(
            "INSERT INTO ressort_assignments (proposal_id, ressort, assigned_by, assigned_at, ended_at) "
            "VALUES (?, ?, ?, ?, ?)",
            data.assignments,
        )
        if with_index:
            # The index proposed for the counts by Ressort and status (an index-only GROUP BY).
            conn.execute(
                "CREATE INDEX ix_proposals_ressort_status ON proposals (responsible_ressort, status)"
            )
        conn.execute("COMMIT")
        conn.execute("ANALYZE")
    finally:
        conn.close()
    return time.perf_counter() - started


@dataclass(frozen=True)
class Measurement:
    """The timings of one database size."""

    proposals: int
    audit_rows: int
    fill_seconds: float
    digest_seconds: list[float]
    digest_cpu_seconds: list[float]
    reminder_seconds: list[float]
    digests: int
    arbeitsstab: dict[str, int]

    @property
    def digest_best(self) -> float:
        """The fastest digest run (the least disturbed by the machine)."""
        return min(self.digest_seconds)

    @property
    def digest_cpu_best(self) -> float:
        """The fastest digest run in CPU seconds of this process (other load on the machine left out)."""
        return min(self.digest_cpu_seconds)


def measure(n: int, repeat: int, seed: int, workdir: Path, with_index: bool = False) -> Measurement:
    """Fill a database of ``n`` proposals and time the dry runs of the digests and the reminders."""
    path = workdir / f"bench-{n}.db"
    fill_seconds = fill_database(path, n, seed, with_index)
    engine = make_engine(f"sqlite:///{path}")
    db = Database(engine, clock=lambda: NOW)
    settings = Settings()
    digest_times, digest_cpu, reminder_times = [], [], []
    report = None
    try:
        with engine.connect() as conn:
            audit_rows = conn.exec_driver_sql("SELECT count(*) FROM audit_log").scalar() or 0
        for _ in range(repeat):
            started, cpu = time.perf_counter(), time.process_time()
            report = run_digests(db, settings, as_of=AS_OF, dry_run=True)
            digest_times.append(time.perf_counter() - started)
            digest_cpu.append(time.process_time() - cpu)
            started = time.perf_counter()
            run_reminders(db, settings, dry_run=True)
            reminder_times.append(time.perf_counter() - started)
        assert report is not None
        # The sizes of the Arbeitsstab's lists: evidence that the digests hold real content.
        probe = run_digests(db, settings, as_of=AS_OF, dry_run=True, only_to="stab0@stk.bench.example")
        lists = probe.mails[0].summary if probe.mails else {}
    finally:
        engine.dispose()
    return Measurement(
        n, audit_rows, fill_seconds, digest_times, digest_cpu, reminder_times, report.queued, lists
    )


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line of the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument(
        "--with-index",
        action="store_true",
        help="add the proposed index proposals(responsible_ressort, status) before measuring",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the measurement and print seconds, ratio and whether the goal is met."""
    args = parse_args(argv)
    staff = f"{RESSORTS * REVIEWERS_PER_RESSORT} Prüfer, {ARBEITSSTAB} im Arbeitsstab"
    versions = f"Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}"
    print(f"{versions}; {RESSORTS} Ressorts, {staff}; Stichtag {AS_OF}")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            m = measure(n, args.repeat, args.seed, Path(tmp), args.with_index)
            results.append(m)
            print(
                f"{n:>7} Vorschläge ({m.audit_rows} Protokollzeilen, befüllt in {m.fill_seconds:.1f} s): "
                f"Wochenüberblick {m.digest_best:.3f} s (Median {statistics.median(m.digest_seconds):.3f} s, "
                f"CPU {m.digest_cpu_best:.3f} s, {m.digests} Empfänger), "
                f"Erinnerungen {min(m.reminder_seconds):.3f} s"
            )
            print(f"{'':>7} Arbeitsstab: {m.arbeitsstab}")
    ok = True
    if len(results) >= 2:
        small, large = results[0], results[-1]
        growth = large.proposals / small.proposals
        wall = large.digest_best / small.digest_best
        cpu = large.digest_cpu_best / small.digest_cpu_best
        # Judged on CPU time: on a shared machine the wall clock also measures the neighbours.
        linear = cpu <= growth * LINEAR_SLACK
        verdict = "linear" if linear else "STÄRKER ALS LINEAR"
        print(
            f"Verhältnis {large.proposals}/{small.proposals}: Wanduhr {wall:.1f}×, CPU {cpu:.1f}× bei "
            f"{growth:.0f}× so vielen Vorschlägen – {verdict} (Toleranz {LINEAR_SLACK - 1:.0%})"
        )
        ok = linear
    fast = results[-1].digest_best < GOAL_SECONDS
    verdict = "erreicht" if fast else "VERFEHLT"
    print(f"Ziel < {GOAL_SECONDS:.0f} s bei {results[-1].proposals} Vorschlägen: {verdict}")
    if args.json:
        print(
            json.dumps([m.__dict__ | {"digest_best": m.digest_best} for m in results], indent=2, default=str)
        )
    return 0 if ok and fast else 1


if __name__ == "__main__":
    raise SystemExit(main())
