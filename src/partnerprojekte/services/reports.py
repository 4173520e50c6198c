"""Use case of a progress report: each event of its machine is one transaction with its audit row in the
project's chain (the proposal's state stays ``anerkannt``) and its outbox rows, or nothing at all."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from partnerprojekte.db import reports as rdb
from partnerprojekte.db.store import Executor
from partnerprojekte.errors import ConflictError, FieldError, NotFound, ValidationError
from partnerprojekte.formats import check_text
from partnerprojekte.formats.portraits import entries_to_json, parse_entries
from partnerprojekte.ids import format_id
from partnerprojekte.model import Visibility
from partnerprojekte.portrait import Section, SectionEntry, Umsetzungsstand, apply_entries
from partnerprojekte.services.portraits import stay
from partnerprojekte.services.writer import AuditEntry, Writer
from partnerprojekte.states.facts import Actor
from partnerprojekte.states.report_table import ReportEvent, ReportState, report_spec_for
from partnerprojekte.states.report_workflow import (
    ReportFacts,
    ReportInput,
    decide_report,
)


@dataclass(frozen=True)
class ReportOutcome:
    """What a report event did: the report's state afterwards and the audit row it wrote."""

    proposal_id: int
    year: int
    event: str
    state: str
    seq: int
    portrait_version: int | None = None
    notifications: int = 0
    returned: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The CLI and API shape."""
        return {
            "id": format_id(self.proposal_id),
            "jahr": self.year,
            "event": self.event,
            "status": self.state,
            "porträt_version": self.portrait_version,
            "zurueckgegeben": self.returned,
            "notifications": self.notifications,
        }


def _round_or_fail(conn: Executor, year: int) -> rdb.Round:
    found = rdb.find_round(conn, year)
    if found is None:
        raise NotFound(f"Eine Berichtsrunde {year} gibt es nicht.", field="runde")
    return found


def _stored_entries(report: rdb.Report) -> dict[Section, SectionEntry]:
    return parse_entries(report.entries)


def _returned_sections(raw: list[str]) -> list[Section]:
    known = {s.value for s in Section}
    wrong = [s for s in raw if s not in known]
    if wrong:
        raise ValidationError(
            FieldError("abschnitte", "unbekannter Abschnitt " + ", ".join(f"„{w}“" for w in wrong))
        )
    return [s for s in Section if s.value in raw]


def report_event(
    svc: Writer,
    proposal_id: int,
    year: int,
    event: ReportEvent,
    actor_email: str,
    *,
    entries: object = None,
    comment: str | None = None,
    sections: list[str] | None = None,
    umsetzungsstand: str | None = None,
    at: dt.datetime | None = None,
    notify: bool = True,
) -> ReportOutcome:
    """Fire one event of a progress report: save a draft, submit, return, approve or accept it."""
    check_text(comment, "Kommentar")
    given = parse_entries(entries) if entries is not None else {}
    if given and event not in (ReportEvent.SAVE_DRAFT, ReportEvent.SUBMIT_REPORT):
        raise ValidationError(
            FieldError("abschnitte", f"„{event.label}“ nimmt keine Abschnitte an; sie gehören zum Entwurf.")
        )
    returned_now = _returned_sections(sections or [])
    stand = _umsetzungsstand(umsetzungsstand)
    with svc.db.transaction() as conn:
        actor, at, row, _ = svc.context(conn, proposal_id, actor_email, at)
        round_ = _round_or_fail(conn, year)
        report = rdb.find_report(conn, round_.id, row.id)
        if report is None:
            raise NotFound(
                f"{format_id(row.id)} schuldet in der Berichtsrunde {year} keine Fortschrittsmeldung."
            )
        stored = _stored_entries(report)
        draft = {**stored, **given}
        facts = ReportFacts(
            state=ReportState(report.state),
            organisation=row.organisation,
            responsible_ressort=row.responsible_ressort,
            entries=draft,
            returned=frozenset(Section(s) for s in report.returned),
            revised=frozenset(Section(s) for s in report.revised),
            contributors=rdb.contributors(conn, row.id),
        )
        text = comment.strip() if comment and comment.strip() else None
        decision = decide_report(facts, event, actor, ReportInput(text, has_entries=bool(given)))
        spec = report_spec_for(event, facts.state)
        assert spec is not None
        from_state = report.state
        report.state = decision.to_state.value
        report.updated_at = at
        details: dict[str, Any] = {"round": year, "report_from": from_state, "report_to": report.state}
        if given:
            report.entries = entries_to_json(draft)
            # A returned section counts as revised once its entry differs from what was returned (a page
            # sends every section again: sending the same text back is no revision).
            edited = {s.value for s, e in given.items() if s.value in report.returned and e != stored.get(s)}
            report.revised = [s.value for s in Section if s.value in set(report.revised) | edited]
            details["sections"] = [s.value for s in given]
        if stand is not None and event in (ReportEvent.SAVE_DRAFT, ReportEvent.SUBMIT_REPORT):
            report.umsetzungsstand = stand.value
        if event is ReportEvent.SUBMIT_REPORT:
            # Written after the audit row: its version check lets only one of two parallel submissions on
            # (the other would wait on this version number's unique key, then fail in the database).
            report.portrait_version = rdb.last_version_number(conn, row.id) + 1
            report.submitted_at = at
            details["portrait_version"] = report.portrait_version
        elif event is ReportEvent.RETURN_REPORT:
            report.returned = [s.value for s in returned_now]
            report.revised = []
            details["sections"] = report.returned
        elif event is ReportEvent.ACCEPT_REPORT:
            assert report.portrait_version is not None
            report.accepted_at = at
            rdb.update_portrait(
                conn,
                row.id,
                current_version=report.portrait_version,
                umsetzungsstand=report.umsetzungsstand or _current_stand(conn, row.id),
            )
            details["portrait_version"] = report.portrait_version
        visibility = Visibility.PARTNER if text else None
        entry = AuditEntry(comment=text, visibility=visibility, details=details)
        seq = svc.record(conn, row, stay(row, event.value), actor, at, entry)
        if event is ReportEvent.SUBMIT_REPORT:
            _write_version(conn, row.id, report, draft, actor, at)
        if not rdb.save_report(conn, report, from_state):
            raise ConflictError(
                f"Die Fortschrittsmeldung von {format_id(row.id)} wurde gleichzeitig geändert; "
                "bitte neu laden und erneut versuchen."
            )
        if text:
            svc.add_comment(conn, row.id, actor, text, Visibility.PARTNER, event.value, seq, at)
        extra = {
            "round": year,
            "round_name": round_.name,
            "due_date": round_.due_date.isoformat(),
            "report_state": report.state,
            "comment": text,
            "comment_visibility": Visibility.PARTNER.value if text else None,
            "returned_sections": [Section(s).label for s in report.returned]
            if event is ReportEvent.RETURN_REPORT
            else [],
        }
        sent = svc.notify(conn, row, seq, event.value, at, actor, notify, extra=extra, audiences=spec.notify)
        return ReportOutcome(
            row.id,
            year,
            event.value,
            report.state,
            seq,
            report.portrait_version,
            sent,
            list(report.returned),
        )


def _umsetzungsstand(value: str | None) -> Umsetzungsstand | None:
    if value is None:
        return None
    try:
        return Umsetzungsstand(value)
    except ValueError:
        possible = ", ".join(u.value for u in Umsetzungsstand)
        raise ValidationError(
            FieldError("umsetzungsstand", f"„{value}“ ist kein Umsetzungsstand; möglich: {possible}")
        ) from None


def _current_stand(conn: Executor, proposal_id: int) -> str:
    found = rdb.find_portrait(conn, proposal_id)
    assert found is not None
    return found.umsetzungsstand


def _write_version(
    conn: Executor,
    proposal_id: int,
    report: rdb.Report,
    draft: dict[Section, SectionEntry],
    actor: Actor,
    at: dt.datetime,
) -> None:
    """The report's portrait version: its base with the changed sections, dropped ones removed."""
    base = rdb.version_content(conn, proposal_id, report.base_version) or {}
    content = apply_entries({Section(k): v for k, v in base.items()}, draft)
    assert report.portrait_version is not None
    rdb.insert_version(
        conn,
        proposal_id=proposal_id,
        number=report.portrait_version,
        content={s.value: v for s, v in content.items()},
        umsetzungsstand=report.umsetzungsstand or _current_stand(conn, proposal_id),
        report_id=report.id,
        created_by=actor.user_id,
        created_at=at,
    )
