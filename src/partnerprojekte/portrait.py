"""The portrait of a recognised Partnerprojekt as the Fortschrittsbericht lays it out: its sections, target
groups, state of implementation, and how a progress report marks each section."""

from __future__ import annotations

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


@dataclass(frozen=True)
class SectionEntry:
    """One section of a progress report: its mark, the new text (changed) or the reason (dropped)."""

    mark: Mark
    text: str = ""
    reason: str = ""

    def problem(self) -> str | None:
        """What keeps the entry from being submitted, in German, or ``None``."""
        if self.mark is Mark.GEAENDERT and not self.text.strip():
            return "ist als geändert markiert, hat aber keinen Text"
        if self.mark is Mark.ENTFAELLT and not self.reason.strip():
            return "entfällt, aber ohne Begründung"
        return None
