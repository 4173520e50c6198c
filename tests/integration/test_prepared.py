"""Statements run on the driver's cursor (db/prepared.py) behave as through Connection.execute: the same
rows, the same stored values, SQLAlchemy's exceptions, a transaction begun when none is (both backends)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, bindparam, insert, literal, select, update
from sqlalchemy.exc import IntegrityError

from partnerprojekte.db import store
from partnerprojekte.db.engine import Database
from partnerprojekte.db.prepared import Prepared
from partnerprojekte.db.schema import ApprovalRow, AuditRow, RessortRow, UserRow
from partnerprojekte.formats import proposal_from_document
from partnerprojekte.model import Event, Role, State
from partnerprojekte.services import Services
from partnerprojekte.states.workflow import EventInput
from tests.conftest import own_database
from tests.helpers import proposal_doc

STAB = "a.stab@stk.nrw.example"
MWIDE = "c.ostermann@mwide.nrw.example"
PARTNER = "kontakt@bio-security.example.de"
AT = dt.datetime(2026, 3, 2, 8, 0, 0, 123456, tzinfo=dt.UTC)


@pytest.fixture
def pid(services: Services) -> int:
    """A proposal in coordination with a pending approval (so every context column has a value)."""
    services.add_user(STAB, "Anna Stab", Role.ARBEITSSTAB)
    services.add_user(MWIDE, "Carla Ostermann", Role.RESSORT, ressort="MWIDE")
    services.add_user(PARTNER, "Kai Kontakt", Role.PARTNER, organisation="Kompetenzzentrum Bio-Security GmbH")
    pid = services.submit(proposal_from_document(proposal_doc()), PARTNER).proposal_id
    services.transition(pid, Event.TAKE_UP, STAB, EventInput())
    services.assign_ressort(pid, "MWIDE", STAB)
    services.transition(pid, Event.START_COORDINATION, STAB, EventInput())
    services.transition(pid, Event.RECOGNISE, MWIDE, EventInput(comment="Passt."))
    return pid


@pytest.fixture
def conn(db: Database) -> Iterator[Connection]:
    with db.transaction() as connection:
        yield connection


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("_CONTEXT", {"email": MWIDE}),
        ("_CONTEXT", {"email": "niemand@example.org"}),
        ("_ACTOR", {"email": MWIDE}),
        ("_PENDING", {}),
        ("_STATUS", {}),
    ],
)
def test_queries_return_what_connection_execute_returns(
    conn: Connection, pid: int, name: str, params: dict[str, Any]
) -> None:
    prepared: Prepared = getattr(store, name)
    if name != "_ACTOR":
        params = {**params, "proposal_id": pid}
    expected = [tuple(row) for row in conn.execute(prepared.statement, params)]  # type: ignore[call-overload]
    assert prepared.all(conn, params) == expected
    assert prepared.first(conn, params) == (expected[0] if expected else None)
    assert expected  # every query here finds something


def test_context_values_have_their_python_types(conn: Connection, pid: int) -> None:
    found = store.load_context(conn, pid, MWIDE)
    assert found is not None
    state, actor = found
    assert state.status is State.IN_ABSTIMMUNG
    assert isinstance(state.check_result, dict) and state.check_result["overall"] in {"met", "needs_review"}
    assert state.pending_approvals == 1
    assert actor is not None and actor.role is Role.RESSORT and actor.ressort == "MWIDE"
    [approval] = store.pending_approvals(conn, state)
    assert approval.role is Role.RESSORT and approval.reasons == []
    assert approval.created_at.tzinfo is dt.UTC


def test_writes_store_what_connection_execute_stores(conn: Connection, pid: int) -> None:
    row: dict[str, Any] = {
        "proposal_id": pid,
        "event": "recognise",
        "from_state": State.IN_ABSTIMMUNG,
        "user_id": conn.scalar(select(UserRow.id).where(UserRow.email == STAB)),
        "role": Role.ARBEITSSTAB,
        "ressort": None,
        "comment": "Ä „zitiert“ <b>",
        "visibility": None,
        "reasons": ["financing", "sonstiges"],
        "status": "withdrawn",
        "created_at": AT,
    }
    statement = insert(ApprovalRow.__table__)  # type: ignore[arg-type]
    conn.execute(statement, row)
    assert Prepared(statement).execute(conn, row) == 1
    stored = conn.execute(
        select(ApprovalRow.__table__).where(ApprovalRow.status == "withdrawn").order_by(ApprovalRow.id)
    ).all()
    assert len(stored) == 2
    assert stored[0][1:] == stored[1][1:]  # everything but the id
    assert stored[1].created_at == AT and stored[1].role == Role.ARBEITSSTAB


def test_an_update_counts_the_rows_it_changed(conn: Connection, pid: int) -> None:
    bump = Prepared(update(ApprovalRow.__table__).where(ApprovalRow.proposal_id == bindparam("pid")))
    assert bump.execute(conn, {"pid": pid, "comment": "neu"}) == 1
    assert bump.execute(conn, {"pid": pid + 1000, "comment": "neu"}) == 0


def test_values_a_statement_carries_itself_are_bound(conn: Connection) -> None:
    query = Prepared(select(literal("fest").label("a"), bindparam("b").label("b")))
    assert query.first(conn, {"b": "gegeben"}) == ("fest", "gegeben")


def test_a_missing_parameter_is_an_error_not_a_null(conn: Connection) -> None:
    with pytest.raises(KeyError, match="email"):
        store._ACTOR.first(conn, {})


def test_driver_errors_are_sqlalchemys_exceptions(conn: Connection, pid: int) -> None:
    audit_row = conn.execute(select(AuditRow.__table__).where(AuditRow.proposal_id == pid)).mappings().first()
    assert audit_row is not None
    duplicate = {k: v for k, v in audit_row.items() if k != "id"}  # same (proposal, seq): unique
    statement = Prepared(insert(AuditRow.__table__))  # type: ignore[arg-type]
    with pytest.raises(IntegrityError) as raised, conn.begin_nested():  # PostgreSQL: roll back to here
        statement.execute(conn, duplicate)
    assert "audit_log" in str(raised.value)


def test_a_statement_with_an_expanding_parameter_is_refused(conn: Connection) -> None:
    query = Prepared(select(UserRow.id).where(UserRow.id.in_(bindparam("ids", expanding=True))))
    with pytest.raises(ValueError, match="not a statement for Prepared"):
        query.all(conn, {"ids": [1, 2]})


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated database of its own whose commits are real."""
    with own_database(request.param, tmp_path) as (_, eng):
        yield eng


def _ressort_mailbox(engine: Engine) -> str | None:
    with engine.connect() as c:
        return c.scalar(select(RessortRow.mailbox).where(RessortRow.abbreviation == "VM"))


def test_a_connection_without_a_transaction_gets_one(engine: Engine) -> None:
    change = Prepared(update(RessortRow.__table__).where(RessortRow.abbreviation == bindparam("abk")))
    with engine.connect() as c:
        change.execute(c, {"abk": "VM", "mailbox": "poststelle@vm.example"})
        assert c.in_transaction()
        c.rollback()  # it was a transaction: nothing stays
    assert _ressort_mailbox(engine) is None
    with engine.connect() as c:
        change.execute(c, {"abk": "VM", "mailbox": "poststelle@vm.example"})
        c.commit()
    assert _ressort_mailbox(engine) == "poststelle@vm.example"


def test_every_prepared_statement_has_a_cache_key() -> None:
    """Without one, Connection.execute (and the comparison in benchmarks/bench_core.py) would compile
    the statement anew on every call: the outbox's fan-out once did, because of its collation element."""
    import itertools

    from partnerprojekte.audience import Audience
    from partnerprojekte.db import audit, outbox, store
    from partnerprojekte.db.prepared import Prepared

    found = [v for m in (store, audit, outbox) for v in vars(m).values() if isinstance(v, Prepared)]
    kinds = (Audience.PARTNER, Audience.RESSORT, Audience.ARBEITSSTAB)
    groups = [g for n in (1, 2, 3) for g in itertools.permutations(kinds, n)]
    found += [outbox._fan_out(g, mailbox) for g in groups for mailbox in (False, True)]
    assert len(found) > 20
    uncached = [str(p.statement)[:80] for p in found if p.statement._generate_cache_key() is None]
    assert uncached == []
