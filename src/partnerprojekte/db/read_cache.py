"""Figures that are expensive to compute at scale, kept until the data they come from changes.

Everything the overview, the report and the list counts show is derived from rows that are only ever
appended together with an audit entry: a proposal's state, Ressort, approvals and revisions change only
with a row in ``audit_log``, a person's activation, role or Ressort only with one in ``user_audit_log``.
The highest ids of both logs are therefore a *data version*: equal versions, equal figures. Reading it
costs two index lookups; a figure is computed once per version (one computation at a time per key, the
others wait for it instead of computing it again).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")

# Enough for the overview, a few report days and the counts of the filters in use right now.
MAX_ENTRIES = 256


class VersionedCache:
    """A small LRU of (key, data version) → value, safe for the web application's worker threads."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._values: OrderedDict[Hashable, tuple[Hashable, Any]] = OrderedDict()
        self._max = max_entries
        self._lock = threading.Lock()
        self._computing: dict[Hashable, threading.Lock] = {}
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable, version: Hashable, compute: Callable[[], T]) -> T:
        """The value for ``key`` at ``version``, computed by ``compute`` if there is none yet."""
        found = self._lookup(key, version)
        if found is not None:
            return found[0]  # type: ignore[no-any-return]
        with self._lock:
            gate = self._computing.setdefault(key, threading.Lock())
        with gate:
            found = self._lookup(key, version)  # another thread may have computed it meanwhile
            if found is not None:
                return found[0]  # type: ignore[no-any-return]
            value = compute()
            with self._lock:
                self.misses += 1
                self._values[key] = (version, value)
                self._values.move_to_end(key)
                while len(self._values) > self._max:
                    self._values.popitem(last=False)
            return value

    def _lookup(self, key: Hashable, version: Hashable) -> tuple[Any] | None:
        with self._lock:
            entry = self._values.get(key)
            if entry is None or entry[0] != version:
                return None
            self._values.move_to_end(key)
            self.hits += 1
            return (entry[1],)

    def clear(self) -> None:
        """Forget everything (tests that swap the database under a running process)."""
        with self._lock:
            self._values.clear()
