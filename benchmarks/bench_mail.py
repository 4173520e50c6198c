"""Nachrichten pro Sekunde: N Outbox-Zeilen an eine lokale SMTP-Senke, gegen eine Verbindung je Nachricht.

Aufruf: ``python -m benchmarks.bench_mail [-n 10000] [--rounds 3] [--url DATENBANK-URL]``
(Teil von ``make bench``).
Die Senke (aiosmtpd) läuft in einem eigenen Prozess auf 127.0.0.1, damit sie dem Sender keine CPU nimmt.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import case, select, update

from partnerprojekte.config import MailSettings, Settings
from partnerprojekte.db.engine import Database, make_engine
from partnerprojekte.db.migrate import upgrade
from partnerprojekte.db.schema import OutboxRow
from partnerprojekte.mailing.delivery import deliver_pending, queue_samples
from partnerprojekte.notifications.transport import SmtpTransport

GOAL = 3.0


def free_port() -> int:
    """A port nobody listens on right now (aiosmtpd's Controller refuses port 0)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def reset(db: Database, ids: list[int]) -> None:
    """Make the rows of ``ids`` (a run of the sorted ids) due again and every other row not due."""
    due = OutboxRow.id.between(ids[0], ids[-1])
    with db.write() as s:
        s.execute(
            update(OutboxRow).values(
                status=case((due, "pending"), else_="sent"),
                attempts=0,
                sent_at=None,
                claimed_at=None,
                next_attempt_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1),
            )
        )


VARIANTS = (
    ("Basislinie: neue Verbindung je Nachricht", 1, False),
    ("eine wiederverwendete Verbindung", 1, True),
    ("4 wiederverwendete Verbindungen (Vorgabe)", 4, True),
)


def main() -> None:
    """Queue N rows once, then deliver them with each transport variant, in alternating rounds."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=10_000, help="Anzahl der Outbox-Zeilen")
    parser.add_argument(
        "--rounds", type=int, default=3, help="Runden; jede sendet ein Stück der Zeilen je Variante"
    )
    parser.add_argument(
        "--url",
        default=None,
        help="leere Datenbank (Vorgabe: temporäre SQLite-Datei); alle Outbox-Zeilen werden geändert",
    )
    args = parser.parse_args()
    if args.n < 1 or not 1 <= args.rounds <= args.n:
        parser.error("-n muss mindestens 1 sein, --rounds zwischen 1 und n")
    port = free_port()
    sink = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}", "-c", "aiosmtpd.handlers.Sink"]
    )
    time.sleep(1.0)
    try:
        engine = make_engine(args.url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench-mail.db'}")
        upgrade(engine)
        db = Database(engine)
        queue_samples(db, args.n)
        with db.read() as s:
            ids = list(s.scalars(select(OutboxRow.id).order_by(OutboxRow.id)))
        # Round r sends its own slice of the rows with every variant: each variant sends all N rows once.
        bounds = [len(ids) * r // args.rounds for r in range(args.rounds + 1)]
        slices = [ids[a:b] for a, b in itertools.pairwise(bounds)]
        count = f"{args.n:,}".replace(",", ".")
        print(f"E-Mail-Versand: {count} Outbox-Zeilen ({engine.dialect.name}) an eine SMTP-Senke,")
        print(
            f"{args.rounds} Runden: die Varianten abwechselnd, damit alle dieselbe Last sehen; "
            "jede Variante sendet jede Zeile einmal."
        )
        seconds = [[0.0] * args.rounds for _ in VARIANTS]
        for r in range(args.rounds):
            for v, (_, concurrency, reuse) in enumerate(VARIANTS):
                reset(db, slices[r])
                settings = Settings(
                    mail=MailSettings(
                        smtp_host="127.0.0.1",
                        smtp_port=port,
                        smtp_security="none",
                        max_concurrency=concurrency,
                    )
                )
                start = time.perf_counter()
                report = deliver_pending(
                    db, settings, transport=SmtpTransport(settings.mail, reuse_connections=reuse)
                )
                seconds[v][r] = time.perf_counter() - start
                if report.sent != len(slices[r]):
                    raise SystemExit(f"nur {report.sent} von {len(slices[r])} versandt: {report.errors}")
        baseline = args.n / sum(seconds[0])
        for v, (label, _, reuse) in enumerate(VARIANTS):
            rate = args.n / sum(seconds[v])
            ratio = rate / baseline
            # Each round against the baseline of the same round (same rows): how much the load moved it.
            rounds = [seconds[0][r] / seconds[v][r] for r in range(args.rounds)]
            spread = f"Runden {min(rounds):.1f}–{max(rounds):.1f}×".replace(".", ",")
            verdict = (
                "" if not reuse else (" erreicht" if ratio >= GOAL else " verfehlt") + f" (Ziel ≥ {GOAL:g}×)"
            )
            print(
                f"  {label:<44} {rate:8.0f} Nachrichten/s  {sum(seconds[v]):6.2f} s  {ratio:4.2f}×"
                f"{verdict}  {spread if reuse else ''}".rstrip()
            )
        engine.dispose()
    finally:
        sink.terminate()
        sink.wait()


if __name__ == "__main__":
    main()
