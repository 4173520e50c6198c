"""Sample contexts of the mails about progress reports (events and reminders), as ``samples`` has them for
the qualification."""

from __future__ import annotations

from typing import Any

_BASE: dict[str, Any] = {
    "proposal": "PP-0007",
    "proposal_id": 7,
    "title": "KLIC.Ruhr – Kompetenzverbund Life-Sciences.Ruhr",
    "organisation": "Kompetenzzentrum Bio-Security GmbH",
    "ressort": "MWIDE",
    "at": "2026-03-02T08:00:00+00:00",
}
_STAB = {"actor_name": "Anna Stab", "actor_role": "arbeitsstab"}
_RESSORT = {"actor_name": "Carla Ostermann", "actor_role": "ressort"}
_PARTNER = {"actor_name": "Kai Kontakt", "actor_role": "partner"}


def _report(event: str, state: str, actor: dict[str, str], **extra: Any) -> dict[str, Any]:
    return {
        **_BASE,
        "event": event,
        "status": "anerkannt",
        **actor,
        **{
            "round": 2022,
            "round_name": "Fortschrittsbericht 2022",
            "due_date": "2022-09-15",
            "report_state": state,
            "comment": None,
            "comment_visibility": None,
            "returned_sections": [],
            **extra,
        },
    }


def report_events() -> dict[str, dict[str, Any]]:
    """Sample contexts of the mails of progress-report events."""
    back = {
        "comment": "Bitte ergänzen Sie beim aktuellen Stand die Zahl der Betriebe im Netzwerk.",
        "comment_visibility": "partner",
        "returned_sections": ["Aktueller Stand", "Meilensteine"],
    }
    return {
        "submit_report.partner": _report("submit_report", "eingereicht", _PARTNER),
        "submit_report.ressort": _report("submit_report", "eingereicht", _PARTNER),
        "return_report.partner": _report("return_report", "zurueckgegeben", _RESSORT, **back),
        "return_report.arbeitsstab": _report("return_report", "zurueckgegeben", _RESSORT, **back),
        "return_report.ressort": _report("return_report", "zurueckgegeben", _STAB, **back),
        "approve_report.arbeitsstab": _report("approve_report", "geprueft", _RESSORT),
        "accept_report.partner": _report("accept_report", "angenommen", _STAB),
        "accept_report.ressort": _report("accept_report", "angenommen", _STAB),
    }


def report_reminders() -> dict[str, dict[str, Any]]:
    """Sample contexts of the progress-report reminders (one mail lists all of a person's reports)."""
    reports = [
        {
            "proposal": "PP-0007",
            "title": "KLIC.Ruhr – Kompetenzverbund Life-Sciences.Ruhr",
            "organisation": "Kompetenzzentrum Bio-Security GmbH",
            "status_label": "Entwurf",
        },
        {
            "proposal": "PP-0012",
            "title": "IHK-Netzwerk Betriebliche Mobilität",
            "organisation": "IHK zu Dortmund",
            "status_label": "offen",
        },
    ]
    base = {"round": 2022, "round_name": "Fortschrittsbericht 2022", "due_date": "2022-09-15"}
    return {
        "reminder.report_due.partner": {**base, "days_left": 14, "reports": reports[:1]},
        "reminder.report_overdue.partner": {**base, "days_left": -2, "reports": reports[:1]},
        "reminder.report_escalated.ressort": {**base, "days_left": -8, "reports": reports},
        "reminder.report_escalated.arbeitsstab": {**base, "days_left": -8, "reports": reports},
    }
