"""MIME messages: correct headers in any language, deterministic ids, and no header injection."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from partnerprojekte.notifications.message import (
    InvalidAddress,
    MessageBuilder,
    OutgoingMessage,
    as_email_message,
    check_address,
    message_id_for,
)
from partnerprojekte.notifications.render import RenderedMail

SENDER = "Arbeitsstab Ruhr-Konferenz <partnerprojekte@stk.nrw.example>"
WHEN = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)
MAIL = RenderedMail(
    subject="[PP-0007] Anerkennung als Partnerprojekt der Ruhr-Konferenz",
    text="Guten Tag Jörg Müller,\n\nIhr Vorhaben „KLIC.Ruhr“ ist anerkannt.\n\n-- \nArbeitsstab\n",
    html="<p>Guten Tag Jörg Müller,</p><p>Ihr Vorhaben „KLIC.Ruhr“ ist anerkannt.</p>",
)


def build(
    mail: RenderedMail = MAIL, name: str | None = "Jörg Müller", address: str = "j.mueller@example.org"
) -> OutgoingMessage:
    builder = MessageBuilder(SENDER)
    return builder.build(
        mail,
        to=[(name, address)],
        message_id=builder.message_id(17, "PP-0007:5:x"),
        date=WHEN,
        kind="k.partner",
    )


def test_message_parses_as_multipart_alternative_with_german_text() -> None:
    out = build()
    message = out.as_email_message()
    assert message["From"] == SENDER
    assert message["To"] == "Jörg Müller <j.mueller@example.org>"
    assert message["Subject"] == MAIL.subject
    assert message["Date"] == "Mon, 02 Mar 2026 08:00:00 +0000"
    assert message["Message-ID"] == out.message_id
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    # The wire has CRLF line ends; the parser keeps them.
    assert text.get_content().replace("\r\n", "\n") == MAIL.text
    assert html.get_content().replace("\r\n", "\n") == MAIL.html
    # Pure ASCII on the wire (no 8BITMIME needed), CRLF line ends, no line longer than SMTP allows.
    assert out.data.isascii()
    assert b"\n" not in out.data.replace(b"\r\n", b"")
    assert max(len(line) for line in out.data.split(b"\r\n")) <= 998
    assert out.sender == "partnerprojekte@stk.nrw.example"
    assert out.recipients == ("j.mueller@example.org",)


def test_message_id_is_deterministic_per_outbox_row() -> None:
    assert message_id_for(17, "PP-0007:5:recognise.partner:a@b.de") == message_id_for(
        17, "PP-0007:5:recognise.partner:a@b.de"
    )
    assert message_id_for(17, "a") != message_id_for(17, "b")
    assert message_id_for(17, "a").startswith("<outbox-17.")
    assert build().message_id.endswith("@stk.nrw.example>")
    # A sender on "localhost" gives no usable domain: the ids use partnerprojekte.local.
    local = MessageBuilder("Arbeitsstab <partnerprojekte@localhost>")
    assert local.message_id(1, "k").endswith("@partnerprojekte.local>")


def test_cr_lf_in_a_title_or_name_cannot_add_a_header() -> None:
    evil = RenderedMail(
        subject="[PP-0007] Eingang: Projekt\r\nBcc: opfer@example.org\r\nX-Evil: 1",
        text="Text",
        html="<p>Text</p>",
    )
    out = build(evil, name="Kai\r\nBcc: opfer2@example.org")
    message = as_email_message(out.data)
    assert message["Bcc"] is None and message["X-Evil"] is None
    assert message["Subject"] == "[PP-0007] Eingang: Projekt Bcc: opfer@example.org X-Evil: 1"
    assert out.recipients == ("j.mueller@example.org",)
    assert sorted(message.keys()) == sorted(
        [
            "From",
            "To",
            "Subject",
            "Date",
            "Message-ID",
            "MIME-Version",
            "Auto-Submitted",
            "X-Auto-Response-Suppress",
            "Content-Language",
            "X-Partnerprojekte-Art",
            "Content-Type",
        ]
    )


@pytest.mark.parametrize(
    "address",
    [
        "a@b.de\r\nBcc: x@y.de",
        "a b@c.de",
        "<a@b.de>",
        "a@b.de,c@d.de",
        "müller@b.de",
        "nobody",
        "a@",
        "a..b@c.de",
    ],
)
def test_addresses_that_could_break_the_envelope_are_refused(address: str) -> None:
    with pytest.raises(InvalidAddress):
        check_address(address)
    with pytest.raises(InvalidAddress):
        build(address=address)


@settings(max_examples=150, deadline=None)
@given(
    subject=st.text(min_size=1, max_size=250).filter(lambda s: s.strip()),
    name=st.text(max_size=120),
)
def test_any_subject_and_name_round_trip_as_one_header_each(subject: str, name: str) -> None:
    mail = RenderedMail(subject=subject, text="Text", html="<p>Text</p>")
    out = build(mail, name=name)
    message = as_email_message(out.data)
    assert out.data.isascii()
    assert len(message.keys()) == 11
    # What arrives is the value with every run of whitespace and control characters made one blank.
    expected = " ".join(re.sub(r"[\x00-\x1f\x7f\x85\u2028\u2029]", " ", subject).split())
    assert " ".join(str(message["Subject"]).split()) == expected
    assert message["To"].addresses[0].addr_spec == "j.mueller@example.org"
    head = out.data.split(b"\r\n\r\n", 1)[0].decode("ascii")
    assert all(len(word) <= 75 for word in re.findall(r"=\?utf-8\?b\?[^?]*\?=", head))
    assert all(len(line) <= 998 for line in head.split("\r\n"))
