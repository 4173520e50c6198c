"""Resolving places as partners write them to Kommunen and Kreise of the Ruhr region."""

from __future__ import annotations

import pytest

from partnerprojekte.reference import Reference, load_reference
from partnerprojekte.reference.places import normalise_place, resolve_place


@pytest.fixture(scope="module")
def ref() -> Reference:
    return load_reference()


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Essen", "Essen"),
        ("  essen  ", "Essen"),
        ("ESSEN", "Essen"),
        ("Stadt Oberhausen", "Oberhausen"),
        ("stadt oberhausen", "Oberhausen"),
        ("Muelheim", "Mülheim an der Ruhr"),
        ("Mülheim", "Mülheim an der Ruhr"),
        ("Mu\u0308lheim", "Mülheim an der Ruhr"),
        ("Mülheim an der Ruhr", "Mülheim an der Ruhr"),
        ("muelheim  an der   ruhr", "Mülheim an der Ruhr"),
        ("Mülheim a. d. Ruhr", "Mülheim an der Ruhr"),
        ("Mülheim a.d. Ruhr", "Mülheim an der Ruhr"),
        ("Mülheim/Ruhr", "Mülheim an der Ruhr"),
        ("Boenen", "Bönen"),
        ("Huenxe", "Hünxe"),
        ("Froendenberg", "Fröndenberg/Ruhr"),
        ("Fröndenberg/Ruhr", "Fröndenberg/Ruhr"),
        ("Sprockhoevel", "Sprockhövel"),
        ("Haltern", "Haltern am See"),
        ("Haltern am See", "Haltern am See"),
        ("Castrop Rauxel", "Castrop-Rauxel"),
        ("castrop-rauxel", "Castrop-Rauxel"),
        ("Kamp  Lintfort", "Kamp-Lintfort"),
        ("Voerde", "Voerde (Niederrhein)"),
        ("Wetter", "Wetter (Ruhr)"),
        ("Wetter (Ruhr)", "Wetter (Ruhr)"),
        ("Recklinghausen", "Recklinghausen"),
        ("Stadt Recklinghausen", "Recklinghausen"),
        ("Recklinghausen (Stadt)", "Recklinghausen"),
        ("Unna", "Unna"),
        ("Wesel", "Wesel"),
        ("Hamm (Westf.)", "Hamm"),
        ("Hamm (Westfalen)", "Hamm"),
        ("hamm/westf.", "Hamm"),
    ],
)
def test_municipality_spellings(ref: Reference, text: str, name: str) -> None:
    match = resolve_place(text, ref)
    assert (match.kind, match.name, match.municipalities) == ("municipality", name, (name,))
    assert match.text == text
    assert match.in_region


@pytest.mark.parametrize(
    ("text", "name", "size"),
    [
        ("Kreis Recklinghausen", "Kreis Recklinghausen", 10),
        ("kreis  recklinghausen", "Kreis Recklinghausen", 10),
        ("Kreis RE", "Kreis Recklinghausen", 10),
        ("Kreis Unna", "Kreis Unna", 10),
        ("Kreis Wesel", "Kreis Wesel", 13),
        ("Ennepe-Ruhr-Kreis", "Ennepe-Ruhr-Kreis", 9),
        ("EN-Kreis", "Ennepe-Ruhr-Kreis", 9),
        ("Ennepe-Ruhr", "Ennepe-Ruhr-Kreis", 9),
        ("ennepe ruhr kreis", "Ennepe-Ruhr-Kreis", 9),
    ],
)
def test_kreis_spellings_count_all_their_municipalities(
    ref: Reference, text: str, name: str, size: int
) -> None:
    match = resolve_place(text, ref)
    assert (match.kind, match.name, len(match.municipalities)) == ("kreis", name, size)
    assert match.municipalities == ref.kreise[name].municipalities


@pytest.mark.parametrize(
    "text",
    ["Ruhrgebiet", "ruhrgebiet ", "Metropole Ruhr", "Metropolregion Ruhr", "RVR-Gebiet", "Ruhrrevier"],
)
def test_the_region_by_its_own_name_counts_as_every_municipality(ref: Reference, text: str) -> None:
    match = resolve_place(text, ref)
    assert (match.kind, match.name) == ("region", "Ruhrgebiet")
    assert match.municipalities == tuple(ref.municipalities) and len(match.municipalities) == 53
    assert match.in_region


def test_the_river_alone_is_no_place_of_the_region(ref: Reference) -> None:
    assert resolve_place("Ruhr", ref).kind == "outside"


def test_kreis_unna_contains_boenen() -> None:
    assert "Bönen" in resolve_place("Kreis Unna").municipalities


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Solingen", "Solingen"),
        ("  Bocholt ", "Bocholt"),
        ("Kreis Soest", "Kreis Soest"),
        ("ganz NRW", "ganz NRW"),
        ("Stadt", "Stadt"),
        ("Mülheim an der Mosel", "Mülheim an der Mosel"),
    ],
)
def test_places_outside_the_region_are_kept_as_written(ref: Reference, text: str, name: str) -> None:
    match = resolve_place(text, ref)
    assert (match.kind, match.name, match.municipalities) == ("outside", name, ())
    assert not match.in_region


def test_every_canonical_name_resolves_to_itself(ref: Reference) -> None:
    for name in ref.municipalities:
        assert resolve_place(name.upper(), ref).name == name
    for name in ref.kreise:
        assert resolve_place(f" {name} ", ref).name == name


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("  Stadt  Mülheim a. d. Ruhr ", "muelheim a d ruhr"),
        ("Castrop-Rauxel", "castrop rauxel"),
        ("GROSS Straße", "gross strasse"),
        ("Fröndenberg/Ruhr", "froendenberg ruhr"),
    ],
)
def test_normalised_key(text: str, key: str) -> None:
    assert normalise_place(text) == key
