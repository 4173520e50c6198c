"""The Ruhr reference data shipped in the package: completeness, membership, Ressort lookup."""

from __future__ import annotations

import pytest

from partnerprojekte.errors import NotFound
from partnerprojekte.proposal import HandlungsfeldKey
from partnerprojekte.reference import Reference, german_sort_key, load_reference


@pytest.fixture(scope="module")
def ref() -> Reference:
    return load_reference()


def test_counts_match_the_ruhr_region_and_the_konferenz(ref: Reference) -> None:
    assert len(ref.municipalities) == 53
    assert len(ref.kreise) == 4
    assert len(ref.themenforen) == 20
    assert len(ref.handlungsfelder) == 5
    assert len(ref.ressorts) == 17


def test_eleven_kreisfreie_staedte_and_42_kreisangehoerige(ref: Reference) -> None:
    kreisfrei = [m.name for m in ref.municipalities.values() if m.kreis is None]
    assert len(kreisfrei) == 11
    assert "Mülheim an der Ruhr" in kreisfrei
    members = [name for kreis in ref.kreise.values() for name in kreis.municipalities]
    assert len(members) == len(set(members)) == 42
    assert set(members) | set(kreisfrei) == set(ref.municipalities)


@pytest.mark.parametrize(
    ("kreis", "size"),
    [("Ennepe-Ruhr-Kreis", 9), ("Kreis Recklinghausen", 10), ("Kreis Unna", 10), ("Kreis Wesel", 13)],
)
def test_kreis_sizes(ref: Reference, kreis: str, size: int) -> None:
    assert len(ref.kreise[kreis].municipalities) == size


@pytest.mark.parametrize(
    ("name", "kreis", "regierungsbezirk"),
    [
        ("Bönen", "Kreis Unna", "Arnsberg"),
        ("Witten", "Ennepe-Ruhr-Kreis", "Arnsberg"),
        ("Datteln", "Kreis Recklinghausen", "Münster"),
        ("Recklinghausen", "Kreis Recklinghausen", "Münster"),
        ("Unna", "Kreis Unna", "Arnsberg"),
        ("Wesel", "Kreis Wesel", "Düsseldorf"),
        ("Hünxe", "Kreis Wesel", "Düsseldorf"),
        ("Fröndenberg/Ruhr", "Kreis Unna", "Arnsberg"),
        ("Voerde (Niederrhein)", "Kreis Wesel", "Düsseldorf"),
        ("Wetter (Ruhr)", "Ennepe-Ruhr-Kreis", "Arnsberg"),
        ("Haltern am See", "Kreis Recklinghausen", "Münster"),
        ("Essen", None, "Düsseldorf"),
        ("Hamm", None, "Arnsberg"),
        ("Bottrop", None, "Münster"),
    ],
)
def test_kreis_membership(ref: Reference, name: str, kreis: str | None, regierungsbezirk: str) -> None:
    municipality = ref.municipalities[name]
    assert municipality.kreis == kreis
    assert municipality.regierungsbezirk == regierungsbezirk
    if kreis is not None:
        assert name in ref.kreise[kreis].municipalities


def test_no_seed_suffixes_in_names(ref: Reference) -> None:
    assert not [name for name in ref.municipalities if "(Stadt)" in name]


def test_municipalities_are_in_german_alphabetical_order(ref: Reference) -> None:
    names = list(ref.municipalities)
    assert names == sorted(names, key=german_sort_key)
    assert names.index("Bönen") < names.index("Bottrop")


def test_handlungsfelder_keys_titles_and_order(ref: Reference) -> None:
    assert list(ref.handlungsfelder) == [key.value for key in HandlungsfeldKey]
    assert [hf.order for hf in ref.handlungsfelder.values()] == [1, 2, 3, 4, 5]
    assert ref.handlungsfelder["mobilitaet"].title == "Vernetzte Mobilität – kurze Wege"
    assert ref.handlungsfelder["wirtschaft"].short_label == "Wirtschaft und Arbeit"


def test_themenforen_are_numbered_and_name_known_ressorts(ref: Reference) -> None:
    assert list(ref.themenforen) == list(range(1, 21))
    for forum in ref.themenforen.values():
        assert forum.ressort in ref.ressorts
        assert set(forum.other_ressorts) <= set(ref.ressorts)
    assert ref.themenforen[17].ressort == "Stk/MBEI"
    assert ref.themenforen[13].title == "Neue Mobilität"


def test_seed_typo_mhkgb_is_mapped_to_mhkbg(ref: Reference) -> None:
    assert ref.themenforen[6].other_ressorts == ("MHKBG", "VM", "MKW", "Stk")


@pytest.mark.parametrize(
    ("given", "abbreviation"),
    [
        ("MWIDE", "MWIDE"),
        (" mwide ", "MWIDE"),
        ("stk/mbei", "Stk/MBEI"),
        ("STK/EHRENAMT", "Stk/Ehrenamt"),
        ("Vm", "VM"),
    ],
)
def test_ressort_lookup_ignores_case_and_blanks(ref: Reference, given: str, abbreviation: str) -> None:
    assert ref.ressort(given).abbreviation == abbreviation
    assert ref.find_ressort(given) == ref.ressort(given)


def test_ressort_has_official_name(ref: Reference) -> None:
    assert ref.ressort("VM").name == "Ministerium für Verkehr des Landes Nordrhein-Westfalen"


def test_unknown_ressort_names_the_valid_abbreviations(ref: Reference) -> None:
    with pytest.raises(NotFound) as raised:
        ref.ressort(" XYZ ")
    message = str(raised.value)
    assert "Unbekanntes Ressort „XYZ“" in message
    assert "MWIDE" in message
    assert "Stk/Ehrenamt" in message
    assert ref.find_ressort("XYZ") is None
    assert ref.find_ressort("MHKGB") is None


def test_loaded_once_and_read_only(ref: Reference) -> None:
    assert load_reference() is ref
    with pytest.raises(TypeError):
        ref.ressorts["NEU"] = ref.ressorts["VM"]  # type: ignore[index]
