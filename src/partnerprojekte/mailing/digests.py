"""Weekly digests (docs/process.md, „Benachrichtigungen“): one outbox row per person and ISO week.

Built from a few set-based queries.

Longer than 400 lines on purpose: collecting, grouping and writing one digest per person and week
share their queries and their idempotency key.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from partnerprojekte.audience import Audience
from partnerprojekte.config import Settings
from partnerprojekte.db import outbox
from partnerprojekte.db import reports as rdb
from partnerprojekte.db.engine import Database
from partnerprojekte.db.schema import AuditRow, ProposalRow, UserRow
from partnerprojekte.errors import FieldError, NotFound, ValidationError
from partnerprojekte.ids import format_id
from partnerprojekte.mailing.planned import EXISTS, QUEUED, WOULD_QUEUE, PlannedMail, idempotency_key
from partnerprojekte.mailing.reminders import queue
from partnerprojekte.model import Event, Role, State
from partnerprojekte.reading.owed import (
    REVISION,
    RULES,
    DayCounter,
    approvals_owed,
    fetch,
    local_day,
    local_moment,
    revision_waiting,
    waiting_cutoff,
)
from partnerprojekte.reading.report_text import STATUS_ORDER
from partnerprojekte.states.report_table import OWED_REPORT_STATES, ReportState
from partnerprojekte.states.steps import step_label
from partnerprojekte.states.workflow import ApprovalPolicy

# The weekly run (Prefect ``weekly-digest``): Mondays at this time; the "past week" ends then.
DIGEST_TIME = dt.time(7, 0)
KIND_RESSORT = "digest.ressort"
KIND_ARBEITSSTAB = "digest.arbeitsstab"
KIND_LABELS = {KIND_RESSORT: "Wochenüberblick Ressort", KIND_ARBEITSSTAB: "Wochenüberblick Arbeitsstab"}
ACTIVE = (State.EINGEREICHT, State.IN_BEARBEITUNG, State.IN_ABSTIMMUNG)

# Why a person gets no digest (``Skipped.reason``).
OPT_OUT, EMPTY = "opt_out", "empty"


@dataclass(frozen=True)
class Week:
    """The ISO week of a day and its "past week": the 7 days before its Monday's digest time."""

    day: dt.date
    start: dt.datetime
    end: dt.datetime

    @property
    def key(self) -> str:
        """``2026-W10`` (ISO year and week)."""
        year, week, _ = self.day.isocalendar()
        return f"{year}-W{week:02d}"

    @property
    def label(self) -> str:
        """``KW 10/2026``."""
        year, week, _ = self.day.isocalendar()
        return f"KW {week}/{year}"


def digest_week(day: dt.date, tz: str) -> Week:
    """The week of ``day``; start and end are local wall-clock times, so a DST change is handled."""
    monday = day - dt.timedelta(days=day.weekday())
    end = local_moment(monday, DIGEST_TIME, tz)
    start = local_moment(monday - dt.timedelta(days=7), DIGEST_TIME, tz)
    return Week(day, start, end)


@dataclass(frozen=True)
class Skipped:
    """A person who gets no digest this week, and why (``opt_out`` or ``empty``)."""

    email: str
    name: str
    kind: str
    reason: str

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` shape."""
        return {
            "recipient": self.email,
            "recipient_name": self.name,
            "kind": self.kind,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class DigestReport:
    """What a digest run queued (or would queue), what existed already, and whom it skipped."""

    week: str
    as_of: dt.date
    dry_run: bool
    mails: list[PlannedMail] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    @property
    def queued(self) -> int:
        """Digests inserted by this run (in a dry run: digests it would insert)."""
        return sum(1 for m in self.mails if m.status in (QUEUED, WOULD_QUEUE))

    @property
    def already_queued(self) -> int:
        """Digests of this week that an earlier run queued already."""
        return sum(1 for m in self.mails if m.status == EXISTS)

    def to_json(self) -> dict[str, Any]:
        """The ``digest run --json`` shape."""
        return {
            "week": self.week,
            "as_of": self.as_of.isoformat(),
            "dry_run": self.dry_run,
            "queued": self.queued,
            "already_queued": self.already_queued,
            "empty": sum(1 for s in self.skipped if s.reason == EMPTY),
            "opted_out": sum(1 for s in self.skipped if s.reason == OPT_OUT),
            "mails": [m.to_json() for m in self.mails],
            "skipped": [s.to_json() for s in self.skipped],
        }


# --- the facts of one week, gathered once for every recipient ------------------------------------


_STATE_LABELS = {s.value: s.label for s in State}


def _roles_text(missing: Sequence[Role], ressort: str | None) -> str:
    names = [f"Ressort {ressort}" if r is Role.RESSORT and ressort else r.label for r in missing]
    return " und ".join(names)


def _event_label(event: str | None) -> str:
    return step_label(event) if event else "?"


class _WeekFacts:
    """Everything the digests of one week show, read with a handful of set-based queries."""

    def __init__(self, s: Session, settings: Settings, week: Week) -> None:
        self.s = s
        self.week = week
        self.tz = settings.timezone
        self.days = DayCounter(week.day, settings.timezone)
        self.counts: dict[str | None, Counter[State]] = {}
        counts = select(ProposalRow.responsible_ressort, ProposalRow.status, func.count()).group_by(
            ProposalRow.responsible_ressort, ProposalRow.status
        )
        for ressort, status, n in fetch(s, counts):
            self.counts.setdefault(ressort, Counter())[status] += n
        self.submissions: list[dict[str, Any]] = []
        self.changes: list[tuple[str | None, dict[str, Any]]] = []
        # ressort -> proposal id -> item: the latest assignment of the week that still holds.
        self.responsibilities: dict[str, dict[int, dict[str, Any]]] = {}
        self._read_week()
        self.approvals = approvals_owed(s, ApprovalPolicy(settings.approvals))
        self.reports = self._reports_owed()
        self._ressorts: dict[str, dict[str, Any]] = {}
        self._arbeitsstab: dict[str, Any] | None = None

    def _read_week(self) -> None:
        # One pass over the audit rows of the past week (index on ``at``).
        query = (
            select(
                AuditRow.proposal_id,
                AuditRow.event,
                AuditRow.from_state,
                AuditRow.to_state,
                AuditRow.ressort,
                AuditRow.at,
                ProposalRow.title,
                ProposalRow.organisation,
                ProposalRow.responsible_ressort,
            )
            .join(ProposalRow, ProposalRow.id == AuditRow.proposal_id)
            .where(
                AuditRow.at >= self.week.start,
                AuditRow.at < self.week.end,
                or_(
                    AuditRow.event.in_((Event.SUBMIT.value, "assign_ressort")),
                    AuditRow.from_state != AuditRow.to_state,
                ),
            )
            .order_by(AuditRow.at, AuditRow.id)
        )
        for pid, event, from_state, to_state, ressort, at, title, organisation, current in fetch(
            self.s, query
        ):
            pp = format_id(pid)
            if event == Event.SUBMIT.value:
                self.submissions.append(
                    {"proposal": pp, "title": title, "organisation": organisation, "at": at.isoformat()}
                )
            elif event == "assign_ressort":
                if ressort is not None and ressort == current:
                    item = {"proposal": pp, "title": title, "since": at.isoformat()}
                    self.responsibilities.setdefault(ressort, {})[pid] = item
            else:
                change = {
                    "proposal": pp,
                    "title": title,
                    "from_label": _STATE_LABELS.get(from_state or "", from_state),
                    "to_label": _STATE_LABELS.get(to_state or "", to_state),
                    "at": at.isoformat(),
                }
                self.changes.append((current, change))

    def _reports_owed(self) -> list[dict[str, Any]]:
        """Progress reports the partners still owe, with whether their deadline has passed."""
        owed_states = {state.value for state in OWED_REPORT_STATES}
        items = []
        for row in rdb.report_rows(self.s):
            if row["state"] not in owed_states:
                continue
            items.append(
                {
                    "proposal": format_id(row["proposal_id"]),
                    "title": row["title"],
                    "ressort": row["responsible_ressort"],
                    "round": row["year"],
                    "due_date": row["due_date"].isoformat(),
                    "status_label": ReportState(row["state"]).label,
                    "overdue": row["due_date"] < self.week.day,
                }
            )
        return items

    def _counts(self, counter: Counter[State]) -> list[dict[str, Any]]:
        return [{"label": s.label, "count": counter.get(s, 0)} for s in STATUS_ORDER]

    def ressort(self, abbreviation: str) -> dict[str, Any]:
        """The digest contents of one Ressort (shared by its reviewers)."""
        cached = self._ressorts.get(abbreviation)
        if cached is not None:
            return cached
        awaiting: list[dict[str, Any]] = []
        for owed in self.approvals:
            if owed.ressort == abbreviation and Role.RESSORT in owed.missing:
                days = self.days(owed.since)
                item = {
                    "proposal": owed.proposal,
                    "title": owed.title,
                    "event": owed.event,
                    "days": days,
                    "overdue": days >= RULES.approval_after,
                }
                awaiting.append(item)
        awaiting = _longest_first(awaiting)
        content = {
            "ressort": abbreviation,
            "awaiting": awaiting,
            "overdue": [a for a in awaiting if a["overdue"]],
            "new_responsibilities": sorted(
                self.responsibilities.get(abbreviation, {}).values(), key=lambda r: r["since"]
            ),
            "changes": [c for r, c in self.changes if r == abbreviation],
            "counts": self._counts(self.counts.get(abbreviation, Counter())),
            "reports_owed": [r for r in self.reports if r["ressort"] == abbreviation],
            "reports_overdue": [r for r in self.reports if r["ressort"] == abbreviation and r["overdue"]],
        }
        self._ressorts[abbreviation] = content
        return content

    def arbeitsstab(self) -> dict[str, Any]:
        """The digest contents of the Arbeitsstab (shared by its members)."""
        if self._arbeitsstab is not None:
            return self._arbeitsstab
        total: Counter[State] = Counter()
        for counter in self.counts.values():
            total.update(counter)
        missing: dict[int, list[str]] = {}
        for o in self.approvals:
            text = f"{_roles_text(o.missing, o.ressort)}: Zustimmung zu „{_event_label(o.event)}“ fehlt"
            missing.setdefault(o.proposal_id, []).append(text)
        # One pass over the active proposals gives the next steps and the overdue first steps.
        next_steps: list[dict[str, Any]] = []
        overdue: list[dict[str, Any]] = []
        active = select(
            ProposalRow.id,
            ProposalRow.title,
            ProposalRow.status,
            ProposalRow.status_since,
            ProposalRow.responsible_ressort,
        ).where(ProposalRow.status.in_(ACTIVE))
        for pid, title, status, since, ressort in fetch(self.s, active):
            days = self.days(since)
            pp = format_id(pid)
            if status is State.EINGEREICHT:
                owed_by = Role.ARBEITSSTAB.label
                if days >= RULES.submitted_after:
                    what = "eingereicht, noch nicht aufgegriffen"
                    overdue.append(
                        {"proposal": pp, "title": title, "what": what, "days": days, "owed_by": owed_by}
                    )
            elif status is State.IN_BEARBEITUNG:
                owed_by = Role.PARTNER.label
            else:
                owed_by = "; ".join(missing.get(pid, ())) or f"Arbeitsstab und Ressort {ressort or '–'}"
            next_steps.append(
                {
                    "proposal": pp,
                    "title": title,
                    "status_label": status.label,
                    "owed_by": owed_by,
                    "days": days,
                }
            )
        self._arbeitsstab = {
            "total": sum(total.values()),
            "counts": self._counts(total),
            "new_submissions": self.submissions,
            "changes": [c for _, c in self.changes],
            "overdue": _longest_first(overdue + self._overdue_steps()),
            "next_steps": _longest_first(next_steps),
            "reports_owed": self.reports,
            "reports_overdue": [r for r in self.reports if r["overdue"]],
        }
        return self._arbeitsstab

    def _overdue_steps(self) -> list[dict[str, Any]]:
        """Revisions and approvals overdue by the reminder thresholds."""
        cutoff = waiting_cutoff(self.week.day, RULES.revision_after, self.tz)
        items = []
        for o in revision_waiting(self.s, cutoff) + self.approvals:
            days = self.days(o.since)
            if o.what == REVISION:
                what, owed_by = "Überarbeitung nach Änderungswunsch steht aus", Role.PARTNER.label
            elif days < RULES.approval_after:
                continue
            else:
                what = f"Zustimmung zu „{_event_label(o.event)}“ steht aus"
                if days >= RULES.escalation_after:
                    what += " (eskaliert)"
                owed_by = _roles_text(o.missing, o.ressort)
            items.append(
                {"proposal": o.proposal, "title": o.title, "what": what, "days": days, "owed_by": owed_by}
            )
        return items


def _number(item: dict[str, Any]) -> int:
    return int(str(item["proposal"]).removeprefix("PP-"))


def _days(item: dict[str, Any]) -> int:
    return int(item["days"])


def _longest_first(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Longest waiting first (the items most in need of a push head the list), then by proposal number."""
    # Two stable sorts on plain int keys: no key tuples for the garbage collector to trace.
    items.sort(key=_number)
    items.sort(key=_days, reverse=True)
    return items


# --- the weekly run --------------------------------------------------------------------------------


def _summary(content: dict[str, Any], keys: Sequence[str]) -> dict[str, int]:
    return {k: len(content[k]) for k in keys}


RESSORT_WORTH = ("awaiting", "new_responsibilities", "changes", "reports_overdue")
ARBEITSSTAB_WORTH = ("new_submissions", "changes", "overdue", "reports_overdue")


def _recipients(s: Session, only_to: str | None) -> list[UserRow]:
    query = select(UserRow).order_by(UserRow.role, UserRow.email)
    if only_to is None:
        query = query.where(UserRow.role.in_((Role.RESSORT, Role.ARBEITSSTAB)), UserRow.active.is_(True))
        return list(s.scalars(query))
    email = only_to.strip().lower()
    user = s.scalar(query.where(UserRow.email == email))
    if user is None or not user.active:
        raise NotFound(f"Keine aktive Person mit der E-Mail „{only_to}“.", field="recipient")
    if user.role not in (Role.RESSORT, Role.ARBEITSSTAB):
        raise ValidationError(
            FieldError(
                "recipient",
                f"{user.email} ist {user.role.label}; einen Wochenüberblick erhalten nur "
                "Ressort und Arbeitsstab.",
            )
        )
    return [user]


def run_digests(
    db: Database,
    settings: Settings,
    *,
    as_of: dt.date | None = None,
    dry_run: bool = False,
    only_to: str | None = None,
) -> DigestReport:
    """Queue this ISO week's digests of every active Ressort reviewer and Arbeitsstab member.

    ``as_of`` is a day of the week (default: today); a datetime counts as its day in the local zone.
    """
    now = db.clock()
    if isinstance(as_of, dt.datetime):
        # A moment (a scheduler passes its run time) stands for its local calendar day.
        as_of = local_day(as_of if as_of.tzinfo else as_of.replace(tzinfo=dt.UTC), settings.timezone)
    week = digest_week(as_of or local_day(now, settings.timezone), settings.timezone)
    skipped: list[Skipped] = []
    planned: list[tuple[PlannedMail, dict[str, Any]]] = []
    done: list[PlannedMail] = []
    with db.read() as s:
        people = _recipients(s, only_to)
        # Read inside the session: its rows expire when the read-only transaction ends.
        order = [p.email for p in people]
        keys = {email: idempotency_key(f"digest:{week.key}", email) for email in order}
        # A second run of the week (Prefect may start one twice) finds the digests queued and builds nothing.
        queued_before = outbox.existing_keys(s, list(keys.values()))
        facts: _WeekFacts | None = None
        for person in people:
            is_ressort = person.role is Role.RESSORT
            kind = KIND_RESSORT if is_ressort else KIND_ARBEITSSTAB
            key = keys[person.email]
            if person.digest_opt_out:
                skipped.append(Skipped(person.email, person.name, kind, OPT_OUT))
                continue
            if key in queued_before:
                done.append(PlannedMail(kind, person.email, person.name, key, EXISTS))
                continue
            facts = facts or _WeekFacts(s, settings, week)
            if is_ressort:
                content, worth = facts.ressort(person.ressort or ""), RESSORT_WORTH
            else:
                content, worth = facts.arbeitsstab(), ARBEITSSTAB_WORTH
            summary = _summary(content, tuple(dict.fromkeys((*worth, "overdue", "reports_owed"))))
            if not any(summary[k] for k in worth):
                skipped.append(Skipped(person.email, person.name, kind, EMPTY))
                continue
            # The lists are shared between the people of one Ressort (or the Arbeitsstab): built once.
            context = {
                "person_name": person.name,
                "week": week.label,
                "as_of": week.day.isoformat(),
                **content,
            }
            audience = Audience.RESSORT if is_ressort else Audience.ARBEITSSTAB
            recipient = outbox.Recipient(person.email, person.name, audience)
            mail = PlannedMail(kind, person.email, person.name, key, summary=summary)
            planned.append(
                (mail, outbox.pending_row(key=key, kind=kind, recipient=recipient, context=context, now=now))
            )
    by_email = {m.recipient_email: m for m in [*done, *queue(db, planned, dry_run=dry_run)]}
    mails = [by_email[email] for email in order if email in by_email]
    return DigestReport(week.key, week.day, dry_run, mails, skipped)


@dataclass(frozen=True)
class OptOut:
    """A person's digest setting after ``digest opt-out`` or ``opt-in``."""

    email: str
    name: str
    opt_out: bool
    changed: bool

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` shape."""
        return {
            "email": self.email,
            "name": self.name,
            "digest_opt_out": self.opt_out,
            "changed": self.changed,
        }


def set_digest_opt_out(db: Database, email: str, opt_out: bool) -> OptOut:
    """Opt a person out of (or back into) the weekly digest; decisions about proposals are not affected."""
    with db.write() as s:
        user = s.scalar(select(UserRow).where(UserRow.email == email.strip().lower()))
        if user is None:
            raise NotFound(f"EMAIL: Keine Person mit der E-Mail „{email}“.")
        if user.role not in (Role.RESSORT, Role.ARBEITSSTAB):
            raise ValidationError(
                FieldError(
                    "email",
                    f"{user.email} ist {user.role.label}; einen Wochenüberblick erhalten nur "
                    "Ressort und Arbeitsstab.",
                )
            )
        changed = user.digest_opt_out != opt_out
        user.digest_opt_out = opt_out
        return OptOut(user.email, user.name, opt_out, changed)
