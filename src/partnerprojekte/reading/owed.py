"""Who owes what, since when: new proposals to take up, revisions after a change request, approvals.

The read model of the reminders, the weekly digests and the tasks on the start page; the thresholds are
those of docs/process.md, „Benachrichtigungen“.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Executable, and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from partnerprojekte.config import Settings
from partnerprojekte.db.schema import ApprovalRow, AuditRow, ProposalRow, UserRow
from partnerprojekte.ids import format_id
from partnerprojekte.model import Event, Role, State
from partnerprojekte.states.workflow import ApprovalPolicy


@dataclass(frozen=True)
class ReminderRules:
    """The reminder thresholds of docs/process.md, „Benachrichtigungen“, in calendar days."""

    submitted_after: int = 14
    submitted_every: int = 7
    revision_after: int = 21
    revision_every: int = 14
    approval_after: int = 10
    escalation_after: int = 20


RULES = ReminderRules()
# What is owed (``Owed.what``).
SUBMITTED = "eingereicht"  # a new proposal waits to be taken up by the Arbeitsstab
REVISION = "changes_requested"  # changes were requested; the partner's revision is missing
APPROVAL = "approval"  # an approval-gated event waits for the approvals still missing
DECISION = "decision"  # in coordination, nobody has approved anything yet: the decision itself waits


# --- time ------------------------------------------------------------------------------------------


def local_day(at: dt.datetime, tz: str) -> dt.date:
    """The calendar day of a moment in the given zone."""
    return at.astimezone(ZoneInfo(tz)).date()


class DayCounter:
    """Whole calendar days in a zone from many moments to one day (the zone looked up once)."""

    def __init__(self, day: dt.date, tz: str) -> None:
        self.day = day
        self.zone = ZoneInfo(tz)

    def __call__(self, since: dt.datetime) -> int:
        """Days from the local calendar day of ``since`` to the counter's day."""
        return (self.day - since.astimezone(self.zone).date()).days


def local_moment(day: dt.date, time: dt.time, tz: str) -> dt.datetime:
    """A wall-clock time of a day in the given zone, as an aware UTC datetime."""
    return dt.datetime.combine(day, time, tzinfo=ZoneInfo(tz)).astimezone(dt.UTC)


def days_waiting(since: dt.datetime, day: dt.date, tz: str) -> int:
    """Whole calendar days from the day of ``since`` to ``day`` (so a run's time of day does not matter)."""
    return (day - local_day(since, tz)).days


def waiting_cutoff(day: dt.date, days: int, tz: str) -> dt.datetime:
    """The moment before which something must have started to be waiting ``days`` days or more on ``day``."""
    return local_moment(day - dt.timedelta(days=days - 1), dt.time(), tz)


# --- what is owed ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Owed:
    """Something owed on an active proposal since a moment: taking it up, a revision or approvals."""

    proposal_id: int
    title: str
    organisation: str
    status: State
    ressort: str | None
    contact_name: str
    contact_email: str
    what: str
    since: dt.datetime
    # Tells one cycle from the next (a second request_changes, a new set of approvals) in the key.
    anchor: str = ""
    event: str | None = None
    missing: tuple[Role, ...] = ()
    # Who has approved already (name and role), oldest first: the approvals a missing role joins.
    given: tuple[tuple[str, Role], ...] = ()

    @property
    def proposal(self) -> str:
        """The short id, e.g. ``PP-0007``."""
        return format_id(self.proposal_id)


_PROPOSAL_COLUMNS = (
    ProposalRow.id,
    ProposalRow.title,
    ProposalRow.organisation,
    ProposalRow.status,
    ProposalRow.responsible_ressort,
    ProposalRow.contact_name,
    ProposalRow.contact_email,
)


def fetch(s: Session, query: Executable) -> Iterable[Any]:
    """Rows of a column query through the session's connection: no ORM result layer (thousands of rows)."""
    return s.connection().execute(query)


def submitted_waiting(s: Session, before: dt.datetime | None = None) -> list[Owed]:
    """Proposals still ``eingereicht`` (since before ``before``, if given), oldest first."""
    query = (
        select(*_PROPOSAL_COLUMNS, ProposalRow.status_since)
        .where(ProposalRow.status == State.EINGEREICHT)
        .order_by(ProposalRow.status_since, ProposalRow.id)
    )
    if before is not None:
        query = query.where(ProposalRow.status_since < before)
    return [
        Owed(pid, title, org, status, ressort, cname, cmail, SUBMITTED, since)
        for pid, title, org, status, ressort, cname, cmail, since in fetch(s, query)
    ]


def revision_waiting(s: Session, before: dt.datetime | None = None) -> list[Owed]:
    """Proposals ``in_bearbeitung`` whose last change of state was a request_changes, with no revise since."""
    change = aliased(AuditRow, name="last_change")
    later = aliased(AuditRow, name="later_revise")
    inner = aliased(AuditRow, name="state_change")
    last_seq = (
        select(func.max(inner.seq))
        .where(
            inner.proposal_id == ProposalRow.id,
            or_(inner.from_state.is_(None), inner.from_state != inner.to_state),
        )
        .correlate(ProposalRow)
        .scalar_subquery()
    )
    revised = (
        select(later.id)
        .where(later.proposal_id == ProposalRow.id, later.event == Event.REVISE.value, later.seq > change.seq)
        .correlate(ProposalRow, change)
        .exists()
    )
    query = (
        select(*_PROPOSAL_COLUMNS, change.at, change.seq)
        .join(change, and_(change.proposal_id == ProposalRow.id, change.seq == last_seq))
        .where(
            ProposalRow.status == State.IN_BEARBEITUNG,
            change.event == Event.REQUEST_CHANGES.value,
            ~revised,
        )
        .order_by(change.at, ProposalRow.id)
    )
    if before is not None:
        # status_since is the moment of that request_changes: it narrows the scan before the subqueries.
        query = query.where(ProposalRow.status_since < before)
    return [
        Owed(pid, title, org, status, ressort, cname, cmail, REVISION, at, anchor=f"seq-{seq}")
        for pid, title, org, status, ressort, cname, cmail, at, seq in fetch(s, query)
    ]


def approvals_owed(
    s: Session, policy: ApprovalPolicy, *, state: State | None = None, ressort: str | None = None
) -> list[Owed]:
    """Approval-gated events with pending approvals and the roles still missing, since the oldest one
    (only proposals in ``state`` and of ``ressort``, if given)."""
    query = (
        select(
            *_PROPOSAL_COLUMNS,
            ApprovalRow.id,
            ApprovalRow.event,
            ApprovalRow.role,
            ApprovalRow.created_at,
            UserRow.name,
        )
        .join(ProposalRow, ProposalRow.id == ApprovalRow.proposal_id)
        .join(UserRow, UserRow.id == ApprovalRow.user_id)
        # A pending approval given in another state would be stale (services discard those).
        .where(ApprovalRow.status == "pending", ApprovalRow.from_state == ProposalRow.status)
        .order_by(ApprovalRow.proposal_id, ApprovalRow.event, ApprovalRow.id)
    )
    if state is not None:
        query = query.where(ProposalRow.status == state)
    if ressort is not None:
        query = query.where(ProposalRow.responsible_ressort == ressort)
    groups: dict[tuple[int, str], list[Any]] = {}
    for row in fetch(s, query):
        groups.setdefault((row[0], row[8]), []).append(row)
    found: list[Owed] = []
    required_of: dict[tuple[str, State], tuple[Role, ...]] = {}
    for (_pid, event), rows in groups.items():
        pid, title, org, status, ressort_, cname, cmail, first_id = rows[0][:8]
        given = {r[9] for r in rows}
        required = required_of.get((event, status))
        if required is None:
            try:
                required = policy.required_roles(Event(event), status)
            except ValueError:
                required = ()  # an event the configuration no longer knows: nothing can be owed for it
            required_of[(event, status)] = required
        missing = tuple(r for r in required if r not in given)
        if not missing:
            continue
        found.append(
            Owed(
                pid,
                title,
                org,
                status,
                ressort_,
                cname,
                cmail,
                APPROVAL,
                min(r[10] for r in rows),
                anchor=f"a-{first_id}",
                event=event,
                missing=missing,
                given=tuple((r[11], r[9]) for r in rows),
            )
        )
    return sorted(found, key=lambda o: (o.since, o.proposal_id, o.event or ""))


def decisions_waiting(s: Session, *, ressort: str | None = None) -> list[Owed]:
    """Proposals ``in_abstimmung`` (of ``ressort``, if given) on which nobody has approved anything yet:
    the decision itself is owed, since the proposal entered coordination."""
    started = (
        select(ApprovalRow.id)
        .where(
            ApprovalRow.proposal_id == ProposalRow.id,
            ApprovalRow.status == "pending",
            ApprovalRow.from_state == State.IN_ABSTIMMUNG,
        )
        .correlate(ProposalRow)
        .exists()
    )
    query = (
        select(*_PROPOSAL_COLUMNS, ProposalRow.status_since)
        .where(ProposalRow.status == State.IN_ABSTIMMUNG, ~started)
        .order_by(ProposalRow.status_since, ProposalRow.id)
    )
    if ressort is not None:
        query = query.where(ProposalRow.responsible_ressort == ressort)
    return [
        Owed(pid, title, org, status, ressort_, cname, cmail, DECISION, since)
        for pid, title, org, status, ressort_, cname, cmail, since in fetch(s, query)
    ]


def overdue(s: Session, settings: Settings, day: dt.date, rules: ReminderRules = RULES) -> list[Owed]:
    """Everything that has reached its first reminder threshold on ``day``."""
    tz = settings.timezone
    items = submitted_waiting(s, waiting_cutoff(day, rules.submitted_after, tz))
    items += revision_waiting(s, waiting_cutoff(day, rules.revision_after, tz))
    limit = waiting_cutoff(day, rules.approval_after, tz)
    items += [o for o in approvals_owed(s, ApprovalPolicy(settings.approvals)) if o.since < limit]
    return items
