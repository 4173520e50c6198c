"""Deactivation and a change of role or Ressort withdraw a person's pending approvals: audited in the
proposal's chain, the others told by mail, all in the account change's own transaction."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from partnerprojekte.db import outbox as outbox_module
from partnerprojekte.db.engine import Database
from partnerprojekte.db.schema import ApprovalRow, AuditRow, OutboxRow, UserAuditRow, UserRow
from partnerprojekte.db.user_audit import UserActor
from partnerprojekte.errors import ValidationError
from partnerprojekte.formats import proposal_from_document
from partnerprojekte.model import Event, Role, State
from partnerprojekte.reading.queries import verify
from partnerprojekte.services import Services
from partnerprojekte.states.workflow import EventInput
from partnerprojekte.web.auth import people
from tests.helpers import proposal_doc
from tests.people import MWIDE, MWIDE2, PARTNER, STAB, STAB2

ADMIN = "ada.admin@stk.nrw.example"

pytestmark = pytest.mark.usefixtures("people")


@pytest.fixture
def admin(services: Services) -> UserActor:
    user = services.add_user(ADMIN, "Ada Admin", Role.ADMIN)
    return UserActor(f"test:{ADMIN}", user.id)


def in_coordination(services: Services) -> int:
    pid = services.submit(proposal_from_document(proposal_doc()), PARTNER).proposal_id
    services.transition(pid, Event.TAKE_UP, STAB, EventInput())
    services.assign_ressort(pid, "MWIDE", STAB)
    services.transition(pid, Event.START_COORDINATION, STAB, EventInput())
    return pid


def user_id(db: Database, email: str) -> int:
    with db.read() as s:
        found = s.scalar(select(UserRow.id).where(UserRow.email == email))
        assert found is not None
        return found


def approvals(db: Database, pid: int) -> list[tuple[str, str]]:
    with db.read() as s:
        rows = s.execute(
            select(UserRow.email, ApprovalRow.status)
            .join(UserRow, UserRow.id == ApprovalRow.user_id)
            .where(ApprovalRow.proposal_id == pid)
            .order_by(ApprovalRow.id)
        )
        return [(e, st) for e, st in rows]


def last_audit(db: Database, pid: int) -> AuditRow:
    with db.read() as s:
        row = s.scalars(
            select(AuditRow).where(AuditRow.proposal_id == pid).order_by(AuditRow.seq.desc())
        ).first()
        assert row is not None
        return row


def withdrawn_mail(db: Database, pid: int) -> list[tuple[str, str]]:
    with db.read() as s:
        rows = s.execute(
            select(OutboxRow.kind, OutboxRow.recipient_email)
            .where(OutboxRow.proposal_id == pid, OutboxRow.kind.like("approval_withdrawn.%"))
            .order_by(OutboxRow.recipient_email)
        )
        return [(k, r) for k, r in rows]


def deactivate(services: Services, email: str, admin: UserActor) -> tuple[int, int]:
    with services.db.write() as s:
        user = s.scalars(select(UserRow).where(UserRow.email == email)).one()
        return people.deactivate(services, s, user, admin)


def change(services: Services, email: str, admin: UserActor, role: Role, ressort: str | None) -> int:
    with services.db.write() as s:
        user = s.scalars(select(UserRow).where(UserRow.email == email)).one()
        return people.change_role_of(services, s, user, role, ressort, None, admin)


def test_deactivation_withdraws_pending_approvals_audited_and_tells_the_others(
    services: Services, db: Database, admin: UserActor
) -> None:
    pid = in_coordination(services)
    services.transition(pid, Event.RECOGNISE, MWIDE, EventInput())
    assert deactivate(services, MWIDE, admin) == (0, 1)

    assert approvals(db, pid) == [(MWIDE, "withdrawn")]
    entry = last_audit(db, pid)
    assert (entry.event, entry.actor_email, entry.to_state) == ("withdraw_approval", ADMIN, "in_abstimmung")
    assert entry.details["reason"] == "deactivated" and entry.details["person"] == MWIDE
    # The Ressort's other reviewer and the Arbeitsstab are told; the deactivated person is not.
    assert withdrawn_mail(db, pid) == [
        ("approval_withdrawn.arbeitsstab", STAB),
        ("approval_withdrawn.arbeitsstab", STAB2),
        ("approval_withdrawn.ressort", MWIDE2),
    ]
    with db.read() as s:
        logged = s.scalars(select(UserAuditRow).order_by(UserAuditRow.seq.desc())).first()
        assert logged is not None and logged.action == "deactivate"
        assert logged.details["approvals_withdrawn"] == 1
    # The Arbeitsstab's approval alone no longer recognises: the Ressort must agree again.
    outcome = services.transition(pid, Event.RECOGNISE, STAB, EventInput())
    assert not outcome.fired and outcome.pending_approvals[0]["missing_roles"] == ["ressort"]
    assert verify(db)["ok"]


@pytest.mark.parametrize(
    ("role", "ressort", "reason"),
    [(Role.RESSORT, "VM", "ressort_changed"), (Role.ARBEITSSTAB, None, "role_changed")],
    ids=["other-ressort", "other-role"],
)
def test_a_change_of_role_or_ressort_withdraws_pending_approvals(
    services: Services, db: Database, admin: UserActor, role: Role, ressort: str | None, reason: str
) -> None:
    pid = in_coordination(services)
    services.transition(pid, Event.RECOGNISE, MWIDE, EventInput())
    assert change(services, MWIDE, admin, role, ressort) == 1
    assert approvals(db, pid) == [(MWIDE, "withdrawn")]
    entry = last_audit(db, pid)
    assert entry.event == "withdraw_approval" and entry.details["reason"] == reason
    with db.read() as s:
        user = s.scalars(select(UserRow).where(UserRow.email == MWIDE)).one()
        assert (user.role, user.ressort) == (role, ressort)
        logged = s.scalars(select(UserAuditRow).order_by(UserAuditRow.seq.desc())).first()
        assert logged is not None and logged.action == "change_role"
        assert logged.details["role"] == ["ressort", role.value]
    assert not services.transition(pid, Event.RECOGNISE, STAB, EventInput()).fired
    assert verify(db)["ok"]


def test_a_withdrawal_that_fails_leaves_the_account_and_the_approval_as_they_were(
    services: Services, db: Database, admin: UserActor, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid = in_coordination(services)
    services.transition(pid, Event.RECOGNISE, MWIDE, EventInput())
    before = last_audit(db, pid).seq

    def broken(*args: Any, **kwargs: Any) -> int:
        raise RuntimeError("outbox kaputt")

    monkeypatch.setattr(outbox_module, "fan_out", broken)
    with pytest.raises(RuntimeError):
        deactivate(services, MWIDE, admin)
    monkeypatch.undo()
    with db.read() as s:
        user = s.scalars(select(UserRow).where(UserRow.email == MWIDE)).one()
        assert user.active
    assert approvals(db, pid) == [(MWIDE, "pending")]
    assert last_audit(db, pid).seq == before
    # And the pending approval still counts with the Arbeitsstab's.
    assert services.transition(pid, Event.RECOGNISE, STAB, EventInput()).status is State.ANERKANNT


def test_only_pending_approvals_fall_away_and_each_proposal_gets_one_entry(
    services: Services, db: Database, admin: UserActor
) -> None:
    first, second, done = in_coordination(services), in_coordination(services), in_coordination(services)
    for pid in (first, second, done):
        services.transition(pid, Event.RECOGNISE, MWIDE, EventInput())
    services.transition(done, Event.RECOGNISE, STAB, EventInput())  # completed: nothing to withdraw
    seq_done = last_audit(db, done).seq
    assert deactivate(services, MWIDE, admin) == (0, 2)
    assert last_audit(db, done).seq == seq_done
    assert approvals(db, done) == [(MWIDE, "fired")]
    for pid in (first, second):
        assert approvals(db, pid) == [(MWIDE, "withdrawn")]
    assert verify(db)["ok"]


def test_role_changes_are_refused_with_the_field_when_they_make_no_sense(
    services: Services, admin: UserActor
) -> None:
    with pytest.raises(ValidationError, match="Ressort: Für die Rolle"):
        change(services, STAB, admin, Role.RESSORT, None)
    with pytest.raises(ValidationError, match="Ressort: Nur die Rolle"):
        change(services, STAB, admin, Role.ARBEITSSTAB, "VM")
    with pytest.raises(ValidationError, match="bereits diese Rolle"):
        change(services, MWIDE, admin, Role.RESSORT, "MWIDE")
    with pytest.raises(ValidationError, match="Organisation"):
        change(services, STAB, admin, Role.PARTNER, None)
    with pytest.raises(ValidationError, match="eigene Rolle"):
        change(services, ADMIN, admin, Role.ARBEITSSTAB, None)
    with pytest.raises(ValidationError, match="selbst deaktivieren"):
        deactivate(services, ADMIN, admin)
