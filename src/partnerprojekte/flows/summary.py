"""One German line per flow run, for the run's log and for ``flows run`` (no Prefect import here)."""

from __future__ import annotations

from typing import Any

from partnerprojekte.flows.catalog import DELIVER_NOTIFICATIONS, SEND_REMINDERS, WEEKLY_DIGEST

# How each summary begins (the runner finds it among a run's logs by this).
SUMMARY_PREFIXES = ("Zustellung:", "Erinnerungen", "Wochenüberblick")


def _count(report: dict[str, Any], key: str) -> int:
    value = report.get(key, 0)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def summarise(name: str, report: dict[str, Any], *, dry_run: bool = False) -> str:
    """The German summary of one run of the job ``name`` from its report."""
    trial = " (Probelauf, nichts gespeichert)" if dry_run else ""
    queued = "würden vorgemerkt" if dry_run else "vorgemerkt"
    if name == DELIVER_NOTIFICATIONS:
        if _count(report, "claimed") == 0:
            return "Zustellung: keine Benachrichtigung fällig."
        batches = _count(report, "batches")
        return (
            f"Zustellung: {_count(report, 'sent')} versandt, {_count(report, 'retried')} später erneut, "
            f"{_count(report, 'dead')} endgültig gescheitert ({_count(report, 'claimed')} übernommen in "
            f"{batches} {'Durchgang' if batches == 1 else 'Durchgängen'})."
        )
    if name == SEND_REMINDERS:
        return (
            f"Erinnerungen{trial}: {_count(report, 'queued')} {queued}, "
            f"{_count(report, 'already_queued')} waren bereits vorgemerkt."
        )
    if name == WEEKLY_DIGEST:
        week = str(report.get("week", "")).replace("-W", ", KW ")
        return (
            f"Wochenüberblick {week}{trial}: {_count(report, 'queued')} {queued}, "
            f"{_count(report, 'already_queued')} waren bereits vorgemerkt, {_count(report, 'empty')} ohne "
            f"Neues entfallen, {_count(report, 'opted_out')} abbestellt."
        )
    raise ValueError(f"unknown job {name!r}")
