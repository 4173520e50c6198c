"""The user management log: one hash chain over all entries, checked by ``verify``, safe when concurrent."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update

from partnerprojekte.config import Settings
from partnerprojekte.db.engine import Database
from partnerprojekte.db.schema import UserAuditHeadRow, UserAuditRow
from partnerprojekte.db.user_audit import UserActor, record_user_event, verify_user_chain
from partnerprojekte.model import Role
from partnerprojekte.reading.queries import verify
from partnerprojekte.services import Services
from tests.conftest import own_database
from tests.people import add_people


def entries(db: Database) -> list[UserAuditRow]:
    with db.read() as s:
        rows = list(s.scalars(select(UserAuditRow).order_by(UserAuditRow.seq)))
        s.expunge_all()
        return rows


def test_every_user_created_is_an_entry_with_who_did_it(services: Services, db: Database) -> None:
    add_people(services)
    with db.write() as s:
        record_user_event(
            s, UserActor("cli:ops@it.nrw.example", None), "role_change", None, {"x": 1}, at=db.clock()
        )
    rows = entries(db)
    assert [r.action for r in rows] == ["create"] * 6 + ["role_change"]
    assert [r.seq for r in rows] == list(range(1, 8))
    assert rows[0].actor == "seed" and rows[0].details["role"] == "arbeitsstab"
    assert verify(db)["ok"] is True and verify(db)["user_entries"] == 7


@pytest.mark.parametrize(
    "tamper",
    ["edit", "delete_middle", "cut_tail", "rechain_head"],
)
def test_tampering_in_sql_breaks_the_user_chain(services: Services, db: Database, tamper: str) -> None:
    add_people(services)
    rows = entries(db)
    with db.write() as s:
        if tamper == "edit":
            s.execute(update(UserAuditRow).where(UserAuditRow.seq == 3).values(details={"role": "admin"}))
        elif tamper == "delete_middle":
            s.execute(delete(UserAuditRow).where(UserAuditRow.seq == 3))
        elif tamper == "cut_tail":
            s.execute(delete(UserAuditRow).where(UserAuditRow.seq == rows[-1].seq))
        else:
            s.execute(update(UserAuditHeadRow).values(seq=2, hash=rows[1].hash))
    result = verify(db)
    assert result["ok"] is False
    with db.read() as s:
        _, broken = verify_user_chain(s)
    assert broken is not None
    expected = {
        "edit": "Inhalt verändert (Hash passt nicht)",
        "delete_middle": "Eintrag Nr. 3 fehlt (gefunden Nr. 4)",
        "cut_tail": "Protokoll endet bei Eintrag Nr. 5, der Kopf steht bei Nr. 6",
        "rechain_head": "Protokoll endet bei Eintrag Nr. 6, der Kopf steht bei Nr. 2",
    }[tamper]
    assert broken.problem == expected


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_concurrent_user_changes_keep_one_unbroken_chain(backend: str, tmp_path: Path) -> None:
    """Eight threads create people at once: every entry is chained, none lost, the chain verifies."""
    with own_database(backend, tmp_path) as (_url, engine):
        db = Database(engine)
        services = Services(db, Settings())
        errors: list[BaseException] = []
        start = threading.Barrier(8)

        def work(n: int) -> None:
            try:
                start.wait()
                for k in range(3):
                    services.add_user(f"p{n}-{k}@example.org", f"P {n} {k}", Role.ARBEITSSTAB)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert errors == []
        result = verify(db)
        assert result["ok"] is True and result["user_entries"] == 24
