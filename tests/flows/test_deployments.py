"""The three deployments: names, cron schedules in Europe/Berlin, module entrypoints, and a work pool."""

from __future__ import annotations

import pytest

EXPECTED = {
    "deliver-notifications": ("* * * * *", "partnerprojekte.flows.deliver.deliver_notifications"),
    "send-reminders": ("30 7 * * *", "partnerprojekte.flows.reminders.send_reminders"),
    "weekly-digest": ("0 7 * * 1", "partnerprojekte.flows.digest.weekly_digest"),
}


def cron_of(schedule: object) -> tuple[str | None, str | None]:
    """Cron string and time zone of a schedule (None for an interval or rrule schedule)."""
    return getattr(schedule, "cron", None), getattr(schedule, "timezone", None)


def test_deployments_have_their_schedules_in_berlin_time() -> None:
    from partnerprojekte.flows.deployments import deployments

    found = {d.name: d for d in deployments()}

    assert set(found) == set(EXPECTED)
    for name, (cron, entrypoint) in EXPECTED.items():
        deployment = found[name]
        assert deployment.flow_name == name
        assert deployment.entrypoint == entrypoint
        assert [(*cron_of(s.schedule), s.active) for s in deployment.schedules or []] == [
            (cron, "Europe/Berlin", True)
        ]
        assert deployment.tags == ["partnerprojekte"]


@pytest.mark.usefixtures("prefect_server")
def test_deploy_registers_the_three_deployments_with_a_work_pool() -> None:
    from prefect import get_client
    from prefect.client.schemas.actions import WorkPoolCreate

    from partnerprojekte.flows.deployments import deploy_to_pool

    with get_client(sync_client=True) as client:
        client.create_work_pool(WorkPoolCreate(name="partnerprojekte-test", type="process"))

    ids = deploy_to_pool("partnerprojekte-test")

    assert len(ids) == 3
    for name, (cron, entrypoint) in EXPECTED.items():
        with get_client(sync_client=True) as client:
            stored = client.read_deployment_by_name(f"{name}/{name}")
        assert stored.work_pool_name == "partnerprojekte-test"
        assert stored.entrypoint == entrypoint
        assert [cron_of(s.schedule) for s in stored.schedules] == [(cron, "Europe/Berlin")]
