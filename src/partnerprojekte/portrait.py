"""The portrait of a recognised Partnerprojekt as the Fortschrittsbericht lays it out: its sections, target
groups, state of implementation, and how a progress report marks each section."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum


class Section(StrEnum):
    """A section of the portrait, in the report's order (Fortschrittsbericht 2021, chapter C)."""

    ZIEL = "ziel"
    MEHRWERT = "mehrwert"
    VORGEHEN = "vorgehen"
    NUTZEN_FUER = "nutzen_fuer"
    JUENGSTE_ENTWICKLUNG = "juengste_entwicklung"
    AKTUELLER_STAND = "aktueller_stand"
    AUSBLICK = "ausblick"
    MEILENSTEINE = "meilensteine"
    AKTEURE = "akteure"
    ZIELGRUPPEN = "zielgruppen"
    ZITAT = "zitat"
    BILD = "bild"

    @property
    def label(self) -> str:
        """The section's heading as the report prints it."""
        return SECTION_LABELS[self]


SECTION_LABELS: dict[Section, str] = {
    Section.ZIEL: "Ziel",
    Section.MEHRWERT: "Mehrwert",
    Section.VORGEHEN: "Vorgehen",
    Section.NUTZEN_FUER: "Nutzen für",
    Section.JUENGSTE_ENTWICKLUNG: "Jüngste Entwicklung",
    Section.AKTUELLER_STAND: "Aktueller Stand",
    Section.AUSBLICK: "Ausblick",
    Section.MEILENSTEINE: "Meilensteine",
    Section.AKTEURE: "Akteure und Partner",
    Section.ZIELGRUPPEN: "Zielgruppen",
    Section.ZITAT: "Zitat",
    Section.BILD: "Bild",
}

# Not every portrait has a quote or an image; a report may leave them empty without a reason.
OPTIONAL_SECTIONS = frozenset({Section.ZITAT, Section.BILD})


class TargetGroup(StrEnum):
    """The target groups of the chapter „Ruhr-Konferenz – für wen?“ (002, lines 4013–4207)."""

    UNTERNEHMEN = "unternehmen"
    AUSZUBILDENDE = "auszubildende"
    STUDIERENDE = "studierende"
    KULTURSCHAFFENDE = "kulturschaffende"
    MEDIENSCHAFFENDE = "medienschaffende"
    SPORT = "sport"
    FORSCHENDE = "forschende"
    TOURISTEN = "touristen"
    BUERGER_IN_VIERTELN = "buerger_in_vierteln"
    EHRENAMT = "ehrenamt"
    KOMMUNEN = "kommunen"

    @property
    def label(self) -> str:
        """The heading the chapter gives the group."""
        return TARGET_GROUP_LABELS[self]


TARGET_GROUP_LABELS: dict[TargetGroup, str] = {
    TargetGroup.UNTERNEHMEN: "Unternehmen",
    TargetGroup.AUSZUBILDENDE: "Auszubildende, Schülerinnen und Schüler",
    TargetGroup.STUDIERENDE: "Studierende",
    TargetGroup.KULTURSCHAFFENDE: "Kulturschaffende und ihr Publikum",
    TargetGroup.MEDIENSCHAFFENDE: "Medienschaffende und ihre Nutzer",
    TargetGroup.SPORT: "Sporttreibende und Sportinteressierte",
    TargetGroup.FORSCHENDE: "Forscherinnen und Forscher",
    TargetGroup.TOURISTEN: "Erholungssuchende und Touristinnen und Touristen",
    TargetGroup.BUERGER_IN_VIERTELN: "Bürgerinnen und Bürger in ihren Heimatsvierteln",
    TargetGroup.EHRENAMT: "Ehrenamtlich Engagierte",
    TargetGroup.KOMMUNEN: "Kommunen",
}


class Umsetzungsstand(StrEnum):
    """The state of implementation, named as the report names the Säule-1 figures (002:181)."""

    PRUEFUNG_LAEUFT = "pruefung_laeuft"
    IN_UMSETZUNG = "in_umsetzung"
    ABGESCHLOSSEN = "abgeschlossen"

    @property
    def label(self) -> str:
        """How the report says it."""
        return UMSETZUNGSSTAND_LABELS[self]


UMSETZUNGSSTAND_LABELS: dict[Umsetzungsstand, str] = {
    Umsetzungsstand.PRUEFUNG_LAEUFT: "Prüfung läuft",
    Umsetzungsstand.IN_UMSETZUNG: "in Umsetzung",
    Umsetzungsstand.ABGESCHLOSSEN: "abgeschlossen",
}


class Mark(StrEnum):
    """How a progress report treats a section of the portrait."""

    GEAENDERT = "geaendert"  # new text
    UNVERAENDERT = "unveraendert"  # last year's text stands
    ENTFAELLT = "entfaellt"  # dropped from the portrait, with a reason

    @property
    def label(self) -> str:
        """The mark as a reader sees it."""
        return MARK_LABELS[self]


MARK_LABELS: dict[Mark, str] = {
    Mark.GEAENDERT: "geändert",
    Mark.UNVERAENDERT: "unverändert",
    Mark.ENTFAELLT: "entfällt",
}


# Sections that hold running text; the others have a shape of their own (see ``section_problem``).
TEXT_SECTIONS = frozenset(
    {
        Section.ZIEL,
        Section.MEHRWERT,
        Section.VORGEHEN,
        Section.NUTZEN_FUER,
        Section.JUENGSTE_ENTWICKLUNG,
        Section.AKTUELLER_STAND,
    }
)
TEXT_MAX = 6000  # characters of one section; the longest of the 2021 chapter has about 1,400
LIST_MAX = 60  # milestones or actors of one project


def is_empty(value: object) -> bool:
    """Whether a section value holds nothing (no text, no items)."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, (list, dict)):
        return not value
    return False


def _text(value: object, what: str, *, limit: int = TEXT_MAX) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return f"braucht {what} als Text"
    if len(value) > limit:
        return f"ist zu lang ({len(value)} Zeichen, höchstens {limit})"
    return None


def _year(value: object, what: str) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int) or not 2000 <= value <= 2100:
        return f"braucht {what} als Jahreszahl zwischen 2000 und 2100"
    return None


def _iso_date(value: object, what: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _is_iso_date(value):
        return f"braucht {what} als Datum JJJJ-MM-TT, gefunden „{value}“"
    return None


def _is_iso_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


def _fields(value: object, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> str | None:
    if not isinstance(value, dict):
        return "braucht die Felder " + ", ".join(f"„{f}“" for f in required)
    missing = [f for f in required if f not in value]
    if missing:
        return "braucht die Felder " + ", ".join(f"„{f}“" for f in required)
    unknown = sorted(set(value) - set(required) - set(optional))
    if unknown:
        return "kennt das Feld " + ", ".join(f"„{f}“" for f in unknown) + " nicht"
    return None


def section_problem(section: Section, value: object) -> str | None:
    """What is wrong with a section's value, in German (after the section's name), or ``None``.

    Text sections hold text; Ausblick ``{"jahr", "text"}``; Meilensteine a list of ``{"jahr", "text",
    "erreicht_am"?}`` (achieved with its date, else planned); Akteure a list of names; Zielgruppen a list
    of ``TargetGroup`` values; Zitat ``{"text", "autor", "amt", "bis"?}``; Bild ``{"datei",
    "bildunterschrift", "rechteinhaber", "alternativtext"}``.
    """
    if section in TEXT_SECTIONS:
        return _text(value, "Inhalt")
    if section is Section.AUSBLICK:
        problem = _fields(value, ("jahr", "text"))
        if problem:
            return problem
        assert isinstance(value, dict)
        return _year(value["jahr"], "„jahr“") or _text(value["text"], "„text“")
    if section is Section.MEILENSTEINE:
        return _milestones_problem(value)
    if section is Section.AKTEURE:
        if not isinstance(value, list) or not value or len(value) > LIST_MAX:
            return f"braucht eine Liste von 1 bis {LIST_MAX} Namen"
        for i, name in enumerate(value, 1):
            problem = _text(name, f"als {i}. Eintrag einen Namen", limit=300)
            if problem:
                return problem
        return None
    if section is Section.ZIELGRUPPEN:
        known = {g.value for g in TargetGroup}
        if not isinstance(value, list) or not value:
            return "braucht mindestens eine Zielgruppe"
        wrong = [str(v) for v in value if v not in known]
        if wrong:
            return "kennt die Zielgruppe " + ", ".join(f"„{w}“" for w in wrong) + " nicht"
        return None
    if section is Section.ZITAT:
        problem = _fields(value, ("text", "autor", "amt"), ("bis",))
        if problem:
            return problem
        assert isinstance(value, dict)
        return (
            _text(value["text"], "„text“", limit=1500)
            or _text(value["autor"], "„autor“", limit=200)
            or _text(value["amt"], "„amt“", limit=300)
            or _iso_date(value.get("bis"), "„bis“")
        )
    assert section is Section.BILD
    problem = _fields(value, ("datei", "bildunterschrift", "rechteinhaber", "alternativtext"))
    if problem:
        return problem
    assert isinstance(value, dict)
    for key in ("datei", "bildunterschrift", "rechteinhaber", "alternativtext"):
        problem = _text(value[key], f"„{key}“", limit=500)
        if problem:
            return problem
    return None


def _milestones_problem(value: object) -> str | None:
    if not isinstance(value, list) or not value or len(value) > LIST_MAX:
        return f"braucht eine Liste von 1 bis {LIST_MAX} Meilensteinen"
    for i, item in enumerate(value, 1):
        problem = _fields(item, ("jahr", "text"), ("erreicht_am",))
        if problem is None:
            assert isinstance(item, dict)
            problem = (
                _year(item["jahr"], "„jahr“")
                or _text(item["text"], "„text“", limit=1000)
                or _iso_date(item.get("erreicht_am"), "„erreicht_am“")
            )
        if problem:
            return f"(Meilenstein {i}) {problem}"
    return None


@dataclass(frozen=True)
class SectionEntry:
    """One section of a progress report: its mark, the new value (changed) or the reason (dropped)."""

    mark: Mark
    value: object = ""
    reason: str = ""

    def problem(self, section: Section) -> str | None:
        """What keeps the entry from being submitted, in German, or ``None``."""
        if self.mark is Mark.GEAENDERT:
            if is_empty(self.value):
                return "ist als geändert markiert, hat aber keinen Inhalt"
            return section_problem(section, self.value)
        if self.mark is Mark.ENTFAELLT and not self.reason.strip():
            return "entfällt, aber ohne Begründung"
        return None


def apply_entries(base: dict[Section, object], entries: dict[Section, SectionEntry]) -> dict[Section, object]:
    """The portrait a report makes of the last one: changed sections replaced, dropped ones removed."""
    result = dict(base)
    for section, entry in entries.items():
        if entry.mark is Mark.GEAENDERT:
            result[section] = entry.value
        elif entry.mark is Mark.ENTFAELLT:
            result.pop(section, None)
    return {s: result[s] for s in Section if s in result}


MONTHS = (
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
)


def long_date(day: dt.date) -> str:
    """A date as the report writes it: ``31. Oktober 2021``."""
    return f"{day.day}. {MONTHS[day.month - 1]} {day.year}"


def euro_amount(value: float | int) -> str:
    """Whole euros as the report writes them: ``985.000 Euro``."""
    return f"{round(value):,}".replace(",", ".") + " Euro"
