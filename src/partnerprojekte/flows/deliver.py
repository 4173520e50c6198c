"""``deliver-notifications``: send the due outbox rows in batches (every minute)."""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger, runtime, task
from prefect.cache_policies import NO_CACHE

from partnerprojekte.config import Settings, get_settings
from partnerprojekte.db.engine import Database
from partnerprojekte.flows._support import as_dict, open_database
from partnerprojekte.flows.catalog import DELIVER_NOTIFICATIONS
from partnerprojekte.flows.retry import retry_on_infrastructure
from partnerprojekte.flows.summary import summarise
from partnerprojekte.mailing.delivery import deliver_pending

COUNTS = ("claimed", "sent", "retried", "dead")


@task(
    name="deliver-batch",
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=[5, 20],
    retry_condition_fn=retry_on_infrastructure,
)
def deliver_batch(db: Database, settings: Settings, limit: int, worker: str) -> dict[str, Any]:
    """Send at most one batch of due messages (one task run per batch, never one per message)."""
    return as_dict(deliver_pending(db, settings, limit=limit, worker=worker))


@flow(name=DELIVER_NOTIFICATIONS, description="Fällige Benachrichtigungen aus der Outbox versenden.")
def deliver_notifications(limit: int | None = None, max_batches: int = 50) -> dict[str, Any]:
    """Deliver due notifications batch by batch until none is due any more (at most ``max_batches``)."""
    settings = get_settings()
    batch = limit or settings.mail.batch_size
    # The claim names the flow run, so that a row stuck in "sending" points to the run that took it.
    worker = f"{DELIVER_NOTIFICATIONS}:{runtime.flow_run.id or 'lokal'}"[:100]
    totals: dict[str, Any] = dict.fromkeys(COUNTS, 0)
    totals["batches"] = 0
    with open_database(settings) as db:
        for _ in range(max(1, max_batches)):
            report = deliver_batch(db, settings, batch, worker)
            totals["batches"] += 1
            totals["transport"] = report.get("transport")
            for key in COUNTS:
                totals[key] += int(report.get(key, 0) or 0)
            # A short batch means the outbox has nothing more due now; the next minute's run continues.
            if int(report.get("claimed", 0) or 0) < batch:
                break
    get_run_logger().info(summarise(DELIVER_NOTIFICATIONS, totals))
    return totals
