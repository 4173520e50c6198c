"""Lists of proposals: one filter, one search, one way of paging for the command line, API and pages.

A search word must occur (ignoring case) in the id, title, organisation or any text of the current
revision, wherever the search is asked; the visibility rule of ``access.can_see_proposal``, the filters,
the search and the paging all run in SQL. What differs between the edges is said, not implied: who looks
(the command line's operator sees every proposal) and the order (the pages show the newest first).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import defer

from partnerprojekte.db import searchable
from partnerprojekte.db.engine import Database
from partnerprojekte.db.schema import ProposalRow
from partnerprojekte.ids import parse_id
from partnerprojekte.model import State
from partnerprojekte.proposal import HandlungsfeldKey
from partnerprojekte.reading.queries import cached, proposal_summary
from partnerprojekte.states.workflow import Actor


@dataclass(frozen=True)
class ListQuery:
    """What a list asks for: filters and the words of a search (every one must occur)."""

    status: State | None = None
    ressort: str | None = None
    handlungsfeld: HandlungsfeldKey | None = None
    words: tuple[str, ...] = ()

    @classmethod
    def search(
        cls,
        q: str | None,
        *,
        status: State | None = None,
        ressort: str | None = None,
        handlungsfeld: HandlungsfeldKey | None = None,
    ) -> ListQuery:
        """Filters and the words of a search text (split at white space)."""
        return cls(status, ressort, handlungsfeld, tuple((q or "").split()))


def conditions(query: ListQuery, viewer: Actor | None) -> list[ColumnElement[bool]]:
    """The WHERE clause: what ``viewer`` may see (``None``: everything), the filters, every search word."""
    where = [] if viewer is None else [searchable.visible_clause(viewer)]
    if query.status is not None:
        where.append(ProposalRow.status == query.status)
    if query.ressort is not None:
        where.append(ProposalRow.responsible_ressort == query.ressort)
    if query.handlungsfeld is not None:
        where.append(ProposalRow.handlungsfelder.like(f"% {query.handlungsfeld.value} %"))
    if query.words:
        # The text is case folded in Python when written, so umlauts fold on SQLite too.
        words = [w.casefold() for w in query.words]
        where.append(searchable.words_clause(ProposalRow.search_text, words))
    return where


def _rows(where: list[ColumnElement[bool]]) -> Select[tuple[ProposalRow]]:
    # The search text is for the WHERE clause only: large, and never shown.
    return select(ProposalRow).options(defer(ProposalRow.search_text)).where(*where)


def page(
    db: Database,
    query: ListQuery,
    viewer: Actor | None,
    *,
    newest_first: bool = False,
    number: int = 1,
    per_page: int | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """Page ``number`` (``per_page=None``: all) of the matching proposals in the order of their ids, and
    how many match."""
    where = conditions(query, viewer)
    rows = _rows(where).order_by(ProposalRow.id.desc() if newest_first else ProposalRow.id.asc())
    if per_page is not None:
        rows = rows.limit(per_page).offset((number - 1) * per_page)
    counting = select(func.count()).select_from(ProposalRow).where(*where)
    with db.read() as s:
        items = [proposal_summary(row) for row in s.scalars(rows)]
    # Counting every match is the list's dearest part at scale; paging through one filter counts once.
    compiled = counting.compile(dialect=db.bind.dialect)
    key = ("count", str(compiled), tuple(sorted((k, repr(v)) for k, v in compiled.params.items())))
    total = cached(db, key, lambda: _count(db, counting))
    return items, total


def _count(db: Database, counting: Select[tuple[int]]) -> int:
    with db.read() as s:
        return s.scalar(counting) or 0


def batches(
    db: Database, query: ListQuery, viewer: Actor | None, *, size: int = 2000
) -> Iterator[list[tuple[dict[str, Any], dict[str, Any]]]]:
    """The matching proposals oldest first, ``size`` at a time (keyset paging on the id), each as its
    summary and stored criteria results: for an export that streams instead of building everything."""
    where = conditions(query, viewer)
    last = 0
    while True:
        rows = _rows([*where, ProposalRow.id > last]).order_by(ProposalRow.id).limit(size)
        with db.read() as s:
            batch = [(proposal_summary(row), row.check_result) for row in s.scalars(rows)]
        if not batch:
            return
        last = parse_id(batch[-1][0]["id"])
        yield batch
        if len(batch) < size:
            return
