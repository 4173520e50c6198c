"""The three scheduled jobs as data: names, cron schedules and German texts (no Prefect import here)."""

from __future__ import annotations

from dataclasses import dataclass

from partnerprojekte.errors import NotFound


@dataclass(frozen=True)
class Job:
    """One scheduled job: the flow (and deployment) name, its cron schedule and what it does, in German."""

    name: str
    cron: str
    label: str
    when: str


DELIVER_NOTIFICATIONS = "deliver-notifications"
SEND_REMINDERS = "send-reminders"
WEEKLY_DIGEST = "weekly-digest"

# Cron strings are read in the product's time zone (Settings.timezone, Europe/Berlin), so 07:30 stays
# 07:30 local time across the change to and from summer time.
JOBS: tuple[Job, ...] = (
    Job(DELIVER_NOTIFICATIONS, "* * * * *", "Benachrichtigungen zustellen", "jede Minute"),
    Job(SEND_REMINDERS, "30 7 * * *", "Erinnerungen vormerken", "täglich um 07:30"),
    Job(WEEKLY_DIGEST, "0 7 * * 1", "Wochenüberblick vormerken", "montags um 07:00"),
)


def job(name: str) -> Job:
    """The job of that name, or ``NotFound`` with the names that exist."""
    for candidate in JOBS:
        if candidate.name == name.strip().lower():
            return candidate
    names = ", ".join(j.name for j in JOBS)
    raise NotFound(f"Ablauf „{name}“ gibt es nicht – vorhanden: {names}.")
