"""The submission form: flat form fields to a proposal document (docs/proposal-format.md) and back,
and errors mapped onto the fields.

Field names follow the document paths (``partners[1].name``, ``financing.sources[0].amount_eur``), so
that an error path from the validation names its input. Repeatable rows that are left empty are dropped;
``RowMap`` remembers which form row became which list entry, so that ``partners[0]`` in an error still
points at the right row. ``static/proposal-form.js`` builds the same document in the browser for the
live check; both follow the rules written down here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from partnerprojekte.errors import FieldError
from partnerprojekte.states.workflow import Actor
from partnerprojekte.web.wording import number_text

# The repeatable parts: list path -> (fields of a row, rows shown on a new form, most rows allowed).
LISTS: dict[str, tuple[tuple[str, ...], int, int]] = {
    "partners": (("name", "kind", "location", "role"), 2, 100),
    "handlungsfelder": (("key", "rationale"), 2, 5),
    "financing.sources": (("kind", "name", "amount_eur", "secured"), 2, 100),
}

# German names of the fields, for the error summary and the row labels.
FIELD_LABELS: dict[str, str] = {
    "title": "Titel",
    "summary": "Kurzbeschreibung",
    "submitter.name": "Einreichende Organisation",
    "submitter.kind": "Art der Organisation",
    "submitter.location": "Sitz (Ort)",
    "submitter.contact.name": "Ansprechperson",
    "submitter.contact.email": "E-Mail der Ansprechperson",
    "themenforum": "Themenforum",
    "effect_area.places": "Orte, in denen das Projekt wirkt",
    "effect_area.scope": "Wirkungsbereich",
    "cooperation_value": "Mehrwert der Zusammenarbeit",
    "financing.total_cost_eur": "Gesamtkosten",
    "period.start": "Beginn",
    "period.end": "Ende",
    "ressort": "Vorgeschlagenes Ressort",
}
ROW_LABELS: dict[str, tuple[str, dict[str, str]]] = {
    "partners": ("Partner", {"name": "Name", "kind": "Art", "location": "Ort", "role": "Rolle im Projekt"}),
    "handlungsfelder": ("Handlungsfeld", {"key": "Handlungsfeld", "rationale": "Begründung"}),
    "financing.sources": (
        "Finanzierungsquelle",
        {"kind": "Art", "name": "Bezeichnung", "amount_eur": "Betrag", "secured": "gesichert"},
    ),
}
_TEXT_FIELDS = (
    "title",
    "summary",
    "submitter.name",
    "submitter.kind",
    "submitter.location",
    "submitter.contact.name",
    "submitter.contact.email",
    "themenforum",
    "effect_area.places",
    "effect_area.scope",
    "cooperation_value",
    "financing.total_cost_eur",
    "period.start",
    "period.end",
    "ressort",
)
_ROW_NAME = re.compile(r"^(partners|handlungsfelder|financing\.sources)\[(\d{1,3})\]\.(\w+)$")
_PATH_INDEX = re.compile(r"^(partners|handlungsfelder|financing\.sources)\[(\d+)\](?:\.(\w+))?")
_THOUSANDS = re.compile(r"\d{1,3}(?:\.\d{3})+")
_PLACE_SPLIT = re.compile(r"[\n;,]")


def amount_text(raw: str) -> str:
    """A euro amount as a German hand writes it (``1.200.000``, ``1.200,50 €``) in the format's notation."""
    text = raw.replace("€", "").replace("\u00a0", "").replace(" ", "").strip()
    if "," in text:
        return text.replace(".", "").replace(",", ".")
    if _THOUSANDS.fullmatch(text):
        return text.replace(".", "")
    return text


def german_amount(value: object) -> str:
    """A stored amount as the form shows it: ``1.200.000`` or ``1.200,50``."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    places = 0 if amount == amount.to_integral_value() else 2
    return number_text(amount, places)


def split_places(text: str) -> list[str]:
    """Places written one per line (or separated by commas or semicolons)."""
    return [part.strip() for part in _PLACE_SPLIT.split(text) if part.strip()]


@dataclass
class ProposalForm:
    """The raw values of the submission form and how many rows of each list it shows."""

    values: dict[str, str] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=lambda: {name: spec[1] for name, spec in LISTS.items()})
    field_errors: dict[str, list[str]] = field(default_factory=dict)
    general_errors: list[str] = field(default_factory=list)

    # --- building ---------------------------------------------------------------------------------

    @classmethod
    def blank(cls, actor: Actor) -> ProposalForm:
        """A new form; a partner's organisation and contact are filled in from their account."""
        form = cls()
        form.values["effect_area.scope"] = "regional"
        if actor.organisation:
            form.values["submitter.name"] = actor.organisation
        if actor.role.value == "partner":
            form.values["submitter.contact.name"] = actor.name
            form.values["submitter.contact.email"] = actor.email
        return form

    @classmethod
    def from_form(cls, data: Mapping[str, Any]) -> ProposalForm:
        """The form as posted (strings only; anything else, e.g. an uploaded file, is ignored)."""
        form = cls()
        for name in _TEXT_FIELDS:
            value = data.get(name)
            if isinstance(value, str):
                form.values[name] = value
        highest: dict[str, int] = {}
        for name, value in data.items():
            match = _ROW_NAME.match(name)
            if not match or not isinstance(value, str):
                continue
            list_name, index, key = match.group(1), int(match.group(2)), match.group(3)
            fields, _, most = LISTS[list_name]
            if key in fields and index < most:
                form.values[name] = value
                highest[list_name] = max(highest.get(list_name, 0), index + 1)
        for list_name, (_, shown, _) in LISTS.items():
            form.rows[list_name] = max(highest.get(list_name, 0), shown)
        return form

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> ProposalForm:
        """A form filled with a stored revision (for revising it)."""
        form = cls()
        values = form.values

        def put(name: str, value: object) -> None:
            if value is not None and value != "":
                values[name] = str(value)

        put("title", doc.get("title"))
        put("summary", doc.get("summary"))
        submitter = doc.get("submitter") or {}
        for key in ("name", "kind", "location"):
            put(f"submitter.{key}", submitter.get(key))
        contact = submitter.get("contact") or {}
        put("submitter.contact.name", contact.get("name"))
        put("submitter.contact.email", contact.get("email"))
        put("themenforum", doc.get("themenforum"))
        area = doc.get("effect_area") or {}
        values["effect_area.places"] = "\n".join(str(p) for p in area.get("places") or [])
        put("effect_area.scope", area.get("scope"))
        put("cooperation_value", doc.get("cooperation_value"))
        financing = doc.get("financing") or {}
        if financing.get("total_cost_eur") is not None:
            values["financing.total_cost_eur"] = german_amount(financing["total_cost_eur"])
        period = doc.get("period") or {}
        put("period.start", period.get("start"))
        put("period.end", period.get("end"))
        put("ressort", doc.get("ressort"))
        lists: dict[str, list[Mapping[str, Any]]] = {
            "partners": list(doc.get("partners") or []),
            "handlungsfelder": list(doc.get("handlungsfelder") or []),
            "financing.sources": list(financing.get("sources") or []),
        }
        for list_name, entries in lists.items():
            for index, entry in enumerate(entries):
                for key in LISTS[list_name][0]:
                    value = entry.get(key)
                    if key == "secured":
                        if value:
                            values[f"{list_name}[{index}].secured"] = "true"
                    elif key == "amount_eur" and value is not None:
                        values[f"{list_name}[{index}].amount_eur"] = german_amount(value)
                    else:
                        put(f"{list_name}[{index}].{key}", value)
            # One empty row more than needed, so that another entry can be added without a reload.
            form.rows[list_name] = min(max(len(entries) + 1, LISTS[list_name][1]), LISTS[list_name][2])
        return form

    def add_row(self, list_name: str) -> None:
        """One more empty row of a list (the "weitere Zeile" button without JavaScript)."""
        if list_name in LISTS:
            self.rows[list_name] = min(self.rows[list_name] + 1, LISTS[list_name][2])

    # --- reading ----------------------------------------------------------------------------------

    def value(self, name: str) -> str:
        """The raw value of a field ('' if empty)."""
        return self.values.get(name, "")

    def checked(self, name: str) -> bool:
        """Whether a checkbox is ticked."""
        return self.values.get(name) == "true"

    def row_range(self, list_name: str) -> range:
        """The row indices of a list to show."""
        return range(self.rows[list_name])

    def to_document(self) -> tuple[dict[str, Any], dict[str, list[int]]]:
        """The proposal document of the form, and for each list which form row each entry came from."""
        doc: dict[str, Any] = {}
        row_map: dict[str, list[int]] = {}

        def text(name: str) -> str:
            return self.value(name).strip()

        for name in ("title", "summary"):
            if text(name):
                doc[name] = text(name)
        contact = {
            k: text(f"submitter.contact.{k}") for k in ("name", "email") if text(f"submitter.contact.{k}")
        }
        submitter: dict[str, Any] = {
            k: text(f"submitter.{k}") for k in ("name", "kind", "location") if text(f"submitter.{k}")
        }
        submitter["contact"] = contact
        doc["submitter"] = submitter
        doc["partners"] = self._rows("partners", row_map)
        doc["handlungsfelder"] = self._rows("handlungsfelder", row_map)
        if text("themenforum"):
            forum = text("themenforum")
            doc["themenforum"] = (
                int(forum) if forum.isascii() and forum.isdigit() and len(forum) < 4 else forum
            )
        area: dict[str, Any] = {"places": split_places(self.value("effect_area.places"))}
        if text("effect_area.scope"):
            area["scope"] = text("effect_area.scope")
        doc["effect_area"] = area
        if text("cooperation_value"):
            doc["cooperation_value"] = text("cooperation_value")
        sources = self._rows("financing.sources", row_map)
        if text("financing.total_cost_eur") or sources:
            financing: dict[str, Any] = {"sources": sources}
            if text("financing.total_cost_eur"):
                financing["total_cost_eur"] = amount_text(text("financing.total_cost_eur"))
            doc["financing"] = financing
        period = {k: text(f"period.{k}") for k in ("start", "end") if text(f"period.{k}")}
        if period:
            doc["period"] = period
        if text("ressort"):
            doc["ressort"] = text("ressort")
        return doc, row_map

    def _rows(self, list_name: str, row_map: dict[str, list[int]]) -> list[dict[str, Any]]:
        fields = LISTS[list_name][0]
        entries: list[dict[str, Any]] = []
        origins: list[int] = []
        for index in self.row_range(list_name):
            entry: dict[str, Any] = {}
            for key in fields:
                raw = self.value(f"{list_name}[{index}].{key}").strip()
                if key == "secured":
                    continue
                if raw:
                    entry[key] = amount_text(raw) if key == "amount_eur" else raw
            if not entry:
                continue  # an empty row (a ticked "gesichert" alone is no entry)
            if "secured" in fields:
                entry["secured"] = self.checked(f"{list_name}[{index}].secured")
            entries.append(entry)
            origins.append(index)
        row_map[list_name] = origins
        return entries

    # --- errors -----------------------------------------------------------------------------------

    def set_errors(self, errors: Iterable[FieldError], row_map: Mapping[str, list[int]]) -> None:
        """Attach validation errors to the inputs they concern (the rest to the form as a whole)."""
        for error in errors:
            name = input_name(error.path, row_map)
            if name is None:
                prefix = f"{error.path}: " if error.path else ""
                self.general_errors.append(prefix + error.message)
            else:
                self.field_errors.setdefault(name, []).append(error.message)

    def error_summary(self) -> list[tuple[str, str, str]]:
        """(input id, German field label, message) for the list of problems above the form."""
        items = [
            (field_id(name), field_label(name), msg)
            for name, msgs in self.field_errors.items()
            for msg in msgs
        ]
        return items + [("", "", msg) for msg in self.general_errors]

    @property
    def has_errors(self) -> bool:
        """Whether any error is attached."""
        return bool(self.field_errors or self.general_errors)


def is_proposal_input(name: str) -> bool:
    """Whether ``name`` is an input of the proposal form (validated, with its path, as the document)."""
    return name in _TEXT_FIELDS or _ROW_NAME.match(name) is not None


def input_name(path: str, row_map: Mapping[str, list[int]]) -> str | None:
    """The form field an error path concerns, or None if it concerns no single field."""
    match = _PATH_INDEX.match(path)
    if match:
        list_name, index, key = match.group(1), int(match.group(2)), match.group(3)
        origins = row_map.get(list_name, [])
        row = origins[index] if index < len(origins) else index
        key = key if key in LISTS[list_name][0] else LISTS[list_name][0][0]
        return f"{list_name}[{row}].{key}"
    if path.startswith("effect_area.places"):
        return "effect_area.places"
    if path in ("financing", "financing.sources"):
        return "financing.total_cost_eur"
    if path == "period":
        return "period.start"
    if path in ("submitter", "submitter.contact"):
        return f"{path}.name"
    return path if path in FIELD_LABELS else None


def field_id(name: str) -> str:
    """The HTML id of a field: ``partners[1].name`` -> ``f-partners-1-name``."""
    return "f-" + re.sub(r"[\[\].]+", "-", name).strip("-")


def field_label(name: str) -> str:
    """The German label of a field, with the row for repeatable ones (``Partner 2 – Name``)."""
    match = _ROW_NAME.match(name)
    if match:
        noun, keys = ROW_LABELS[match.group(1)]
        return f"{noun} {int(match.group(2)) + 1} – {keys.get(match.group(3), match.group(3))}"
    return FIELD_LABELS.get(name, name)
