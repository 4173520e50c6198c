"""The use cases on a real database (SQLite and PostgreSQL): state, revisions, approvals, outbox, audit."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from sqlalchemy import func, select, update

from partnerprojekte.db.engine import Database
from partnerprojekte.db.schema import ApprovalRow, AuditRow, OutboxRow, ProposalRow, RevisionRow, UserRow
from partnerprojekte.errors import NotFound, TransitionRefused, ValidationError
from partnerprojekte.formats import proposal_from_document
from partnerprojekte.model import Criterion, Event, ReasonCode, Role, State, Visibility
from partnerprojekte.reading import listing
from partnerprojekte.reading.listing import ListQuery
from partnerprojekte.reading.queries import history, report, show_proposal, verify
from partnerprojekte.services import Services
from partnerprojekte.states.workflow import EventInput
from tests.helpers import needs_review_financing, proposal_doc
from tests.people import MWIDE, PARTNER, STAB, STAB2, VM


def submit(services: Services, doc: dict[str, Any] | None = None, who: str = PARTNER) -> int:
    return services.submit(proposal_from_document(doc or proposal_doc()), who).proposal_id


def to_coordination(services: Services, doc: dict[str, Any] | None = None) -> int:
    pid = submit(services, doc)
    services.transition(pid, Event.TAKE_UP, STAB, EventInput())
    services.assign_ressort(pid, "MWIDE", STAB)
    services.transition(pid, Event.START_COORDINATION, STAB, EventInput())
    return pid


def outbox(db: Database, pid: int) -> list[tuple[str, str]]:
    with db.read() as s:
        rows = s.execute(
            select(OutboxRow.kind, OutboxRow.recipient_email)
            .where(OutboxRow.proposal_id == pid)
            .order_by(OutboxRow.id)
        )
        return list(rows)


def status(db: Database, pid: int) -> State:
    with db.read() as s:
        row = s.get(ProposalRow, pid)
        assert row is not None
        return row.status


pytestmark = pytest.mark.usefixtures("people")


def test_submit_stores_revision_audit_and_receipt(services: Services, db: Database) -> None:
    outcome = services.submit(proposal_from_document(proposal_doc()), PARTNER)
    pid = outcome.proposal_id
    assert outcome.status is State.EINGEREICHT
    assert outcome.check is not None and outcome.check.overall.value == "met"
    assert outbox(db, pid) == [
        ("submit.partner", PARTNER),
        ("submit.arbeitsstab", STAB),
        ("submit.arbeitsstab", STAB2),
    ]
    shown = show_proposal(db, pid)
    assert shown["id"] == f"PP-{pid:04d}"
    assert shown["status"] == "eingereicht"
    assert shown["document"]["title"].startswith("KLIC.Ruhr")
    assert [e["event"] for e in history(db, pid)] == ["submit"]
    assert verify(db)["ok"]


def test_partner_of_another_organisation_cannot_submit(services: Services) -> None:
    services.add_user("x@other.example", "Xaver", Role.PARTNER, organisation="Andere GmbH")
    with pytest.raises(TransitionRefused, match="gehört zu „Andere GmbH“"):
        submit(services, who="x@other.example")


def test_unknown_actor_is_not_found(services: Services) -> None:
    with pytest.raises(NotFound, match="niemand@example.org"):
        submit(services, who="niemand@example.org")


def test_full_path_to_recognition_with_approvals_in_either_order(services: Services, db: Database) -> None:
    pid = to_coordination(services)
    first = services.transition(pid, Event.RECOGNISE, MWIDE, EventInput(comment="Fachlich überzeugend"))
    assert not first.fired
    assert first.pending_approvals == [
        {"event": "recognise", "approved_by": [MWIDE], "missing_roles": ["arbeitsstab"]}
    ]
    assert status(db, pid) is State.IN_ABSTIMMUNG
    second = services.transition(pid, Event.RECOGNISE, STAB, EventInput())
    assert second.fired
    assert status(db, pid) is State.ANERKANNT
    fired = history(db, pid)[-1]
    assert fired["event"] == "recognise"
    assert [a["user"] for a in fired["approvals"]] == [MWIDE, STAB]
    kinds = {k for k, _ in outbox(db, pid)}
    assert {
        "recognise.partner",
        "recognise.ressort",
        "recognise.arbeitsstab",
        "approval_owed.arbeitsstab",
    } <= kinds
    with db.read() as s:
        assert s.scalar(select(func.count()).where(ApprovalRow.status == "pending")) == 0
    assert verify(db)["ok"]


def test_arbeitsstab_first_then_ressort(services: Services, db: Database) -> None:
    pid = to_coordination(services)
    assert not services.transition(pid, Event.RECOGNISE, STAB, EventInput()).fired
    assert ("approval_owed.ressort", MWIDE) in outbox(db, pid)
    assert services.transition(pid, Event.RECOGNISE, MWIDE, EventInput()).fired


def test_same_person_twice_changes_nothing(services: Services, db: Database) -> None:
    pid = to_coordination(services)
    services.transition(pid, Event.RECOGNISE, STAB, EventInput())
    before = len(history(db, pid))
    with pytest.raises(TransitionRefused, match="bereits zugestimmt"):
        services.transition(pid, Event.RECOGNISE, STAB, EventInput())
    assert len(history(db, pid)) == before
    with pytest.raises(TransitionRefused, match="Arbeitsstab liegt bereits vor"):
        services.transition(pid, Event.RECOGNISE, STAB2, EventInput())


def test_completing_approval_refused_when_a_criterion_is_unconfirmed(
    services: Services, db: Database
) -> None:
    pid = to_coordination(services, needs_review_financing())
    services.transition(pid, Event.RECOGNISE, STAB, EventInput())
    with pytest.raises(TransitionRefused, match="noch nicht vom Ressort bestätigt") as refused:
        services.transition(pid, Event.RECOGNISE, MWIDE, EventInput())
    assert refused.value.criterion == "financing"
    assert status(db, pid) is State.IN_ABSTIMMUNG
    services.confirm(pid, Criterion.FINANCING, MWIDE, "Förderbescheid ist angekündigt")
    assert services.transition(pid, Event.RECOGNISE, MWIDE, EventInput()).fired


def test_withdrawn_approval_no_longer_counts(services: Services, db: Database) -> None:
    pid = to_coordination(services)
    services.transition(pid, Event.RECOGNISE, STAB, EventInput())
    services.withdraw_approval(pid, Event.RECOGNISE, STAB)
    assert not services.transition(pid, Event.RECOGNISE, MWIDE, EventInput()).fired
    with pytest.raises(TransitionRefused, match="keine offene Zustimmung"):
        services.withdraw_approval(pid, Event.RECOGNISE, STAB)


def test_request_changes_discards_approvals_and_tells_the_partner(services: Services, db: Database) -> None:
    pid = to_coordination(services)
    services.transition(pid, Event.RECOGNISE, STAB, EventInput())
    services.transition(pid, Event.REQUEST_CHANGES, MWIDE, EventInput(comment="Bitte Finanzierung belegen"))
    assert status(db, pid) is State.IN_BEARBEITUNG
    with db.read() as s:
        assert set(s.scalars(select(ApprovalRow.status).where(ApprovalRow.proposal_id == pid))) == {
            "discarded"
        }
        ctx = s.scalar(
            select(OutboxRow.context).where(
                OutboxRow.proposal_id == pid, OutboxRow.kind == "request_changes.partner"
            )
        )
    assert ctx is not None and ctx["comment"] == "Bitte Finanzierung belegen"


def test_internal_comment_never_reaches_the_partner_mail(services: Services, db: Database) -> None:
    pid = submit(services)
    services.transition(
        pid,
        Event.DECLINE,
        STAB,
        EventInput(
            comment="Intern: doppelt mit 13-06", visibility=Visibility.INTERN, reasons=(ReasonCode.DOPPELUNG,)
        ),
    )
    with db.read() as s:
        contexts = dict(
            s.execute(select(OutboxRow.kind, OutboxRow.context).where(OutboxRow.proposal_id == pid)).all()
        )
    assert contexts["decline.partner"]["comment"] is None
    assert contexts["decline.partner"]["reasons"] == ["doppelung"]
    assert contexts["decline.arbeitsstab"]["comment"] == "Intern: doppelt mit 13-06"


def test_revision_drops_confirmations_and_rechecks(services: Services, db: Database) -> None:
    pid = submit(services, needs_review_financing())
    services.transition(pid, Event.TAKE_UP, STAB, EventInput())
    services.assign_ressort(pid, "MWIDE", STAB)
    services.confirm(pid, Criterion.FINANCING, MWIDE, "Zusage liegt mündlich vor")
    assert show_proposal(db, pid)["confirmations"][0]["criterion"] == "financing"
    outcome = services.revise(pid, proposal_from_document(needs_review_financing()), PARTNER)
    assert outcome.status is State.IN_BEARBEITUNG
    shown = show_proposal(db, pid)
    assert shown["revision"] == 2
    assert shown["confirmations"] == []
    assert history(db, pid)[-1]["details"]["dropped_confirmations"] == ["financing"]
    with db.read() as s:
        assert s.scalar(select(func.count()).where(RevisionRow.proposal_id == pid)) == 2


def test_revision_recheck_changes_the_verdict(services: Services, db: Database) -> None:
    pid = submit(services)
    bad = proposal_doc(effect_area={"places": ["Essen"], "scope": "lokal"})
    outcome = services.revise(pid, proposal_from_document(bad), STAB)
    assert outcome.check is not None and outcome.check.overall.value == "not_met"
    assert show_proposal(db, pid)["overall"] == "not_met"


def test_start_coordination_refused_without_ressort_and_with_failed_criterion(services: Services) -> None:
    pid = submit(services, proposal_doc(partners=[]))
    services.transition(pid, Event.TAKE_UP, STAB, EventInput())
    with pytest.raises(TransitionRefused, match="kein zuständiges Ressort"):
        services.transition(pid, Event.START_COORDINATION, STAB, EventInput())
    services.assign_ressort(pid, "MWIDE", STAB)
    with pytest.raises(TransitionRefused, match="Mehrwert durch Zusammenarbeit") as refused:
        services.transition(pid, Event.START_COORDINATION, STAB, EventInput())
    assert refused.value.criterion == "cooperation"


def test_ressort_reassignment_history_and_rights(services: Services, db: Database) -> None:
    pid = to_coordination(services)
    services.transition(pid, Event.RECOGNISE, MWIDE, EventInput())
    services.assign_ressort(pid, "VM", STAB)
    shown = show_proposal(db, pid)
    assert [h["ressort"] for h in shown["ressort_history"]] == ["MWIDE", "VM"]
    assert shown["ressort_history"][0]["ended_at"] is not None
    assert shown["pending_approvals"] == []  # the MWIDE approval was discarded
    with pytest.raises(TransitionRefused, match="zuständige Ressort VM"):
        services.transition(pid, Event.RECOGNISE, MWIDE, EventInput())
    assert not services.transition(pid, Event.RECOGNISE, VM, EventInput()).fired
    with pytest.raises(TransitionRefused, match="bereits zuständig"):
        services.assign_ressort(pid, "vm", STAB)
    with pytest.raises(NotFound, match="XY"):
        services.assign_ressort(pid, "XY", STAB)


def test_integrate_decline_reopen_withdraw(services: Services, db: Database) -> None:
    a = to_coordination(services)
    services.transition(
        a, Event.INTEGRATE_INTO_PILLAR_1, STAB, EventInput(comment="Teil von 13-06", saeule_1_projekt="13-06")
    )
    assert show_proposal(db, a)["saeule_1_projekt"] == "13-06"
    b = submit(services)
    services.transition(
        b,
        Event.DECLINE,
        STAB,
        EventInput(comment="Kein Interesse", reasons=(ReasonCode.KEIN_PARTNERINTERESSE,)),
    )
    services.transition(b, Event.REOPEN, STAB, EventInput(comment="Partner meldet sich wieder"))
    services.transition(b, Event.WITHDRAW, PARTNER, EventInput())
    assert status(db, b) is State.ZURUECKGEZOGEN
    with pytest.raises(TransitionRefused, match="endgültig"):
        services.transition(b, Event.REOPEN, STAB, EventInput(comment="x"))
    assert verify(db)["ok"]


def test_gated_decline_merges_reasons(services: Services, db: Database) -> None:
    pid = to_coordination(services)
    services.transition(
        pid, Event.DECLINE, MWIDE, EventInput(comment="Finanzierung offen", reasons=(ReasonCode.FINANCING,))
    )
    services.transition(
        pid, Event.DECLINE, STAB, EventInput(comment="Doppelung", reasons=(ReasonCode.DOPPELUNG,))
    )
    assert status(db, pid) is State.NICHT_WEITERVERFOLGT
    assert history(db, pid)[-1]["reasons"] == ["doppelung", "financing"]


def test_comments_and_visibility(services: Services, db: Database) -> None:
    pid = submit(services)
    services.comment(pid, PARTNER, "Wir ergänzen die Finanzierung.", Visibility.INTERN)
    services.comment(pid, STAB, "Mit VM klären", Visibility.INTERN)
    comments = show_proposal(db, pid)["comments"]
    assert [(c["user"], c["visibility"]) for c in comments] == [(PARTNER, "partner"), (STAB, "intern")]
    with pytest.raises(ValidationError):
        services.comment(pid, STAB, "   ", Visibility.INTERN)


def test_list_filters(services: Services, db: Database) -> None:
    a = to_coordination(services)
    submit(
        services,
        proposal_doc(
            handlungsfelder=[{"key": "mobilitaet", "rationale": "Verkehrswende im Revier voranbringen"}]
        ),
    )
    from partnerprojekte.proposal import HandlungsfeldKey

    def listed(**filters: Any) -> list[str]:
        return [r["id"] for r in listing.page(db, ListQuery(**filters), None)[0]]

    assert listed(status=State.IN_ABSTIMMUNG) == [f"PP-{a:04d}"]
    assert len(listed(ressort="MWIDE")) == 1
    assert len(listed(handlungsfeld=HandlungsfeldKey.MOBILITAET)) == 1
    assert len(listed(handlungsfeld=HandlungsfeldKey.WIRTSCHAFT)) == 1
    assert len(listed()) == 2  # no viewer: the operator sees every proposal


def test_report_current_and_as_of(services: Services, db: Database, clock: Any) -> None:
    start = clock.now
    pid = submit(services)
    clock.advance(days=3)
    services.transition(pid, Event.TAKE_UP, STAB, EventInput())
    clock.advance(days=3)
    submit(services)
    now = report(db)
    assert now["total"] == 2
    assert now["by_status"]["in_bearbeitung"] == 1 and now["by_status"]["eingereicht"] == 1
    assert now["by_handlungsfeld"]["wirtschaft"] == 2
    past = report(db, as_of=start.date())
    assert past["total"] == 1 and past["by_status"]["eingereicht"] == 1
    assert set(past["by_status"]) == {s.value for s in State}


def test_users_validation(services: Services) -> None:
    with pytest.raises(ValidationError, match="Ressort anzugeben"):
        services.add_user("r@x.example", "R", Role.RESSORT)
    with pytest.raises(NotFound, match="unbekannt|bekannt"):
        services.add_user("r@x.example", "R", Role.RESSORT, ressort="ABC")
    with pytest.raises(ValidationError, match="Organisation"):
        services.add_user("p@x.example", "P", Role.PARTNER)
    with pytest.raises(ValidationError, match="gibt es bereits"):
        services.add_user(STAB.upper(), "Noch mal", Role.ARBEITSSTAB)
    with pytest.raises(ValidationError, match="keine gültige E-Mail"):
        services.add_user("kein-at-zeichen", "X", Role.ADMIN)


def test_admin_makes_no_process_decisions(services: Services) -> None:
    services.add_user("admin@stk.nrw.example", "Ada Admin", Role.ADMIN)
    pid = submit(services)
    with pytest.raises(TransitionRefused, match="Administration"):
        services.transition(pid, Event.TAKE_UP, "admin@stk.nrw.example", EventInput())


def test_each_action_is_one_audit_row_with_a_growing_chain(services: Services, db: Database) -> None:
    pid = to_coordination(services)
    with db.read() as s:
        rows = list(s.scalars(select(AuditRow).where(AuditRow.proposal_id == pid).order_by(AuditRow.seq)))
        proposal = s.get(ProposalRow, pid)
        assert [r.seq for r in rows] == [1, 2, 3, 4]
        assert [r.event for r in rows] == ["submit", "take_up", "assign_ressort", "start_coordination"]
        assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(rows))
        assert proposal is not None and proposal.audit_head == rows[-1].hash and proposal.version == 4


def test_a_partner_comment_is_always_for_the_partner(services: Services, db: Database) -> None:
    pid = submit(services)
    services.transition(
        pid, Event.WITHDRAW, PARTNER, EventInput(comment="Wir ziehen zurück", visibility=Visibility.INTERN)
    )
    assert show_proposal(db, pid)["comments"][-1]["visibility"] == "partner"


def test_an_approval_comment_stays_internal_unless_said(services: Services, db: Database) -> None:
    pid = to_coordination(services)
    services.transition(
        pid, Event.DECLINE, MWIDE, EventInput(comment="Vorbehalt", reasons=(ReasonCode.FINANCING,))
    )
    assert show_proposal(db, pid)["comments"][-1]["visibility"] == "intern"


@pytest.mark.parametrize(
    "change",
    [{"active": False}, {"role": Role.PARTNER}, {"role": Role.RESSORT, "ressort": "VM"}],
    ids=["deactivated", "now-partner", "now-ressort"],
)
def test_an_approval_counts_only_while_its_giver_is_active_in_that_role(
    services: Services, db: Database, change: dict[str, Any]
) -> None:
    pid = to_coordination(services)
    services.transition(pid, Event.RECOGNISE, STAB, EventInput())
    # Changed behind the services' back (e.g. by an operator in SQL): the count must still not see it.
    with db.write() as s:
        s.execute(update(UserRow).where(UserRow.email == STAB).values(**change))
    outcome = services.transition(pid, Event.RECOGNISE, MWIDE, EventInput())
    assert not outcome.fired
    assert status(db, pid) is State.IN_ABSTIMMUNG


def test_a_ressort_approval_stops_counting_when_its_giver_moves_to_another_ressort(
    services: Services, db: Database
) -> None:
    pid = to_coordination(services)
    services.transition(pid, Event.RECOGNISE, MWIDE, EventInput())
    with db.write() as s:
        s.execute(update(UserRow).where(UserRow.email == MWIDE).values(ressort="VM"))
    assert not services.transition(pid, Event.RECOGNISE, STAB, EventInput()).fired
    assert status(db, pid) is State.IN_ABSTIMMUNG
