"""„Meine Aufgaben“: what waits for a reviewer's (or the Arbeitsstab's) decision, overdue first."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from partnerprojekte.config import Settings
from partnerprojekte.db.engine import Database
from partnerprojekte.model import Event, Role, State
from partnerprojekte.reading.owed import (
    RULES,
    Owed,
    approvals_owed,
    days_waiting,
    decisions_waiting,
    local_day,
    submitted_waiting,
)
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


def tasks_for(db: Database, settings: Settings, actor: Actor) -> list[Task]:
    """The viewer's tasks: owed approvals (Ressort and Arbeitsstab) and new proposals (Arbeitsstab)."""
    if actor.role not in (Role.RESSORT, Role.ARBEITSSTAB):
        return []
    if actor.role is Role.RESSORT and actor.ressort is None:
        return []  # a reviewer of no Ressort owes nothing (and "no Ressort filter" would mean all of them)
    tz = settings.timezone
    today = local_day(db.clock(), tz)
    # The same for everyone of a role (and Ressort) on one day, until the data changes.
    key = ("tasks", actor.role, actor.ressort if actor.role is Role.RESSORT else None, today, tz)
    return list(cached(db, key, lambda: _tasks(db, settings, actor, today)))


def _tasks(db: Database, settings: Settings, actor: Actor, today: dt.date) -> list[Task]:
    tz = settings.timezone
    policy = ApprovalPolicy(settings.approvals)
    ressort = actor.ressort if actor.role is Role.RESSORT else None
    tasks: list[Task] = []

    def task(owed: Owed, what: str, overdue_after: int) -> Task:
        return Task(
            owed.proposal_id,
            owed.title,
            owed.organisation,
            owed.status,
            owed.ressort,
            what,
            owed.since,
            days_waiting(owed.since, today, tz),
            overdue_after,
        )

    with db.read() as s:
        # Who owes what is the read model's (reading/owed.py); this module only words it for one viewer.
        # One task per proposal: the first event (in the table's order) whose approval this role owes.
        rank = {e.value: n for n, e in enumerate(Event)}
        mine = [
            o
            for o in approvals_owed(s, policy, state=State.IN_ABSTIMMUNG, ressort=ressort)
            if actor.role in o.missing
        ]
        first_owed: dict[int, Owed] = {}
        for owed in sorted(mine, key=lambda o: rank.get(o.event or "", 0)):
            first_owed.setdefault(owed.proposal_id, owed)
        for owed in first_owed.values():
            given = " und ".join(f"{name} ({wording.role_label(role)})" for name, role in owed.given)
            what = f"Zustimmung zu „{wording.event_name(owed.event or '')}“ – zugestimmt hat bereits {given}"
            tasks.append(task(owed, what, RULES.approval_after))
        if actor.role in policy.required_roles(Event.RECOGNISE, State.IN_ABSTIMMUNG):
            for owed in decisions_waiting(s, ressort=ressort):
                what = "In Abstimmung: Entscheidung über die Anerkennung steht aus"
                tasks.append(task(owed, what, RULES.approval_after))
        if actor.role is Role.ARBEITSSTAB:
            for owed in submitted_waiting(s):
                what = "Neu eingereicht: aufgreifen oder nicht weiterverfolgen"
                tasks.append(task(owed, what, RULES.submitted_after))
    return sorted(tasks, key=lambda t: (not t.overdue, -t.days, t.proposal_id))
