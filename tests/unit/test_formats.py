"""Loading proposal files safely and validating them with German messages (spec §5)."""

from __future__ import annotations

import datetime as dt
import json
import re
import time
import tracemalloc
from collections.abc import Callable
from decimal import Decimal
from enum import StrEnum
from typing import Any

import pydantic
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import AwareDatetime, BaseModel, ConfigDict

from partnerprojekte.errors import FieldError, ValidationError
from partnerprojekte.formats import (
    documents,
    load_document,
    load_mapping_document,
    parse_proposal,
    proposal_from_document,
    pydantic_errors_to_field_errors,
)
from partnerprojekte.proposal import HandlungsfeldKey, OrganisationKind, Proposal, Scope

KLIC_YAML = """\
# Partnerprojekt KLIC.Ruhr (Fortschrittsbericht 2021, anerkannt)
title: "KLIC.Ruhr – Kompetenzverbund Life-Sciences.Ruhr"
summary: >-
  Geräte-Sharing-Plattform für Start-ups und Gründerinnen und Gründer der Biotechnologie im
  Ruhrgebiet: Laborgeräte, Expertise und Laborräume der Technologiezentren werden gemeinsam buchbar.
submitter:
  name: "Kompetenzzentrum Bio-Security GmbH"
  kind: unternehmen
  location: "Bönen"
  contact: {name: "Dr. Oliver Bonkamp", email: "kontakt@example.org"}
partners:
  - {name: "ZBZ Witten", kind: forschung, location: "Witten", role: "Laborinfrastruktur"}
  - {name: "BMZ Bochum", kind: forschung, location: "Bochum", role: "Gesundheitscampus Bochum"}
  - {name: "BMZ Dortmund", kind: forschung, location: "Dortmund"}
  - {name: "Clustermarket", kind: unternehmen, location: "London", role: "Betrieb der Plattform"}
handlungsfelder:
  - key: wirtschaft
    rationale: "Stärkt Gründungen in der Biotechnologie und den Transfer aus der Wissenschaft."
themenforum: 5
effect_area:
  places: ["Bönen", "Witten", "Dortmund", "Bochum"]
  scope: regional
cooperation_value: >-
  Hochschulen, Technologiezentren und Unternehmen teilen teure Spezialgeräte, statt sie jeweils
  selbst anzuschaffen; Gründungen erhalten schneller Zugang zu Laboren.
financing:
  total_cost_eur: 1200000
  sources:
    - {kind: foerdermittel, name: "Regio.NRW – Innovation und Transfer", amount_eur: 900000, secured: true}
    - {kind: eigenmittel, name: "Partner", amount_eur: 300000.50, secured: true}
period: {start: 2020-05-01, end: 2023-12-31}
ressort: MWIDE
"""

# Fragments of pydantic's English messages that must never reach a user.
ENGLISH = re.compile(
    r"\b(Input should|Field required|Extra inputs|should be|should have|String should|"
    r"Value error|valid|required|greater than|less than|characters|at least|at most|must)\b"
)


def klic_document() -> dict[str, Any]:
    """The KLIC.Ruhr example as a loaded document (fresh copy for each use)."""
    doc = load_document(KLIC_YAML.encode())
    assert isinstance(doc, dict)
    return doc


def as_json(doc: object) -> bytes:
    """A document as JSON text, as a partner's tool would write it."""

    def default(value: object) -> object:
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, Decimal):
            return float(value)
        raise TypeError(type(value))

    return json.dumps(doc, default=default, ensure_ascii=False, indent=2).encode()


def field_errors(doc: object, *, path_prefix: str = "") -> list[FieldError]:
    """The field errors a document is refused with."""
    with pytest.raises(ValidationError) as info:
        proposal_from_document(doc, source="vorschlag.yaml", path_prefix=path_prefix)
    assert info.value.errors
    return info.value.errors


def changed(change: Callable[[dict[str, Any]], object]) -> dict[str, Any]:
    doc = klic_document()
    change(doc)
    return doc


# ------------------------------------------------------------------------------------------
# Valid proposals
# ------------------------------------------------------------------------------------------


def test_the_klic_example_is_read_from_yaml() -> None:
    proposal = parse_proposal(KLIC_YAML.encode(), source="klic.yaml")

    assert proposal.title == "KLIC.Ruhr – Kompetenzverbund Life-Sciences.Ruhr"
    assert proposal.submitter.kind is OrganisationKind.UNTERNEHMEN
    assert proposal.submitter.location == "Bönen"
    assert [p.name for p in proposal.partners] == [
        "ZBZ Witten",
        "BMZ Bochum",
        "BMZ Dortmund",
        "Clustermarket",
    ]
    assert proposal.handlungsfelder[0].key is HandlungsfeldKey.WIRTSCHAFT
    assert proposal.themenforum == 5
    assert proposal.effect_area.scope is Scope.REGIONAL
    assert proposal.financing is not None
    assert proposal.financing.total_cost_eur == Decimal("1200000")
    assert [s.amount_eur for s in proposal.financing.sources] == [Decimal(900000), Decimal("300000.50")]
    assert proposal.period is not None
    assert (proposal.period.start, proposal.period.end) == (dt.date(2020, 5, 1), dt.date(2023, 12, 31))
    assert proposal.ressort == "MWIDE"


def test_the_same_proposal_is_read_from_json() -> None:
    from_yaml = parse_proposal(KLIC_YAML.encode())
    data = as_json(klic_document())
    assert data.startswith(b"{")

    assert parse_proposal(data, source="klic.json") == from_yaml


def test_a_utf8_byte_order_mark_is_accepted() -> None:
    proposal = parse_proposal(b"\xef\xbb\xbf" + KLIC_YAML.encode())

    assert proposal.submitter.location == "Bönen"


def test_a_yaml_flow_mapping_that_is_not_json_is_read_as_yaml() -> None:
    assert load_document(b"{title: KLIC, themenforum: 5}") == {"title": "KLIC", "themenforum": 5}


def test_the_ressort_is_normalised_to_its_abbreviation() -> None:
    lower = parse_proposal(KLIC_YAML.replace("ressort: MWIDE", "ressort: mwide").encode())
    staatskanzlei = parse_proposal(KLIC_YAML.replace("ressort: MWIDE", "ressort: ' stk / mbei '").encode())

    assert lower.ressort == "MWIDE"
    assert staatskanzlei.ressort == "Stk/MBEI"


def test_a_minimal_proposal_needs_only_the_required_fields() -> None:
    doc = {
        "title": "Radschnellweg Ruhr",
        "summary": "Lückenschluss",
        "submitter": {
            "name": "Stadt Mülheim an der Ruhr",
            "kind": "kommune",
            "location": "Mülheim an der Ruhr",
            "contact": {"name": "Amt 61", "email": "amt61@example.org"},
        },
        "effect_area": {"scope": "ruhrgebiet"},
    }

    proposal = proposal_from_document(doc)

    assert proposal.partners == []
    assert proposal.financing is None
    assert proposal.ressort is None


# ------------------------------------------------------------------------------------------
# Field errors: path in the spec's notation, German message
# ------------------------------------------------------------------------------------------

FIELD_CASES: list[tuple[str, Callable[[dict[str, Any]], object], str, str]] = [
    ("missing", lambda d: d.pop("title"), "title", "Pflichtfeld fehlt"),
    (
        "missing nested",
        lambda d: d["submitter"]["contact"].pop("email"),
        "submitter.contact.email",
        "Pflichtfeld fehlt",
    ),
    (
        "unknown key",
        lambda d: d.update(titel="KLIC"),
        "titel",
        "unbekanntes Feld 'titel' – erlaubt sind: title, summary, submitter, partners, handlungsfelder, "
        "themenforum, effect_area, cooperation_value, financing, period, ressort; meinten Sie 'title'?",
    ),
    (
        "unknown nested key",
        lambda d: d["submitter"].update(telefon="0231 123"),
        "submitter.telefon",
        "unbekanntes Feld 'telefon' – erlaubt sind: name, kind, location, contact",
    ),
    (
        "number expected",
        lambda d: d["financing"]["sources"][1].update(amount_eur="dreihunderttausend"),
        "financing.sources[1].amount_eur",
        "erwartet eine Zahl, gefunden: Text ('dreihunderttausend')",
    ),
    (
        "German number format",
        lambda d: d["financing"]["sources"][1].update(amount_eur="300000,50"),
        "financing.sources[1].amount_eur",
        "erwartet eine Zahl, gefunden: Text ('300000,50') – Beträge ohne Tausenderpunkte und mit "
        "Dezimalpunkt schreiben, z. B. 1200000 oder 1200.50",
    ),
    (
        "thousands separator",
        lambda d: d["financing"].update(total_cost_eur=load_document(b"x: 1.200")["x"]),  # type: ignore[index]
        "financing.total_cost_eur",
        "mehrdeutiger Betrag 1.200: Tausenderpunkte sind nicht erlaubt – bitte 1200 schreiben "
        "(Cent-Beträge mit Dezimalpunkt, z. B. 1200.50)",
    ),
    (
        "text expected",
        lambda d: d["submitter"].update(location=2020),
        "submitter.location",
        "erwartet Text, gefunden: Zahl (2020) – bitte in Anführungszeichen setzen",
    ),
    (
        "too short",
        lambda d: d.update(title="KLIC"),
        "title",
        "mindestens 5 Zeichen, gefunden 4",
    ),
    (
        "too short after stripping",
        lambda d: d.update(title="  KLI  "),
        "title",
        "mindestens 5 Zeichen, gefunden 3",
    ),
    ("empty", lambda d: d.update(summary=" "), "summary", "darf nicht leer sein"),
    (
        "too long",
        lambda d: d.update(title="K" * 201),
        "title",
        "höchstens 200 Zeichen, gefunden 201",
    ),
    (
        "enum",
        lambda d: d["partners"][0].update(kind="firma"),
        "partners[0].kind",
        "unbekannter Wert 'firma' – erlaubt: kommune, kreis, kammer, unternehmen, hochschule, "
        "forschung, kultur, verband, stiftung, verein, sonstige",
    ),
    (
        "enum with a wrong case",
        lambda d: d["submitter"].update(kind="Unternehmen"),
        "submitter.kind",
        "unbekannter Wert 'Unternehmen' – erlaubt: kommune, kreis, kammer, unternehmen, hochschule, "
        "forschung, kultur, verband, stiftung, verein, sonstige; meinten Sie 'unternehmen'?",
    ),
    (
        "handlungsfeld",
        lambda d: d["handlungsfelder"].extend([{"key": "mobilitaet"}, {"key": "kultur"}]),
        "handlungsfelder[2].key",
        "unbekanntes Handlungsfeld 'kultur' – erlaubt: mobilitaet, wirtschaft, vielfalt, "
        "energie_umwelt, bildung_forschung",
    ),
    (
        "duplicate handlungsfeld",
        lambda d: d["handlungsfelder"].extend([{"key": "vielfalt"}, {"key": "wirtschaft"}]),
        "handlungsfelder[2].key",
        "Handlungsfeld 'wirtschaft' ist doppelt – steht schon in handlungsfelder[0]",
    ),
    (
        "too many handlungsfelder",
        lambda d: d.update(handlungsfelder=[{"key": k.value} for k in HandlungsfeldKey] * 2),
        "handlungsfelder",
        "höchstens 5 Einträge, gefunden 10",
    ),
    (
        "scope",
        lambda d: d["effect_area"].update(scope="stadt"),
        "effect_area.scope",
        "unbekannter Wert 'stadt' – erlaubt: lokal, regional, ruhrgebiet, nrw",
    ),
    (
        "total must be positive",
        lambda d: d["financing"].update(total_cost_eur=0),
        "financing.total_cost_eur",
        "muss größer als 0 sein, gefunden: 0",
    ),
    (
        "amount must not be negative",
        lambda d: d["financing"]["sources"][0].update(amount_eur=-900000),
        "financing.sources[0].amount_eur",
        "darf nicht negativ sein, gefunden: -900000",
    ),
    (
        "cents only",
        lambda d: d["financing"]["sources"][0].update(amount_eur=Decimal("0.125")),
        "financing.sources[0].amount_eur",
        "höchstens 2 Nachkommastellen, gefunden: 0.125",
    ),
    (
        "too many digits",
        lambda d: d["financing"].update(total_cost_eur=10**20),
        "financing.total_cost_eur",
        "höchstens 15 Ziffern insgesamt, gefunden: 100000000000000000000",
    ),
    (
        "boolean",
        lambda d: d["financing"]["sources"][1].update(secured="ja"),
        "financing.sources[1].secured",
        "erwartet true oder false, gefunden: Text ('ja')",
    ),
    (
        "email",
        lambda d: d["submitter"]["contact"].update(email="kontakt(at)example.org"),
        "submitter.contact.email",
        "keine gültige E-Mail-Adresse (z. B. name@example.org), gefunden: Text ('kontakt(at)example.org')",
    ),
    (
        "German date",
        lambda d: d["period"].update(start="01.05.2020"),
        "period.start",
        "erwartet ein Datum im Format JJJJ-MM-TT (z. B. 2020-05-01), gefunden: Text ('01.05.2020')",
    ),
    (
        "impossible date",
        lambda d: d["period"].update(end="2023-02-30"),
        "period.end",
        "ungültiges Datum: '2023-02-30' gibt es im Kalender nicht",
    ),
    (
        "end before start",
        lambda d: d["period"].update(end=dt.date(2019, 12, 31)),
        "period.end",
        "Ende (2019-12-31) liegt vor dem Beginn (2020-05-01)",
    ),
    (
        "themenforum above",
        lambda d: d.update(themenforum=21),
        "themenforum",
        "Themenforum muss eine Nummer von 1 bis 20 sein, gefunden: Zahl (21)",
    ),
    (
        "themenforum below",
        lambda d: d.update(themenforum=0),
        "themenforum",
        "Themenforum muss eine Nummer von 1 bis 20 sein, gefunden: Zahl (0)",
    ),
    (
        "themenforum as text",
        lambda d: d.update(themenforum="fünf"),
        "themenforum",
        "Themenforum muss eine Nummer von 1 bis 20 sein, gefunden: Text ('fünf')",
    ),
    (
        "unknown ressort",
        lambda d: d.update(ressort="XY"),
        "ressort",
        "unbekanntes Ressort 'XY' – bekannt sind: ",
    ),
    (
        "object expected",
        lambda d: d.update(submitter="Kompetenzzentrum Bio-Security GmbH"),
        "submitter",
        "erwartet ein Objekt mit den Feldern name, kind, location, contact, gefunden: "
        "Text ('Kompetenzzentrum Bio-Security GmbH')",
    ),
    (
        "list expected",
        lambda d: d["effect_area"].update(places="Bönen"),
        "effect_area.places",
        "erwartet eine Liste, gefunden: Text ('Bönen')",
    ),
    (
        "partner as text",
        lambda d: d["partners"].append("ZBZ Witten"),
        "partners[4]",
        "erwartet ein Objekt mit den Feldern name, kind, location, role, gefunden: Text ('ZBZ Witten')",
    ),
]


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [case[1:] for case in FIELD_CASES],
    ids=[case[0] for case in FIELD_CASES],
)
def test_a_broken_field_is_named_with_a_german_message(
    change: Callable[[dict[str, Any]], object], path: str, message: str
) -> None:
    errors = field_errors(changed(change))

    assert len(errors) == 1, errors
    assert errors[0].path == path
    assert errors[0].message.startswith(message)


def test_a_value_of_the_wrong_type_for_a_choice_names_the_choices() -> None:
    (error,) = field_errors(changed(lambda d: d["handlungsfelder"][0].update(key=3)))

    assert error.path == "handlungsfelder[0].key"
    assert error.message == (
        "erwartet ein Handlungsfeld (mobilitaet, wirtschaft, vielfalt, energie_umwelt, "
        "bildung_forschung), gefunden: Zahl (3)"
    )


def test_an_amount_with_a_german_thousands_separator_is_not_misread() -> None:
    data = KLIC_YAML.replace("amount_eur: 900000,", "amount_eur: 900.000,").encode()

    with pytest.raises(ValidationError) as info:
        parse_proposal(data)

    (error,) = info.value.errors
    assert error.path == "financing.sources[0].amount_eur"
    assert error.message.startswith("mehrdeutiger Betrag 900.000: Tausenderpunkte sind nicht erlaubt")


def test_the_unknown_ressort_message_lists_the_known_ones() -> None:
    (error,) = field_errors(changed(lambda d: d.update(ressort="MWI")))

    assert error.message.startswith("unbekanntes Ressort 'MWI' – bekannt sind: ")
    assert ", MWIDE, " in error.message
    assert ", Stk/MBEI, " in error.message
    assert error.message.endswith("meinten Sie 'MWIDE'?")


def test_all_errors_are_reported_at_once_as_a_reader_sees_them() -> None:
    doc = changed(lambda d: (d.pop("summary"), d["partners"][1].update(kind="uni"), d.update(themenforum=42)))

    with pytest.raises(ValidationError) as info:
        proposal_from_document(doc, source="klic.yaml")

    assert str(info.value) == (
        "klic.yaml: 3 Fehler:\n"
        "  - summary: Pflichtfeld fehlt\n"
        "  - partners[1].kind: unbekannter Wert 'uni' – erlaubt: kommune, kreis, kammer, unternehmen, "
        "hochschule, forschung, kultur, verband, stiftung, verein, sonstige\n"
        "  - themenforum: Themenforum muss eine Nummer von 1 bis 20 sein, gefunden: Zahl (42)"
    )


def test_the_path_prefix_places_errors_inside_an_import_file() -> None:
    doc = changed(lambda d: d["financing"]["sources"][1].update(amount_eur="viel"))

    (error,) = field_errors(doc, path_prefix="proposals[3].proposal.")

    assert error.path == "proposals[3].proposal.financing.sources[1].amount_eur"


@pytest.mark.parametrize(
    ("doc", "found"),
    [
        ([{"title": "KLIC"}], "Liste mit 1 Einträgen"),
        (None, "nichts (null)"),
        ("KLIC.Ruhr", "Text ('KLIC.Ruhr')"),
    ],
)
def test_a_proposal_must_be_a_mapping(doc: object, found: str) -> None:
    (error,) = field_errors(doc, path_prefix="proposals[0].proposal")

    assert error.path == "proposals[0].proposal"
    assert error.message.startswith("Ein Vorschlag ist ein Objekt mit den Feldern title, summary, ")
    assert error.message.endswith(f"gefunden: {found}")


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.decimals(allow_nan=True, allow_infinity=True, places=3)
    | st.floats()
    | st.text(max_size=30)
    | st.dates().map(dt.date.isoformat)
    | st.dates(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)
FIELD_PATHS = [
    (),
    ("submitter",),
    ("submitter", "contact"),
    ("partners", 0),
    ("handlungsfelder", 0),
    ("effect_area",),
    ("financing",),
    ("financing", "sources", 1),
    ("period",),
]


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    where=st.sampled_from(FIELD_PATHS),
    key=st.sampled_from(
        [
            "title",
            "summary",
            "kind",
            "name",
            "email",
            "key",
            "rationale",
            "places",
            "scope",
            "total_cost_eur",
            "sources",
            "amount_eur",
            "secured",
            "start",
            "end",
            "themenforum",
            "ressort",
            "contact",
            "partners",
            "location",
            "role",
            "unbekannt",
        ]
    ),
    value=JSON_VALUES,
)
def test_every_message_is_german_whatever_the_value(where: tuple[Any, ...], key: str, value: object) -> None:
    doc = klic_document()
    target: Any = doc
    for part in where:
        target = target[part]
    target[key] = value

    try:
        proposal_from_document(doc)
    except ValidationError as exc:
        for error in exc.errors:
            assert not ENGLISH.search(error.message), error
            assert error.message, error


class _Colour(StrEnum):
    ROT = "rot"
    GRUEN = "gruen"


class _ImportEntry(BaseModel):
    """A stand-in for a model of the import file."""

    model_config = ConfigDict(extra="forbid")
    at: AwareDatetime
    colour: _Colour
    events: list[int] = []


@pytest.mark.parametrize(
    ("doc", "model", "expected"),
    [
        (
            {"at": "2020-02-03T10:00:00", "colour": "blau", "extra": 1},
            _ImportEntry,
            [
                (
                    "proposals[2].at",
                    "Zeitpunkt ohne Zeitzone – bitte mit Zeitzone angeben (z. B. +01:00), "
                    "gefunden: Text ('2020-02-03T10:00:00')",
                ),
                ("proposals[2].colour", "unbekannter Wert 'blau' – erlaubt: rot, gruen"),
                ("proposals[2].extra", "unbekanntes Feld 'extra' – erlaubt sind: at, colour, events"),
            ],
        ),
        (
            {"at": "gestern", "colour": "Rot", "events": [1, "zwei"]},
            None,
            [
                (
                    "proposals[2].at",
                    "erwartet einen Zeitpunkt mit Zeitzone (z. B. 2020-02-03T10:00:00+01:00), "
                    "gefunden: Text ('gestern')",
                ),
                ("proposals[2].colour", "unbekannter Wert 'Rot' – erlaubt: rot, gruen; meinten Sie 'rot'?"),
                ("proposals[2].events[1]", "erwartet eine ganze Zahl, gefunden: Text ('zwei')"),
            ],
        ),
    ],
    ids=["with model", "without model"],
)
def test_errors_of_other_models_are_translated_too(
    doc: dict[str, Any], model: type[BaseModel] | None, expected: list[tuple[str, str]]
) -> None:
    with pytest.raises(pydantic.ValidationError) as info:
        _ImportEntry.model_validate(doc)

    errors = pydantic_errors_to_field_errors(info.value, model=model, path_prefix="proposals[2].")

    assert [(e.path, e.message) for e in errors] == expected


# ------------------------------------------------------------------------------------------
# Documents: YAML and JSON errors
# ------------------------------------------------------------------------------------------


def load_error(data: bytes, **limits: int) -> FieldError:
    """The one error a document is refused with while loading."""
    with pytest.raises(ValidationError) as info:
        load_document(data, source="vorschlag.yaml", **limits)
    (error,) = info.value.errors
    assert info.value.source == "vorschlag.yaml"
    return error


def test_a_yaml_syntax_error_names_line_and_column() -> None:
    data = b"title: KLIC.Ruhr\nsummary: [Ger\xc3\xa4te, Labore\nthemenforum: 5\n"

    error = load_error(data)

    assert error.message == (
        "YAML-Syntaxfehler in Zeile 3, Spalte 12: Komma ',' oder schließende Klammer ']' erwartet."
    )


def test_a_json_syntax_error_names_line_and_column() -> None:
    error = load_error(b'{\n  "title": "KLIC.Ruhr",\n  "summary": "x",,\n}')

    assert error.message == "JSON-Syntaxfehler in Zeile 3, Spalte 18: " + (
        'Feldname in doppelten Anführungszeichen (") erwartet.'
    )


def test_a_value_with_a_colon_gets_a_hint() -> None:
    error = load_error(b"title: KLIC: Ruhr\n")

    assert error.message == (
        "YAML-Syntaxfehler in Zeile 1, Spalte 12: Doppelpunkt an unerwarteter Stelle – "
        "Werte mit ': ' bitte in Anführungszeichen setzen."
    )


def test_duplicate_keys_are_refused_in_yaml_and_json() -> None:
    yaml_error = load_error(b"title: KLIC.Ruhr\nsummary: x\ntitle: KLIC\n")
    nested = load_error(b"submitter:\n  name: a\n  name: b\n")
    json_error = load_error(b'{"title": "KLIC.Ruhr", "title": "KLIC"}')

    assert yaml_error.message == "Schlüssel 'title' ist doppelt (Zeile 3, Spalte 1)."
    assert (nested.path, nested.message) == ("submitter", "Schlüssel 'name' ist doppelt (Zeile 3, Spalte 3).")
    assert json_error.message == "Schlüssel 'title' ist doppelt."


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            b"5: fuenf\n",
            "Schlüssel müssen Text sein, gefunden: Zahl (5) (Zeile 1, Spalte 1) – bitte in "
            "Anführungszeichen setzen.",
        ),
        (
            b"yes: ja\n",
            "Schlüssel müssen Text sein, gefunden: Wahrheitswert (true) (Zeile 1, Spalte 1) – "
            "bitte in Anführungszeichen setzen.",
        ),
        (b"? [a, b]\n: c\n", "Schlüssel müssen Text sein, gefunden: Liste (Zeile 1, Spalte 3)."),
        (b"<<: {title: x}\n", "Merge-Schlüssel '<<' sind nicht erlaubt (Zeile 1, Spalte 1)."),
    ],
)
def test_keys_must_be_text(data: bytes, message: str) -> None:
    assert load_error(data).message == message


def test_yaml_values_keep_their_types() -> None:
    doc = load_document(b"d: 2020-05-01\nn: 5\nf: 1.50\nb: true\nz: ~\ns: 'x'\nbad_date: 2020-02-30\nt: =\n")

    assert doc == {
        "d": dt.date(2020, 5, 1),
        "n": 5,
        "f": Decimal("1.50"),
        "b": True,
        "z": None,
        "s": "x",
        "bad_date": "2020-02-30",
        "t": "=",
    }


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"a: &a [1, 2]\nb: *a\n", "YAML-Anker und -Aliase"),
        (b"a: !!python/object/apply:os.system [ls]\n", "Der YAML-Tag '!!python/object/apply:os.system'"),
        (b"a: " + b"[" * 1000, "Die Datei ist zu tief verschachtelt: mehr als 32 Ebenen"),
        (b"a: 1\na: 2\n", "Schlüssel 'a' ist doppelt (Zeile 2, Spalte 1)."),
        (b"a:\n\tb: 1\n", "YAML-Syntaxfehler in Zeile 2, Spalte 1: Tabulatorzeichen"),
        (b"title: [a, b\n", "YAML-Syntaxfehler in Zeile 2, Spalte 1: Komma ',' oder schließende Klammer ']'"),
    ],
)
def test_the_pure_python_parser_refuses_alike(
    monkeypatch: pytest.MonkeyPatch, data: bytes, message: str
) -> None:
    # Without libyaml PyYAML's own parser delivers the events; the checks must not depend on it.
    monkeypatch.setattr(documents, "_EVENT_LOADER", yaml.SafeLoader)

    assert load_error(data).message.startswith(message)


def test_an_import_file_must_be_a_mapping() -> None:
    assert load_mapping_document(b"users: []\nproposals: []\n") == {"users": [], "proposals": []}
    with pytest.raises(ValidationError) as info:
        load_mapping_document(b"- a\n", source="import.yaml")
    assert str(info.value) == "import.yaml: erwartet ein Objekt mit Feldern, gefunden: Liste mit 1 Einträgen"


# ------------------------------------------------------------------------------------------
# Hostile input: refused within a second, with bounded memory, never a traceback
# ------------------------------------------------------------------------------------------

ALIAS_BOMB = b"""\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""
TEN_MB = 10_000_000

HOSTILE: list[tuple[str, bytes, str]] = [
    ("binary", bytes(range(256)) * 64, "Die Datei ist keine Textdatei (UTF-8): sie enthält Binärdaten"),
    (
        "latin-1",
        "title: Bönen\n".encode("latin-1"),
        "Die Datei ist keine Textdatei (UTF-8): ungültiges Byte 0xF6",
    ),
    ("utf-16", KLIC_YAML.encode("utf-16"), "Die Datei ist keine Textdatei (UTF-8): sie ist als UTF-16"),
    ("control character", b"title: KLIC\x1b[31m\n", "Die Datei ist keine reine Textdatei (UTF-8): Zeile 1"),
    (
        "alias bomb",
        ALIAS_BOMB,
        "YAML-Anker und -Aliase (&name, *name) sind nicht erlaubt (Zeile 1, Spalte 4)",
    ),
    ("alias", b"title: &t KLIC.Ruhr\nsummary: *t\n", "YAML-Anker und -Aliase"),
    ("deep JSON", b"[" * 100_000 + b"]" * 100_000, "Die Datei ist zu tief verschachtelt: mehr als 32 Ebenen"),
    ("deep unclosed JSON", b'{"a":' * 100_000, "Die Datei ist zu tief verschachtelt: mehr als 32 Ebenen"),
    (
        "deep YAML flow",
        b"title: " + b"[" * 100_000,
        "Die Datei ist zu tief verschachtelt: mehr als 32 Ebenen",
    ),
    (
        "deep YAML block",
        b"".join(b"  " * i + b"k:\n" for i in range(100)),
        "Die Datei ist zu tief verschachtelt: mehr als 32 Ebenen",
    ),
    (
        "10 MB string",
        b'title: "' + b"x" * TEN_MB + b'"\n',
        "Die Datei ist zu groß: 10,0 MB, erlaubt sind höchstens 1,0 MB.",
    ),
    (
        "10 MB file",
        KLIC_YAML.encode() + b"# Kommentar\n" * (TEN_MB // 12),
        "Die Datei ist zu groß: 10,0 MB, erlaubt sind höchstens 1,0 MB.",
    ),
    ("many nodes YAML", b"- 0\n" * 250_000, "Die Datei enthält zu viele Elemente: mehr als 100.000."),
    (
        "many nodes JSON",
        b"[" + b"0," * 450_000 + b"0]",
        "Die Datei enthält zu viele Elemente: mehr als 100.000.",
    ),
    (
        "python tag",
        b"!!python/object/apply:os.system ['echo pwned']\n",
        "Der YAML-Tag '!!python/object/apply:os.system' ist nicht erlaubt (Zeile 1, Spalte 1).",
    ),
    ("python name tag", b"title: !!python/name:os.system\n", "Der YAML-Tag '!!python/name:os.system'"),
    ("set tag", b"partners: !!set {a}\n", "Der YAML-Tag '!!set' ist nicht erlaubt"),
    (
        "tab indentation",
        b"submitter:\n\tname: x\n",
        "YAML-Syntaxfehler in Zeile 2, Spalte 1: Tabulatorzeichen sind zur Einrückung nicht erlaubt",
    ),
    ("empty file", b"", "Die Datei ist leer."),
    ("only blanks", b"  \n\n", "Die Datei ist leer."),
    ("only comments", b"# nichts\n", "Die Datei ist leer"),
    ("two documents", b"title: a\n---\ntitle: b\n", "Die Datei enthält mehrere YAML-Dokumente"),
    ("huge integer", b"themenforum: " + b"9" * 5000 + b"\n", "Die Zahl '999"),
    (
        "huge JSON integer",
        b'{"themenforum": ' + b"9" * 5000 + b"}",
        "Die Datei enthält eine Zahl mit zu vielen Stellen.",
    ),
    ("JSON NaN", b'{"themenforum": NaN}', "NaN ist keine gültige JSON-Zahl."),
    ("top-level list", b"- title: KLIC.Ruhr\n", "Ein Vorschlag ist ein Objekt mit den Feldern title"),
    ("top-level null", b"null\n", "Ein Vorschlag ist ein Objekt mit den Feldern title"),
    ("top-level text", b"KLIC.Ruhr\n", "Ein Vorschlag ist ein Objekt mit den Feldern title"),
]


def refused_quickly(data: bytes, **kwargs: Any) -> ValidationError:
    started = time.perf_counter()
    with pytest.raises(ValidationError) as info:
        parse_proposal(data, source="vorschlag.yaml", **kwargs)
    # A correctness bound, not a benchmark: hostile input must be refused within a second.
    assert time.perf_counter() - started < 1.0
    return info.value


@pytest.mark.parametrize(("data", "message"), [c[1:] for c in HOSTILE], ids=[c[0] for c in HOSTILE])
def test_hostile_input_is_refused_within_a_second(data: bytes, message: str) -> None:
    refusal = refused_quickly(data)

    (error,) = refusal.errors
    assert error.message.startswith(message), error.message
    assert str(refusal).startswith("vorschlag.yaml: ")
    assert not ENGLISH.search(error.message)


@pytest.mark.parametrize(
    "data",
    [
        ALIAS_BOMB,
        b"[" * 100_000 + b"]" * 100_000,
        b"title: " + b"[" * 100_000,
        b"- 0\n" * 250_000,
        b'title: "' + b"x" * TEN_MB + b'"\n',
    ],
    ids=["alias bomb", "deep JSON", "deep YAML", "many nodes", "10 MB string"],
)
def test_hostile_input_is_refused_with_bounded_memory(data: bytes) -> None:
    tracemalloc.start()
    try:
        with pytest.raises(ValidationError):
            parse_proposal(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert peak < 50_000_000


def test_a_10_mb_string_within_a_larger_limit_is_refused_by_the_field_rule() -> None:
    title = "x" * TEN_MB + " – Kompetenzverbund Life-Sciences.Ruhr"
    data = KLIC_YAML.replace('"KLIC.Ruhr – Kompetenzverbund Life-Sciences.Ruhr"', f'"{title}"').encode()

    refusal = refused_quickly(data, max_bytes=20_000_000)

    (error,) = refusal.errors
    assert (error.path, error.message) == ("title", f"höchstens 200 Zeichen, gefunden {len(title)}")


def test_a_size_just_above_the_limit_is_shown_in_bytes() -> None:
    error = load_error(b"#" * 1_000_001)

    assert error.message == (
        "Die Datei ist zu groß: 1.000.001 Bytes, erlaubt sind höchstens 1.000.000 Bytes."
    )


@settings(max_examples=200, deadline=None, database=None)
@given(st.binary(max_size=2_000))
def test_random_bytes_are_refused_with_a_validation_error(data: bytes) -> None:
    with pytest.raises(ValidationError) as info:
        parse_proposal(data)
    assert all(error.message for error in info.value.errors)


@settings(max_examples=200, deadline=None, database=None)
@given(st.text(alphabet=st.sampled_from(list("{}[]:,-&*!|>'\"#\n\t ?a1.")), max_size=200))
def test_random_yaml_punctuation_is_refused_with_a_validation_error(text: str) -> None:
    with pytest.raises(ValidationError):
        parse_proposal(text.encode())


def test_proposal_model_is_unchanged_by_a_round_trip() -> None:
    proposal = parse_proposal(KLIC_YAML.encode())

    assert Proposal.model_validate(proposal.to_document()) == proposal
