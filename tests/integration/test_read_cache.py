"""The read cache: a figure is computed once per data version and never outlives a change of the data."""

from __future__ import annotations

import threading
import time

import pytest

from partnerprojekte.db.engine import Database
from partnerprojekte.db.read_cache import VersionedCache
from partnerprojekte.formats import proposal_from_document
from partnerprojekte.model import Event
from partnerprojekte.reading import listing
from partnerprojekte.reading.listing import ListQuery
from partnerprojekte.reading.queries import report
from partnerprojekte.reading.stats import time_in_states
from partnerprojekte.services import Services
from partnerprojekte.states.workflow import EventInput
from partnerprojekte.web.auth.security import actor_for_email
from tests.helpers import proposal_doc
from tests.people import PARTNER, STAB

pytestmark = pytest.mark.usefixtures("people")


def submit_base(services: Services) -> int:
    """A new proposal of the partner."""
    return services.submit(proposal_from_document(proposal_doc()), PARTNER).proposal_id


def test_a_value_is_computed_once_per_version_and_again_for_a_new_one() -> None:
    cache = VersionedCache()
    calls: list[int] = []

    def compute(n: int) -> int:
        calls.append(n)
        return n * 10

    assert cache.get("k", 1, lambda: compute(1)) == 10
    assert cache.get("k", 1, lambda: compute(99)) == 10
    assert cache.get("k", 2, lambda: compute(2)) == 20
    assert calls == [1, 2]


def test_threads_asking_at_once_wait_for_one_computation() -> None:
    cache = VersionedCache()
    calls: list[int] = []

    def slow() -> int:
        calls.append(1)
        time.sleep(0.2)
        return 7

    results: list[int] = []
    threads = [threading.Thread(target=lambda: results.append(cache.get("k", 1, slow))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [7] * 8 and calls == [1]


def test_the_oldest_entries_go_first_when_the_cache_is_full() -> None:
    cache = VersionedCache(max_entries=2)
    for key in ("a", "b", "c"):
        cache.get(key, 1, lambda: 0)
    computed: list[str] = []
    cache.get("a", 1, lambda: computed.append("a") or 0)
    assert computed == ["a"]


def test_report_list_count_and_durations_follow_every_change(services: Services, db: Database) -> None:
    first = submit_base(services)
    stab = actor_for_email(db, STAB)
    assert stab is not None
    before = report(db)
    total_before = listing.page(db, ListQuery(), stab)[1]
    durations_before = {d.state: d.current for d in time_in_states(db)}
    assert report(db) == before  # served again: equal

    services.transition(first, Event.TAKE_UP, STAB, EventInput())
    submit_base(services)

    after = report(db)
    assert after["by_status"]["eingereicht"] == before["by_status"]["eingereicht"]
    assert after["by_status"]["in_bearbeitung"] == before["by_status"]["in_bearbeitung"] + 1
    assert after["total"] == before["total"] + 1
    assert listing.page(db, ListQuery(), stab)[1] == total_before + 1
    durations = {d.state: d.current for d in time_in_states(db)}
    assert sum(durations.values()) == sum(durations_before.values()) + 1


def test_a_changed_report_dict_does_not_change_the_cached_one(services: Services, db: Database) -> None:
    submit_base(services)
    data = report(db)
    data["by_status"]["eingereicht"] = 999
    assert report(db)["by_status"]["eingereicht"] != 999
