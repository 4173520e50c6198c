"""A process that fires events without pause until it is killed (the SIGKILL fault test's victim).

``python -m tests.faults.churn N``: submits N proposals once (if they are not there yet), then cycles
each one through ``take_up → assign_ressort → start_coordination → request_changes → start_coordination
→ …`` – every step one transaction with audit row, comment and outbox rows – forever.
"""

from __future__ import annotations

import itertools
import sys

from sqlalchemy import func, select

from partnerprojekte.config import Settings
from partnerprojekte.db.engine import Database, make_engine
from partnerprojekte.db.schema import ProposalRow
from partnerprojekte.errors import TransitionRefused
from partnerprojekte.formats import proposal_from_document
from partnerprojekte.model import Event, State
from partnerprojekte.services import Services
from partnerprojekte.states.workflow import EventInput
from tests.helpers import proposal_doc
from tests.people import MWIDE, PARTNER, STAB

NEXT = {
    State.EINGEREICHT: Event.TAKE_UP,
    State.IN_BEARBEITUNG: Event.START_COORDINATION,
    State.IN_ABSTIMMUNG: Event.REQUEST_CHANGES,
}


def main() -> int:
    """Fire events until killed."""
    count = int(sys.argv[1])
    settings = Settings()
    db = Database(make_engine(settings.resolved_database_url()))
    services = Services(db, settings)
    with db.read() as s:
        have = s.scalar(select(func.count()).select_from(ProposalRow)) or 0
    for _ in range(have, count):
        services.submit(proposal_from_document(proposal_doc()), PARTNER)
    print("ready", flush=True)
    for pid in itertools.cycle(range(1, count + 1)):
        with db.read() as s:
            row = s.get(ProposalRow, pid)
            assert row is not None
            status, ressort = row.status, row.responsible_ressort
        if status is State.IN_BEARBEITUNG and ressort is None:
            services.assign_ressort(pid, "MWIDE", STAB)
            continue
        event = NEXT[status]
        who = MWIDE if event is Event.REQUEST_CHANGES else STAB
        comment = "Bitte die Kofinanzierung belegen." if event is Event.REQUEST_CHANGES else None
        try:
            services.transition(pid, event, who, EventInput(comment=comment))
        except TransitionRefused as exc:  # pragma: no cover - would show in the test's output
            print(f"refused: {exc}", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
