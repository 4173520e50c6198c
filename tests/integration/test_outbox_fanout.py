"""An event's outbox rows in one INSERT … SELECT: the same recipients, names, keys and order as resolving
them one audience at a time, functional mailboxes included (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from sqlalchemy import select, update

from partnerprojekte.audience import Audience, kind
from partnerprojekte.config import Settings
from partnerprojekte.db import outbox
from partnerprojekte.db.engine import Database
from partnerprojekte.db.schema import OutboxRow, RessortRow, UserRow
from partnerprojekte.formats import proposal_from_document
from partnerprojekte.model import Event, Visibility
from partnerprojekte.services import Services
from partnerprojekte.states.workflow import EventInput
from tests.helpers import proposal_doc
from tests.people import MWIDE, MWIDE2, PARTNER, STAB, STAB2, VM

AT = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)


pytestmark = pytest.mark.usefixtures("people")


def _set_mailbox(db: Database, ressort: str, mailbox: str | None) -> None:
    with db.write() as s:
        s.execute(update(RessortRow).where(RessortRow.abbreviation == ressort).values(mailbox=mailbox))


def _deactivate(db: Database, email: str) -> None:
    with db.write() as s:
        s.execute(update(UserRow).where(UserRow.email == email).values(active=False))


def _rows(db: Database, pid: int, seq: int | None = None) -> list[tuple[Any, ...]]:
    query = select(
        OutboxRow.kind,
        OutboxRow.recipient_email,
        OutboxRow.recipient_name,
        OutboxRow.recipient_role,
        OutboxRow.idempotency_key,
        OutboxRow.status,
        OutboxRow.context,
        OutboxRow.attempts,
        OutboxRow.created_at,
        OutboxRow.next_attempt_at,
    ).where(OutboxRow.proposal_id == pid)
    if seq is not None:
        query = query.where(OutboxRow.audit_seq == seq)
    with db.read() as s:
        return list(s.execute(query.order_by(OutboxRow.id)))


def _to_coordination(services: Services) -> int:
    pid = services.submit(proposal_from_document(proposal_doc()), PARTNER).proposal_id
    services.transition(pid, Event.TAKE_UP, STAB, EventInput())
    services.assign_ressort(pid, "MWIDE", STAB)
    services.transition(pid, Event.START_COORDINATION, STAB, EventInput())
    return pid


def test_the_ressort_mailbox_is_told_with_its_reviewers(services: Services, db: Database) -> None:
    _set_mailbox(db, "MWIDE", "Poststelle@MWIDE.nrw.example")
    pid = services.submit(proposal_from_document(proposal_doc()), PARTNER).proposal_id
    services.transition(pid, Event.TAKE_UP, STAB, EventInput())
    outcome = services.assign_ressort(pid, "MWIDE", STAB)
    rows = _rows(db, pid, outcome.seq)
    assert [(r.recipient_email, r.recipient_name) for r in rows] == [
        (MWIDE, "Carla Ostermann"),
        (MWIDE2, "Dieter Wirt"),
        ("poststelle@mwide.nrw.example", "Funktionspostfach MWIDE"),
    ]
    assert outcome.notifications == 3
    key = f"PP-{pid:04d}:{outcome.seq}:assign_ressort.ressort:poststelle@mwide.nrw.example"
    assert rows[2].idempotency_key == key


def test_a_mailbox_that_is_a_reviewers_address_is_told_once(services: Services, db: Database) -> None:
    _set_mailbox(db, "MWIDE", MWIDE.upper())
    pid = _to_coordination(services)
    rows = _rows(db, pid)
    assert [r.recipient_email for r in rows if r.kind == "start_coordination.ressort"] == [MWIDE, MWIDE2]
    assert [r.recipient_name for r in rows if r.kind == "start_coordination.ressort"] == [
        "Carla Ostermann",
        "Dieter Wirt",
    ]


def test_the_arbeitsstab_mailbox_is_told_unless_a_member_has_that_address(db: Database) -> None:
    mailbox_row = ("arbeitsstab@stk.nrw.example", "Funktionspostfach Arbeitsstab")
    for mailbox, expected in [
        ("Arbeitsstab@STK.nrw.example", [(STAB, "Anna Stab"), mailbox_row, (STAB2, "Bernd Stab")]),
        (STAB.upper(), [(STAB, "Anna Stab"), (STAB2, "Bernd Stab")]),  # the person, not her mailbox
    ]:
        services = Services(db, Settings(arbeitsstab_mailbox=mailbox))
        pid = _to_coordination(services)
        outcome = services.transition(
            pid, Event.REQUEST_CHANGES, MWIDE, EventInput(comment="Bitte nachbessern.")
        )
        rows = _rows(db, pid, outcome.seq)
        told = [(r.recipient_email, r.recipient_name) for r in rows if r.recipient_role == "arbeitsstab"]
        assert told == expected


def test_inactive_people_and_other_ressorts_are_not_told(services: Services, db: Database) -> None:
    _deactivate(db, MWIDE2)
    _deactivate(db, STAB2)
    pid = _to_coordination(services)
    outcome = services.transition(pid, Event.REQUEST_CHANGES, MWIDE, EventInput(comment="Bitte nachbessern."))
    assert [(r.kind, r.recipient_email) for r in _rows(db, pid, outcome.seq)] == [
        ("request_changes.partner", PARTNER),
        ("request_changes.arbeitsstab", STAB),
    ]
    assert VM not in {r.recipient_email for r in _rows(db, pid)}


def test_an_internal_comment_reaches_no_partner_mail(services: Services, db: Database) -> None:
    pid = _to_coordination(services)
    outcome = services.transition(
        pid, Event.RECOGNISE, MWIDE, EventInput(comment="Nur intern", visibility=Visibility.INTERN)
    )
    assert outcome.fired is False  # an approval; the Arbeitsstab still owes one
    internal = EventInput(comment="Intern", visibility=Visibility.INTERN)
    services.transition(pid, Event.RECOGNISE, STAB, internal)
    rows = [r for r in _rows(db, pid) if r.kind.startswith("recognise.")]
    assert {r.recipient_role for r in rows} == {"partner", "ressort", "arbeitsstab"}
    for r in rows:
        assert r.context["comment"] == (None if r.recipient_role == "partner" else "Intern")


@pytest.mark.parametrize(
    "audiences",
    [
        combo
        for n in (1, 2, 3)
        for combo in itertools.permutations([Audience.PARTNER, Audience.RESSORT, Audience.ARBEITSSTAB], n)
    ],
    ids=lambda combo: "+".join(a.value for a in combo),
)
@pytest.mark.parametrize("mailboxes", [False, True], ids=["ohne-postfach", "mit-postfach"])
def test_fan_out_writes_what_resolve_and_rows_would(
    services: Services, db: Database, audiences: tuple[Audience, ...], mailboxes: bool
) -> None:
    # The reminders still resolve recipients one audience at a time: both ways must agree row for row.
    pid = services.submit(proposal_from_document(proposal_doc()), PARTNER, notify=False).proposal_id
    _set_mailbox(db, "MWIDE", "Poststelle@mwide.nrw.example" if mailboxes else None)
    stab_mailbox = "Arbeitsstab@stk.nrw.example" if mailboxes else None
    contact = ("Kai Kontakt", "Kontakt@Bio-Security.example.de")
    contexts = [(a, {"audience": a.value, "title": "Ä & <b>"}) for a in audiences]
    with db.transaction() as conn:
        written = outbox.fan_out(
            conn,
            proposal_id=pid,
            seq=7,
            event="recognise",
            groups=contexts,
            contact=contact,
            ressort="MWIDE",
            arbeitsstab_mailbox=stab_mailbox,
            at=AT,
        )
    with db.write() as s:
        expected: list[dict[str, Any]] = []
        for audience, context in contexts:
            recipients = outbox.resolve(
                s, audience, contact=contact, ressort="MWIDE", arbeitsstab_mailbox=stab_mailbox
            )
            expected += _expected_rows(
                proposal_id=pid, seq=7, event="recognise", recipients=recipients, context=context, at=AT
            )
    got = _rows(db, pid, 7)
    assert written == len(got) == len(expected)
    for row, want in zip(got, expected, strict=True):
        for key in ("kind", "recipient_email", "recipient_name", "recipient_role", "idempotency_key"):
            assert getattr(row, key) == want[key], key
        assert (row.status, row.context, row.attempts) == ("pending", want["context"], 0)
        assert row.created_at == row.next_attempt_at == AT


def _expected_rows(
    *,
    proposal_id: int,
    seq: int,
    event: str,
    recipients: list[outbox.Recipient],
    context: dict[str, Any],
    at: dt.datetime,
) -> list[dict[str, Any]]:
    """The rows the one write path must produce for these recipients, spelt out independently."""
    return [
        {
            "idempotency_key": f"PP-{proposal_id:04d}:{seq}:{kind(event, r.audience)}:{r.email}",
            "kind": kind(event, r.audience),
            "recipient_email": r.email,
            "recipient_name": r.name,
            "recipient_role": r.audience.value,
            "context": context,
        }
        for r in recipients
    ]
