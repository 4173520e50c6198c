"""The proposal list of the pages: filters and a full-text search over the current revision."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import defer

from partnerprojekte.db.engine import Database
from partnerprojekte.db.schema import ProposalRow
from partnerprojekte.ids import parse_id
from partnerprojekte.model import State
from partnerprojekte.proposal import HandlungsfeldKey
from partnerprojekte.reading.queries import proposal_summary
from partnerprojekte.reference import load_reference
from partnerprojekte.states.workflow import Actor
from partnerprojekte.web import queries_web

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
    how many match. Every word of the search must occur in the id, title, organisation or any text of the
    current revision (summary, partners, places, rationales, financing sources …), ignoring case; the
    visibility rule, filters, search and paging all run in SQL.
    """
    where = queries_web.conditions(
        actor,
        status=filters.status,
        ressort=filters.ressort,
        handlungsfeld=filters.handlungsfeld,
        words=filters.q.split(),
        full_text=True,
    )
    return queries_web.page_of(db, where, newest_first=True, page=page, per_page=per_page)


def search_proposals(db: Database, actor: Actor, filters: ListFilters) -> list[dict[str, Any]]:
    """All visible proposals matching the filters and every word of the search, newest first."""
    return search_page(db, actor, filters)[0]


def export_batches(
    db: Database, actor: Actor, filters: ListFilters, *, size: int = 2000
) -> Iterator[list[tuple[dict[str, Any], dict[str, Any]]]]:
    """The visible matching proposals oldest first, ``size`` at a time (keyset paging on the id), each as
    its summary and stored criteria results: for an export that streams instead of building everything."""
    where = queries_web.conditions(
        actor,
        status=filters.status,
        ressort=filters.ressort,
        handlungsfeld=filters.handlungsfeld,
        words=filters.q.split(),
        full_text=True,
    )
    last = 0
    while True:
        query = (
            select(ProposalRow)
            .options(defer(ProposalRow.search_text), defer(ProposalRow.title_text))
            .where(*where, ProposalRow.id > last)
            .order_by(ProposalRow.id)
            .limit(size)
        )
        with db.read() as s:
            batch = [(proposal_summary(row), row.check_result) for row in s.scalars(query)]
            if batch:
                last = parse_id(batch[-1][0]["id"])
        if not batch:
            return
        yield batch
        if len(batch) < size:
            return
