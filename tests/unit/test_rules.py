"""The four criteria of spec §4 at their boundaries, and the German explanations a person reads."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest

from partnerprojekte.model import Criterion, CriterionResult, Verdict
from partnerprojekte.proposal import Proposal
from partnerprojekte.reference import load_reference
from partnerprojekte.rules import RULES, check
from partnerprojekte.rules._text import euro, percent
from partnerprojekte.rules.thresholds import CriteriaThresholds

MET, REVIEW, NOT_MET = Verdict.MET, Verdict.NEEDS_REVIEW, Verdict.NOT_MET

VALUE_50 = "x" * 50

BASE: dict[str, Any] = {
    "title": "KLIC.Ruhr – Kompetenzverbund Life-Sciences.Ruhr",
    "summary": "Geräte-Sharing-Plattform für Start-ups der Lebenswissenschaften.",
    "submitter": {
        "name": "Kompetenzzentrum Bio-Security GmbH",
        "kind": "unternehmen",
        "location": "Bönen",
        "contact": {"name": "Erika Muster", "email": "kontakt@example.org"},
    },
    "partners": [{"name": "ZBZ Witten", "kind": "unternehmen", "location": "Witten"}],
    "handlungsfelder": [{"key": "wirtschaft", "rationale": "Stärkt Gründungen in der Biotechnologie."}],
    "effect_area": {"places": ["Bönen", "Witten", "Dortmund"], "scope": "regional"},
    "cooperation_value": "Hochschulen und Unternehmen teilen teure Spezialgeräte und Labore miteinander.",
    "financing": {
        "total_cost_eur": 1200000,
        "sources": [
            {"kind": "foerdermittel", "name": "Regio.NRW", "amount_eur": 900000, "secured": True},
            {"kind": "eigenmittel", "name": "Partner", "amount_eur": 300000, "secured": True},
        ],
    },
}


def proposal(**changes: Any) -> Proposal:
    """The base proposal with some top-level keys replaced (None removes a key)."""
    doc = copy.deepcopy(BASE)
    for key, value in changes.items():
        if value is None:
            doc.pop(key, None)
        else:
            doc[key] = value
    return Proposal.model_validate(doc)


def evaluate(
    criterion: Criterion, p: Proposal, thresholds: CriteriaThresholds | None = None
) -> CriterionResult:
    result = RULES[criterion](p, thresholds or CriteriaThresholds(), load_reference())
    assert result.criterion is criterion
    return result


def assert_says(result: CriterionResult, *phrases: str) -> None:
    for phrase in phrases:
        assert phrase in result.explanation, f"{phrase!r} fehlt in: {result.explanation}"


# --- handlungsfeld_fit ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rationale", "verdict", "phrase"),
    [
        ("a" * 19, REVIEW, "19 Zeichen"),
        ("a" * 20, MET, "20 Zeichen"),
        ("x " * 19, REVIEW, "19 Zeichen"),
        ("x " * 20, MET, "20 Zeichen"),
        ("  " + "a\t\n" * 19 + "  ", REVIEW, "19 Zeichen"),
        ("", REVIEW, "ohne Begründung"),
    ],
)
def test_handlungsfeld_rationale_boundary(rationale: str, verdict: Verdict, phrase: str) -> None:
    result = evaluate(
        Criterion.HANDLUNGSFELD_FIT,
        proposal(handlungsfelder=[{"key": "energie_umwelt", "rationale": rationale}]),
    )
    assert result.result is verdict
    assert_says(result, "„Sichere Energie – gesunde Umwelt“", phrase)


def test_handlungsfeld_needs_review_says_what_is_missing() -> None:
    result = evaluate(
        Criterion.HANDLUNGSFELD_FIT, proposal(handlungsfelder=[{"key": "vielfalt", "rationale": "kurz"}])
    )
    assert_says(result, "keine Begründung erreicht 20 Zeichen ohne Leerzeichen", "4 Zeichen")


def test_handlungsfeld_one_long_rationale_is_enough_and_all_are_named() -> None:
    result = evaluate(
        Criterion.HANDLUNGSFELD_FIT,
        proposal(
            handlungsfelder=[
                {"key": "mobilitaet", "rationale": "kurz"},
                {"key": "bildung_forschung", "rationale": "Ausbildung von Fachkräften für die Region."},
            ]
        ),
    )
    assert result.result is MET
    assert_says(
        result,
        "2 Handlungsfeldern",
        "„Vernetzte Mobilität – kurze Wege“ (Begründung mit 4 Zeichen)",
        "„Beste Bildung – exzellente Forschung“ (Begründung mit 37 Zeichen)",
    )


def test_handlungsfeld_none_is_not_met() -> None:
    result = evaluate(Criterion.HANDLUNGSFELD_FIT, proposal(handlungsfelder=[]))
    assert result.result is NOT_MET
    assert_says(result, "Kein Handlungsfeld angegeben")


def test_handlungsfeld_threshold_is_configurable() -> None:
    p = proposal(handlungsfelder=[{"key": "vielfalt", "rationale": "kurz"}])
    assert evaluate(Criterion.HANDLUNGSFELD_FIT, p, CriteriaThresholds(rationale_min_chars=4)).result is MET


# --- regional_effect -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("places", "scope", "verdict", "phrases"),
    [
        pytest.param(
            ["Kreis Unna"],
            "regional",
            MET,
            ["10 Kommunen des Ruhrgebiets", "Bönen", "Werne", "Kreis Unna zählt mit allen 10 Kommunen"],
            id="kreis-alone",
        ),
        pytest.param(
            ["Essen", "Solingen"],
            "regional",
            REVIEW,
            ["Nur 1 Kommune des Ruhrgebiets: Essen", "außerhalb des Ruhrgebiets: Solingen", "zu prüfen"],
            id="town-plus-outside",
        ),
        pytest.param(
            ["Essen"],
            "regional",
            NOT_MET,
            ["Nur 1 Kommune des Ruhrgebiets: Essen", "wirkt nur lokal"],
            id="one-town",
        ),
        pytest.param(
            ["Essen", " essen ", "Stadt Essen"],
            "lokal",
            NOT_MET,
            ["Nur 1 Kommune des Ruhrgebiets: Essen", "wirkt nur lokal"],
            id="same-town-thrice",
        ),
        pytest.param(
            ["Muelheim", "stadt oberhausen"],
            "regional",
            MET,
            ["2 Kommunen des Ruhrgebiets: Mülheim an der Ruhr, Oberhausen"],
            id="spellings",
        ),
        pytest.param(
            ["Bönen", "Kreis Unna"],
            "regional",
            MET,
            ["10 Kommunen des Ruhrgebiets", "Kreis Unna zählt mit allen 10 Kommunen"],
            id="town-within-its-kreis",
        ),
        pytest.param(
            ["Witten", "Kreis Unna"],
            "regional",
            MET,
            ["11 Kommunen des Ruhrgebiets", "Witten"],
            id="town-plus-kreis",
        ),
        pytest.param(
            ["Kreis Unna", "Kreis Wesel"],
            "regional",
            MET,
            [
                "23 Kommunen",
                "Kreis Unna (10 Kommunen) und Kreis Wesel (13 Kommunen) zählen mit allen ihren Kommunen",
            ],
            id="two-kreise",
        ),
        pytest.param(
            [],
            "ruhrgebiet",
            MET,
            ["Wirkungsbereich „ruhrgebiet“ (das ganze Ruhrgebiet)"],
            id="scope-ruhrgebiet",
        ),
        pytest.param(
            ["Metropole Ruhr"],
            "lokal",
            MET,
            ["„Metropole Ruhr“ steht für das ganze Ruhrgebiet (alle 53 Kommunen)"],
            id="region-by-name",
        ),
        pytest.param(
            ["Ruhrgebiet", "Solingen", "ruhrgebiet"],
            "regional",
            MET,
            ["„Ruhrgebiet“ steht für", "Genannt: außerhalb des Ruhrgebiets: Solingen."],
            id="region-by-name-once-plus-outside",
        ),
        pytest.param(
            ["Ruhrgebiet"],
            "nrw",
            MET,
            ["Wirkungsbereich „nrw“", "„Ruhrgebiet“ (die ganze Region)"],
            id="scope-nrw-and-region",
        ),
        pytest.param(
            ["Hamm (Westf.)", "Essen"],
            "lokal",
            MET,
            ["2 Kommunen des Ruhrgebiets: Essen, Hamm"],
            id="hamm-westf",
        ),
        pytest.param([], "nrw", MET, ["Wirkungsbereich „nrw“ (ganz Nordrhein-Westfalen)"], id="scope-nrw"),
        pytest.param(
            ["Solingen"], "nrw", MET, ["Genannt: außerhalb des Ruhrgebiets: Solingen"], id="scope-nrw-outside"
        ),
        pytest.param(
            ["Essen"],
            "ruhrgebiet",
            MET,
            ["Genannt: 1 Kommune des Ruhrgebiets: Essen"],
            id="scope-ruhrgebiet-one-town",
        ),
        pytest.param([], "regional", NOT_MET, ["Kein Ort genannt", "„regional“"], id="nothing"),
        pytest.param(
            ["Solingen", "Bocholt", "solingen"],
            "regional",
            NOT_MET,
            ["Kein Ort im Ruhrgebiet genannt", "außerhalb des Ruhrgebiets: Solingen, Bocholt."],
            id="only-outside",
        ),
        pytest.param(
            ["Witten", "Bottrop", "Bönen", "Essen"],
            "regional",
            MET,
            ["4 Kommunen des Ruhrgebiets: Bönen, Bottrop, Essen, Witten (mindestens 2 nötig)"],
            id="german-order",
        ),
    ],
)
def test_regional_effect(places: list[str], scope: str, verdict: Verdict, phrases: list[str]) -> None:
    result = evaluate(Criterion.REGIONAL_EFFECT, proposal(effect_area={"places": places, "scope": scope}))
    assert result.result is verdict, result.explanation
    assert_says(result, *phrases)


def test_regional_effect_facts_name_the_region_as_written() -> None:
    result = evaluate(
        Criterion.REGIONAL_EFFECT,
        proposal(effect_area={"places": ["  Metropole   Ruhr ", "Essen"], "scope": "regional"}),
    )
    assert result.facts["region"] == ["Metropole Ruhr"]
    assert result.facts["municipalities"] == ["Essen"]


def test_regional_effect_facts_list_the_counted_towns() -> None:
    result = evaluate(
        Criterion.REGIONAL_EFFECT,
        proposal(effect_area={"places": ["Witten", "Kreis Unna", "Solingen"], "scope": "regional"}),
    )
    assert result.facts["kreise"] == ["Kreis Unna"]
    assert result.facts["outside"] == ["Solingen"]
    municipalities = result.facts["municipalities"]
    assert isinstance(municipalities, list)
    assert len(municipalities) == 11


@pytest.mark.parametrize(
    ("places", "verdict"),
    [
        (["Bochum", "Herne"], NOT_MET),
        (["Bochum", "Herne", "Solingen"], REVIEW),
        (["Bochum", "Herne", "Hagen"], MET),
    ],
)
def test_regional_threshold_is_configurable(places: list[str], verdict: Verdict) -> None:
    result = evaluate(
        Criterion.REGIONAL_EFFECT,
        proposal(effect_area={"places": places, "scope": "regional"}),
        CriteriaThresholds(regional_min_municipalities=3),
    )
    assert result.result is verdict
    assert_says(result, "mindestens 3 nötig")


# --- cooperation ---------------------------------------------------------------------------------


def org(name: str, kind: str = "unternehmen") -> dict[str, str]:
    return {"name": name, "kind": kind}


@pytest.mark.parametrize(
    ("partners", "value", "verdict", "phrases"),
    [
        pytest.param([], VALUE_50, NOT_MET, ["Nur 1 Organisation aus 1 Bereich (Unternehmen)"], id="alone"),
        pytest.param(
            [org("kompetenzzentrum  bio-security gmbh ")],
            VALUE_50,
            NOT_MET,
            ["Nur 1 Organisation", "„Kompetenzzentrum Bio-Security GmbH“ mehrfach genannt, zählt nur einmal"],
            id="submitter-again-by-case-and-blanks",
        ),
        pytest.param(
            [org("ZBZ Witten"), org("zbz   WITTEN", "hochschule")],
            VALUE_50,
            MET,
            ["2 Organisationen aus 1 Bereich (Unternehmen)", "„ZBZ Witten“ mehrfach genannt"],
            id="partner-twice",
        ),
        pytest.param(
            [org("ZBZ Witten")],
            "x" * 49,
            REVIEW,
            ["2 Organisationen", "mit 49 Zeichen zu knapp", "mindestens 50 Zeichen ohne Leerzeichen"],
            id="value-49",
        ),
        pytest.param([org("ZBZ Witten")], "x" * 50, MET, ["(50 Zeichen ohne Leerzeichen)"], id="value-50"),
        pytest.param([org("ZBZ Witten")], "x " * 49, REVIEW, ["49 Zeichen"], id="value-49-with-blanks"),
        pytest.param([org("ZBZ Witten")], "", REVIEW, ["mit 0 Zeichen"], id="no-value"),
        pytest.param(
            [org("ZBZ Witten"), org("Ruhr-Universität Bochum", "hochschule")],
            VALUE_50,
            MET,
            [
                "3 Organisationen aus 2 Bereichen (Unternehmen, Hochschule): "
                "Kompetenzzentrum Bio-Security GmbH, ZBZ Witten, Ruhr-Universität Bochum"
            ],
            id="three-of-two-kinds",
        ),
    ],
)
def test_cooperation(
    partners: list[dict[str, str]], value: str, verdict: Verdict, phrases: list[str]
) -> None:
    result = evaluate(Criterion.COOPERATION, proposal(partners=partners, cooperation_value=value))
    assert result.result is verdict, result.explanation
    assert_says(result, *phrases)


def test_cooperation_thresholds_are_configurable() -> None:
    p = proposal(partners=[org("ZBZ Witten")], cooperation_value="kurz")
    strict = CriteriaThresholds(cooperation_min_organisations=3)
    lenient = CriteriaThresholds(cooperation_value_min_chars=4)
    assert evaluate(Criterion.COOPERATION, p, strict).result is NOT_MET
    assert evaluate(Criterion.COOPERATION, p, lenient).result is MET


# --- financing -----------------------------------------------------------------------------------


def source(amount: str | int, secured: bool, name: str = "Quelle") -> dict[str, Any]:
    return {"kind": "foerdermittel", "name": name, "amount_eur": amount, "secured": secured}


@pytest.mark.parametrize(
    ("total", "sources", "verdict", "phrases"),
    [
        pytest.param(
            1200000,
            [source(900000, True)],
            NOT_MET,
            [
                "Gesamtkosten 1.200.000 €",
                "1 Finanzierungsquelle über 900.000 €",
                "Finanzierungslücke von 300.000 €",
            ],
            id="gap",
        ),
        pytest.param(
            "1000.50",
            [source(1000, True)],
            NOT_MET,
            ["Finanzierungslücke von 0,50 €", "1.000,50 €"],
            id="gap-cents",
        ),
        pytest.param(
            1200000,
            [source(900000, True, "Regio.NRW"), source(300000, True, "Partner")],
            MET,
            ["vollständig gesichert", "2 Finanzierungsquellen über zusammen 1.200.000 €"],
            id="exact-equality-secured",
        ),
        pytest.param(
            1200000,
            [source(900000, True, "Regio.NRW"), source(300000, False, "Partner")],
            REVIEW,
            ["gesichert sind 75 % (900.000 € von 1.200.000 €)", "noch nicht gesichert: Partner (300.000 €)"],
            id="secured-share",
        ),
        pytest.param(
            1200000,
            [source(1500000, True)],
            MET,
            ["vollständig gesichert: 1.500.000 € aus gesicherten Quellen"],
            id="more-than-enough",
        ),
        pytest.param(
            3, [source(2, True), source(1, False)], REVIEW, ["gesichert sind 66,7 %"], id="one-decimal"
        ),
        pytest.param(
            1000000,
            [source("999999.99", True), source("0.01", False)],
            REVIEW,
            ["gesichert sind 99,9 %", "999.999,99 €"],
            id="almost-all-is-not-100",
        ),
        pytest.param(
            100, [source(100, False)], REVIEW, ["gesichert sind 0 % (0 € von 100 €)"], id="nothing-secured"
        ),
        pytest.param(
            1200000,
            [],
            NOT_MET,
            ["Gesamtkosten 1.200.000 €, aber keine Finanzierungsquelle"],
            id="no-sources",
        ),
    ],
)
def test_financing(
    total: int | str, sources: list[dict[str, Any]], verdict: Verdict, phrases: list[str]
) -> None:
    result = evaluate(Criterion.FINANCING, proposal(financing={"total_cost_eur": total, "sources": sources}))
    assert result.result is verdict, result.explanation
    assert_says(result, *phrases)


def test_financing_without_block_is_not_met() -> None:
    result = evaluate(Criterion.FINANCING, proposal(financing=None))
    assert result.result is NOT_MET
    assert_says(result, "Keine Angaben zur Finanzierung")


def test_financing_facts_are_decimal_sums() -> None:
    result = evaluate(Criterion.FINANCING, proposal())
    assert result.facts["total"] == result.facts["all"] == result.facts["secured"] == Decimal(1200000)


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        ("0", "0 €"),
        ("999.99", "999,99 €"),
        ("1000", "1.000 €"),
        ("1200000", "1.200.000 €"),
        ("1200000.00", "1.200.000 €"),
        ("1234567.5", "1.234.567,50 €"),
    ],
)
def test_euro_in_german_format(amount: str, text: str) -> None:
    assert euro(Decimal(amount)) == text


@pytest.mark.parametrize(
    ("part", "whole", "text"),
    [("900000", "1200000", "75 %"), ("1", "8", "12,5 %"), ("1", "100000", "0,1 %"), ("5", "5", "100 %")],
)
def test_percent_in_german_format(part: str, whole: str, text: str) -> None:
    assert percent(Decimal(part), Decimal(whole)) == text


# --- check ---------------------------------------------------------------------------------------


def test_check_evaluates_all_four_in_order_with_defaults() -> None:
    p = proposal()
    result = check(p)
    assert list(result.criteria) == list(Criterion)
    assert result == check(p, CriteriaThresholds(), load_reference())
    assert result.overall is MET
    assert result.to_json()["overall"] == "met"


def test_check_overall_is_the_worst() -> None:
    p = proposal(
        financing=None,
        partners=[org("ZBZ Witten")],
        cooperation_value="kurz",
    )
    result = check(p)
    assert result.criteria[Criterion.COOPERATION].result is REVIEW
    assert result.criteria[Criterion.FINANCING].result is NOT_MET
    assert result.overall is NOT_MET


def test_check_uses_given_thresholds() -> None:
    p = proposal(effect_area={"places": ["Bochum", "Herne"], "scope": "regional"})
    assert check(p).overall is MET
    result = check(p, CriteriaThresholds(regional_min_municipalities=3))
    assert result.criteria[Criterion.REGIONAL_EFFECT].result is NOT_MET
