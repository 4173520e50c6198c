"""„Meine Aufgaben“: what waits for a reviewer's (or the Arbeitsstab's) decision, overdue first."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import select

from partnerprojekte.config import Settings
from partnerprojekte.db.engine import Database
from partnerprojekte.db.schema import ApprovalRow, ProposalRow, UserRow
from partnerprojekte.model import Event, Role, State
from partnerprojekte.reading.owed import RULES, days_waiting, local_day
from partnerprojekte.reading.queries import cached
from partnerprojekte.states.workflow import Actor, ApprovalPolicy
from partnerprojekte.web import wording


@dataclass(frozen=True)
class Task:
    """One proposal that waits for the viewer's side, and since when."""

    proposal_id: int
    title: str
    organisation: str
    status: State
    ressort: str | None
    what: str
    since: dt.datetime
    days: int
    overdue_after: int

    @property
    def overdue(self) -> bool:
        """Whether it waits as long as the reminder threshold or longer."""
        return self.days >= self.overdue_after


class _Summary(Protocol):
    """The columns of a proposal a task shows (not the document: parsing 50,000 of them took seconds)."""

    id: int
    title: str
    organisation: str
    status: State
    responsible_ressort: str | None
    status_since: dt.datetime


_SUMMARY = (
    ProposalRow.id,
    ProposalRow.title,
    ProposalRow.organisation,
    ProposalRow.status,
    ProposalRow.responsible_ressort,
    ProposalRow.status_since,
)


def tasks_for(db: Database, settings: Settings, actor: Actor) -> list[Task]:
    """The viewer's tasks: owed approvals (Ressort and Arbeitsstab) and new proposals (Arbeitsstab)."""
    if actor.role not in (Role.RESSORT, Role.ARBEITSSTAB):
        return []
    tz = settings.timezone
    today = local_day(db.clock(), tz)
    # The same for everyone of a role (and Ressort) on one day, until the data changes.
    key = ("tasks", actor.role, actor.ressort if actor.role is Role.RESSORT else None, today, tz)
    return list(cached(db, key, lambda: _tasks(db, settings, actor, today)))


def _tasks(db: Database, settings: Settings, actor: Actor, today: dt.date) -> list[Task]:
    tz = settings.timezone
    policy = ApprovalPolicy(settings.approvals)
    tasks: list[Task] = []
    with db.read() as s:
        query = select(*_SUMMARY).where(ProposalRow.status == State.IN_ABSTIMMUNG)
        if actor.role is Role.RESSORT:
            query = query.where(ProposalRow.responsible_ressort == actor.ressort)
        rows: list[_Summary] = list(s.execute(query))
        pending: dict[int, list[tuple[str, Role, dt.datetime, str]]] = {}
        if rows:
            approvals = s.execute(
                select(
                    ApprovalRow.proposal_id,
                    ApprovalRow.event,
                    ApprovalRow.role,
                    ApprovalRow.created_at,
                    UserRow.name,
                )
                .join(UserRow, UserRow.id == ApprovalRow.user_id)
                .where(
                    ApprovalRow.proposal_id.in_([r.id for r in rows]),
                    ApprovalRow.status == "pending",
                    ApprovalRow.from_state == State.IN_ABSTIMMUNG,
                )
            )
            for pid, event, role, at, name in approvals:
                pending.setdefault(pid, []).append((event, role, at, name))
        for row in rows:
            task = _approval_task(row, pending.get(row.id, []), actor.role, policy, today, tz)
            if task is not None:
                tasks.append(task)
        if actor.role is Role.ARBEITSSTAB:
            for row in s.execute(select(*_SUMMARY).where(ProposalRow.status == State.EINGEREICHT)):
                tasks.append(
                    Task(
                        row.id,
                        row.title,
                        row.organisation,
                        row.status,
                        row.responsible_ressort,
                        "Neu eingereicht: aufgreifen oder nicht weiterverfolgen",
                        row.status_since,
                        days_waiting(row.status_since, today, tz),
                        RULES.submitted_after,
                    )
                )
    return sorted(tasks, key=lambda t: (not t.overdue, -t.days, t.proposal_id))


def _approval_task(
    row: _Summary,
    pending: list[tuple[str, Role, dt.datetime, str]],
    role: Role,
    policy: ApprovalPolicy,
    today: dt.date,
    tz: str,
) -> Task | None:
    """The approval this role owes on a proposal in coordination, if any."""
    # The events whose approvals someone may owe in coordination: from the approval policy.
    gated = [e for e in Event if policy.required_roles(e, State.IN_ABSTIMMUNG)]
    started = [(event, items) for event in gated if (items := [p for p in pending if p[0] == event.value])]
    for event, items in started:
        required = policy.required_roles(event, State.IN_ABSTIMMUNG)
        if role in required and all(r is not role for _, r, _, _ in items):
            given = " und ".join(f"{name} ({wording.role_label(r)})" for _, r, _, name in items)
            since = min(at for _, _, at, _ in items)
            what = f"Zustimmung zu „{wording.event_name(event.value)}“ – zugestimmt hat bereits {given}"
            return Task(
                row.id,
                row.title,
                row.organisation,
                row.status,
                row.responsible_ressort,
                what,
                since,
                days_waiting(since, today, tz),
                RULES.approval_after,
            )
    if started or role not in policy.required_roles(Event.RECOGNISE, State.IN_ABSTIMMUNG):
        # Either this role has given its part already, or it is not asked for one.
        return None
    return Task(
        row.id,
        row.title,
        row.organisation,
        row.status,
        row.responsible_ressort,
        "In Abstimmung: Entscheidung über die Anerkennung steht aus",
        row.status_since,
        days_waiting(row.status_since, today, tz),
        RULES.approval_after,
    )
