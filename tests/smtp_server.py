"""A real SMTP server for the tests (aiosmtpd on 127.0.0.1): records messages, fails on request, goes down."""

from __future__ import annotations

import asyncio
import socket
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from partnerprojekte.notifications.message import as_email_message


def free_port() -> int:
    """A port nobody listens on right now (aiosmtpd's Controller cannot bind port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Received:
    """One message as the server got it: envelope and the parsed message."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    message: EmailMessage

    @property
    def subject(self) -> str:
        """The decoded subject."""
        return str(self.message["Subject"])

    def part(self, subtype: str) -> str:
        """The decoded text of the ``text/<subtype>`` part (line ends as ``\\n``)."""
        for part in self.message.walk():
            if part.get_content_type() == f"text/{subtype}":
                return str(part.get_content()).replace("\r\n", "\n")
        raise KeyError(subtype)


@dataclass
class _Handler:
    """aiosmtpd handler; its state is shared with the test thread under a lock."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    received: list[Received] = field(default_factory=list)
    temporary_failures: int = 0
    temporary_reply: str = "451 4.3.0 Bitte später erneut versuchen"
    refused: dict[str, str] = field(default_factory=dict)
    sessions: int = 0
    session_limit: int | None = None
    # Chaos of the fault tests: every n-th DATA is answered only after a pause, or its connection dropped.
    data_seen: int = 0
    slow_every: int = 0
    slow_seconds: float = 0.0
    drop_every: int = 0
    dropped: int = 0

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        # One EHLO per connection (no STARTTLS here): counts the connections clients opened.
        with self.lock:
            self.sessions += 1
            refuse = self.session_limit is not None and self.sessions > self.session_limit
        if refuse:
            return ["421 4.7.0 Zu viele Verbindungen von Ihrem Rechner"]
        session.host_name = hostname
        return responses

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        with self.lock:
            reply = self.refused.get(address.lower())
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.data_seen += 1
            pause = self.slow_seconds if self.slow_every and self.data_seen % self.slow_every == 0 else 0.0
            drop = bool(self.drop_every) and self.data_seen % self.drop_every == 0
            if drop:
                self.dropped += 1
        if pause:
            await asyncio.sleep(pause)
        if drop:
            # The connection breaks before the server has taken the message: nothing is recorded, the
            # client sees no answer to its DATA.
            server.transport.abort()
            return "421 4.4.2 Verbindung abgebrochen"
        with self.lock:
            if self.temporary_failures > 0:
                self.temporary_failures -= 1
                return self.temporary_reply
            data = bytes(envelope.content)
            self.received.append(
                Received(envelope.mail_from, tuple(envelope.rcpt_tos), data, as_email_message(data))
            )
        return "250 2.0.0 Nachricht angenommen"


class SmtpSink:
    """An aiosmtpd server on 127.0.0.1 and a free port; ``stop()``/``start()`` keep the port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.handler = _Handler()
        self._controller: Controller | None = None

    def start(self) -> SmtpSink:
        """Listen (again)."""
        if self._controller is None:
            self._controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
            self._controller.start()
        return self

    def stop(self) -> None:
        """Stop listening: connections are refused until ``start()``."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    # --- what the tests tell the server ---

    def fail_next(self, count: int, reply: str = "451 4.3.0 Bitte später erneut versuchen") -> None:
        """Answer the next ``count`` messages (at DATA) with a temporary failure."""
        with self.handler.lock:
            self.handler.temporary_failures = count
            self.handler.temporary_reply = reply

    def refuse(self, recipient: str, reply: str = "550 5.1.1 Postfach existiert nicht") -> None:
        """Refuse this recipient at RCPT TO."""
        with self.handler.lock:
            self.handler.refused[recipient.lower()] = reply

    def slow(self, seconds: float, every: int) -> None:
        """Answer every ``every``-th message only after ``seconds`` (0 turns it off)."""
        with self.handler.lock:
            self.handler.slow_seconds, self.handler.slow_every = seconds, every

    def drop(self, every: int) -> None:
        """Break the connection at every ``every``-th message's DATA without taking it (0 turns it off)."""
        with self.handler.lock:
            self.handler.drop_every = every

    def limit_sessions(self, count: int) -> None:
        """Accept only the first ``count`` sessions; later ones get 421 (a per-client connection limit)."""
        with self.handler.lock:
            self.handler.session_limit = count

    # --- what the tests read ---

    @property
    def messages(self) -> list[Received]:
        """Every message received so far, in order."""
        with self.handler.lock:
            return list(self.handler.received)

    def to(self, address: str) -> list[Received]:
        """The messages delivered to one recipient."""
        return [m for m in self.messages if address.lower() in (r.lower() for r in m.rcpt_tos)]

    def subjects(self, address: str) -> list[str]:
        """The subjects that reached one recipient."""
        return [m.subject for m in self.to(address)]

    @property
    def dropped(self) -> int:
        """How many connections were broken at DATA."""
        with self.handler.lock:
            return self.handler.dropped

    @property
    def connections(self) -> int:
        """How many SMTP sessions clients have opened."""
        with self.handler.lock:
            return self.handler.sessions

    def clear(self) -> None:
        """Forget what was received."""
        with self.handler.lock:
            self.handler.received.clear()
