"""Delivery of the outbox: claim due rows, render and send them, record each result.

This module is the edge that wires the database (``db``) to ``notifications``, which know nothing of
each other. A row goes ``pending`` → ``sending`` (claimed in one short transaction, committed before
anything is sent) → ``sent``, back to ``pending`` with a later ``next_attempt_at`` (temporary failure),
or ``dead`` (a 5xx answer, an address no server takes, or ``max_attempts`` used up, e.g. by a broken
template). ``suppressed`` rows (replayed history) are never sent. Delivery is at least once: a sender
that dies after sending but before recording leaves its rows in ``sending``; they are taken up again after
``sending_timeout_seconds`` and carry the same Message-ID, so a receiving system can recognise the
duplicate.

Longer than 400 lines on purpose: claiming, sending, retrying and dead-lettering are the life of one
outbox row; split up, its transitions would be scattered.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import functools
import os
import random
import socket
import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, or_, select, update

from partnerprojekte.config import Settings
from partnerprojekte.db import outbox
from partnerprojekte.db.engine import Database
from partnerprojekte.db.schema import OutboxRow, ProposalRow
from partnerprojekte.errors import FieldError, NotFound, ValidationError
from partnerprojekte.ids import format_id
from partnerprojekte.notifications.kinds import (
    ACCOUNT_KINDS,
    KINDS,
    SECRET_CONTEXT_KEYS,
    audience_of,
    is_digest,
)
from partnerprojekte.notifications.message import InvalidAddress, MessageBuilder, OutgoingMessage
from partnerprojekte.notifications.render import TemplateError, UnknownKind, environment, render
from partnerprojekte.notifications.samples import sample_context, sample_recipient
from partnerprojekte.notifications.transport import SendResult, SendStatus, Transport, transport_for

OUTBOX_STATUSES: dict[str, str] = {
    "pending": "wartet auf Versand",
    "sending": "wird gerade versandt",
    "sent": "versandt",
    "dead": "unzustellbar",
    "suppressed": "unterdrückt (nur Historie, wird nie versandt)",
}
# Retries back off exponentially, but never wait longer than this between two attempts.
MAX_BACKOFF = dt.timedelta(hours=6)
ERROR_MAX_CHARS = 2000
MAX_REPORTED_ERRORS = 5

_OUTBOX = cast(Table, OutboxRow.__table__)


class NotRetryable(ValidationError):
    """Only a dead (undeliverable) notification can be sent again by hand."""


@dataclass
class DeliveryReport:
    """What one delivery run did."""

    transport: str
    worker: str
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    dead: int = 0
    batches: int = 0
    seconds: float = 0.0
    # The distinct errors of this run (a few), so that an operator sees why at once.
    errors: list[str] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        """Messages handled per second (sent, retried or dead)."""
        return self.claimed / self.seconds if self.seconds > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        """English keys, for ``outbox deliver --json`` and the flows."""
        return {**asdict(self), "seconds": round(self.seconds, 3), "per_second": round(self.per_second, 1)}


@dataclass(frozen=True, slots=True)
class Claimed:
    """An outbox row claimed for sending, detached from its session."""

    id: int
    idempotency_key: str
    kind: str
    recipient_email: str
    recipient_name: str | None
    context: dict[str, Any]
    attempts: int


@dataclass(frozen=True, slots=True)
class _Outcome:
    job: Claimed
    result: SendResult
    message_id: str | None


def default_worker() -> str:
    """Who claims rows: host, process and a random part (several senders may share a process)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def deliver_pending(
    db: Database,
    settings: Settings,
    *,
    transport: Transport | None = None,
    now: dt.datetime | None = None,
    limit: int | None = None,
    worker: str | None = None,
) -> DeliveryReport:
    """Send every due outbox row (at most ``limit``) in batches of ``mail.batch_size``; blocking."""

    def run() -> DeliveryReport:
        return asyncio.run(
            deliver_pending_async(db, settings, transport=transport, now=now, limit=limit, worker=worker)
        )

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return run()
    # Called inside a running event loop (an async caller, a Prefect task run): asyncio.run() cannot
    # nest, so the delivery gets its own loop on a helper thread while this call waits for it.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="deliver") as pool:
        return pool.submit(run).result()


async def deliver_pending_async(
    db: Database,
    settings: Settings,
    *,
    transport: Transport | None = None,
    now: dt.datetime | None = None,
    limit: int | None = None,
    worker: str | None = None,
) -> DeliveryReport:
    """``deliver_pending`` for callers that already run an event loop (e.g. an async Prefect flow)."""
    builder = check_mail_settings(settings)
    transport = transport or transport_for(settings.mail, settings.resolved_outbox_dir())
    report = DeliveryReport(transport=transport.name, worker=(worker or default_worker())[:100])
    started = time.perf_counter()
    remaining = limit
    while remaining is None or remaining > 0:
        size = settings.mail.batch_size if remaining is None else min(settings.mail.batch_size, remaining)
        # The database work runs on a thread: a caller's event loop is not blocked by it.
        jobs = await asyncio.to_thread(
            claim, db, settings, now=now or db.clock(), limit=size, worker=report.worker
        )
        if not jobs:
            break
        report.batches += 1
        report.claimed += len(jobs)
        outcomes = await _send(jobs, settings, builder, transport, now or db.clock())
        await asyncio.to_thread(
            _record, db, settings, outcomes, now=now or db.clock(), worker=report.worker, report=report
        )
        if remaining is not None:
            remaining -= len(jobs)
        if len(jobs) < size:
            break
    report.seconds = time.perf_counter() - started
    return report


def check_mail_settings(settings: Settings) -> MessageBuilder:
    """Refuse a broken mail configuration before any row is claimed (it must not cost rows attempts)."""
    try:
        builder = MessageBuilder(settings.mail.sender)
    except InvalidAddress:
        raise ValidationError(
            FieldError("mail.sender", f"„{settings.mail.sender}“ ist keine gültige Absenderadresse.")
        ) from None
    # A configured template folder that does not exist raises TemplateError here, not per message.
    environment(settings.mail.template_dir, settings.timezone, settings.mail.base_url.rstrip("/"))
    return builder


def claim(db: Database, settings: Settings, *, now: dt.datetime, limit: int, worker: str) -> list[Claimed]:
    """Mark up to ``limit`` due rows as ``sending`` for this worker and return them (one short transaction).

    Due: ``pending`` with ``next_attempt_at <= now``, or ``sending`` for longer than the sending timeout
    (its sender crashed). PostgreSQL skips rows another sender is claiming right now (``FOR UPDATE SKIP
    LOCKED``); SQLite's write transaction (``BEGIN IMMEDIATE``) lets one sender claim at a time.
    """
    t = _OUTBOX
    stale = now - dt.timedelta(seconds=settings.mail.sending_timeout_seconds)
    due = or_(
        and_(t.c.status == "pending", t.c.next_attempt_at <= now),
        and_(t.c.status == "sending", or_(t.c.claimed_at.is_(None), t.c.claimed_at < stale)),
    )
    query = select(t.c.id).where(due).order_by(t.c.next_attempt_at, t.c.id).limit(limit)
    if db.is_postgres:
        query = query.with_for_update(skip_locked=True)
    with db.write() as s:
        ids = list(s.scalars(query))
        if not ids:
            return []
        rows = s.execute(
            update(t)
            .where(t.c.id.in_(ids))
            .values(status="sending", claimed_at=now, claimed_by=worker)
            .returning(
                t.c.id,
                t.c.idempotency_key,
                t.c.kind,
                t.c.recipient_email,
                t.c.recipient_name,
                t.c.context,
                t.c.attempts,
            )
        ).all()
    return sorted((Claimed(*row) for row in rows), key=lambda j: j.id)


async def _send(
    jobs: list[Claimed], settings: Settings, builder: MessageBuilder, transport: Transport, now: dt.datetime
) -> list[_Outcome]:
    """Send every row's message (rendered and built when the transport takes it), pair rows and results."""
    built: dict[int, str] = {}  # row id → Message-ID of the messages that could be built

    def build(job: Claimed) -> OutgoingMessage | SendResult:
        try:
            mail = render(job.kind, job.context, recipient_name=job.recipient_name, settings=settings)
            message = builder.build(
                mail,
                to=[(job.recipient_name, job.recipient_email)],
                message_id=builder.message_id(job.id, job.idempotency_key),
                date=now,
                kind=job.kind,
                outbox_id=job.id,
            )
        except TemplateError as exc:
            # A broken or incomplete template (e.g. an override being edited): retried with backoff, so
            # the message goes out by itself once the template is fixed; dead after max_attempts.
            return SendResult(SendStatus.RETRY, error=str(exc))
        except (UnknownKind, InvalidAddress) as exc:
            # Waiting cannot help a kind without templates or an address no server accepts: dead at once.
            return SendResult(SendStatus.DEAD, error=str(exc))
        built[job.id] = message.message_id
        return message

    results = await transport.send_batch([functools.partial(build, job) for job in jobs])
    return [_Outcome(job, result, built.get(job.id)) for job, result in zip(jobs, results, strict=True)]


def backoff(attempts: int, base_seconds: float, rng: random.Random | None = None) -> dt.timedelta:
    """Wait before the next attempt: base · 2^attempts · a random factor in [0.5, 1.5], at most 6 hours."""
    # The jitter spreads retries of a whole batch, so a recovering server is not hit by all at once.
    factor = (rng or _RNG).uniform(0.5, 1.5)
    seconds = base_seconds * (2 ** min(attempts, 30)) * factor
    return min(dt.timedelta(seconds=seconds), MAX_BACKOFF)


_RNG = random.Random()  # noqa: S311 - jitter, not cryptography


def _record(
    db: Database,
    settings: Settings,
    outcomes: list[_Outcome],
    *,
    now: dt.datetime,
    worker: str,
    report: DeliveryReport,
) -> None:
    """Store every result in one transaction."""
    t = _OUTBOX
    sent: list[dict[str, Any]] = []
    retried: list[dict[str, Any]] = []
    dead: list[dict[str, Any]] = []
    for o in outcomes:
        attempts = o.job.attempts + 1
        error = (o.result.error or "")[:ERROR_MAX_CHARS] or None
        if o.result.status is SendStatus.SENT:
            sent.append({"b_id": o.job.id, "b_at": now, "b_message_id": o.message_id})
        elif o.result.status is SendStatus.RETRY and attempts < settings.mail.max_attempts:
            wait = backoff(o.job.attempts, settings.mail.retry_base_seconds)
            retried.append({"b_id": o.job.id, "b_next": now + wait, "b_error": error})
        else:
            if o.result.status is SendStatus.RETRY:
                error = f"Nach {attempts} Versuchen aufgegeben: {error}"[:ERROR_MAX_CHARS]
            dead.append({"b_id": o.job.id, "b_error": error, "b_message_id": o.message_id})
    mine = and_(t.c.id == bindparam("b_id"), t.c.status == "sending", t.c.claimed_by == worker)
    with db.write() as s:
        if sent:
            # A sent message is recorded even if another sender took the row over meanwhile: it is true.
            s.execute(
                update(t)
                .where(t.c.id == bindparam("b_id"), t.c.status == "sending")
                .values(
                    status="sent",
                    sent_at=bindparam("b_at"),
                    message_id=bindparam("b_message_id"),
                    attempts=t.c.attempts + 1,
                ),
                sent,
            )
        if retried:
            s.execute(
                update(t)
                .where(mine)
                .values(
                    status="pending",
                    attempts=t.c.attempts + 1,
                    next_attempt_at=bindparam("b_next"),
                    last_error=bindparam("b_error"),
                ),
                retried,
            )
        if dead:
            s.execute(
                update(t)
                .where(mine)
                .values(
                    status="dead",
                    attempts=t.c.attempts + 1,
                    last_error=bindparam("b_error"),
                    message_id=bindparam("b_message_id"),
                ),
                dead,
            )
        # An activation link is a secret: once its message is sent (or given up), the outbox keeps none.
        # Only the hash stays, in activation_links; a dead one's person needs a new link anyway.
        done = {int(p["b_id"]) for p in sent + dead}
        redact = [
            {"b_id": o.job.id, "b_context": _redacted(o.job.context)}
            for o in outcomes
            if o.job.kind in ACCOUNT_KINDS and o.job.id in done
        ]
        if redact:
            s.execute(
                update(t)
                .where(t.c.id == bindparam("b_id"))
                .values(context=bindparam("b_context", type_=t.c.context.type)),
                redact,
            )
    report.sent += len(sent)
    report.retried += len(retried)
    report.dead += len(dead)
    for o in outcomes:
        if (
            o.result.error
            and o.result.error not in report.errors
            and len(report.errors) < MAX_REPORTED_ERRORS
        ):
            report.errors.append(o.result.error)


def _redacted(context: dict[str, Any]) -> dict[str, Any]:
    return {**context, **dict.fromkeys(SECRET_CONTEXT_KEYS, None), "redacted": True}


# --- operator views: list, retry, preview -----------------------------------------------------------


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def _row_json(row: OutboxRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "proposal": format_id(row.proposal_id) if row.proposal_id else None,
        "kind": row.kind,
        "recipient_email": row.recipient_email,
        "recipient_name": row.recipient_name,
        "status": row.status,
        "attempts": row.attempts,
        "next_attempt_at": _iso(row.next_attempt_at),
        "created_at": _iso(row.created_at),
        "sent_at": _iso(row.sent_at),
        "last_error": row.last_error,
        "message_id": row.message_id,
        "claimed_by": row.claimed_by,
    }


def check_status(status: str) -> str:
    """A known outbox status (case and blanks ignored), or a German ``ValidationError``."""
    value = status.strip().lower()
    if value not in OUTBOX_STATUSES:
        allowed = ", ".join(OUTBOX_STATUSES)
        raise ValidationError(FieldError("status", f"unbekannter Status „{status}“ – erlaubt: {allowed}."))
    return value


def list_outbox(db: Database, status: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """The newest outbox rows first, optionally of one status."""
    query = select(OutboxRow).order_by(OutboxRow.id.desc()).limit(limit)
    if status is not None:
        query = query.where(OutboxRow.status == check_status(status))
    with db.read() as s:
        return [_row_json(row) for row in s.scalars(query)]


def retry(db: Database, outbox_id: int) -> dict[str, Any]:
    """Put a dead notification back in the queue (due now; its attempts are kept)."""
    with db.write() as s:
        row = s.get(OutboxRow, outbox_id)
        if row is None:
            raise NotFound(f"Benachrichtigung Nr. {outbox_id} gibt es nicht.")
        if row.status != "dead":
            raise NotRetryable(
                FieldError(
                    "ID",
                    f"Benachrichtigung Nr. {outbox_id} ist „{OUTBOX_STATUSES.get(row.status, row.status)}“; "
                    "erneut senden lässt sich nur eine unzustellbare (dead).",
                )
            )
        row.status = "pending"
        row.next_attempt_at = db.clock()
        row.claimed_at = None
        row.claimed_by = None
        s.flush()
        return _row_json(row)


def queue_samples(db: Database, count: int, *, domain: str = "example.org", prefix: str = "sample") -> int:
    """Queue ``count`` sample notifications of every kind in turn (for benchmarks and trial runs).

    Each goes to a distinct address ``<prefix>-<n>@<domain>``, is due now and has no proposal; a second
    call with the same prefix adds nothing (the idempotency keys repeat).
    """
    now = db.clock()
    rows = [
        outbox.pending_row(
            key=f"{prefix}:{n}:{kind}",
            kind=kind,
            recipient=outbox.Recipient(f"{prefix}-{n}@{domain}", sample_recipient(kind), audience_of(kind)),
            context=sample_context(kind),
            now=now,
        )
        for n, kind in ((n, KINDS[n % len(KINDS)]) for n in range(count))
    ]
    with db.write() as s:
        return len(outbox.insert_new(s, rows))


def preview_context(db: Database, kind: str, proposal_id: int) -> tuple[dict[str, Any], str | None]:
    """The context and recipient of a kind for a real proposal.

    The newest outbox row of that kind for the proposal, exactly as it would be sent; without one, the
    sample context filled with the proposal's current data.
    """
    if kind not in KINDS:
        raise UnknownKind(kind)
    if is_digest(kind):
        raise ValidationError(
            FieldError("proposal", "Eine Wochenübersicht gehört zu keinem einzelnen Vorschlag.")
        )
    with db.read() as s:
        stored = s.execute(
            select(OutboxRow.context, OutboxRow.recipient_name)
            .where(OutboxRow.proposal_id == proposal_id, OutboxRow.kind == kind)
            .order_by(OutboxRow.id.desc())
            .limit(1)
        ).first()
        if stored is not None:
            return dict(stored.context), stored.recipient_name
        row = s.get(ProposalRow, proposal_id)
        if row is None:
            raise NotFound(f"Vorschlag {format_id(proposal_id)} gibt es nicht.")
        context = sample_context(kind)
        context.update(
            proposal=format_id(row.id),
            proposal_id=row.id,
            title=row.title,
            organisation=row.organisation,
            status=row.status.value,
            ressort=row.responsible_ressort,
        )
        if "check" in context:
            context["check"] = row.check_result
        if "at" in context:
            context["at"] = row.status_since.isoformat()
        name = row.contact_name if audience_of(kind).value == "partner" else sample_recipient(kind)
        return context, name
