"""A portrait's first version made from the proposal, and the entries of a progress report read from input."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from partnerprojekte.errors import FieldError, ValidationError
from partnerprojekte.formats.text import text_problem
from partnerprojekte.portrait import Mark, Section, SectionEntry, euro_amount, long_date
from partnerprojekte.proposal import Proposal


def first_sentence(text: str) -> str:
    """The first sentence of a text (the portrait's bold lead sentence, Ziel)."""
    flat = " ".join(text.split())
    for end in (". ", "! ", "? "):
        cut = flat.find(end)
        if cut > 0:
            return flat[: cut + 1]
    return flat


def prefill(proposal: Proposal) -> dict[Section, object]:
    """The first portrait from the proposal: lead sentence, approach, partners, period and financing."""
    content: dict[Section, object] = {
        Section.ZIEL: first_sentence(proposal.summary),
        Section.VORGEHEN: proposal.summary,
        Section.AKTEURE: [proposal.submitter.name, *(p.name for p in proposal.partners)],
    }
    if proposal.cooperation_value.strip():
        content[Section.MEHRWERT] = proposal.cooperation_value
    places = proposal.effect_area.places
    if places:
        content[Section.NUTZEN_FUER] = "Das Vorhaben wirkt in " + ", ".join(places) + "."
    if proposal.financing is not None and proposal.financing.total_cost_eur:
        total = euro_amount(float(proposal.financing.total_cost_eur))
        content[Section.AKTUELLER_STAND] = f"Das Vorhaben ist mit Gesamtkosten von {total} geplant."
    if proposal.period is not None:
        start, end = proposal.period.start, proposal.period.end
        content[Section.MEILENSTEINE] = [
            {"jahr": start.year, "text": "Projektstart", "erreicht_am": start.isoformat()},
            {"jahr": end.year, "text": "Projektende (geplant)"},
        ]
        content[Section.AUSBLICK] = {
            "jahr": start.year + 1,
            "text": f"Das Projekt läuft zunächst bis zum {long_date(end)}.",
        }
    return content


def parse_entries(raw: object) -> dict[Section, SectionEntry]:
    """The entries of a progress report (``{section: {"markierung", "inhalt"?, "begruendung"?}}``).

    Only the shape is checked here (known sections and marks, text without forbidden characters); whether
    the report is complete is the machine's guard at submission.
    """
    if not isinstance(raw, Mapping):
        raise ValidationError(FieldError("abschnitte", "erwartet ein Objekt „Abschnitt → Eintrag“"))
    known = {s.value for s in Section}
    marks = {m.value for m in Mark}
    errors: list[FieldError] = []
    entries: dict[Section, SectionEntry] = {}
    for key, item in raw.items():
        path = f"abschnitte.{key}"
        if key not in known:
            errors.append(FieldError(path, "unbekannter Abschnitt; möglich: " + ", ".join(sorted(known))))
            continue
        if not isinstance(item, Mapping):
            errors.append(FieldError(path, "erwartet ein Objekt mit „markierung“"))
            continue
        unknown = sorted(set(item) - {"markierung", "inhalt", "begruendung"})
        if unknown:
            errors.append(FieldError(f"{path}.{unknown[0]}", "unbekanntes Feld"))
            continue
        mark = item.get("markierung")
        if mark not in marks:
            errors.append(
                FieldError(
                    f"{path}.markierung", f"„{mark}“ ist keine Markierung; möglich: " + ", ".join(marks)
                )
            )
            continue
        reason = item.get("begruendung") or ""
        if not isinstance(reason, str):
            errors.append(FieldError(f"{path}.begruendung", "erwartet Text"))
            continue
        value = _plain(item.get("inhalt", ""))
        problem = _text_problem_in(value) or text_problem(reason)
        if problem:
            errors.append(FieldError(path, problem))
            continue
        entries[Section(key)] = SectionEntry(Mark(mark), value, reason)
    if errors:
        raise ValidationError(errors)
    return {s: entries[s] for s in Section if s in entries}


def _plain(value: object) -> object:
    """A section value as JSON stores it: a YAML date (``erreicht_am: 2021-03-15``) becomes its ISO text."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _text_problem_in(value: object) -> str | None:
    """The first forbidden text anywhere in a section value (nested lists and objects included)."""
    if isinstance(value, str):
        return text_problem(value)
    if isinstance(value, Mapping):
        return next((p for v in value.values() if (p := _text_problem_in(v))), None)
    if isinstance(value, list):
        return next((p for v in value if (p := _text_problem_in(v))), None)
    return None


def entries_to_json(entries: Mapping[Section, SectionEntry]) -> dict[str, Any]:
    """The stored and shown form of entries (the shape ``parse_entries`` reads)."""
    out: dict[str, Any] = {}
    for section, entry in entries.items():
        item: dict[str, Any] = {"markierung": entry.mark.value}
        if entry.mark is Mark.GEAENDERT:
            item["inhalt"] = entry.value
        if entry.reason:
            item["begruendung"] = entry.reason
        out[section.value] = item
    return out
