"""Read side of life after recognition: rounds, a project's progress report, its portrait and the
differences between two versions of it."""

from __future__ import annotations

import difflib
import json
from typing import Any

from sqlalchemy import select

from partnerprojekte.db import reports as rdb
from partnerprojekte.db.engine import Database
from partnerprojekte.db.schema import ProposalRow
from partnerprojekte.errors import NotFound
from partnerprojekte.ids import format_id
from partnerprojekte.model import Role
from partnerprojekte.portrait import Section, Umsetzungsstand
from partnerprojekte.reading import visible
from partnerprojekte.reading.visible import ProposalRef
from partnerprojekte.states.report_table import ReportState
from partnerprojekte.states.workflow import Actor


def list_rounds(db: Database) -> list[dict[str, Any]]:
    """Every reporting round with how many reports stand in which state."""
    with db.read() as s:
        found = rdb.rounds(s)
        counts: dict[int, dict[str, int]] = {}
        for report in rdb.report_rows(s):
            by_state = counts.setdefault(report["year"], {})
            by_state[report["state"]] = by_state.get(report["state"], 0) + 1
    return [{**r.to_json(), "meldungen": counts.get(r.year, {})} for r in found]


def list_reports(db: Database, year: int) -> list[dict[str, Any]]:
    """The progress reports of one round, by project."""
    with db.read() as s:
        round_ = rdb.find_round(s, year)
        if round_ is None:
            raise NotFound(f"Eine Berichtsrunde {year} gibt es nicht.", field="runde")
        rows = rdb.report_rows(s, round_.id)
    return [
        {
            "id": format_id(r["proposal_id"]),
            "titel": r["title"],
            "organisation": r["organisation"],
            "ressort": r["responsible_ressort"],
            "status": r["state"],
            "status_text": ReportState(r["state"]).label,
            "abgabe_bis": r["due_date"].isoformat(),
            "eingereicht_am": r["submitted_at"].isoformat() if r["submitted_at"] else None,
        }
        for r in rows
    ]


def show_report(db: Database, proposal_id: int, year: int) -> dict[str, Any]:
    """One project's progress report in a round: state, entries, returned sections, portrait version."""
    with db.read() as s:
        round_ = rdb.find_round(s, year)
        if round_ is None:
            raise NotFound(f"Eine Berichtsrunde {year} gibt es nicht.", field="runde")
        report = rdb.find_report(s, round_.id, proposal_id)
        if report is None:
            raise NotFound(f"{format_id(proposal_id)} schuldet in der Berichtsrunde {year} keine Meldung.")
    return {
        "id": format_id(proposal_id),
        "runde": round_.to_json(),
        "status": report.state,
        "status_text": ReportState(report.state).label,
        "abschnitte": report.entries,
        "umsetzungsstand": report.umsetzungsstand,
        "zurueckgegeben": report.returned,
        "ueberarbeitet": report.revised,
        "basis_version": report.base_version,
        "porträt_version": report.portrait_version,
        "eingereicht_am": report.submitted_at.isoformat() if report.submitted_at else None,
        "angenommen_am": report.accepted_at.isoformat() if report.accepted_at else None,
    }


def show_portrait(db: Database, proposal_id: int) -> dict[str, Any]:
    """A project's portrait: the current (accepted) version and the list of all versions."""
    with db.read() as s:
        head = rdb.find_portrait(s, proposal_id)
        if head is None:
            raise NotFound(f"{format_id(proposal_id)} hat noch kein Porträt.")
        all_versions = rdb.versions(s, proposal_id)
    current = next(v for v in all_versions if v["number"] == head.current_version)
    return {
        "id": format_id(proposal_id),
        "projekt_id": head.project_code,
        "umsetzungsstand": head.umsetzungsstand,
        "umsetzungsstand_text": Umsetzungsstand(head.umsetzungsstand).label,
        "abgeschlossen_am": head.completed_at.isoformat() if head.completed_at else None,
        "version": head.current_version,
        "inhalt": current["content"],
        "versionen": [
            {
                "nummer": v["number"],
                "erstellt_am": v["created_at"].isoformat(),
                "erstellt_von": v["created_by"],
                "aus_meldung": v["report_id"] is not None,
            }
            for v in all_versions
        ],
    }


def _as_lines(value: object) -> list[str]:
    """A section value as lines to compare (text by line, structured values as indented JSON)."""
    if value is None:
        return []
    if isinstance(value, str):
        return value.splitlines()
    return json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True).splitlines()


def portrait_diff(db: Database, proposal_id: int, old: int, new: int) -> list[dict[str, Any]]:
    """What changed between two versions of a portrait, section by section (unified diff lines)."""
    with db.read() as s:
        before = rdb.version_content(s, proposal_id, old)
        after = rdb.version_content(s, proposal_id, new)
    for number, content in ((old, before), (new, after)):
        if content is None:
            raise NotFound(f"{format_id(proposal_id)} hat keine Porträt-Version {number}.", field="version")
    assert before is not None
    assert after is not None
    changes = []
    for section in Section:
        a, b = before.get(section.value), after.get(section.value)
        if a == b:
            continue
        kind = "neu" if a is None else "entfallen" if b is None else "geändert"
        lines = list(difflib.unified_diff(_as_lines(a), _as_lines(b), lineterm="", n=1))[2:]
        changes.append({"abschnitt": section.value, "titel": section.label, "art": kind, "zeilen": lines})
    return changes


def portrait_version(db: Database, proposal_id: int, number: int) -> dict[str, Any]:
    """The content of one portrait version (section code → value)."""
    with db.read() as s:
        content = rdb.version_content(s, proposal_id, number)
    if content is None:
        raise NotFound(f"{format_id(proposal_id)} hat keine Porträt-Version {number}.", field="version")
    return content


def contributors_of(db: Database, proposal_id: int) -> frozenset[int]:
    """The user ids invited to contribute to a project's progress reports."""
    with db.read() as s:
        return rdb.contributors(s, proposal_id)


def contributed_projects(db: Database, user_id: int) -> frozenset[int]:
    """The projects a person was invited to contribute to."""
    with db.read() as s:
        query = select(rdb.CONTRIBUTORS.c.proposal_id).where(rdb.CONTRIBUTORS.c.user_id == user_id)
        return frozenset(int(p) for p in s.scalars(query))


def report_visible(db: Database, actor: Actor, proposal_id: int) -> ProposalRef:
    """The project if the actor may see its progress reports: who may see the proposal, and the invited
    co-partners (who see the report and the portrait, not the proposal); else the same 404 as ever."""
    try:
        return visible.visible_proposal(db, actor, proposal_id)
    except NotFound:
        if actor.role is not Role.PARTNER or actor.user_id not in contributors_of(db, proposal_id):
            raise
    with db.read() as s:
        row = s.get(ProposalRow, proposal_id)
        assert row is not None
        return ProposalRef(row.id, row.status, row.organisation, row.responsible_ressort, row.version)
