"""A mail server that misbehaves in every usual way, and a sender killed at random: every message is
delivered exactly once or dead with its reason; duplicates are counted at the server by Message-ID."""

from __future__ import annotations

import random
import signal
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from partnerprojekte.config import Settings
from partnerprojekte.db.engine import Database
from partnerprojekte.db.schema import OutboxRow
from partnerprojekte.mailing.delivery import queue_samples
from partnerprojekte.notifications.message import MessageBuilder
from tests.faults.conftest import CLI, ROOT, process_env
from tests.smtp_server import SmtpSink

MESSAGES = 600
REFUSED_EVERY = 30  # every 30th recipient has no mailbox: 550 at RCPT
TEMPORARY = 80  # the first 80 messages get 451
SLOW_EVERY, SLOW_SECONDS = 37, 1.5
DROP_EVERY = 53
OUTAGE_AFTER, OUTAGE_SECONDS = 200, 30.0


def sender_env(url: str, smtp: SmtpSink, **extra: str) -> dict[str, str]:
    """A product process that sends to the test SMTP server, retries fast and gives up only late."""
    return process_env(
        url,
        PARTNERPROJEKTE_MAIL__SMTP_HOST="127.0.0.1",
        PARTNERPROJEKTE_MAIL__SMTP_PORT=str(smtp.port),
        PARTNERPROJEKTE_MAIL__SMTP_SECURITY="none",
        PARTNERPROJEKTE_MAIL__TIMEOUT_SECONDS="5",
        PARTNERPROJEKTE_MAIL__RETRY_BASE_SECONDS="0.2",
        PARTNERPROJEKTE_MAIL__MAX_ATTEMPTS="12",
        **extra,
    )


def deliver(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """One ``partnerprojekte outbox deliver`` run in a process of its own."""
    return subprocess.run(
        [CLI, "outbox", "deliver", "--json"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def open_rows(db: Database) -> int:
    """Rows not yet sent or dead."""
    with db.read() as s:
        return (
            s.scalar(
                select(func.count())
                .select_from(OutboxRow)
                .where(OutboxRow.status.in_(("pending", "sending")))
            )
            or 0
        )


def expected_ids(db: Database) -> dict[str, OutboxRow]:
    """Message-ID → row, for every row."""
    builder = MessageBuilder(Settings().mail.sender)
    with db.read() as s:
        return {builder.message_id(r.id, r.idempotency_key): r for r in s.scalars(select(OutboxRow))}


def received_ids(smtp: SmtpSink) -> Counter[str]:
    """How often each Message-ID reached the server."""
    return Counter(str(m.message["Message-ID"]) for m in smtp.messages)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_every_message_arrives_once_or_is_dead_with_its_reason_through_451_550_outage_slow_and_drops(
    committed: tuple[str, Engine], smtp: SmtpSink, record_property: pytest.RecordProperty
) -> None:
    url, engine = committed
    db = Database(engine)
    assert queue_samples(db, MESSAGES) == MESSAGES
    refused = {f"sample-{n}@example.org" for n in range(0, MESSAGES, REFUSED_EVERY)}
    for address in refused:
        smtp.refuse(address)
    smtp.fail_next(TEMPORARY)
    smtp.slow(SLOW_SECONDS, SLOW_EVERY)
    smtp.drop(DROP_EVERY)
    env = sender_env(url, smtp, PARTNERPROJEKTE_MAIL__BATCH_SIZE="50")

    outage = threading.Event()

    def go_down_once() -> None:
        # While senders are at work: the server is gone for 30 s, then back on the same port.
        while len(smtp.messages) < OUTAGE_AFTER:
            time.sleep(0.02)
        smtp.stop()
        outage.set()
        time.sleep(OUTAGE_SECONDS)
        smtp.start()

    watcher = threading.Thread(target=go_down_once, daemon=True)
    watcher.start()
    started = time.monotonic()
    runs = 0
    while open_rows(db) and time.monotonic() - started < 400:
        result = deliver(env)
        runs += 1
        assert "Traceback" not in result.stderr, result.stderr[-2000:]
        time.sleep(0.2)
    seconds = time.monotonic() - started
    watcher.join(timeout=OUTAGE_SECONDS + 5)
    assert outage.is_set() and not watcher.is_alive()
    assert open_rows(db) == 0, "messages left behind"

    rows = expected_ids(db)
    seen = received_ids(smtp)
    duplicates = sum(n - 1 for n in seen.values())
    assert duplicates == 0, [m for m, n in seen.items() if n > 1][:5]
    assert set(seen) <= set(rows), "a message the outbox does not know"
    for message_id, row in rows.items():
        if row.recipient_email in refused:
            assert row.status == "dead" and message_id not in seen, (row.id, row.status)
            assert row.last_error and "550" in row.last_error and "Postfach existiert nicht" in row.last_error
        else:
            assert row.status == "sent" and seen[message_id] == 1, (row.id, row.status, row.last_error)
    attempts = [r.attempts for r in rows.values()]
    figures = (
        f"{MESSAGES} Nachrichten, {len(seen)} zugestellt je genau einmal, {len(refused)} tot (550), "
        f"0 doppelt; {TEMPORARY} × 451, {smtp.dropped} Abbrüche in DATA, je 37. langsam "
        f"({SLOW_SECONDS} s), {OUTAGE_SECONDS:.0f} s Ausfall; {runs} Sender-Läufe, Versuche je Nachricht "
        f"max. {max(attempts)}, Summe {sum(attempts)}; {seconds:.0f} s"
    )
    record_property("figures", figures)
    print(figures)


KILLS = 12


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_killed_sender_loses_nothing_and_repeats_at_most_its_claimed_batch(
    committed: tuple[str, Engine], smtp: SmtpSink, tmp_path: Path, record_property: pytest.RecordProperty
) -> None:
    url, engine = committed
    db = Database(engine)
    count, batch = 400, 25
    assert queue_samples(db, count) == count
    smtp.slow(0.05, 1)  # every message takes a moment: the kills land in the middle of batches
    env = sender_env(
        url,
        smtp,
        PARTNERPROJEKTE_MAIL__BATCH_SIZE=str(batch),
        PARTNERPROJEKTE_MAIL__SENDING_TIMEOUT_SECONDS="3",
    )
    rng = random.Random(4)
    kills = 0
    started = time.monotonic()
    while kills < KILLS and open_rows(db):
        with subprocess.Popen(
            [CLI, "outbox", "deliver"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ) as proc:
            time.sleep(rng.uniform(1.0, 3.0))  # the interpreter needs about a second to start
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                kills += 1
            proc.wait(timeout=30)
    assert kills >= KILLS // 2, "the sender finished before it could be killed"
    # Restarted: rows the killed senders left in 'sending' are taken up again after the sending timeout.
    while open_rows(db) and time.monotonic() - started < 400:
        result = deliver(env)
        assert "Traceback" not in result.stderr, result.stderr[-2000:]
        time.sleep(0.5)
    assert open_rows(db) == 0
    rows = expected_ids(db)
    seen = received_ids(smtp)
    assert set(seen) == set(rows), "a message was lost"
    assert all(r.status == "sent" for r in rows.values())
    duplicates = sum(n - 1 for n in seen.values())
    # In flight is what a sender has claimed and not yet recorded: at most one batch per kill.
    assert duplicates <= kills * batch, duplicates
    figures = (
        f"{count} Nachrichten, {kills} SIGKILL des Senders, 0 verloren, {duplicates} doppelt "
        f"(Grenze {kills} × Charge {batch} = {kills * batch}), {time.monotonic() - started:.0f} s"
    )
    record_property("figures", figures)
    print(figures)
