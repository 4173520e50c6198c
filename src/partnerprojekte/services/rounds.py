"""Use case of the Arbeitsstab: open a reporting round; every recognised, not completed project then owes
a progress report (one audit row in each project's chain)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from partnerprojekte.db import reports as rdb
from partnerprojekte.errors import ConflictError, FieldError, ValidationError
from partnerprojekte.formats import check_text
from partnerprojekte.ids import format_id
from partnerprojekte.services.portraits import ensure_portrait, stay
from partnerprojekte.services.writer import AuditEntry, Writer
from partnerprojekte.states.report_table import ReportAction, ReportState
from partnerprojekte.states.report_workflow import authorize_report_action

ROUND_NAME_MAX = 200


@dataclass(frozen=True)
class RoundOpened:
    """A new reporting round and the projects that now owe a report."""

    year: int
    name: str
    owed: list[int]
    notifications: int = 0

    def to_json(self) -> dict[str, Any]:
        """The ``bericht runde-eroeffnen --json`` shape."""
        return {
            "jahr": self.year,
            "name": self.name,
            "meldungen": [format_id(p) for p in self.owed],
            "notifications": self.notifications,
        }


def _check_round_input(year: int, name: str, stichtag: dt.date, due_date: dt.date) -> None:
    errors = []
    if not 2000 <= year <= 2100:
        errors.append(FieldError("jahr", f"muss zwischen 2000 und 2100 liegen, ist {year}"))
    if not name.strip():
        errors.append(FieldError("name", "darf nicht leer sein"))
    elif len(name) > ROUND_NAME_MAX:
        errors.append(FieldError("name", f"ist zu lang ({len(name)} Zeichen, höchstens {ROUND_NAME_MAX})"))
    if due_date > stichtag:
        errors.append(
            FieldError(
                "abgabe_bis", f"liegt nach dem Stichtag ({due_date.isoformat()} > {stichtag.isoformat()})"
            )
        )
    if errors:
        raise ValidationError(errors)


def open_round(
    svc: Writer,
    year: int,
    name: str,
    stichtag: dt.date,
    due_date: dt.date,
    actor_email: str,
    *,
    at: dt.datetime | None = None,
) -> RoundOpened:
    """Open a reporting round: every recognised, not completed project owes a progress report."""
    check_text(name, "Name")
    _check_round_input(year, name, stichtag, due_date)
    with svc.db.transaction() as conn:
        actor = svc.actor(conn, actor_email)
        at = at or svc.db.clock()
        authorize_report_action(_NoProject(), ReportAction.OPEN_REPORT, actor)
        if rdb.find_round(conn, year) is not None:
            raise ConflictError(f"Die Berichtsrunde {year} ist bereits eröffnet.")
        round_id = rdb.insert_round(
            conn,
            year=year,
            name=name.strip(),
            stichtag=stichtag,
            due_date=due_date,
            opened_by=actor.user_id,
            opened_at=at,
        )
        owed = rdb.recognised_open_projects(conn)
        for pid in owed:
            _, _, row, _ = svc.context(conn, pid, actor.email, at)
            details = {"round": year, "report_to": ReportState.OFFEN.value, "due_date": due_date.isoformat()}
            # The audit row first: its version check serialises this with any other step on the project.
            change = stay(row, ReportAction.OPEN_REPORT.value)
            svc.record(conn, row, change, actor, at, AuditEntry(details=details))
            version = ensure_portrait(svc, conn, row, actor, at)
            rdb.insert_report(
                conn,
                round_id=round_id,
                proposal_id=pid,
                state=ReportState.OFFEN.value,
                entries={},
                returned=[],
                revised=[],
                base_version=version,
                updated_at=at,
            )
        return RoundOpened(year, name.strip(), owed)


@dataclass(frozen=True)
class _NoProject:
    """The role check of a step that concerns no single project (opening a round)."""

    state: None = None
    organisation: str = ""
    responsible_ressort: str | None = None
