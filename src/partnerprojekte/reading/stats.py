"""Figures for the dashboard: how long proposals stay in each state, from the audit log."""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass

from sqlalchemy import case, func, select

from partnerprojekte.db.engine import Database
from partnerprojekte.db.schema import AuditRow
from partnerprojekte.model import FINAL_STATES, State
from partnerprojekte.reading.queries import cached

_DAY = 86400.0


@dataclass(frozen=True)
class StateDuration:
    """How long proposals stayed in one state: completed stays, and the ones still going on."""

    state: State
    completed: int
    median_days: float | None
    mean_days: float | None
    current: int
    current_median_days: float | None

    @property
    def label(self) -> str:
        """The German state label."""
        return self.state.label


def time_in_states(db: Database, now: dt.datetime | None = None) -> list[StateDuration]:
    """Median and average days per non-final state over all stays that ended, plus the running ones."""
    now = now or db.clock()
    # The stays depend on the audit log only; the running ones' ages on ``now`` as well, and the median
    # of (now - start) is now - (median start): so the cached part is independent of the clock.
    stays = cached(db, ("time_in_states",), lambda: stays_in_states(db))
    result = []
    for state, (count, median, mean, current, median_start) in stays.items():
        result.append(
            StateDuration(
                state,
                count,
                median,
                mean,
                current,
                (now.timestamp() - median_start) / _DAY if median_start is not None else None,
            )
        )
    return result


Stays = dict[State, tuple[int, float | None, float | None, int, float | None]]


def stays_in_states(db: Database) -> Stays:
    """Per non-final state: completed stays (count, median and mean days), running ones (count, median
    start as a POSIX timestamp)."""
    if db.is_postgres:
        return _stays_in_sql(db)
    return _stays_in_python(db)


def _stays_in_sql(db: Database) -> Stays:
    """PostgreSQL: the stays with ``lead()``, their medians with ``percentile_cont`` – one row per state
    leaves the server instead of every audit row (1,000,000 rows: ~12 s in Python)."""
    changes = (
        select(
            AuditRow.to_state.label("state"),
            AuditRow.at.label("at"),
            func.lead(AuditRow.at)
            .over(partition_by=AuditRow.proposal_id, order_by=AuditRow.seq)
            .label("next_at"),
        )
        # An action that left the state as it was is no change (as in the Python version below).
        .where(AuditRow.to_state.is_not(None), AuditRow.to_state.is_distinct_from(AuditRow.from_state))
        .subquery()
    )
    days = func.extract("epoch", changes.c.next_at - changes.c.at) / _DAY
    running_start = case((changes.c.next_at.is_(None), func.extract("epoch", changes.c.at)))
    query = select(
        changes.c.state,
        func.count(changes.c.next_at),
        func.percentile_cont(0.5).within_group(days),  # NULLs (the running stays) do not count
        func.avg(days),
        func.count() - func.count(changes.c.next_at),
        func.percentile_cont(0.5).within_group(running_start),
    ).group_by(changes.c.state)
    with db.read() as s:
        found = {row[0]: row[1:] for row in s.execute(query)}
    result: Stays = {}
    for state in State:
        if state in FINAL_STATES:
            continue
        done, median, mean, running, median_start = found.get(state.value, (0, None, None, 0, None))
        result[state] = (int(done), _float(median), _float(mean), int(running), _float(median_start))
    return result


def _float(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


def _stays_in_python(db: Database) -> Stays:
    """SQLite (no ``percentile_cont``): every state change in order, the stays counted here."""
    query = select(AuditRow.proposal_id, AuditRow.from_state, AuditRow.to_state, AuditRow.at).order_by(
        AuditRow.proposal_id, AuditRow.seq
    )
    done: dict[str, list[float]] = {}
    running: dict[str, list[float]] = {}
    with db.read() as s:
        current: tuple[int, str, dt.datetime] | None = None
        for pid, from_state, to_state, at in s.execute(query):
            if current is not None and current[0] != pid:
                running.setdefault(current[1], []).append(current[2].timestamp())
                current = None
            if to_state is None or to_state == from_state:
                continue  # an action that left the state as it was
            if current is not None:
                done.setdefault(current[1], []).append((at - current[2]).total_seconds() / _DAY)
            current = (pid, to_state, at)
        if current is not None:
            running.setdefault(current[1], []).append(current[2].timestamp())
    result = {}
    for state in State:
        if state in FINAL_STATES:
            continue  # nothing follows a final state: its "time in state" would only grow
        stays = done.get(state.value, [])
        ongoing = running.get(state.value, [])
        result[state] = (
            len(stays),
            statistics.median(stays) if stays else None,
            statistics.fmean(stays) if stays else None,
            len(ongoing),
            statistics.median(ongoing) if ongoing else None,
        )
    return result
