"""The sender on a real database (SQLite and PostgreSQL) and a real SMTP server: once, retried, or dead."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import update

from partnerprojekte.audience import Audience
from partnerprojekte.config import MailSettings, Settings
from partnerprojekte.db import outbox
from partnerprojekte.db.engine import Database
from partnerprojekte.db.schema import OutboxRow
from partnerprojekte.errors import NotFound, ValidationError
from partnerprojekte.ids import format_id
from partnerprojekte.mailing.delivery import (
    NotRetryable,
    backoff,
    deliver_pending,
    list_outbox,
    queue_samples,
    retry,
)
from partnerprojekte.model import Event
from partnerprojekte.notifications.message import as_email_message
from partnerprojekte.notifications.render import TemplateError
from partnerprojekte.services import Services
from partnerprojekte.states.workflow import EventInput
from tests.conftest import Clock
from tests.notifications.conftest import BASE_URL, mail_settings_for, outbox_rows, submit
from tests.people import MWIDE, MWIDE2, PARTNER, STAB, STAB2
from tests.smtp_server import SmtpSink

pytestmark = pytest.mark.usefixtures("people")

# Longest first wait after one failure: base (30 s) · 2^0 · 1.5.
FIRST_RETRY = dt.timedelta(seconds=46)


def statuses(db: Database, pid: int) -> dict[str, str]:
    return {f"{r.kind}:{r.recipient_email}": r.status for r in outbox_rows(db, pid)}


def test_submission_reaches_partner_and_arbeitsstab_exactly_once(
    services: Services, db: Database, smtp: SmtpSink, mail_settings: Settings
) -> None:
    pid = submit(services)
    report = deliver_pending(db, mail_settings)
    assert (report.claimed, report.sent, report.retried, report.dead) == (3, 3, 0, 0)
    [receipt] = smtp.to(PARTNER)
    assert (
        receipt.subject
        == f"[{format_id(pid)}] Eingangsbestätigung: KLIC.Ruhr – Kompetenzverbund Life-Sciences.Ruhr"
    )
    text = receipt.part("plain")
    assert text.startswith("Guten Tag Kai Kontakt,\n")
    assert "- Regionale Wirkung: erfüllt" in text
    assert f"{BASE_URL}/vorschlaege/{format_id(pid)}" in text
    assert receipt.message["To"] == f"Kai Kontakt <{PARTNER}>"
    assert receipt.message["From"] == mail_settings.mail.sender
    assert (
        smtp.subjects(STAB)
        == smtp.subjects(STAB2)
        == [
            f"[{format_id(pid)}] Neuer Vorschlag eingereicht: KLIC.Ruhr – Kompetenzverbund Life-Sciences.Ruhr"
        ]
    )
    rows = outbox_rows(db, pid)
    assert {r.status for r in rows} == {"sent"}
    assert all(r.attempts == 1 and r.sent_at == db.clock() for r in rows)
    assert [r.message_id for r in rows] == [m.message["Message-ID"] for m in smtp.messages]
    # Idempotent: nothing is due any more, a second run sends nothing.
    again = deliver_pending(db, mail_settings)
    assert again.claimed == 0 and len(smtp.messages) == 3


def test_html_part_arrives_escaped(
    services: Services, db: Database, smtp: SmtpSink, mail_settings: Settings
) -> None:
    submit(services, title="<script>alert(1)</script> Hackathon Ruhr")
    deliver_pending(db, mail_settings)
    [receipt] = smtp.to(PARTNER)
    html = receipt.part("html")
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Hackathon Ruhr" in html
    assert receipt.subject.endswith("Eingangsbestätigung: <script>alert(1)</script> Hackathon Ruhr")


def test_a_temporary_failure_is_retried_and_delivered_once(
    services: Services, db: Database, clock: Clock, smtp: SmtpSink, mail_settings: Settings
) -> None:
    pid = submit(services)
    smtp.fail_next(1)
    first = deliver_pending(db, mail_settings)
    assert (first.sent, first.retried) == (2, 1)
    [waiting] = [r for r in outbox_rows(db, pid) if r.status == "pending"]
    assert waiting.attempts == 1 and waiting.last_error == "451 4.3.0 Bitte später erneut versuchen"
    assert clock.now + dt.timedelta(seconds=15) <= waiting.next_attempt_at <= clock.now + FIRST_RETRY
    # Not due yet: nothing happens.
    assert deliver_pending(db, mail_settings).claimed == 0
    clock.advance(seconds=FIRST_RETRY.total_seconds())
    second = deliver_pending(db, mail_settings)
    assert (second.claimed, second.sent) == (1, 1)
    assert len(smtp.messages) == 3
    assert sorted(len(smtp.to(a)) for a in (PARTNER, STAB, STAB2)) == [1, 1, 1]
    [row] = [r for r in outbox_rows(db, pid) if r.id == waiting.id]
    assert row.status == "sent" and row.attempts == 2


def test_a_permanent_failure_is_dead_with_the_servers_reason(
    services: Services, db: Database, clock: Clock, smtp: SmtpSink, mail_settings: Settings
) -> None:
    pid = submit(services)
    smtp.refuse(PARTNER, "550 5.1.1 <kontakt@bio-security.example.de>: Recipient address rejected")
    report = deliver_pending(db, mail_settings)
    assert (report.sent, report.dead) == (2, 1)
    [dead] = [r for r in outbox_rows(db, pid) if r.status == "dead"]
    assert dead.recipient_email == PARTNER
    assert dead.last_error == f"{PARTNER}: 550 5.1.1 <{PARTNER}>: Recipient address rejected"
    clock.advance(days=1)
    assert deliver_pending(db, mail_settings).claimed == 0
    assert smtp.to(PARTNER) == []


def test_one_recipient_refused_does_not_resend_to_the_one_who_accepted(
    services: Services, db: Database, clock: Clock, smtp: SmtpSink, mail_settings: Settings
) -> None:
    pid = submit(services)
    smtp.refuse(STAB2)
    deliver_pending(db, mail_settings)
    clock.advance(days=2)
    deliver_pending(db, mail_settings)
    assert len(smtp.to(STAB)) == 1 and smtp.to(STAB2) == []
    assert statuses(db, pid)[f"submit.arbeitsstab:{STAB2}"] == "dead"
    assert statuses(db, pid)[f"submit.arbeitsstab:{STAB}"] == "sent"


def test_server_down_for_a_while_loses_nothing(
    services: Services, db: Database, clock: Clock, smtp: SmtpSink, mail_settings: Settings
) -> None:
    pids = [submit(services) for _ in range(3)]
    smtp.stop()
    down = deliver_pending(db, mail_settings)
    assert (down.claimed, down.sent, down.retried) == (9, 0, 9)
    assert "nicht erreichbar" in down.errors[0]
    clock.advance(seconds=FIRST_RETRY.total_seconds())
    assert deliver_pending(db, mail_settings).retried == 9  # still down: second attempt fails too
    smtp.start()
    clock.advance(seconds=2 * FIRST_RETRY.total_seconds())
    back = deliver_pending(db, mail_settings)
    assert (back.claimed, back.sent) == (9, 9)
    assert len(smtp.messages) == 9
    assert len({m.message["Message-ID"] for m in smtp.messages}) == 9
    for pid in pids:
        assert set(statuses(db, pid).values()) == {"sent"}
        assert {r.attempts for r in outbox_rows(db, pid)} == {3}


def test_retries_stop_after_max_attempts(
    services: Services, db: Database, clock: Clock, smtp: SmtpSink
) -> None:
    settings = mail_settings_for(smtp, max_attempts=2)
    pid = submit(services)
    smtp.stop()
    deliver_pending(db, settings)
    clock.advance(hours=1)
    report = deliver_pending(db, settings)
    assert report.dead == 3
    rows = outbox_rows(db, pid)
    assert {r.status for r in rows} == {"dead"}
    assert all(
        r.attempts == 2 and (r.last_error or "").startswith("Nach 2 Versuchen aufgegeben: SMTP-Server")
        for r in rows
    )


def test_a_row_stuck_in_sending_by_a_crashed_sender_is_taken_up_after_the_timeout(
    services: Services, db: Database, clock: Clock, smtp: SmtpSink, mail_settings: Settings
) -> None:
    pid = submit(services)
    with db.write() as s:
        s.execute(
            update(OutboxRow)
            .where(OutboxRow.proposal_id == pid)
            .values(status="sending", claimed_at=clock.now, claimed_by="abgestürzt:1:0")
        )
    clock.advance(seconds=mail_settings.mail.sending_timeout_seconds - 1)
    assert deliver_pending(db, mail_settings).claimed == 0  # its sender may still be at work
    clock.advance(seconds=2)
    report = deliver_pending(db, mail_settings, worker="neu:2:0")
    assert report.sent == 3
    assert {(r.status, r.claimed_by) for r in outbox_rows(db, pid)} == {("sent", "neu:2:0")}


def test_suppressed_rows_are_never_sent(
    services: Services, db: Database, clock: Clock, smtp: SmtpSink, mail_settings: Settings
) -> None:
    from partnerprojekte.formats import proposal_from_document
    from tests.helpers import proposal_doc

    pid = services.submit(proposal_from_document(proposal_doc()), PARTNER, notify=False).proposal_id
    assert {r.status for r in outbox_rows(db, pid)} == {"suppressed"}
    clock.advance(days=30)
    assert deliver_pending(db, mail_settings).claimed == 0
    assert smtp.messages == []


def test_deliver_pending_also_works_inside_a_running_event_loop(
    services: Services, db: Database, smtp: SmtpSink, mail_settings: Settings
) -> None:
    submit(services)

    async def caller() -> int:
        # e.g. a Prefect task run: a loop is running in this thread, asyncio.run() would refuse.
        return deliver_pending(db, mail_settings).sent

    assert asyncio.run(caller()) == 3
    assert len(smtp.messages) == 3


def test_limit_caps_one_run(services: Services, db: Database, smtp: SmtpSink) -> None:
    settings = mail_settings_for(smtp, batch_size=2)
    submit(services)
    submit(services)
    first = deliver_pending(db, settings, limit=5)
    assert (first.claimed, first.batches) == (5, 3)
    assert deliver_pending(db, settings).claimed == 1


def test_header_injection_through_a_title_adds_no_header(
    services: Services, db: Database, smtp: SmtpSink, mail_settings: Settings
) -> None:
    pid = submit(services)
    with db.write() as s:
        context = {
            **outbox_rows(db, pid)[0].context,
            "title": "Projekt\r\nBcc: opfer@evil.example\r\nX-Injected: ja",
            "event": "take_up",
            "status": "in_bearbeitung",
            "comment": None,
            "comment_visibility": None,
            "reasons": [],
            "saeule_1_projekt": None,
        }
        outbox.fan_out(
            s,
            proposal_id=pid,
            seq=99,
            event="take_up",
            groups=[(Audience.PARTNER, context)],
            contact=("Kai\r\nBcc: name@evil.example", PARTNER),
            ressort=None,
            arbeitsstab_mailbox=None,
            at=db.clock(),
        )
    deliver_pending(db, mail_settings)
    [injected] = [m for m in smtp.to(PARTNER) if "bearbeitet" in m.subject]
    assert injected.rcpt_tos == (PARTNER,)
    assert injected.message["Bcc"] is None and injected.message["X-Injected"] is None
    assert injected.subject.endswith("Projekt Bcc: opfer@evil.example X-Injected: ja")
    assert all("evil.example" not in r for m in smtp.messages for r in m.rcpt_tos)


def test_a_broken_template_is_retried_and_goes_out_once_it_is_fixed(
    services: Services, db: Database, clock: Clock, smtp: SmtpSink, tmp_path: Path
) -> None:
    override = tmp_path / "submit.partner.txt"
    override.write_text("{% block subject %}{{ gibt_es_nicht }}{% endblock %}")
    settings = mail_settings_for(smtp, template_dir=tmp_path)
    pid = submit(services)
    report = deliver_pending(db, settings)
    assert (report.sent, report.retried) == (2, 1)
    assert "„gibt_es_nicht“ fehlt im Kontext" in report.errors[0]
    [waiting] = [r for r in outbox_rows(db, pid) if r.status == "pending"]
    assert waiting.kind == "submit.partner" and "gibt_es_nicht" in (waiting.last_error or "")
    override.unlink()  # the Arbeitsstab removes its broken override
    clock.advance(seconds=FIRST_RETRY.total_seconds())
    assert deliver_pending(db, settings).sent == 1
    assert len(smtp.to(PARTNER)) == 1


def test_a_broken_mail_configuration_claims_nothing(
    services: Services, db: Database, smtp: SmtpSink, tmp_path: Path
) -> None:
    submit(services)
    with pytest.raises(ValidationError, match="keine gültige Absenderadresse"):
        deliver_pending(db, mail_settings_for(smtp, sender="Arbeitsstab"))
    with pytest.raises(TemplateError, match="Vorlagenordner"):
        deliver_pending(db, mail_settings_for(smtp, template_dir=tmp_path / "fehlt"))
    assert {(r.status, r.attempts) for r in outbox_rows(db)} == {("pending", 0)}


def test_an_unknown_kind_is_dead_at_once(
    services: Services, db: Database, smtp: SmtpSink, mail_settings: Settings
) -> None:
    pid = submit(services)
    with db.write() as s:
        s.execute(
            update(OutboxRow)
            .where(OutboxRow.proposal_id == pid, OutboxRow.kind == "submit.partner")
            .values(kind="gibt.es_nicht")
        )
    report = deliver_pending(db, mail_settings)
    assert (report.sent, report.dead) == (2, 1)
    [dead] = [r for r in outbox_rows(db, pid) if r.status == "dead"]
    assert "unbekannte Benachrichtigungsart „gibt.es_nicht“" in (dead.last_error or "")


def test_file_transport_is_the_default_without_smtp_host(
    services: Services, db: Database, tmp_path: Path
) -> None:
    settings = Settings(mail=MailSettings(outbox_dir=tmp_path / "mail"))
    pid = submit(services)
    report = deliver_pending(db, settings)
    assert (report.transport, report.sent) == ("file", 3)
    files = sorted((tmp_path / "mail").glob("*.eml"))
    assert len(files) == 3
    subjects = sorted(str(as_email_message(f.read_bytes())["Subject"]) for f in files)
    assert (
        subjects[0]
        == f"[{format_id(pid)}] Eingangsbestätigung: KLIC.Ruhr – Kompetenzverbund Life-Sciences.Ruhr"
    )
    assert deliver_pending(db, settings).claimed == 0
    assert len(list((tmp_path / "mail").iterdir())) == 3


def test_list_and_retry_a_dead_notification(
    services: Services, db: Database, clock: Clock, smtp: SmtpSink, mail_settings: Settings
) -> None:
    pid = submit(services)
    smtp.refuse(PARTNER)
    deliver_pending(db, mail_settings)
    [dead] = list_outbox(db, status="dead")
    assert dead["proposal"] == format_id(pid) and dead["kind"] == "submit.partner"
    assert dead["last_error"].endswith("550 5.1.1 Postfach existiert nicht")
    assert len(list_outbox(db, status="sent")) == 2
    assert [r["id"] for r in list_outbox(db)] == sorted((r["id"] for r in list_outbox(db)), reverse=True)
    with pytest.raises(ValidationError, match="unbekannter Status"):
        list_outbox(db, status="verschickt")
    with pytest.raises(NotRetryable, match="versandt"):
        retry(db, list_outbox(db, status="sent")[0]["id"])
    with pytest.raises(NotFound, match="Benachrichtigung Nr. 999999 gibt es nicht"):
        retry(db, 999_999)
    # The mailbox was fixed: retry puts it back, attempts kept, and it goes out.
    smtp.handler.refused.clear()
    again = retry(db, dead["id"])
    assert (again["status"], again["attempts"]) == ("pending", 1)
    assert deliver_pending(db, mail_settings).sent == 1
    assert len(smtp.to(PARTNER)) == 1


def test_sample_notifications_for_benchmarks_are_queued_once_and_all_deliverable(
    db: Database, smtp: SmtpSink, mail_settings: Settings
) -> None:
    assert queue_samples(db, 60) == 60
    assert queue_samples(db, 60) == 0
    report = deliver_pending(db, mail_settings)
    assert (report.sent, report.dead, report.retried) == (60, 0, 0)
    assert len({m.subject for m in smtp.messages}) > 20


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    import random

    rng = random.Random(7)
    waits = [backoff(n, 30, rng).total_seconds() for n in range(4)]
    for n, wait in enumerate(waits):
        assert 15 * 2**n <= wait <= 45 * 2**n
    assert backoff(40, 30, rng) == dt.timedelta(hours=6)


def test_end_to_end_the_right_german_subjects_reach_the_right_people(
    services: Services, db: Database, smtp: SmtpSink, mail_settings: Settings
) -> None:
    pid = submit(services)
    services.transition(pid, Event.TAKE_UP, STAB, EventInput())
    services.assign_ressort(pid, "MWIDE", STAB)
    services.transition(pid, Event.START_COORDINATION, STAB, EventInput())
    services.transition(pid, Event.RECOGNISE, MWIDE, EventInput(comment="Passt gut zum Themenforum 5."))
    services.transition(pid, Event.RECOGNISE, STAB, EventInput())
    report = deliver_pending(db, mail_settings)
    assert report.dead == 0 and report.retried == 0
    p = format_id(pid)
    title = "KLIC.Ruhr – Kompetenzverbund Life-Sciences.Ruhr"
    recognised = f"[{p}] Anerkennung als Partnerprojekt der Ruhr-Konferenz"
    assert smtp.subjects(PARTNER) == [
        f"[{p}] Eingangsbestätigung: {title}",
        f"[{p}] Ihr Vorschlag wird bearbeitet: {title}",
        f"[{p}] Abstimmung mit dem Ressort eingeleitet: {title}",
        recognised,
    ]
    for reviewer in (MWIDE, MWIDE2):
        assert smtp.subjects(reviewer) == [
            f"[{p}] Neue Zuständigkeit (MWIDE): {title}",
            f"[{p}] Bitte abstimmen: {title}",
            recognised,
        ]
    for member in (STAB, STAB2):
        assert smtp.subjects(member) == [
            f"[{p}] Neuer Vorschlag eingereicht: {title}",
            f"[{p}] Ihre Zustimmung wird benötigt: Anerkennen – {title}",
            recognised,
        ]
    assert smtp.to("v.verkehr@vm.nrw.example") == []
    assert len(smtp.messages) == report.sent == 4 + 3 * 2 + 3 * 2
    # The partner never reads the reviewer's internal comment; the Arbeitsstab does.
    [to_partner] = [m for m in smtp.to(PARTNER) if m.subject == recognised]
    assert "Themenforum 5" not in to_partner.part("plain") + to_partner.part("html")
    [owed] = [m for m in smtp.to(STAB) if "Zustimmung wird benötigt" in m.subject]
    assert "Carla Ostermann hat am 02.03.2026 der Entscheidung „Anerkennen“" in owed.part("plain")
    assert "fehlt noch die Zustimmung des Arbeitsstabs" in owed.part("plain")
