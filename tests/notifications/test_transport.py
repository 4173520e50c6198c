"""Transports against a real SMTP server (aiosmtpd) and a real folder."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

from partnerprojekte.config import Settings
from partnerprojekte.notifications.message import MessageBuilder, OutgoingMessage, as_email_message
from partnerprojekte.notifications.render import render
from partnerprojekte.notifications.samples import sample_context
from partnerprojekte.notifications.transport import FileTransport, Item, SendResult, SendStatus, SmtpTransport
from tests.notifications.conftest import mail_settings_for
from tests.smtp_server import SmtpSink

WHEN = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)


def messages(settings: Settings, count: int, *, to: list[str] | None = None) -> list[OutgoingMessage]:
    builder = MessageBuilder(settings.mail.sender)
    mail = render("take_up.partner", sample_context("take_up.partner"), recipient_name="K", settings=settings)
    return [
        builder.build(
            mail,
            to=[(None, address) for address in (to or [f"p{i}@example.org"])],
            message_id=builder.message_id(i, f"key-{i}"),
            date=WHEN,
        )
        for i in range(1, count + 1)
    ]


def test_smtp_sends_a_batch_over_few_reused_connections(smtp: SmtpSink) -> None:
    settings = mail_settings_for(smtp, max_concurrency=2)
    results = asyncio.run(SmtpTransport(settings.mail).send_batch(messages(settings, 12)))
    assert [r.status for r in results] == [SendStatus.SENT] * 12
    assert results[0].accepted == ("p1@example.org",)
    assert len(smtp.messages) == 12
    assert smtp.connections == 2
    assert sorted(r for m in smtp.messages for r in m.rcpt_tos) == sorted(
        f"p{i}@example.org" for i in range(1, 13)
    )


def test_a_server_that_limits_connections_gets_the_batch_over_the_ones_it_allows(smtp: SmtpSink) -> None:
    settings = mail_settings_for(smtp, max_concurrency=4)
    smtp.limit_sessions(2)
    results = asyncio.run(SmtpTransport(settings.mail).send_batch(messages(settings, 12)))
    assert [r.status for r in results] == [SendStatus.SENT] * 12
    assert len(smtp.messages) == 12


def test_smtp_without_reuse_opens_one_connection_per_message(smtp: SmtpSink) -> None:
    settings = mail_settings_for(smtp, max_concurrency=2)
    transport = SmtpTransport(settings.mail, reuse_connections=False)
    results = asyncio.run(transport.send_batch(messages(settings, 5)))
    assert all(r.status is SendStatus.SENT for r in results)
    assert smtp.connections == 5


def test_smtp_builds_each_message_when_a_worker_takes_it(smtp: SmtpSink) -> None:
    # Built on demand, not all before the first is sent: building overlaps with the server's answers.
    settings = mail_settings_for(smtp, max_concurrency=1)
    batch = messages(settings, 5)
    delivered_before: list[int] = []

    def item(message: OutgoingMessage) -> Item:
        def make() -> OutgoingMessage:
            delivered_before.append(len(smtp.messages))
            return message

        return make

    results = asyncio.run(SmtpTransport(settings.mail).send_batch([item(m) for m in batch]))
    assert [r.status for r in results] == [SendStatus.SENT] * 5
    assert delivered_before == [0, 1, 2, 3, 4]


def broken() -> OutgoingMessage:
    raise RuntimeError("Filter kaputt")


def test_an_item_that_cannot_be_built_gets_its_own_result_and_the_others_go_out(
    smtp: SmtpSink, tmp_path: Path
) -> None:
    settings = mail_settings_for(smtp, max_concurrency=2)
    first, last = messages(settings, 2)
    dead = SendResult(SendStatus.DEAD, error="Adresse ungültig")
    batch: list[Item] = [first, lambda: dead, broken, last]
    for transport in (SmtpTransport(settings.mail), FileTransport(tmp_path / "mail")):
        results = asyncio.run(transport.send_batch(batch))
        assert [r.status for r in results] == [
            SendStatus.SENT,
            SendStatus.DEAD,
            SendStatus.RETRY,
            SendStatus.SENT,
        ], transport.name
        assert results[1] is dead
        assert results[2].error == (
            "Unerwarteter Fehler beim Aufbau der Nachricht: RuntimeError: Filter kaputt"
        )
    assert sorted(r for m in smtp.messages for r in m.rcpt_tos) == ["p1@example.org", "p2@example.org"]
    assert len(list((tmp_path / "mail").iterdir())) == 2


def test_smtp_sorts_temporary_and_permanent_failures(smtp: SmtpSink) -> None:
    settings = mail_settings_for(smtp, max_concurrency=1)
    smtp.fail_next(1)
    smtp.refuse("p3@example.org")
    results = asyncio.run(SmtpTransport(settings.mail).send_batch(messages(settings, 4)))
    assert [r.status for r in results] == [
        SendStatus.RETRY,
        SendStatus.SENT,
        SendStatus.DEAD,
        SendStatus.SENT,
    ]
    assert results[0].error == "451 4.3.0 Bitte später erneut versuchen"
    assert results[2].error == "p3@example.org: 550 5.1.1 Postfach existiert nicht"
    assert results[2].refused == {"p3@example.org": "550 5.1.1 Postfach existiert nicht"}
    assert [m.rcpt_tos for m in smtp.messages] == [("p2@example.org",), ("p4@example.org",)]


def test_one_recipient_refused_of_two_is_reported_with_the_accepted_one(smtp: SmtpSink) -> None:
    settings = mail_settings_for(smtp)
    smtp.refuse("b@example.org")
    [result] = asyncio.run(
        SmtpTransport(settings.mail).send_batch(messages(settings, 1, to=["a@example.org", "b@example.org"]))
    )
    # aiosmtplib returns normally when one recipient was accepted; the refusal is not lost.
    assert result.status is SendStatus.DEAD
    assert result.accepted == ("a@example.org",)
    assert result.refused == {"b@example.org": "550 5.1.1 Postfach existiert nicht"}
    assert [m.rcpt_tos for m in smtp.messages] == [("a@example.org",)]


def test_a_server_that_is_down_makes_every_message_a_retry_quickly(smtp: SmtpSink) -> None:
    settings = mail_settings_for(smtp, max_concurrency=3)
    smtp.stop()
    results = asyncio.run(SmtpTransport(settings.mail).send_batch(messages(settings, 20)))
    assert {r.status for r in results} == {SendStatus.RETRY}
    assert all("nicht erreichbar" in (r.error or "") for r in results)


def test_file_transport_writes_one_parseable_eml_per_message_atomically(tmp_path: Path) -> None:
    settings = Settings()
    folder = tmp_path / "mail"
    transport = FileTransport(folder)
    batch = messages(settings, 3)
    results = asyncio.run(transport.send_batch(batch))
    assert all(r.status is SendStatus.SENT for r in results)
    files = sorted(folder.iterdir())
    assert [f.name for f in files] == sorted(transport.path_for(m).name for m in batch)
    assert all(f.name.startswith("outbox-") and f.suffix == ".eml" for f in files)
    for path, message in zip(
        sorted(files), sorted(batch, key=lambda m: transport.path_for(m).name), strict=True
    ):
        parsed = as_email_message(path.read_bytes())
        assert parsed["Message-ID"] == message.message_id
        assert parsed["Subject"].startswith("[PP-0007] Ihr Vorschlag wird bearbeitet")
    # The same message again replaces its file; no temporary files stay behind.
    asyncio.run(transport.send_batch(batch))
    assert len(list(folder.iterdir())) == 3


def test_file_transport_reports_a_folder_it_cannot_write_as_retry(tmp_path: Path) -> None:
    blocker = tmp_path / "datei"
    blocker.write_text("kein Ordner")
    [result] = asyncio.run(FileTransport(blocker / "mail").send_batch(messages(Settings(), 1)))
    assert result.status is SendStatus.RETRY
    assert "Datei nicht geschrieben" in (result.error or "")
