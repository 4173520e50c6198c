"""The three deployments with their schedules (cron, time zone of the product) and serving them."""

from __future__ import annotations

from typing import Any

from prefect import Flow, serve
from prefect.deployments.runner import RunnerDeployment
from prefect.schedules import Cron
from prefect.types.entrypoint import EntrypointType

from partnerprojekte import __version__
from partnerprojekte.config import get_settings
from partnerprojekte.flows.catalog import DELIVER_NOTIFICATIONS, JOBS, SEND_REMINDERS, WEEKLY_DIGEST
from partnerprojekte.flows.deliver import deliver_notifications
from partnerprojekte.flows.digest import weekly_digest
from partnerprojekte.flows.reminders import send_reminders

FLOWS: dict[str, Flow[..., dict[str, Any]]] = {
    DELIVER_NOTIFICATIONS: deliver_notifications,
    SEND_REMINDERS: send_reminders,
    WEEKLY_DIGEST: weekly_digest,
}


def deployments(timezone: str | None = None) -> list[RunnerDeployment]:
    """One deployment per job, named like its flow, on its cron schedule in the product's time zone."""
    tz = timezone or get_settings().timezone
    result: list[RunnerDeployment] = []
    for job in JOBS:
        deployment = FLOWS[job.name].to_deployment(
            name=job.name,
            schedule=Cron(job.cron, timezone=tz),
            description=f"{job.label} – {job.when} ({tz}).",
            tags=["partnerprojekte"],
            version=__version__,
            # A module path, not a file path: a worker imports the flow from the installed package,
            # wherever it lives on that machine (flow.deploy / prefect deploy in production).
            entrypoint_type=EntrypointType.MODULE_PATH,
        )
        # to_deployment answers with a coroutine inside a running event loop; our callers are synchronous.
        if not isinstance(deployment, RunnerDeployment):
            raise TypeError("deployments() must be called outside an event loop")
        result.append(deployment)
    return result


def deploy_to_pool(work_pool: str) -> list[str]:
    """Register the deployments with a work pool (production: workers on several machines run them)."""
    # apply() instead of prefect.deploy(): no Docker build, no English console table; the module-path
    # entrypoint lets a process worker import the flows from the installed package.
    ids: list[str] = []
    for deployment in deployments():
        deployment_id = deployment.apply(work_pool_name=work_pool)
        ids.append(str(deployment_id))
    return ids


def serve_deployments() -> None:
    """Register the deployments and run their scheduled runs until interrupted (needs a Prefect server)."""
    # pause_on_shutdown=False: stopping this process (a restart, an update) must not silently pause the
    # schedules on the server; the next serve picks them up as they are.
    serve(*deployments(), pause_on_shutdown=False, print_starting_message=False)
