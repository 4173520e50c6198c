"""``weekly-digest``: queue the weekly digests (Mondays 07:00 Europe/Berlin)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from partnerprojekte.config import Settings, get_settings
from partnerprojekte.db.engine import Database
from partnerprojekte.flows._support import as_dict, open_database
from partnerprojekte.flows.catalog import WEEKLY_DIGEST
from partnerprojekte.flows.retry import retry_on_infrastructure
from partnerprojekte.flows.summary import summarise
from partnerprojekte.mailing.digests import run_digests


@task(
    name="queue-digests",
    cache_policy=NO_CACHE,
    retries=3,
    retry_delay_seconds=[10, 60, 300],
    retry_condition_fn=retry_on_infrastructure,
)
def queue_digests(
    db: Database, settings: Settings, as_of: dt.date | None, dry_run: bool, only_to: str | None
) -> dict[str, Any]:
    """Write this week's digests to the outbox in one go (idempotent per person and ISO week)."""
    return as_dict(run_digests(db, settings, as_of=as_of, dry_run=dry_run, only_to=only_to))


@flow(
    name=WEEKLY_DIGEST,
    description="Wochenüberblicke in die Outbox schreiben (Versand: deliver-notifications).",
)
def weekly_digest(
    as_of: dt.date | None = None, dry_run: bool = False, only_to: str | None = None
) -> dict[str, Any]:
    """Queue this week's digests; ``deliver-notifications`` sends them within a minute."""
    settings = get_settings()
    with open_database(settings) as db:
        report = queue_digests(db, settings, as_of, dry_run, only_to)
    get_run_logger().info(summarise(WEEKLY_DIGEST, report, dry_run=dry_run))
    return report
