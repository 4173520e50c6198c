"""Proposal documents for tests, built from one realistic base and changed per test."""

from __future__ import annotations

import copy
from typing import Any

BASE: dict[str, Any] = {
    "title": "KLIC.Ruhr – Kompetenzverbund Life-Sciences.Ruhr",
    "summary": "Geräte-Sharing-Plattform für Start-ups und junge Unternehmen der Life Sciences.",
    "submitter": {
        "name": "Kompetenzzentrum Bio-Security GmbH",
        "kind": "unternehmen",
        "location": "Bönen",
        "contact": {"name": "Kai Kontakt", "email": "kontakt@bio-security.example.de"},
    },
    "partners": [
        {"name": "ZBZ Witten", "kind": "unternehmen", "location": "Witten", "role": "Laborinfrastruktur"},
        {"name": "Ruhr-Universität Bochum", "kind": "hochschule", "location": "Bochum"},
    ],
    "handlungsfelder": [
        {"key": "wirtschaft", "rationale": "Stärkt Gründungen in der Biotechnologie der Region."}
    ],
    "themenforum": 5,
    "effect_area": {"places": ["Bönen", "Witten", "Dortmund"], "scope": "regional"},
    "cooperation_value": "Hochschulen und Unternehmen teilen teure Spezialgeräte und ihr Wissen miteinander.",
    "financing": {
        "total_cost_eur": 1200000,
        "sources": [
            {"kind": "foerdermittel", "name": "Regio.NRW", "amount_eur": 900000, "secured": True},
            {"kind": "eigenmittel", "name": "Partner", "amount_eur": 300000, "secured": True},
        ],
    },
    "period": {"start": "2020-05-01", "end": "2023-12-31"},
    "ressort": "MWIDE",
}


def proposal_doc(**changes: Any) -> dict[str, Any]:
    """A deep copy of the base document with top-level keys replaced (None removes a key)."""
    doc = copy.deepcopy(BASE)
    for key, value in changes.items():
        if value is None:
            doc.pop(key, None)
        else:
            doc[key] = value
    return doc


def needs_review_financing() -> dict[str, Any]:
    """A document whose financing is complete but not all secured (needs_review)."""
    doc = proposal_doc()
    doc["financing"]["sources"][0]["secured"] = False
    return doc
