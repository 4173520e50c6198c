"""What the proposal pages show: the timeline of the history, the revisions, and the path of a proposal."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from partnerprojekte.db.engine import Database
from partnerprojekte.db.schema import AuditRow, RevisionRow, UserRow
from partnerprojekte.model import Role, State
from partnerprojekte.states.workflow import Actor
from partnerprojekte.web import wording

# The usual way of a proposal, for the step display of a partner's list.
PATH = (State.EINGEREICHT, State.IN_BEARBEITUNG, State.IN_ABSTIMMUNG, State.ANERKANNT)

_TITLES: dict[str, str] = {
    "submit": "Vorschlag eingereicht",
    "revise": "Überarbeitete Fassung eingereicht",
    "take_up": "Vom Arbeitsstab aufgegriffen",
    "start_coordination": "Abstimmung mit dem Ressort eingeleitet",
    "request_changes": "Änderungen angefordert",
    "recognise": "Als Partnerprojekt der Ruhr-Konferenz anerkannt",
    "decline": "Nicht weiterverfolgt",
    "integrate_into_pillar_1": "In ein Projekt der 1. Säule integriert",
    "reopen": "Wieder aufgenommen",
    "withdraw": "Zurückgezogen",
    "assign_ressort": "Zuständiges Ressort zugeordnet",
    "confirm_criterion": "Kriterium bestätigt",
    "comment": "Kommentar",
    "approve": "Zustimmung gegeben",
    "withdraw_approval": "Zustimmung zurückgenommen",
}


@dataclass(frozen=True)
class TimelineEntry:
    """One entry of a proposal's history as a person reads it."""

    at: str
    title: str
    who: str
    from_state: str | None
    to_state: str | None
    comment: str | None
    visibility: str | None
    details: list[str] = field(default_factory=list)

    @property
    def changes_state(self) -> bool:
        """Whether the entry moved the proposal to another state."""
        return self.to_state is not None and self.to_state != self.from_state


def user_names(db: Database) -> dict[str, str]:
    """E-mail -> name of every user (to show names instead of addresses)."""
    with db.read() as s:
        return {row.email: row.name for row in s.execute(select(UserRow.email, UserRow.name))}


@dataclass(frozen=True)
class Person:
    """Who wrote or did something: name, role and Ressort."""

    name: str
    role: Role
    ressort: str | None


def people_by_email(db: Database) -> dict[str, Person]:
    """E-mail -> person, for every user."""
    with db.read() as s:
        rows = s.execute(select(UserRow.email, UserRow.name, UserRow.role, UserRow.ressort))
        return {email: Person(name, role, ressort) for email, name, role, ressort in rows}


def author(email: str | None, viewer: Actor, people: Mapping[str, Person]) -> str:
    """How an author is shown: a partner reads the body (Arbeitsstab, Ressort MWIDE), staff the name."""
    person = people.get(email or "")
    if person is None:
        return email or "unbekannt"
    if viewer.role is Role.PARTNER and person.role is not Role.PARTNER:
        return (
            f"Ressort {person.ressort}"
            if person.role is Role.RESSORT and person.ressort
            else person.role.label
        )
    suffix = f" {person.ressort}" if person.role is Role.RESSORT and person.ressort else ""
    return f"{person.name} ({person.role.label}{suffix})"


def _who(entry: Mapping[str, Any], viewer: Actor, names: Mapping[str, str]) -> str:
    role = str(entry.get("role") or "")
    if viewer.role is Role.PARTNER:
        # A partner sees which body acted; the officials' names are not theirs to collect.
        if role == Role.PARTNER.value:
            return names.get(str(entry.get("actor")), "Partner")
        if role == Role.RESSORT.value and entry.get("ressort"):
            return f"Ressort {entry['ressort']}"
        return wording.role_label(role)
    name = names.get(str(entry.get("actor")), str(entry.get("actor")))
    suffix = f" {entry['ressort']}" if role == Role.RESSORT.value and entry.get("ressort") else ""
    return f"{name} ({wording.role_label(role)}{suffix})"


def _details(entry: Mapping[str, Any], viewer: Actor, names: Mapping[str, str]) -> list[str]:
    event = entry["event"]
    extra: dict[str, Any] = entry.get("details") or {}
    lines: list[str] = []
    if event == "revise":
        lines.append(f"Fassung {entry.get('revision')}")
        if extra.get("dropped_confirmations") and viewer.role is not Role.PARTNER:
            dropped = ", ".join(wording.criterion_label(c) for c in extra["dropped_confirmations"])
            lines.append(f"Bestätigungen entfallen: {dropped}")
    if event == "assign_ressort":
        lines.append(f"Ressort {entry.get('ressort')}")
        if extra.get("previous"):
            lines.append(f"bisher {extra['previous']}")
    if event == "confirm_criterion" and extra.get("criterion"):
        lines.append(wording.criterion_label(extra["criterion"]))
    if event in ("approve", "withdraw_approval") and extra.get("event"):
        lines.append(f"zu „{wording.event_name(extra['event'])}“")
        missing = extra.get("missing") or []
        if missing:
            lines.append("es fehlt noch: " + " und ".join(wording.role_label(r) for r in missing))
    if entry.get("reasons"):
        lines.append("Gründe: " + "; ".join(wording.reason_label(r) for r in entry["reasons"]))
    if entry.get("saeule_1_projekt"):
        lines.append(f"Projekt {entry['saeule_1_projekt']} der 1. Säule")
    approvals = entry.get("approvals") or []
    if approvals:
        who = [
            names.get(str(a.get("user")), str(a.get("user")))
            if viewer.role is not Role.PARTNER
            else wording.role_label(str(a.get("role")))
            for a in approvals
        ]
        lines.append("Zustimmung von " + " und ".join(who))
    return lines


def timeline(
    entries: Sequence[Mapping[str, Any]], viewer: Actor, names: Mapping[str, str]
) -> list[TimelineEntry]:
    """The history (already redacted for the viewer) as timeline entries, newest first."""
    shown = [
        TimelineEntry(
            at=str(entry["at"]),
            title=_TITLES.get(str(entry["event"]), wording.event_name(str(entry["event"]))),
            who=_who(entry, viewer, names),
            from_state=entry.get("from"),
            to_state=entry.get("to"),
            comment=entry.get("comment"),
            visibility=entry.get("visibility"),
            details=_details(entry, viewer, names),
        )
        for entry in entries
    ]
    return list(reversed(shown))


@dataclass(frozen=True)
class RevisionInfo:
    """One stored revision of a proposal."""

    number: int
    created_at: dt.datetime
    created_by: str
    overall: str


def revisions(db: Database, proposal_id: int) -> list[RevisionInfo]:
    """The revisions of a proposal, newest first."""
    query = (
        select(RevisionRow.number, RevisionRow.created_at, UserRow.name, RevisionRow.check_result)
        .join(UserRow, UserRow.id == RevisionRow.created_by)
        .where(RevisionRow.proposal_id == proposal_id)
        .order_by(RevisionRow.number.desc())
    )
    with db.read() as s:
        return [
            RevisionInfo(number, at, name, str(check.get("overall", "")))
            for number, at, name, check in s.execute(query)
        ]


def revision(db: Database, proposal_id: int, number: int) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The document and criteria results of one revision, or None."""
    with db.read() as s:
        row = s.scalar(
            select(RevisionRow).where(RevisionRow.proposal_id == proposal_id, RevisionRow.number == number)
        )
        return (row.document, row.check_result) if row is not None else None


@dataclass(frozen=True)
class Step:
    """One step of the usual path, reached or not."""

    label: str
    reached_at: dt.datetime | None
    current: bool


def paths(db: Database, proposal_ids: Sequence[int]) -> dict[int, list[tuple[str, dt.datetime]]]:
    """For each proposal, the states it entered with their moments, oldest first."""
    if not proposal_ids:
        return {}
    query = (
        select(AuditRow.proposal_id, AuditRow.to_state, AuditRow.from_state, AuditRow.at)
        .where(AuditRow.proposal_id.in_(list(proposal_ids)))
        .order_by(AuditRow.proposal_id, AuditRow.seq)
    )
    found: dict[int, list[tuple[str, dt.datetime]]] = {pid: [] for pid in proposal_ids}
    with db.read() as s:
        for pid, to_state, from_state, at in s.execute(query):
            if to_state is not None and to_state != from_state:
                found[pid].append((to_state, at))
    return found


def steps(entered: Sequence[tuple[str, dt.datetime]], status: State) -> list[Step]:
    """The usual path with the moment each step was last reached; an ending off the path is its last step."""
    last: dict[str, dt.datetime] = {}
    for state, at in entered:
        last[state] = at
    path = list(PATH) if status in PATH else [*PATH[: _reached_on_path(entered)], status]
    return [Step(state.label, last.get(state.value), state is status) for state in path]


def _reached_on_path(entered: Sequence[tuple[str, dt.datetime]]) -> int:
    """How many steps of the usual path a proposal had reached before it ended elsewhere."""
    reached = {state for state, _ in entered}
    count = 0
    for state in PATH[:-1]:
        if state.value in reached:
            count += 1
    return max(count, 1)
