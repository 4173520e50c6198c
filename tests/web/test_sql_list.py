"""The proposal list in SQL gives what the old Python rule gave; a partner never sees another's proposal."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from typing import Any

from sqlalchemy import and_, select

from partnerprojekte.access import can_see_proposal
from partnerprojekte.db.engine import Database
from partnerprojekte.db.schema import ProposalRow, RevisionRow, UserRow
from partnerprojekte.formats import proposal_from_document
from partnerprojekte.ids import format_id
from partnerprojekte.model import Event, Role, State
from partnerprojekte.proposal import HandlungsfeldKey
from partnerprojekte.reading import listing
from partnerprojekte.reading.listing import ListQuery
from partnerprojekte.services import Services
from partnerprojekte.states.workflow import Actor, EventInput, same_organisation
from partnerprojekte.web import exports
from partnerprojekte.web.search import ListFilters, export_batches, search_page
from tests.helpers import proposal_doc
from tests.people import ORG, PARTNER, STAB
from tests.web.conftest import ADMIN, OTHER, OTHER_ORG, PEOPLE

WORDS = [
    "Wärmenetz",
    "Straße",
    "Grünfläche",
    "Ruhr",
    "Emscher",
    "Bildung",
    "ÖFFNUNG",
    "Quote_50%",
    "Quartier",
]
ORGS = [ORG, OTHER_ORG, "Stadtwerke Übach GmbH", ORG.upper(), "  ".join(OTHER_ORG.split())]
QUERIES = [
    "",
    "wärme",
    "STRASSE",
    "ruhr emscher",
    "pp-000",
    "%",
    "_50",
    "quote_50%",
    "übach",
    "gibtesnicht",
    "ö",
]


def _generate(services: Services, count: int) -> None:
    rng = random.Random(9_5)
    for n in range(count):
        doc = proposal_doc(title=" ".join(rng.sample(WORDS, 2)) + f" {n}")
        doc["submitter"] = {**doc["submitter"], "name": rng.choice(ORGS)}
        pid = services.submit(proposal_from_document(doc), STAB).proposal_id
        step = rng.randrange(3)
        if step >= 1:
            services.transition(pid, Event.TAKE_UP, STAB, EventInput())
        if step >= 2:
            services.assign_ressort(pid, rng.choice(["MWIDE", "VM"]), STAB)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _old_rule(db: Database, actor: Actor, f: ListFilters) -> list[str]:
    """The Python rule the list had before (main 2901517): visibility, filters, casefold substring words in
    the whole current revision; newest first."""
    query = select(ProposalRow, RevisionRow.document).join(
        RevisionRow,
        and_(RevisionRow.proposal_id == ProposalRow.id, RevisionRow.number == ProposalRow.current_revision),
    )
    found = []
    with db.read() as s:
        for row, document in s.execute(query.order_by(ProposalRow.id)):
            if not can_see_proposal(actor, row.organisation, row.responsible_ressort):
                continue
            if f.status is not None and row.status != f.status:
                continue
            if f.ressort is not None and row.responsible_ressort != f.ressort:
                continue
            if f.handlungsfeld is not None and f" {f.handlungsfeld.value} " not in row.handlungsfelder:
                continue
            text = f"{format_id(row.id)} {' '.join(_strings(document))}".casefold()
            if all(word in text for word in f.q.casefold().split()):
                found.append(format_id(row.id))
    return list(reversed(found))


def _actors(db: Database) -> list[Actor]:
    with db.read() as s:
        users = {u.email: u.id for u in s.scalars(select(UserRow))}
    return [
        Actor(users[email], email, name, role, ressort, organisation)
        for email, (name, role, ressort, organisation) in PEOPLE.items()
    ]


FILTERS = [
    ListFilters(),
    ListFilters(status=State.IN_BEARBEITUNG),
    ListFilters(ressort="MWIDE"),
    ListFilters(handlungsfeld=HandlungsfeldKey("wirtschaft")),
    ListFilters(handlungsfeld=HandlungsfeldKey("mobilitaet")),
]


def test_sql_list_gives_what_the_python_rule_gave(
    services: Services, db: Database, tokens: dict[str, str]
) -> None:
    _generate(services, 36)
    compared = 0
    for actor, base, q in itertools.product(_actors(db), FILTERS, QUERIES):
        f = ListFilters(status=base.status, ressort=base.ressort, handlungsfeld=base.handlungsfeld, q=q)
        expected = _old_rule(db, actor, f)
        every, total = search_page(db, actor, f)
        assert [i["id"] for i in every] == expected, (actor.email, f)
        assert total == len(expected)
        paged = [i["id"] for page in range(1, 8) for i in search_page(db, actor, f, page=page, per_page=7)[0]]
        assert paged == expected
        # The API's list: the same question, oldest first.
        listed, _ = listing.page(db, f.to_query(), actor, per_page=200)
        assert [i["id"] for i in listed] == list(reversed(expected))
        compared += bool(expected)
    assert compared > 50  # the generated set gives non-empty answers, not only empty ones


def test_a_partner_never_gets_another_organisations_proposal_on_any_page(
    services: Services, db: Database, tokens: dict[str, str]
) -> None:
    _generate(services, 30)
    actors = {a.email: a for a in _actors(db)}
    for email in (PARTNER, OTHER):
        actor = actors[email]
        seen: list[str] = []
        for page in range(1, 12):
            items, total = search_page(db, actor, ListFilters(), page=page, per_page=3)
            seen += [i["id"] for i in items]
            assert all(same_organisation(actor.organisation, i["organisation"]) for i in items)
            api = listing.page(db, ListQuery(), actor, number=page, per_page=3)[0]
            assert all(same_organisation(actor.organisation, i["organisation"]) for i in api)
        assert seen and len(seen) == total
    # A partner without an organisation and a reviewer without a Ressort see nothing; the admin all.
    assert search_page(db, Actor(0, "x@example.de", "X", Role.PARTNER), ListFilters()) == ([], 0)
    assert search_page(db, Actor(0, "y@example.de", "Y", Role.RESSORT), ListFilters()) == ([], 0)
    assert search_page(db, actors[ADMIN], ListFilters())[1] == 30


def test_the_streamed_csv_export_equals_the_one_built_at_once(
    services: Services, db: Database, tokens: dict[str, str]
) -> None:
    _generate(services, 23)
    actors = {a.email: a for a in _actors(db)}
    for email, f in ((STAB, ListFilters()), (PARTNER, ListFilters()), (STAB, ListFilters(q="ruhr"))):
        items = search_page(db, actors[email], f)[0]
        with db.read() as s:
            checks = {format_id(r.id): r.check_result for r in s.scalars(select(ProposalRow))}
        whole = exports.to_csv(exports.export_rows(list(reversed(items)), checks, "Europe/Berlin"))
        batches = (
            exports.export_rows([i for i, _ in b], {i["id"]: c for i, c in b}, "Europe/Berlin")
            for b in export_batches(db, actors[email], f, size=4)
        )
        assert b"".join(exports.csv_chunks(batches)) == whole
        assert whole.count(b"\r\n") == len(items) + 1
