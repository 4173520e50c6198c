"""The proposal list of the pages: its filters from query parameters, newest first (reading/listing.py)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from partnerprojekte.db.engine import Database
from partnerprojekte.model import State
from partnerprojekte.proposal import HandlungsfeldKey
from partnerprojekte.reading import listing
from partnerprojekte.reading.listing import ListQuery
from partnerprojekte.reference import load_reference
from partnerprojekte.states.workflow import Actor

_MAX_QUERY = 200
_E = TypeVar("_E", State, HandlungsfeldKey)


@dataclass(frozen=True)
class ListFilters:
    """The filters of the list; a value that is not valid counts as no filter."""

    status: State | None = None
    ressort: str | None = None
    handlungsfeld: HandlungsfeldKey | None = None
    q: str = ""

    @classmethod
    def parse(cls, *, status: str, ressort: str, handlungsfeld: str, q: str) -> ListFilters:
        """Filters from query parameters."""
        found = load_reference().find_ressort(ressort) if ressort.strip() else None
        return cls(
            status=_enum(State, status),
            ressort=found.abbreviation if found else None,
            handlungsfeld=_enum(HandlungsfeldKey, handlungsfeld),
            q=" ".join(q.split())[:_MAX_QUERY],
        )

    @property
    def active(self) -> bool:
        """Whether any filter or search is set."""
        return bool(self.status or self.ressort or self.handlungsfeld or self.q)

    def to_query(self) -> ListQuery:
        """The list's question (``reading/listing.py``)."""
        return ListQuery.search(
            self.q, status=self.status, ressort=self.ressort, handlungsfeld=self.handlungsfeld
        )

    def query(self) -> dict[str, str]:
        """The filters as query parameters (for links that keep them)."""
        params = {
            "status": self.status.value if self.status else "",
            "ressort": self.ressort or "",
            "handlungsfeld": self.handlungsfeld.value if self.handlungsfeld else "",
            "q": self.q,
        }
        return {k: v for k, v in params.items() if v}


def _enum(cls: type[_E], value: str) -> _E | None:
    try:
        return cls(value.strip()) if value.strip() else None
    except ValueError:
        return None


def search_page(
    db: Database, actor: Actor, filters: ListFilters, *, page: int = 1, per_page: int | None = None
) -> tuple[list[dict[str, Any]], int]:
    """One page (``per_page=None``: all) of the visible proposals matching the filters, newest first, and
    how many match (the list of ``reading/listing.py``)."""
    return listing.page(db, filters.to_query(), actor, newest_first=True, number=page, per_page=per_page)


def search_proposals(db: Database, actor: Actor, filters: ListFilters) -> list[dict[str, Any]]:
    """All visible proposals matching the filters and every word of the search, newest first."""
    return search_page(db, actor, filters)[0]


def export_batches(
    db: Database, actor: Actor, filters: ListFilters, *, size: int = 2000
) -> Iterator[list[tuple[dict[str, Any], dict[str, Any]]]]:
    """The visible matching proposals oldest first, ``size`` at a time, with their criteria results."""
    return listing.batches(db, filters.to_query(), actor, size=size)
