"""The demo's life after recognition (``demo/reports.yaml``): reporting rounds whose reports run through
the same use cases as in operation."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from partnerprojekte.db.schema import ProposalRow
from partnerprojekte.errors import ValidationError
from partnerprojekte.services.portraits import set_project_code
from partnerprojekte.services.reports import report_event
from partnerprojekte.services.rounds import open_round
from partnerprojekte.services.writer import Writer
from partnerprojekte.states.report_table import ReportEvent


def _date(value: object) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def load_demo_reports(svc: Writer, data: dict[str, Any], arbeitsstab: str) -> int:
    """Open the demo's rounds and run their steps; how many report events ran."""
    with svc.db.read() as s:
        ids = {title: pid for pid, title in s.execute(select(ProposalRow.id, ProposalRow.title))}

    def project(title: str) -> int:
        if title not in ids:
            raise ValidationError(f"Beispieldaten: Projekt „{title}“ gibt es nicht.")
        return int(ids[title])

    for item in data.get("projects", []):
        set_project_code(svc, project(item["title"]), item["code"], arbeitsstab)
    steps = 0
    for round_ in data["rounds"]:
        year = int(round_["year"])
        open_round(
            svc,
            year,
            round_["name"],
            _date(round_["stichtag"]),
            _date(round_["abgabe_bis"]),
            round_["opened_by"],
        )
        for step in round_["steps"]:
            report_event(
                svc,
                project(step["project"]),
                year,
                ReportEvent(step["event"]),
                step["by"],
                entries=step.get("abschnitte"),
                comment=step.get("kommentar"),
                sections=step.get("zurueckgegeben"),
                umsetzungsstand=step.get("umsetzungsstand"),
                notify=False,  # the demo replays history: no mail for it
            )
            steps += 1
    return steps
