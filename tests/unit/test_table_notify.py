"""Who is told about an event or action is read from the one table, the same for every row of an event."""

from __future__ import annotations

from partnerprojekte.audience import NOTIFIED, audiences_for
from partnerprojekte.model import Audience, Event
from partnerprojekte.states import table

P, R, A = Audience.PARTNER, Audience.RESSORT, Audience.ARBEITSSTAB


def test_who_is_told_is_what_the_process_says() -> None:
    # docs/process.md, „Benachrichtigungen“ – the table as it stood before it moved into states/table.py.
    assert NOTIFIED == {
        "submit": (P, A),
        "take_up": (P,),
        "reopen": (P,),
        "assign_ressort": (R,),
        "start_coordination": (P, R),
        "request_changes": (P, A),
        "recognise": (P, R, A),
        "decline": (P, R, A),
        "integrate_into_pillar_1": (P, R, A),
        "withdraw": (R, A),
    }
    assert audiences_for("revise") == audiences_for("comment") == audiences_for("confirm_criterion") == ()


def test_every_row_of_an_event_tells_the_same_groups() -> None:
    for event in Event:
        groups = {spec.notify for spec in table.TRANSITIONS if spec.event is event}
        assert len(groups) <= 1, event
