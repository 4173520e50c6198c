"""The *Stand Partnerprojekte* as a readable German table."""

from __future__ import annotations

import datetime as dt
from typing import Any

from partnerprojekte.model import State
from partnerprojekte.reference import load_reference

# The order of the Fortschrittsbericht 2021: the path a proposal takes, then how it can end.
STATUS_ORDER = (
    State.ANERKANNT,
    State.IN_ABSTIMMUNG,
    State.IN_BEARBEITUNG,
    State.EINGEREICHT,
    State.NICHT_WEITERVERFOLGT,
    State.IN_SAEULE_1_INTEGRIERT,
    State.ZURUECKGEZOGEN,
)


def _table(title: str, rows: list[tuple[str, int]], total: int) -> list[str]:
    width = max([len(label) for label, _ in rows] + [len(title), 12])
    lines = [title, "-" * (width + 8)]
    lines += [f"{label:<{width}} {count:>7}" for label, count in rows]
    lines += ["-" * (width + 8), f"{'Summe':<{width}} {total:>7}"]
    return lines


def render_report(data: dict[str, Any]) -> str:
    """Render the ``report`` data as three tables: by status, by Handlungsfeld, by Ressort."""
    ref = load_reference()
    day = dt.date.fromisoformat(data["as_of"]).strftime("%d.%m.%Y")
    total = data["total"]
    lines = [f"Stand Partnerprojekte der Ruhr-Konferenz – Stichtag {day}", ""]
    lines += _table(
        "Status",
        [(s.label, data["by_status"][s.value]) for s in STATUS_ORDER],
        total,
    )
    lines.append("")
    hf_rows = [
        (ref.handlungsfelder[key].title, count)
        for key, count in sorted(
            data["by_handlungsfeld"].items(), key=lambda kv: ref.handlungsfelder[kv[0]].order
        )
    ]
    lines += _table("Handlungsfeld (Mehrfachnennung möglich)", hf_rows, sum(c for _, c in hf_rows))
    lines.append("")
    ressort_rows = [
        ("noch kein Ressort" if abk == "unassigned" else abk, count)
        for abk, count in data["by_ressort"].items()
    ]
    lines += _table("Zuständiges Ressort", ressort_rows, total)
    return "\n".join(lines)
