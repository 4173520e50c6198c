"""``send-reminders``: queue the reminders that are due today (daily 07:30 Europe/Berlin)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from partnerprojekte.config import Settings, get_settings
from partnerprojekte.db.engine import Database
from partnerprojekte.flows._support import as_dict, open_database
from partnerprojekte.flows.catalog import SEND_REMINDERS
from partnerprojekte.flows.retry import retry_on_infrastructure
from partnerprojekte.flows.summary import summarise
from partnerprojekte.mailing.reminders import run_reminders


@task(
    name="queue-reminders",
    cache_policy=NO_CACHE,
    retries=3,
    retry_delay_seconds=[10, 60, 300],
    retry_condition_fn=retry_on_infrastructure,
)
def queue_reminders(
    db: Database, settings: Settings, as_of: dt.datetime | None, dry_run: bool
) -> dict[str, Any]:
    """Write all due reminders to the outbox in one go (idempotent per proposal, kind and round)."""
    return as_dict(run_reminders(db, settings, as_of=as_of, dry_run=dry_run))


@flow(
    name=SEND_REMINDERS,
    description="Fällige Erinnerungen in die Outbox schreiben (Versand: deliver-notifications).",
)
def send_reminders(as_of: dt.datetime | None = None, dry_run: bool = False) -> dict[str, Any]:
    """Queue today's reminders; ``deliver-notifications`` sends them within a minute."""
    settings = get_settings()
    with open_database(settings) as db:
        report = queue_reminders(db, settings, as_of, dry_run)
    get_run_logger().info(summarise(SEND_REMINDERS, report, dry_run=dry_run))
    return report
