"""Realistic example contexts for every kind: for ``mail preview`` without a proposal, and for the tests.

They have exactly the keys the writers of the outbox put there (``Writer.notify`` in ``services``, the
reminder and digest runs), so a template that renders with these renders with the real thing.
"""

from __future__ import annotations

import copy
from typing import Any

from partnerprojekte.notifications.kinds import KINDS
from partnerprojekte.notifications.report_samples import report_events, report_reminders

SAMPLE_RECIPIENTS: dict[str, str] = {
    "partner": "Kai Kontakt",
    "ressort": "Carla Ostermann",
    "arbeitsstab": "Anna Stab",
    "person": "Anna Stab",
}

_CHECK: dict[str, Any] = {
    "overall": "needs_review",
    "criteria": {
        "handlungsfeld_fit": {
            "result": "met",
            "explanation": "Zugeordnet zum Handlungsfeld „Wirtschaft“ mit einer Begründung von 52 Zeichen.",
        },
        "regional_effect": {
            "result": "met",
            "explanation": "Wirkt in 3 Kommunen der Metropole Ruhr: Bönen, Dortmund, Witten.",
        },
        "cooperation": {
            "result": "met",
            "explanation": "3 Organisationen aus 2 Bereichen (Unternehmen, Hochschule) arbeiten zusammen.",
        },
        "financing": {
            "result": "needs_review",
            "explanation": "Finanzierung vollständig dargelegt; gesichert sind 75 % der Gesamtkosten "
            "von 1.200.000 €.",
        },
    },
}

_BASE: dict[str, Any] = {
    "proposal": "PP-0007",
    "proposal_id": 7,
    "title": "KLIC.Ruhr – Kompetenzverbund Life-Sciences.Ruhr",
    "organisation": "Kompetenzzentrum Bio-Security GmbH",
    "ressort": "MWIDE",
    "at": "2026-03-02T08:00:00+00:00",
}

_TRANSITION_EXTRA: dict[str, Any] = {
    "comment": None,
    "comment_visibility": None,
    "reasons": [],
    "saeule_1_projekt": None,
}

_STAB = {"actor_name": "Anna Stab", "actor_role": "arbeitsstab"}
_RESSORT = {"actor_name": "Carla Ostermann", "actor_role": "ressort"}
_PARTNER = {"actor_name": "Kai Kontakt", "actor_role": "partner"}


def _event(event: str, status: str, actor: dict[str, str], **extra: Any) -> dict[str, Any]:
    return {**_BASE, "event": event, "status": status, **actor, **extra}


def _transition(event: str, status: str, actor: dict[str, str], **extra: Any) -> dict[str, Any]:
    return _event(event, status, actor, **{**_TRANSITION_EXTRA, **extra})


_INTERN = "Finanzierungszusage des Landes liegt vor; Abstimmung mit Themenforum 5 erfolgt."
_FOR_PARTNER = (
    "Bitte ergänzen Sie, welche Kommunen außerhalb von Bönen und Witten die Geräte nutzen werden, "
    "und legen Sie die Zusage der Regio.NRW-Förderung bei."
)


def _by_event() -> dict[str, dict[str, Any]]:
    submit = _event("submit", "eingereicht", _PARTNER, ressort=None, check=_CHECK)
    recognise_internal = _transition(
        "recognise", "anerkannt", _STAB, comment=_INTERN, comment_visibility="intern"
    )
    decline_internal = _transition(
        "decline",
        "nicht_weiterverfolgt",
        _STAB,
        comment="Das Vorhaben wirkt derzeit nur in Bönen; eine Ausweitung ist nicht geplant.",
        comment_visibility="partner",
        reasons=["regional_effect", "financing"],
    )
    integrate = _transition(
        "integrate_into_pillar_1",
        "in_saeule_1_integriert",
        _STAB,
        comment="Geht im Leitprojekt „Gründerallianz Ruhr“ auf.",
        comment_visibility="partner",
        saeule_1_projekt="13-06",
    )
    approval = _event(
        "approval_owed",
        "in_abstimmung",
        _RESSORT,
        approved_event="recognise",
        approved_by="Carla Ostermann",
        missing=["arbeitsstab"],
    )
    withdrawn = _event(
        "approval_withdrawn",
        "in_abstimmung",
        {"actor_name": "Ada Admin", "actor_role": "admin"},
        withdrawn_event="recognise",
        withdrawn_by="Carla Ostermann",
        withdrawn_reason="ihr Zugang wurde deaktiviert",
    )
    return {
        "submit.partner": submit,
        "submit.arbeitsstab": submit,
        "take_up.partner": _transition("take_up", "in_bearbeitung", _STAB, ressort=None),
        "reopen.partner": _transition(
            "reopen",
            "in_bearbeitung",
            _STAB,
            comment="Die Förderzusage liegt inzwischen vor; wir nehmen den Vorschlag wieder auf.",
            comment_visibility="partner",
        ),
        "assign_ressort.ressort": _event("assign_ressort", "in_bearbeitung", _STAB, previous_ressort=None),
        "start_coordination.partner": _transition("start_coordination", "in_abstimmung", _STAB),
        "start_coordination.ressort": _transition(
            "start_coordination",
            "in_abstimmung",
            _STAB,
            comment="Bitte besonders die Finanzierung prüfen.",
            comment_visibility="intern",
        ),
        "approval_owed.ressort": {
            **approval,
            **_STAB,
            "approved_by": "Anna Stab",
            "missing": ["ressort"],
        },
        "approval_owed.arbeitsstab": approval,
        "approval_withdrawn.ressort": withdrawn,
        "approval_withdrawn.arbeitsstab": withdrawn,
        "request_changes.partner": _transition(
            "request_changes",
            "in_bearbeitung",
            _RESSORT,
            comment=_FOR_PARTNER,
            comment_visibility="partner",
        ),
        "request_changes.arbeitsstab": _transition(
            "request_changes",
            "in_bearbeitung",
            _RESSORT,
            comment=_FOR_PARTNER,
            comment_visibility="partner",
        ),
        "recognise.partner": {**recognise_internal, "comment": None},
        "recognise.ressort": recognise_internal,
        "recognise.arbeitsstab": recognise_internal,
        "decline.partner": decline_internal,
        "decline.ressort": decline_internal,
        "decline.arbeitsstab": decline_internal,
        "integrate_into_pillar_1.partner": integrate,
        "integrate_into_pillar_1.ressort": integrate,
        "integrate_into_pillar_1.arbeitsstab": integrate,
        "withdraw.ressort": _transition("withdraw", "zurueckgezogen", _PARTNER),
        "withdraw.arbeitsstab": _transition("withdraw", "zurueckgezogen", _PARTNER),
    }


def _reminder(
    status: str, days: int, round_: int, missing: list[str], approved_event: str | None
) -> dict[str, Any]:
    return {
        "proposal": "PP-0007",
        "proposal_id": 7,
        "title": _BASE["title"],
        "organisation": _BASE["organisation"],
        "status": status,
        "ressort": "MWIDE",
        "days": days,
        "round": round_,
        "missing": missing,
        "approved_event": approved_event,
    }


def _reminders() -> dict[str, dict[str, Any]]:
    return {
        "reminder.eingereicht.arbeitsstab": _reminder("eingereicht", 21, 2, [], None),
        "reminder.changes_requested.partner": _reminder("in_bearbeitung", 21, 1, [], None),
        "reminder.approval_owed.ressort": _reminder("in_abstimmung", 10, 1, ["ressort"], "recognise"),
        "reminder.approval_owed.arbeitsstab": _reminder("in_abstimmung", 10, 1, ["arbeitsstab"], "decline"),
        "reminder.approval_escalated.arbeitsstab": _reminder(
            "in_abstimmung", 20, 1, ["ressort"], "recognise"
        ),
    }


_CHANGES = [
    {
        "proposal": "PP-0003",
        "title": "Radschnellweg RS1 – Lückenschluss Mülheim",
        "from_label": "in Bearbeitung",
        "to_label": "in Abstimmung",
        "at": "2026-02-25T10:15:00+00:00",
    },
    {
        "proposal": "PP-0007",
        "title": _BASE["title"],
        "from_label": "in Abstimmung",
        "to_label": "anerkannt",
        "at": "2026-02-27T14:40:00+00:00",
    },
]

_COUNTS: list[dict[str, Any]] = [
    {"label": "eingereicht", "count": 3},
    {"label": "in Bearbeitung", "count": 5},
    {"label": "in Abstimmung", "count": 2},
    {"label": "anerkannt", "count": 12},
    {"label": "nicht weiterverfolgt", "count": 1},
    {"label": "in ein Projekt der 1. Säule integriert", "count": 2},
    {"label": "zurückgezogen", "count": 0},
]


def _digests() -> dict[str, dict[str, Any]]:
    overdue_item = {
        "proposal": "PP-0004",
        "title": "Wasserstoff-Hub Duisburg-Hafen",
        "event": "recognise",
        "days": 12,
        "overdue": True,
    }
    report_owed = {
        "proposal": "PP-0007",
        "title": "KLIC.Ruhr – Kompetenzverbund Life-Sciences.Ruhr",
        "ressort": "MWIDE",
        "round": 2026,
        "due_date": "2026-02-27",
        "status_label": "Entwurf",
        "overdue": True,
    }
    reports = {"reports_owed": [report_owed], "reports_overdue": [report_owed]}
    return {
        "digest.ressort": {
            **reports,
            "person_name": "Carla Ostermann",
            "ressort": "MWIDE",
            "week": "KW 10/2026",
            "as_of": "2026-03-02",
            "awaiting": [
                overdue_item,
                {
                    "proposal": "PP-0011",
                    "title": "Digitale Gründungswerkstatt Emscher-Lippe",
                    "event": "decline",
                    "days": 3,
                    "overdue": False,
                },
            ],
            "overdue": [overdue_item],
            "new_responsibilities": [
                {"proposal": "PP-0012", "title": "Mikroelektronik-Akademie Ruhr", "since": "2026-02-26"}
            ],
            "changes": _CHANGES,
            "counts": [dict(c, count=max(0, c["count"] - 2)) for c in _COUNTS],
        },
        "digest.arbeitsstab": {
            **reports,
            "person_name": "Anna Stab",
            "week": "KW 10/2026",
            "as_of": "2026-03-02",
            "total": sum(c["count"] for c in _COUNTS),
            "counts": _COUNTS,
            "new_submissions": [
                {
                    "proposal": "PP-0013",
                    "title": "Quartiersakademie Gelsenkirchen-Ückendorf",
                    "organisation": "Stadt Gelsenkirchen",
                    "at": "2026-02-24T09:30:00+00:00",
                }
            ],
            "changes": _CHANGES,
            "overdue": [
                {
                    "proposal": "PP-0004",
                    "title": "Wasserstoff-Hub Duisburg-Hafen",
                    "what": "Zustimmung zu „Anerkennen“",
                    "days": 12,
                    "owed_by": "ressort",
                },
                {
                    "proposal": "PP-0002",
                    "title": "Kulturpfad Industrienatur",
                    "what": "Überarbeitung durch den Partner",
                    "days": 23,
                    "owed_by": "partner",
                },
            ],
            "next_steps": [
                {
                    "proposal": "PP-0005",
                    "title": "Bildungsketten Ruhr",
                    "status_label": "eingereicht",
                    "owed_by": "arbeitsstab",
                    "days": 4,
                },
                {
                    "proposal": "PP-0004",
                    "title": "Wasserstoff-Hub Duisburg-Hafen",
                    "status_label": "in Abstimmung",
                    "owed_by": ["ressort"],
                    "days": 12,
                },
            ],
        },
    }


def _accounts() -> dict[str, dict[str, Any]]:
    return {
        "activation.person": {
            "purpose": "new",
            "role": "arbeitsstab",
            "email": "a.stab@stk.nrw.example",
            "activation_url": "http://127.0.0.1:8000/aktivieren/BEISPIEL-nicht-gueltig",
            "expires_at": "2026-03-04T08:00:00+00:00",
        }
    }


def sample_context(kind: str) -> dict[str, Any]:
    """A realistic context for a kind (a fresh copy; ``KeyError`` for an unknown kind)."""
    every = {
        **_by_event(),
        **report_events(),
        **report_reminders(),
        **_reminders(),
        **_digests(),
        **_accounts(),
    }
    return copy.deepcopy(every[kind])


def sample_recipient(kind: str) -> str:
    """A plausible recipient name for a kind."""
    return SAMPLE_RECIPIENTS[kind.rsplit(".", 1)[-1]]


def all_samples() -> dict[str, dict[str, Any]]:
    """Every kind with its sample context."""
    return {kind: sample_context(kind) for kind in KINDS}
