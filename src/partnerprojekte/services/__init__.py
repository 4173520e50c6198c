"""Use cases: one module per group, one function per use case, each one transaction with its audit entry
and outbox rows (written in ``writer``), or nothing at all.

``Services`` binds the use cases to one database and its settings; the edges (CLI, API, pages, import)
call it and nothing below it.
"""

from __future__ import annotations

from partnerprojekte.services import actions, events, people, portraits, reports, rounds, submission
from partnerprojekte.services.outcome import AlreadyImported, Outcome
from partnerprojekte.services.people import EMAIL_MAX, NAME_MAX, count_proposals
from partnerprojekte.services.writer import Writer


class Services(Writer):
    """The use cases of the qualification process over one database."""

    load_reference_data = people.load_reference_data
    add_user = people.add_user
    list_users = people.list_users
    check = submission.check
    submit = submission.submit
    revise = submission.revise
    transition = events.transition
    withdraw_approval = events.withdraw_approval
    withdraw_approvals_of_person = events.withdraw_approvals_of_person
    assign_ressort = actions.assign_ressort
    confirm = actions.confirm
    comment = actions.comment
    open_round = rounds.open_round
    report_event = reports.report_event
    invite_contributor = portraits.invite_contributor
    complete_project = portraits.complete_project
    set_project_code = portraits.set_project_code


__all__ = ["EMAIL_MAX", "NAME_MAX", "AlreadyImported", "Outcome", "Services", "count_proposals"]
