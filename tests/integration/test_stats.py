"""How long proposals stay in each state: the figures of the overview, from the audit log."""

from __future__ import annotations

import statistics

import pytest

from partnerprojekte.db.engine import Database
from partnerprojekte.formats import proposal_from_document
from partnerprojekte.model import Event, ReasonCode, State, Visibility
from partnerprojekte.reading import stats
from partnerprojekte.services import Services
from partnerprojekte.states.workflow import EventInput
from tests.conftest import Clock
from tests.helpers import proposal_doc
from tests.people import PARTNER, STAB

pytestmark = pytest.mark.usefixtures("people")


def history(services: Services, clock: Clock) -> list[float]:
    """Five proposals submitted an hour apart and taken up a day after each other; two of them declined 2
    and 4 days after that; an internal comment on each (an action: no change of state). The days from
    submission to taking up."""
    submitted = []
    for _ in range(5):
        submitted.append(
            (services.submit(proposal_from_document(proposal_doc()), PARTNER).proposal_id, clock())
        )
        clock.advance(hours=1)
    waited = []
    for n, (pid, at) in enumerate(submitted, start=1):
        clock.advance(days=1)
        services.transition(pid, Event.TAKE_UP, STAB, EventInput())
        waited.append((clock() - at).total_seconds() / 86400)
        services.comment(pid, STAB, f"Notiz {n}", Visibility.INTERN)
        if n in (2, 4):
            clock.advance(days=n)
            decline = EventInput(comment="Nicht weiter.", reasons=(ReasonCode.REGIONAL_EFFECT,))
            services.transition(pid, Event.DECLINE, STAB, decline)
    return waited


def test_the_stays_are_counted_per_state_with_median_mean_and_the_running_ones(
    services: Services, db: Database, clock: Clock
) -> None:
    waited = history(services, clock)
    durations = {d.state: d for d in stats.time_in_states(db, now=clock())}
    submitted = durations[State.EINGEREICHT]
    assert (submitted.completed, submitted.current) == (5, 0)
    assert submitted.median_days == pytest.approx(statistics.median(waited))
    assert submitted.mean_days == pytest.approx(statistics.fmean(waited))
    working = durations[State.IN_BEARBEITUNG]
    assert (working.completed, working.current) == (2, 3)
    assert working.median_days == pytest.approx(3.0) and working.mean_days == pytest.approx(3.0)
    assert working.current_median_days is not None and working.current_median_days > 0
    declined = durations[State.NICHT_WEITERVERFOLGT]  # not final: it can be taken up again
    assert (declined.completed, declined.current) == (0, 2)
    assert State.ANERKANNT not in durations  # a final state has no "time in state": it would only grow


@pytest.mark.parametrize("backend", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_postgresql_computes_in_sql_what_the_python_version_computes(
    services: Services, db: Database, clock: Clock
) -> None:
    history(services, clock)
    in_sql = stats._stays_in_sql(db)
    in_python = stats._stays_in_python(db)
    assert in_sql.keys() == in_python.keys()
    for state, values in in_python.items():
        assert in_sql[state] == pytest.approx(values), state
