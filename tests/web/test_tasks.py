"""„Meine Aufgaben“ from the read model: who owes the decision, the next approval, the taking up."""

from __future__ import annotations

from dataclasses import replace

from partnerprojekte.db.engine import Database
from partnerprojekte.model import Event
from partnerprojekte.reading.owed import RULES
from partnerprojekte.services import Services
from partnerprojekte.states.workflow import EventInput
from partnerprojekte.web.auth.security import actor_for_email
from partnerprojekte.web.tasks import Task, tasks_for
from tests.conftest import Clock
from tests.people import MWIDE, MWIDE2, PARTNER, STAB, VM
from tests.web.conftest import submit, to_coordination


def tasks(services: Services, db: Database, who: str) -> list[Task]:
    """The tasks of one person."""
    actor = actor_for_email(db, who)
    assert actor is not None
    return tasks_for(db, services.settings, actor)


def whats(found: list[Task]) -> list[tuple[int, str]]:
    """(proposal, what) of each task."""
    return [(t.proposal_id, t.what) for t in found]


def test_the_decision_then_the_missing_approval_then_nothing(
    tokens: dict[str, str], services: Services, db: Database
) -> None:
    pid = to_coordination(services)
    decision = "In Abstimmung: Entscheidung über die Anerkennung steht aus"
    assert whats(tasks(services, db, MWIDE)) == [(pid, decision)]
    assert whats(tasks(services, db, STAB)) == [(pid, decision)]
    assert tasks(services, db, VM) == []  # another Ressort's proposal
    assert tasks(services, db, PARTNER) == []

    services.transition(pid, Event.RECOGNISE, MWIDE, EventInput())
    # The Ressort has given its part (one reviewer is enough); the Arbeitsstab owes the second.
    assert tasks(services, db, MWIDE) == []
    assert tasks(services, db, MWIDE2) == []
    owed = tasks(services, db, STAB)
    assert whats(owed) == [
        (pid, "Zustimmung zu „Anerkennen“ – zugestimmt hat bereits Carla Ostermann (Ressort)")
    ]
    assert owed[0].days == 0 and not owed[0].overdue

    services.transition(pid, Event.RECOGNISE, STAB, EventInput())
    assert tasks(services, db, STAB) == tasks(services, db, MWIDE) == []


def test_a_new_proposal_waits_for_the_arbeitsstab_only(
    tokens: dict[str, str], services: Services, db: Database
) -> None:
    pid = submit(services)
    assert whats(tasks(services, db, STAB)) == [
        (pid, "Neu eingereicht: aufgreifen oder nicht weiterverfolgen")
    ]
    assert tasks(services, db, MWIDE) == []


def test_overdue_tasks_come_first(
    tokens: dict[str, str], services: Services, db: Database, clock: Clock
) -> None:
    old = submit(services)
    clock.advance(days=RULES.submitted_after)
    new = submit(services)
    found = tasks(services, db, STAB)
    assert [(t.proposal_id, t.overdue) for t in found] == [(old, True), (new, False)]
    assert found[0].days == RULES.submitted_after


def test_a_reviewer_without_a_ressort_has_no_tasks(
    tokens: dict[str, str], services: Services, db: Database
) -> None:
    to_coordination(services)
    reviewer = actor_for_email(db, MWIDE)
    assert reviewer is not None and tasks_for(db, services.settings, reviewer)
    assert tasks_for(db, services.settings, replace(reviewer, ressort=None)) == []
