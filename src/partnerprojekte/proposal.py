"""The proposal format of docs/proposal-format.md as strict pydantic models (unknown keys refused)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

# Strings are stripped; lengths count characters after stripping.
_STRICT = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class OrganisationKind(StrEnum):
    """Kinds of organisations that submit or cooperate."""

    KOMMUNE = "kommune"
    KREIS = "kreis"
    KAMMER = "kammer"
    UNTERNEHMEN = "unternehmen"
    HOCHSCHULE = "hochschule"
    FORSCHUNG = "forschung"
    KULTUR = "kultur"
    VERBAND = "verband"
    STIFTUNG = "stiftung"
    VEREIN = "verein"
    SONSTIGE = "sonstige"

    @property
    def label(self) -> str:
        """German label."""
        return ORGANISATION_KIND_LABELS[self]


ORGANISATION_KIND_LABELS = {
    OrganisationKind.KOMMUNE: "Kommune",
    OrganisationKind.KREIS: "Kreis",
    OrganisationKind.KAMMER: "Kammer",
    OrganisationKind.UNTERNEHMEN: "Unternehmen",
    OrganisationKind.HOCHSCHULE: "Hochschule",
    OrganisationKind.FORSCHUNG: "Forschungseinrichtung",
    OrganisationKind.KULTUR: "Kulturinstitution",
    OrganisationKind.VERBAND: "Verband",
    OrganisationKind.STIFTUNG: "Stiftung",
    OrganisationKind.VEREIN: "Verein",
    OrganisationKind.SONSTIGE: "sonstige Organisation",
}


class HandlungsfeldKey(StrEnum):
    """The five Handlungsfelder of the Ruhr-Konferenz."""

    MOBILITAET = "mobilitaet"
    WIRTSCHAFT = "wirtschaft"
    VIELFALT = "vielfalt"
    ENERGIE_UMWELT = "energie_umwelt"
    BILDUNG_FORSCHUNG = "bildung_forschung"


class Scope(StrEnum):
    """How far the proposal reaches."""

    LOKAL = "lokal"
    REGIONAL = "regional"
    RUHRGEBIET = "ruhrgebiet"
    NRW = "nrw"


class SourceKind(StrEnum):
    """Kinds of financing sources."""

    EIGENMITTEL = "eigenmittel"
    FOERDERMITTEL = "foerdermittel"
    DRITTE = "dritte"


# "900.000" written by a German hand means 900000, but a parser reads 900.0 and pydantic drops the
# trailing zeros before checking decimal_places: refuse amounts written with more than two decimals.
_THOUSANDS = re.compile(r"[-+]?[1-9]\d{0,2}(?:\.\d{3})+")


def _refuse_ambiguous_amount(value: object) -> object:
    """Refuse an amount written with more than two decimal places (e.g. ``900.000``)."""
    if isinstance(value, str) and len(value) <= 40:
        text = value.strip()
        try:
            amount = Decimal(text)
        except InvalidOperation:
            if _THOUSANDS.fullmatch(text):
                raise _thousands_error(text) from None
            return value
    elif isinstance(value, Decimal):
        text, amount = str(value), value
    else:
        return value
    exponent = amount.as_tuple().exponent
    if amount.is_finite() and isinstance(exponent, int) and exponent < -2:
        if _THOUSANDS.fullmatch(text):
            raise _thousands_error(text)
        raise PydanticCustomError(
            "amount_too_many_places",
            "höchstens 2 Nachkommastellen, gefunden: {value}",
            {"value": text},
        )
    return value


def _thousands_error(text: str) -> PydanticCustomError:
    return PydanticCustomError(
        "amount_thousands_separator",
        "mehrdeutiger Betrag {value}: Tausenderpunkte sind nicht erlaubt – "
        "bitte {digits} schreiben (Cent-Beträge mit Dezimalpunkt, z. B. 1200.50)",
        {"value": text, "digits": text.replace(".", "")},
    )


ShortText = Annotated[str, Field(min_length=1, max_length=200)]
LongText = Annotated[str, Field(max_length=4000)]
Euro = Annotated[
    Decimal,
    Field(ge=0, max_digits=15, decimal_places=2, allow_inf_nan=False),
    BeforeValidator(_refuse_ambiguous_amount),
]


class Contact(BaseModel):
    """Contact person of the submitting organisation."""

    model_config = _STRICT
    name: ShortText
    email: Annotated[str, Field(max_length=254, pattern=r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+$")]


class Submitter(BaseModel):
    """The submitting organisation."""

    model_config = _STRICT
    name: ShortText
    kind: OrganisationKind
    location: ShortText
    contact: Contact


class Partner(BaseModel):
    """A cooperation partner."""

    model_config = _STRICT
    name: ShortText
    kind: OrganisationKind
    location: ShortText | None = None
    role: Annotated[str, Field(max_length=500)] | None = None


class HandlungsfeldEntry(BaseModel):
    """A Handlungsfeld the proposal contributes to, with the partner's rationale."""

    model_config = _STRICT
    key: HandlungsfeldKey
    rationale: LongText = ""


class EffectArea(BaseModel):
    """Where the proposal has its effect."""

    model_config = _STRICT
    places: Annotated[list[ShortText], Field(max_length=200)] = []
    scope: Scope


class Source(BaseModel):
    """One financing source."""

    model_config = _STRICT
    kind: SourceKind
    name: ShortText
    amount_eur: Euro
    secured: bool = False


class Financing(BaseModel):
    """The financing proposal."""

    model_config = _STRICT
    total_cost_eur: Annotated[
        Decimal,
        Field(gt=0, max_digits=15, decimal_places=2, allow_inf_nan=False),
        BeforeValidator(_refuse_ambiguous_amount),
    ]
    sources: Annotated[list[Source], Field(max_length=100)] = []


class Period(BaseModel):
    """Planned duration."""

    model_config = _STRICT
    start: dt.date
    end: dt.date

    @model_validator(mode="after")
    def _end_after_start(self) -> Period:
        if self.end < self.start:
            raise PydanticCustomError(
                "period_end_before_start",
                "Ende ({end}) liegt vor dem Beginn ({start})",
                {"end": self.end.isoformat(), "start": self.start.isoformat()},
            )
        return self


class Proposal(BaseModel):
    """A proposal for a Partnerprojekt (docs/proposal-format.md)."""

    model_config = _STRICT
    title: Annotated[str, Field(min_length=5, max_length=200)]
    summary: Annotated[str, Field(min_length=1, max_length=4000)]
    submitter: Submitter
    partners: Annotated[list[Partner], Field(max_length=100)] = []
    handlungsfelder: Annotated[list[HandlungsfeldEntry], Field(max_length=5)] = []
    themenforum: Annotated[int, Field(ge=1, le=20)] | None = None
    effect_area: EffectArea
    cooperation_value: LongText = ""
    financing: Financing | None = None
    period: Period | None = None
    ressort: Annotated[str, Field(max_length=20)] | None = None

    @field_validator("handlungsfelder")
    @classmethod
    def _distinct_handlungsfelder(cls, entries: list[HandlungsfeldEntry]) -> list[HandlungsfeldEntry]:
        # A repeated key would count twice in the criteria; the error names both positions.
        first: dict[HandlungsfeldKey, int] = {}
        for index, entry in enumerate(entries):
            if entry.key in first:
                raise PydanticCustomError(
                    "handlungsfeld_duplicate",
                    "Handlungsfeld '{key}' ist doppelt – steht schon in handlungsfelder[{first}]",
                    {"key": entry.key.value, "index": index, "first": first[entry.key]},
                )
            first[entry.key] = index
        return entries

    def to_document(self) -> dict[str, object]:
        """The proposal as a JSON-safe document (for storing a revision)."""
        return self.model_dump(mode="json", exclude_none=True)
