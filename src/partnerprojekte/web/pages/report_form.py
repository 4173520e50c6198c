"""The progress-report form: its fields per portrait section, read into entries and filled from a portrait.

Running text in a textarea; Ausblick as year and text; Meilensteine one per line („2022 | Text |
2022-03-01“, the date only when achieved); Akteure one per line; Zielgruppen as checkboxes; Zitat and Bild
as their fields. A section without a mark is not part of the draft that is saved.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.datastructures import FormData

from partnerprojekte.errors import FieldError, ValidationError
from partnerprojekte.portrait import TEXT_SECTIONS, Mark, Section

QUOTE_FIELDS = ("text", "autor", "amt", "bis")
IMAGE_FIELDS = ("datei", "bildunterschrift", "rechteinhaber", "alternativtext")


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _milestones(raw: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for number, line in enumerate(raw.splitlines(), 1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        if len(parts) not in (2, 3) or not parts[0].isascii() or not parts[0].isdigit():
            raise ValidationError(
                FieldError(
                    "abschnitte.meilensteine",
                    f"Zeile {number}: erwartet „Jahr | Text“ oder „Jahr | Text | erreicht am (JJJJ-MM-TT)“",
                )
            )
        item: dict[str, Any] = {"jahr": int(parts[0]), "text": parts[1]}
        if len(parts) == 3 and parts[2]:
            item["erreicht_am"] = parts[2]
        items.append(item)
    return items


def _value(form: FormData, section: Section) -> object:
    """The value the form gives a section (its shape as ``portrait.section_problem`` checks it)."""
    key = section.value
    if section in TEXT_SECTIONS:
        return _text(form, f"wert_{key}")
    if section is Section.AUSBLICK:
        year = _text(form, "ausblick_jahr")
        return {
            "jahr": int(year) if year.isascii() and year.isdigit() else year,
            "text": _text(form, "ausblick_text"),
        }
    if section is Section.MEILENSTEINE:
        return _milestones(_text(form, "wert_meilensteine"))
    if section is Section.AKTEURE:
        return [line.strip() for line in _text(form, "wert_akteure").splitlines() if line.strip()]
    if section is Section.ZIELGRUPPEN:
        return [v for v in form.getlist("zielgruppen") if isinstance(v, str)]
    if section is Section.ZITAT:
        quote = {f: _text(form, f"zitat_{f}") for f in QUOTE_FIELDS}
        if not quote["bis"]:
            del quote["bis"]
        return quote
    return {f: _text(form, f"bild_{f}") for f in IMAGE_FIELDS}


def entries_from_form(form: FormData) -> dict[str, Any]:
    """The entries of the sections the form marks, in the shape ``formats.portraits.parse_entries`` reads."""
    entries: dict[str, Any] = {}
    for section in Section:
        mark = _text(form, f"markierung_{section.value}")
        if not mark:
            continue
        item: dict[str, Any] = {"markierung": mark}
        if mark == Mark.GEAENDERT.value:
            item["inhalt"] = _value(form, section)
        elif mark == Mark.ENTFAELLT.value:
            item["begruendung"] = _text(form, f"begruendung_{section.value}")
        entries[section.value] = item
    return entries


def form_values(portrait: Mapping[str, Any], entries: Mapping[str, Any]) -> dict[str, Any]:
    """What each field shows: the draft's value where it has one, else the portrait's."""
    values: dict[str, Any] = {}
    for section in Section:
        key = section.value
        entry = entries.get(key) or {}
        value = entry.get("inhalt", portrait.get(key))
        values[f"markierung_{key}"] = entry.get("markierung", "")
        values[f"begruendung_{key}"] = entry.get("begruendung", "")
        if section in TEXT_SECTIONS:
            values[f"wert_{key}"] = value or ""
        elif section is Section.AUSBLICK:
            values["ausblick_jahr"] = (value or {}).get("jahr", "")
            values["ausblick_text"] = (value or {}).get("text", "")
        elif section is Section.MEILENSTEINE:
            values["wert_meilensteine"] = "\n".join(
                " | ".join(str(p) for p in (m.get("jahr"), m.get("text"), m.get("erreicht_am")) if p)
                for m in value or []
            )
        elif section is Section.AKTEURE:
            values["wert_akteure"] = "\n".join(value or [])
        elif section is Section.ZIELGRUPPEN:
            values["zielgruppen"] = list(value or [])
        elif section is Section.ZITAT:
            values.update({f"zitat_{f}": (value or {}).get(f, "") for f in QUOTE_FIELDS})
        else:
            values.update({f"bild_{f}": (value or {}).get(f, "") for f in IMAGE_FIELDS})
    return values
