"""The proposal list of the pages: filters and a full-text search over the current revision."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import and_, select

from partnerprojekte.db.engine import Database
from partnerprojekte.db.schema import ProposalRow, RevisionRow
from partnerprojekte.ids import parse_id
from partnerprojekte.model import State
from partnerprojekte.proposal import HandlungsfeldKey
from partnerprojekte.reference import load_reference
from partnerprojekte.states.workflow import Actor
from partnerprojekte.web import queries_web

# More than any real number of proposals (the Fortschrittsbericht counts some 300 suggestions in all).
_ALL = 1_000_000
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


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def search_proposals(db: Database, actor: Actor, filters: ListFilters) -> list[dict[str, Any]]:
    """The visible proposals matching the filters and every word of the search, newest first.

    The words are looked up in the id, title, organisation and every text of the current revision
    (summary, partners, places, rationales, financing sources …), ignoring case.
    """
    items: list[dict[str, Any]] = queries_web.list_visible(
        db,
        actor,
        status=filters.status,
        ressort=filters.ressort,
        handlungsfeld=filters.handlungsfeld,
        per_page=_ALL,
    )["items"]
    words = filters.q.casefold().split()
    if words and items:
        ids = [parse_id(item["id"]) for item in items]
        query = (
            select(ProposalRow.id, RevisionRow.document)
            .join(
                RevisionRow,
                and_(
                    RevisionRow.proposal_id == ProposalRow.id,
                    RevisionRow.number == ProposalRow.current_revision,
                ),
            )
            .where(ProposalRow.id.in_(ids))
        )
        with db.read() as s:
            texts = {pid: " ".join(_strings(doc)) for pid, doc in s.execute(query)}
        items = [
            item
            for item in items
            if all(word in f"{item['id']} {texts.get(parse_id(item['id']), '')}".casefold() for word in words)
        ]
    return list(reversed(items))
