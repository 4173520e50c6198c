"""Mail transports: SMTP through aiosmtplib (one reused connection per worker), or ``.eml`` files.

A transport takes a batch of messages and returns one ``SendResult`` per message, in order: sent (with
the recipients the server accepted), retry (4xx, connection trouble, timeouts) or dead (5xx, with the
server's reason). It never raises for a single message's failure.

An item of a batch is a message or a function that builds it (rendering its templates): the SMTP
transport builds each message in the worker that sends it, so that building one overlaps with waiting
for the server's answers on the other connections. A builder that cannot build returns the message's
result instead.
"""

from __future__ import annotations

import asyncio
import functools
import os
import re
import socket
import tempfile
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from partnerprojekte.config import MailSettings
from partnerprojekte.notifications.message import OutgoingMessage

if TYPE_CHECKING:
    import aiosmtplib


class SendStatus(StrEnum):
    """What became of one message."""

    SENT = "sent"
    RETRY = "retry"
    DEAD = "dead"


@dataclass(frozen=True, slots=True)
class SendResult:
    """The outcome of one message: accepted recipients, refused ones with the server's answer, an error."""

    status: SendStatus
    accepted: tuple[str, ...] = ()
    refused: dict[str, str] = field(default_factory=dict)
    error: str | None = None


# A message, or what builds it when it is its turn (returns a result instead when it cannot).
Item = OutgoingMessage | Callable[[], "OutgoingMessage | SendResult"]


class Transport(Protocol):
    """Something that delivers a batch of messages."""

    name: str

    async def send_batch(self, messages: Sequence[Item]) -> list[SendResult]:
        """Deliver the messages; one result per message, in the same order."""
        ...


def _retry(error: str) -> SendResult:
    return SendResult(SendStatus.RETRY, error=error)


def _message_of(item: Item) -> OutgoingMessage | SendResult:
    """The message of an item, or its result if it cannot be built (an unexpected error is retried later)."""
    if isinstance(item, OutgoingMessage):
        return item
    try:
        return item()
    except Exception as exc:  # one message's bug must not cost the batch its results
        return _retry(
            f"Unerwarteter Fehler beim Aufbau der Nachricht: {type(exc).__name__}: {_describe(exc)}"
        )


# --- file transport ---------------------------------------------------------------------------------

_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._@+-]")


class FileTransport:
    """Writes each message as an ``.eml`` file (the embedded default when no SMTP host is configured)."""

    name = "file"

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path_for(self, message: OutgoingMessage) -> Path:
        """The file of a message, named after its Message-ID (the same message always lands in one file)."""
        return self.folder / (_UNSAFE_FILENAME.sub("_", message.message_id.strip("<>")) + ".eml")

    async def send_batch(self, messages: Sequence[Item]) -> list[SendResult]:
        """Write every message; a failing disk is a temporary failure."""
        results = []
        for item in messages:
            message = _message_of(item)
            if isinstance(message, SendResult):
                results.append(message)
                continue
            try:
                self._write(message)
            except OSError as exc:
                results.append(_retry(f"Datei nicht geschrieben ({self.folder}): {exc.strerror or exc}"))
            else:
                results.append(SendResult(SendStatus.SENT, accepted=message.recipients))
        return results

    def _write(self, message: OutgoingMessage) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.path_for(message)
        # Write a temporary file in the same folder and rename it: a reader never sees half a message.
        fd, temp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-", suffix=".eml")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(message.data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise


# --- SMTP transport ---------------------------------------------------------------------------------


@functools.cache
def _local_hostname() -> str:
    # aiosmtplib would call getfqdn() (a DNS lookup) for every connection; once per process is enough.
    return socket.getfqdn()


def _reply(code: int, message: str) -> str:
    return f"{code} {' '.join(message.split())}".strip()


class SmtpTransport:
    """SMTP via aiosmtplib: ``max_concurrency`` connections, each reused for many messages."""

    name = "smtp"

    def __init__(self, settings: MailSettings, *, reuse_connections: bool = True) -> None:
        if not settings.smtp_host:
            raise ValueError("SmtpTransport braucht mail.smtp_host")
        self.settings = settings
        # False: one connection per message (only to measure what reuse gains).
        self.reuse_connections = reuse_connections

    async def send_batch(self, messages: Sequence[Item]) -> list[SendResult]:
        """Send the batch over up to ``max_concurrency`` connections."""
        batch = _Batch(deque(enumerate(messages)), [None] * len(messages))
        workers = min(self.settings.max_concurrency, len(messages))
        await asyncio.gather(*(self._worker(batch) for _ in range(workers)))
        return [r if r is not None else _retry("nicht versucht") for r in batch.results]

    async def _worker(self, batch: _Batch) -> None:
        smtp: aiosmtplib.SMTP | None = None
        try:
            while batch.queue:
                index, item = batch.queue.popleft()
                if batch.down:
                    batch.results[index] = _retry(batch.down)
                    continue
                message = _message_of(item)
                if isinstance(message, SendResult):
                    batch.results[index] = message
                    continue
                try:
                    result, smtp = await self._send(smtp, message, batch)
                except Exception as exc:  # one odd failure must not cost the whole batch its results
                    result = _retry(f"Unerwarteter Fehler beim Senden: {_describe(exc)}")
                    self._drop(smtp, batch)
                    smtp = None
                if result is None:
                    # No connection for this worker, but others have one: they take the message.
                    batch.queue.appendleft((index, message))
                    return
                batch.results[index] = result
                if not self.reuse_connections and smtp is not None:
                    await self._close(smtp, batch)
                    smtp = None
        finally:
            if smtp is not None:
                await self._close(smtp, batch)

    async def _connect(self, batch: _Batch) -> aiosmtplib.SMTP:
        import aiosmtplib

        s = self.settings
        smtp = aiosmtplib.SMTP(
            hostname=s.smtp_host,
            port=s.smtp_port,
            use_tls=s.smtp_security == "tls",
            # "none" means none: no opportunistic STARTTLS either.
            start_tls=s.smtp_security == "starttls",
            timeout=s.timeout_seconds,
            local_hostname=_local_hostname(),
            username=s.smtp_username,
            password=s.smtp_password.get_secret_value() if s.smtp_password else None,
        )
        await smtp.connect()
        batch.connections.add(smtp)
        return smtp

    def _drop(self, smtp: aiosmtplib.SMTP | None, batch: _Batch) -> None:
        """Close a connection that is no longer usable, without a goodbye."""
        if smtp is not None:
            batch.connections.discard(smtp)
            smtp.close()

    async def _close(self, smtp: aiosmtplib.SMTP, batch: _Batch) -> None:
        """End a connection politely (QUIT), or drop it."""
        import aiosmtplib

        batch.connections.discard(smtp)
        try:
            await smtp.quit()
        except (aiosmtplib.SMTPException, OSError, TimeoutError):
            smtp.close()

    async def _send(
        self, smtp: aiosmtplib.SMTP | None, message: OutgoingMessage, batch: _Batch
    ) -> tuple[SendResult | None, aiosmtplib.SMTP | None]:
        """Send one message, reconnecting once if a reused connection turns out to be closed.

        The result is None when this worker gets no connection while others have one (a server that
        limits connections per client): the message goes back to the queue for them.
        """
        import aiosmtplib

        for attempt in (1, 2):
            fresh = smtp is None
            if smtp is None:
                try:
                    smtp = await self._connect(batch)
                except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
                    if batch.connections:
                        return None, None
                    # Connect, STARTTLS and login failures concern the server, not this message. The
                    # rest of the batch is retried later instead of each waiting out its own timeout.
                    server = f"{self.settings.smtp_host}:{self.settings.smtp_port}"
                    batch.down = f"SMTP-Server {server} nicht erreichbar: {_describe(exc)}"
                    return _retry(batch.down), None
            try:
                refused, _ = await smtp.sendmail(message.sender, list(message.recipients), message.data)
            except aiosmtplib.SMTPRecipientsRefused as exc:
                return _classify({r.recipient: (r.code, r.message) for r in exc.recipients}, ()), smtp
            except (
                aiosmtplib.SMTPServerDisconnected,
                aiosmtplib.SMTPTimeoutError,
                OSError,
                TimeoutError,
            ) as exc:
                self._drop(smtp, batch)
                smtp = None
                if attempt == 1 and not fresh:
                    continue  # the server may have closed an idle or used-up connection: try a new one
                return _retry(f"Verbindung abgebrochen: {_describe(exc)}"), None
            except aiosmtplib.SMTPResponseException as exc:
                if exc.code == 421:
                    # "Service not available, closing channel": the connection is gone.
                    self._drop(smtp, batch)
                    smtp = None
                    if attempt == 1 and not fresh:
                        continue
                    if fresh and batch.connections:
                        return None, None  # too many connections for this server: the others go on
                    return _retry(_reply(exc.code, exc.message)), None
                status = SendStatus.DEAD if 500 <= exc.code < 600 else SendStatus.RETRY
                return SendResult(status, error=_reply(exc.code, exc.message)), smtp
            except aiosmtplib.SMTPException as exc:
                self._drop(smtp, batch)
                return _retry(f"SMTP-Fehler: {_describe(exc)}"), None
            except ValueError as exc:
                # aiosmtplib refuses an address it cannot send safely; it never will.
                return SendResult(SendStatus.DEAD, error=f"Adresse abgelehnt: {exc}"), smtp
            accepted = tuple(r for r in message.recipients if r not in refused)
            return _classify({r: (v.code, v.message) for r, v in refused.items()}, accepted), smtp
        raise AssertionError("unreachable")


@dataclass
class _Batch:
    """What the workers of one batch share (they run in one event loop: no locks needed)."""

    queue: deque[tuple[int, Item]]
    results: list[SendResult | None]
    # The connections open right now, and why the server is out of reach (then nobody tries again).
    connections: set[aiosmtplib.SMTP] = field(default_factory=set)
    down: str | None = None


def _classify(refused: dict[str, tuple[int, str]], accepted: tuple[str, ...]) -> SendResult:
    """All accepted: sent. Some refused: retry if any refusal is temporary (4xx), else dead.

    The result keeps the accepted recipients, so a retry goes only to those still missing.
    """
    if not refused:
        return SendResult(SendStatus.SENT, accepted=accepted)
    answers = {r: _reply(code, text) for r, (code, text) in refused.items()}
    temporary = any(code < 500 for code, _ in refused.values())
    error = "; ".join(f"{r}: {answer}" for r, answer in answers.items())
    status = SendStatus.RETRY if temporary else SendStatus.DEAD
    return SendResult(status, accepted=accepted, refused=answers, error=error)


def _describe(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return " ".join(text.split())


def transport_for(settings: MailSettings, outbox_dir: Path) -> Transport:
    """SMTP when a host is configured, otherwise ``.eml`` files in the outbox folder."""
    if settings.smtp_host:
        return SmtpTransport(settings)
    return FileTransport(outbox_dir)
