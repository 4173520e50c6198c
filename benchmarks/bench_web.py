"""Web latency at scale on PostgreSQL: the list, a proposal page, the overview, the report, the CSV export.

Generates N proposals (default 100,000) with ten audit rows each by COPY (not through the services), starts
the real application under uvicorn on 127.0.0.1 and measures median and p95 latency for 20 concurrent
clients (threads + httpx), next to the same requests at 1,000 proposals.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import psycopg
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from tests.helpers import proposal_doc

from partnerprojekte.config import Settings
from partnerprojekte.db.engine import Database, make_engine, normalise_url
from partnerprojekte.db.migrate import upgrade
from partnerprojekte.db.schema import AuditRow, ProposalRow, RevisionRow
from partnerprojekte.db.searchable import search_values
from partnerprojekte.formats import proposal_from_document
from partnerprojekte.ids import format_id
from partnerprojekte.model import Event, Role, State
from partnerprojekte.services import Services
from partnerprojekte.states.workflow import EventInput
from partnerprojekte.web.auth.security import create_api_token

PG_ENV = "PARTNERPROJEKTE_BENCH_POSTGRES_URL"
STAB = "a.stab@stk.bench.example"
WORDS = ["Ruhr", "Emscher", "Wärmenetz", "Quartier", "Bildung", "Straße", "Grünfläche", "Hafen", "Zeche"]
ORGS = [f"Verein {n} Ruhr e. V." for n in range(500)]
RESSORTS = ["MWIDE", "VM", "MKW", "MAGS"]
STATES = [State.EINGEREICHT, State.IN_BEARBEITUNG, State.IN_ABSTIMMUNG, State.ANERKANNT]
AUDIT_PER_PROPOSAL = 10
GOAL_MS = 300.0
SLOW_MS = 5_000.0


def _database(admin_url: str) -> tuple[str, Callable[[], None]]:
    name = f"pp_bench_web_{uuid.uuid4().hex[:8]}"
    admin = make_url(normalise_url(admin_url))
    with psycopg.connect(admin_url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin_url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return admin.set(database=name).render_as_string(hide_password=False), drop


def _rows(db: Database, table: Any, pid: int) -> list[dict[str, Any]]:
    with db.read() as s:
        return [dict(r._mapping) for r in s.execute(select(table.__table__).where(table.proposal_id == pid))]


def generate(url: str, count: int) -> str:
    """N proposals, their revisions and 10 audit rows each, by COPY from one real template; a token."""
    engine = make_engine(url)
    upgrade(engine)
    db = Database(engine)
    svc = Services(db, Settings())
    svc.load_reference_data()
    svc.add_user(STAB, "Anna Stab", Role.ARBEITSSTAB)
    token = create_api_token(db, STAB, "bench")
    doc = proposal_doc()
    pid = svc.submit(proposal_from_document(doc), STAB, notify=False).proposal_id
    svc.transition(pid, Event.TAKE_UP, STAB, EventInput(), notify=False)
    svc.assign_ressort(pid, "MWIDE", STAB, notify=False)
    with db.read() as s:
        proposal = dict(s.execute(select(ProposalRow.__table__).where(ProposalRow.id == pid)).one()._mapping)
    revision = _rows(db, RevisionRow, pid)[0]
    audits = _rows(db, AuditRow, pid)
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE proposals, revisions, audit_log, outbox CASCADE"))
    rng = random.Random(5)
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    pcols = [c for c in proposal if c != "id"] + ["id"]
    rcols = [c for c in revision if c != "id"]
    acols = [c for c in audits[0] if c != "id"]
    raw = psycopg.connect(url.replace("postgresql+psycopg", "postgresql"))
    t0 = time.perf_counter()
    with raw, raw.cursor() as cur:
        with cur.copy(f"COPY proposals ({', '.join(pcols)}) FROM STDIN") as copy:
            for n in range(1, count + 1):
                title = f"{' '.join(rng.sample(WORDS, 3))} {n}"
                org = rng.choice(ORGS)
                state = rng.choice(STATES)
                at = start + dt.timedelta(minutes=7 * n)
                d = {**doc, "title": title, "submitter": {**doc["submitter"], "name": org}}
                row = {
                    **proposal,
                    "id": n,
                    "title": title,
                    "organisation": org,
                    "status": state.value,
                    "responsible_ressort": None if state is State.EINGEREICHT else rng.choice(RESSORTS),
                    "submitted_at": at,
                    "updated_at": at,
                    "status_since": at,
                    "import_key": None,
                    **search_values(n, org, d),
                }
                copy.write_row([_value(row[c]) for c in pcols])
        with cur.copy(f"COPY revisions ({', '.join(rcols)}) FROM STDIN") as copy:
            for n in range(1, count + 1):
                copy.write_row([_value({**revision, "proposal_id": n}[c]) for c in rcols])
        with cur.copy(f"COPY audit_log ({', '.join(acols)}) FROM STDIN") as copy:
            for n in range(1, count + 1):
                at = start + dt.timedelta(minutes=7 * n)
                for k in range(AUDIT_PER_PROPOSAL):
                    a = audits[min(k, len(audits) - 1)]
                    row = {**a, "proposal_id": n, "seq": k + 1, "at": at + dt.timedelta(hours=k)}
                    copy.write_row([_value(row[c]) for c in acols])
        for table in ("proposals", "revisions", "audit_log"):
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
    raw.close()
    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as c:
        c.execute("VACUUM ANALYZE")
    print(
        f"  {count:,} Vorschläge, {count * AUDIT_PER_PROPOSAL:,} Protokollzeilen erzeugt "
        f"in {time.perf_counter() - t0:.1f} s",
        flush=True,
    )
    engine.dispose()
    return token


def _value(v: Any) -> Any:
    if isinstance(v, (dict, list)):
        return json.dumps(v)
    if hasattr(v, "value") and not isinstance(v, (str, int)):
        return v.value
    return v


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(url: str, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    """``partnerprojekte web serve --workers N`` on a free port, as an operator starts it."""
    port = _free_port()
    env = {
        **os.environ,
        "PARTNERPROJEKTE_DATABASE_URL": url,
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }
    cli = [sys.executable, "-m", "partnerprojekte.cli", "web", "serve", "--port", str(port)]
    proc = subprocess.Popen([*cli, "--workers", str(workers)], env=env, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            httpx.get(f"{base}/anmelden", timeout=1)
            return proc, base
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("uvicorn startet nicht")


def requests_for(count: int) -> dict[str, Callable[[random.Random], str]]:
    return {
        "Liste (gefiltert, gesucht, Seite 50)": lambda r: (
            "/vorschlaege?status=in_bearbeitung&q=ruhr&seite=50"
            if count >= 10_000
            else "/vorschlaege?status=in_bearbeitung&q=ruhr&seite=2"
        ),
        "Vorschlagsseite": lambda r: f"/vorschlaege/{format_id(r.randint(1, count))}",
        "Übersicht mit Diagrammen": lambda r: "/uebersicht",
        "Bericht --as-of (/bericht?stichtag=)": lambda r: "/bericht?stichtag=2024-06-30",
        "CSV-Export (alle)": lambda r: "/vorschlaege/export.csv",
    }


def measure(
    base: str, token: str, path: Callable[[random.Random], str], clients: int, per_client: int, stream: bool
) -> dict[str, float]:
    times: list[float] = []
    firsts: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def client(seed: int) -> None:
        rng = random.Random(seed)
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=600) as c:
            for _ in range(per_client):
                t0 = time.perf_counter()
                with c.stream("GET", path(rng)) as resp:
                    first = None
                    for _chunk in resp.iter_bytes():
                        if first is None:
                            first = time.perf_counter() - t0
                    total = time.perf_counter() - t0
                with lock:
                    if resp.status_code != 200:
                        errors.append(str(resp.status_code))
                    times.append(total * 1000)
                    firsts.append((first or total) * 1000)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError(f"Fehlerantworten: {errors[:5]}")
    p95 = statistics.quantiles(times, n=20, method="inclusive")[18] if len(times) > 1 else times[0]
    return {"median": statistics.median(times), "p95": p95, "ttfb_median": statistics.median(firsts)}


def run(
    admin_url: str, count: int, clients: int, per_client: int, workers: int
) -> dict[str, dict[str, float]]:
    url, drop = _database(admin_url)
    proc = None
    try:
        token = generate(url, count)
        proc, base = serve(url, workers)
        results = {}
        for name, path in requests_for(count).items():
            # "kalt": the first request after start, before the read cache holds this figure (after every
            # change of the data, the first request of each page is like this one).
            cold = measure(base, token, path, 1, 1, False)
            again = measure(base, token, path, 1, 1, False)
            slow = again["median"] > SLOW_MS
            if slow:
                # A page that takes seconds even the second time is measured once more only: 20 clients
                # would queue for many minutes.
                results[name] = again
            else:
                # One round of all clients first, not counted: with several workers each process answers
                # its own first request cold (that figure is "kalt", printed on its own).
                measure(base, token, path, clients, 1, "CSV" in name)
                results[name] = measure(base, token, path, clients, per_client, "CSV" in name)
            r = results[name]
            r["cold"] = cold["median"]
            note = "  (nur 1 Anfrage: zu langsam für alle Clients)" if slow else ""
            print(
                f"  {name:<40} Median {r['median']:8.0f} ms  p95 {r['p95']:8.0f} ms  "
                f"erstes Byte {r['ttfb_median']:8.0f} ms  kalt {cold['median']:8.0f} ms{note}",
                flush=True,
            )
        return results
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
        drop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--proposals", type=int, default=100_000)
    parser.add_argument("--baseline", type=int, default=1_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=4, help="Anfragen je Client und Seite")
    # Two processes for the two cores of this machine kind (docs/operations.md: one per core).
    parser.add_argument("--workers", type=int, default=2, help="Prozesse von web serve (--workers)")
    args = parser.parse_args(argv)
    admin_url = os.environ.get(PG_ENV, "")
    if not admin_url:
        print(f"bench_web: {PG_ENV} ist leer – kein PostgreSQL, nichts gemessen.")
        return 0
    print(
        f"bench_web: {args.clients} Clients, je {args.requests} Anfragen pro Seite "
        f"(web serve --workers {args.workers}, 127.0.0.1)"
    )
    print(f"- {args.baseline:,} Vorschläge")
    small = run(admin_url, args.baseline, args.clients, args.requests, args.workers)
    print(f"- {args.proposals:,} Vorschläge")
    big = run(admin_url, args.proposals, args.clients, args.requests, args.workers)
    factor = args.proposals / args.baseline
    print(f"\nWachstum p95 bei {factor:.0f}-mal so vielen Vorschlägen (Ziel p95 < {GOAL_MS:.0f} ms):")
    for name in big:
        growth = big[name]["p95"] / max(small[name]["p95"], 0.001)
        ok = "ok" if big[name]["p95"] < GOAL_MS else "über dem Ziel"
        print(f"  {name:<40} {small[name]['p95']:8.0f} → {big[name]['p95']:8.0f} ms  (×{growth:.1f}) {ok}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
