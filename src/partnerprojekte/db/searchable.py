"""Derived columns the proposal list filters on in SQL: the organisation key and the search texts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import ColumnElement, and_, false, true, update

from partnerprojekte.db.schema import ProposalRow
from partnerprojekte.ids import format_id
from partnerprojekte.model import Role
from partnerprojekte.states.workflow import Actor


def organisation_key(organisation: str | None) -> str:
    """An organisation name as ``same_organisation`` compares it: case folded, runs of blanks as one."""
    return " ".join((organisation or "").casefold().split())


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def search_text(proposal_id: int, document: Any) -> str:
    """The id and every text of a revision document, case folded (words are matched as substrings)."""
    return f"{format_id(proposal_id)} {' '.join(_strings(document))}".casefold()


def search_values(proposal_id: int, organisation: str, document: Any) -> dict[str, str]:
    """The derived columns of a proposal whose current revision has this document."""
    return {
        "organisation_key": organisation_key(organisation),
        "search_text": search_text(proposal_id, document),
    }


def update_search(conn: Any, proposal_id: int, organisation: str, document: Any) -> None:
    """Keep the derived columns in step with the current revision (inside the writing transaction)."""
    conn.execute(
        update(ProposalRow)
        .where(ProposalRow.id == proposal_id)
        .values(**search_values(proposal_id, organisation, document))
    )


def visible_clause(actor: Actor) -> ColumnElement[bool]:
    """``access.can_see_proposal`` as a SQL condition on ``proposals``."""
    if actor.role in (Role.ARBEITSSTAB, Role.ADMIN):
        return true()
    if actor.role is Role.PARTNER:
        key = organisation_key(actor.organisation)
        return ProposalRow.organisation_key == key if actor.organisation is not None else false()
    if actor.ressort is None:
        return false()
    return and_(
        ProposalRow.responsible_ressort.is_not(None), ProposalRow.responsible_ressort == actor.ressort
    )


def words_clause(column: Any, words: list[str]) -> ColumnElement[bool]:
    """Every (case folded) word occurs in the column as a substring; LIKE wildcards are escaped."""
    return and_(true(), *(column.contains(word, autoescape=True) for word in words))
