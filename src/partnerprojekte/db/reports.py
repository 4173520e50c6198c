"""Reads and writes of reporting rounds, portraits, their versions, progress reports and contributors.

The use cases (``services/reports.py``) call these inside their transaction, after ``Writer.context`` read
the proposal: every change also writes an audit row, whose version check on the proposal serialises them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from partnerprojekte.db.schema import Base
from partnerprojekte.db.store import Executor
from partnerprojekte.errors import ConflictError
from partnerprojekte.model import State

TABLES = Base.metadata.tables
ROUNDS: Table = TABLES["reporting_rounds"]
PORTRAITS: Table = TABLES["portraits"]
VERSIONS: Table = TABLES["portrait_versions"]
REPORTS: Table = TABLES["progress_reports"]
CONTRIBUTORS: Table = TABLES["report_contributors"]
PROPOSALS: Table = TABLES["proposals"]
USERS: Table = TABLES["users"]
RESSORT_NAMES: Table = TABLES["ressort_names"]
RESSORTS: Table = TABLES["ressorts"]


@dataclass(frozen=True)
class Round:
    """A reporting round as the use cases and readers see it."""

    id: int
    year: int
    name: str
    stichtag: dt.date
    due_date: dt.date
    opened_at: dt.datetime

    def to_json(self) -> dict[str, Any]:
        """The JSON shape of the CLI and API."""
        return {
            "jahr": self.year,
            "name": self.name,
            "stichtag": self.stichtag.isoformat(),
            "abgabe_bis": self.due_date.isoformat(),
            "eroeffnet_am": self.opened_at.isoformat(),
        }


@dataclass
class Report:
    """A progress report row (mutable: the use case changes it, then ``save_report`` writes it)."""

    id: int
    round_id: int
    proposal_id: int
    state: str
    entries: dict[str, Any]
    umsetzungsstand: str | None
    returned: list[str]
    revised: list[str]
    base_version: int
    portrait_version: int | None
    updated_at: dt.datetime
    submitted_at: dt.datetime | None
    accepted_at: dt.datetime | None


@dataclass(frozen=True)
class Portrait:
    """A portrait's head row."""

    proposal_id: int
    project_code: str
    umsetzungsstand: str
    current_version: int
    completed_at: dt.datetime | None


def find_round(conn: Executor, year: int) -> Round | None:
    """The round of this year, or None."""
    row = conn.execute(
        select(
            ROUNDS.c.id,
            ROUNDS.c.year,
            ROUNDS.c.name,
            ROUNDS.c.stichtag,
            ROUNDS.c.due_date,
            ROUNDS.c.opened_at,
        ).where(ROUNDS.c.year == year)
    ).first()
    return Round(*row) if row is not None else None


def rounds(conn: Executor) -> list[Round]:
    """Every round, newest first."""
    query = select(
        ROUNDS.c.id, ROUNDS.c.year, ROUNDS.c.name, ROUNDS.c.stichtag, ROUNDS.c.due_date, ROUNDS.c.opened_at
    ).order_by(ROUNDS.c.year.desc())
    return [Round(*row) for row in conn.execute(query)]


def insert_round(conn: Executor, **values: Any) -> int:
    """Insert a round; its id. A round of that year opened meanwhile by someone else is a conflict."""
    try:
        return int(conn.execute(insert(ROUNDS).values(**values).returning(ROUNDS.c.id)).scalar_one())
    except IntegrityError:
        raise ConflictError(f"Die Berichtsrunde {values['year']} ist bereits eröffnet.") from None


def recognised_open_projects(conn: Executor) -> list[int]:
    """Recognised projects not marked completed, by id: those that owe a report in a new round."""
    query = (
        select(PROPOSALS.c.id)
        .outerjoin(PORTRAITS, PORTRAITS.c.proposal_id == PROPOSALS.c.id)
        .where(PROPOSALS.c.status == State.ANERKANNT.value, PORTRAITS.c.completed_at.is_(None))
        .order_by(PROPOSALS.c.id)
    )
    return [int(pid) for pid in conn.execute(query).scalars()]


def find_portrait(conn: Executor, proposal_id: int) -> Portrait | None:
    """A project's portrait head, or None before its first."""
    row = conn.execute(
        select(
            PORTRAITS.c.proposal_id,
            PORTRAITS.c.project_code,
            PORTRAITS.c.umsetzungsstand,
            PORTRAITS.c.current_version,
            PORTRAITS.c.completed_at,
        ).where(PORTRAITS.c.proposal_id == proposal_id)
    ).first()
    return Portrait(*row) if row is not None else None


def insert_portrait(conn: Executor, **values: Any) -> None:
    """Insert a portrait head."""
    conn.execute(insert(PORTRAITS).values(**values))


def update_portrait(conn: Executor, proposal_id: int, **values: Any) -> None:
    """Change a portrait head."""
    conn.execute(update(PORTRAITS).where(PORTRAITS.c.proposal_id == proposal_id).values(**values))


def version_content(conn: Executor, proposal_id: int, number: int) -> dict[str, Any] | None:
    """The content of one portrait version, or None."""
    query = select(VERSIONS.c.content).where(
        VERSIONS.c.proposal_id == proposal_id, VERSIONS.c.number == number
    )
    found = conn.execute(query).scalar_one_or_none()
    return dict(found) if found is not None else None


def last_version_number(conn: Executor, proposal_id: int) -> int:
    """The highest version number of a portrait (0 before the first)."""
    query = select(func.max(VERSIONS.c.number)).where(VERSIONS.c.proposal_id == proposal_id)
    return int(conn.execute(query).scalar_one() or 0)


def insert_version(conn: Executor, **values: Any) -> None:
    """Insert a portrait version."""
    conn.execute(insert(VERSIONS).values(**values))


def versions(conn: Executor, proposal_id: int) -> list[dict[str, Any]]:
    """Every version of a portrait, oldest first, with who wrote it."""
    query = (
        select(
            VERSIONS.c.number,
            VERSIONS.c.content,
            VERSIONS.c.umsetzungsstand,
            VERSIONS.c.report_id,
            VERSIONS.c.created_at,
            USERS.c.name.label("created_by"),
        )
        .join(USERS, USERS.c.id == VERSIONS.c.created_by)
        .where(VERSIONS.c.proposal_id == proposal_id)
        .order_by(VERSIONS.c.number)
    )
    return [dict(row._mapping) for row in conn.execute(query)]


_REPORT_COLUMNS = (
    REPORTS.c.id,
    REPORTS.c.round_id,
    REPORTS.c.proposal_id,
    REPORTS.c.state,
    REPORTS.c.entries,
    REPORTS.c.umsetzungsstand,
    REPORTS.c.returned,
    REPORTS.c.revised,
    REPORTS.c.base_version,
    REPORTS.c.portrait_version,
    REPORTS.c.updated_at,
    REPORTS.c.submitted_at,
    REPORTS.c.accepted_at,
)


def find_report(conn: Executor, round_id: int, proposal_id: int) -> Report | None:
    """The report a project owes in a round, or None."""
    query = select(*_REPORT_COLUMNS).where(
        REPORTS.c.round_id == round_id, REPORTS.c.proposal_id == proposal_id
    )
    row = conn.execute(query).first()
    if row is None:
        return None
    values = list(row)
    values[4] = dict(values[4] or {})
    values[6], values[7] = list(values[6] or []), list(values[7] or [])
    return Report(*values)


def insert_report(conn: Executor, **values: Any) -> int:
    """Insert a report; its id."""
    return int(conn.execute(insert(REPORTS).values(**values).returning(REPORTS.c.id)).scalar_one())


def save_report(conn: Executor, report: Report, from_state: str) -> bool:
    """Write a report if it is still in the state it was read in; False if someone was faster."""
    result = conn.execute(
        update(REPORTS)
        .where(REPORTS.c.id == report.id, REPORTS.c.state == from_state)
        .values(
            state=report.state,
            entries=report.entries,
            umsetzungsstand=report.umsetzungsstand,
            returned=report.returned,
            revised=report.revised,
            portrait_version=report.portrait_version,
            updated_at=report.updated_at,
            submitted_at=report.submitted_at,
            accepted_at=report.accepted_at,
        )
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def contributors(conn: Executor, proposal_id: int) -> frozenset[int]:
    """The user ids invited to contribute to a project's reports."""
    query = select(CONTRIBUTORS.c.user_id).where(CONTRIBUTORS.c.proposal_id == proposal_id)
    return frozenset(int(u) for u in conn.execute(query).scalars())


def insert_contributor(conn: Executor, **values: Any) -> None:
    """Record an invitation."""
    conn.execute(insert(CONTRIBUTORS).values(**values))


def report_rows(conn: Executor, round_id: int | None = None) -> list[dict[str, Any]]:
    """Reports with their project and round, for lists and reminders (of one round or all)."""
    query = (
        select(
            REPORTS.c.id,
            REPORTS.c.proposal_id,
            REPORTS.c.state,
            REPORTS.c.updated_at,
            REPORTS.c.submitted_at,
            ROUNDS.c.year,
            ROUNDS.c.due_date,
            PROPOSALS.c.title,
            PROPOSALS.c.organisation,
            PROPOSALS.c.responsible_ressort,
            PROPOSALS.c.contact_email,
            PROPOSALS.c.contact_name,
        )
        .join(ROUNDS, ROUNDS.c.id == REPORTS.c.round_id)
        .join(PROPOSALS, PROPOSALS.c.id == REPORTS.c.proposal_id)
        .order_by(ROUNDS.c.year.desc(), REPORTS.c.proposal_id)
    )
    if round_id is not None:
        query = query.where(REPORTS.c.round_id == round_id)
    return [dict(row._mapping) for row in conn.execute(query)]


def ressort_name_at(conn: Executor, abbreviation: str, day: dt.date) -> tuple[str, str]:
    """A Ressort's abbreviation and name as valid on a day (its current ones if no history says else)."""
    query = (
        select(RESSORT_NAMES.c.abbreviation, RESSORT_NAMES.c.name)
        .where(
            RESSORT_NAMES.c.ressort == abbreviation,
            RESSORT_NAMES.c.valid_from <= day,
            (RESSORT_NAMES.c.valid_until.is_(None)) | (RESSORT_NAMES.c.valid_until >= day),
        )
        .order_by(RESSORT_NAMES.c.valid_from.desc())
    )
    found = conn.execute(query).first()
    if found is not None:
        return str(found[0]), str(found[1])
    name = conn.execute(select(RESSORTS.c.name).where(RESSORTS.c.abbreviation == abbreviation)).scalar()
    return abbreviation, str(name or abbreviation)


def insert_ressort_name(conn: Executor, **values: Any) -> None:
    """Record what a Ressort was called from a day on."""
    conn.execute(insert(RESSORT_NAMES).values(**values))


def revision_document(conn: Executor, proposal_id: int, number: int) -> dict[str, Any]:
    """The proposal document of one revision (the portrait's first version is made from it)."""
    revisions = TABLES["revisions"]
    query = select(revisions.c.document).where(
        revisions.c.proposal_id == proposal_id, revisions.c.number == number
    )
    return dict(conn.execute(query).scalar_one())
