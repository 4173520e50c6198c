"""Criterion ``regional_effect``: the proposal moves the region forward and does not act only locally."""

from __future__ import annotations

from partnerprojekte.model import Criterion, CriterionResult, Verdict
from partnerprojekte.proposal import Proposal, Scope
from partnerprojekte.reference import Reference, german_sort_key
from partnerprojekte.reference.places import resolve_place
from partnerprojekte.rules._text import and_list, plural, quoted
from partnerprojekte.rules.thresholds import CriteriaThresholds

# These scopes reach beyond single towns by definition, whatever places are listed.
_WIDE_SCOPES = {Scope.RUHRGEBIET: "das ganze Ruhrgebiet", Scope.NRW: "ganz Nordrhein-Westfalen"}


def evaluate(proposal: Proposal, thresholds: CriteriaThresholds, ref: Reference) -> CriterionResult:
    """Met for a wide scope, the region named as a whole, or enough distinct Ruhr Kommunen; a Kreis counts
    as all its Kommunen."""
    minimum = thresholds.regional_min_municipalities
    found: set[str] = set()
    kreise: dict[str, int] = {}
    outside: dict[str, str] = {}
    region: dict[str, str] = {}  # "Metropole Ruhr", "Ruhrgebiet" …: the whole region, as written
    for place in proposal.effect_area.places:
        match = resolve_place(place, ref)
        if match.kind == "outside":
            # "Solingen" and "solingen " are one place outside; name it as first written.
            outside.setdefault(" ".join(match.name.casefold().split()), match.name)
            continue
        if match.kind == "region":
            region.setdefault(" ".join(place.casefold().split()), " ".join(place.split()))
            continue
        found.update(match.municipalities)
        if match.kind == "kreis":
            kreise[match.name] = len(match.municipalities)
    names = sorted(found, key=german_sort_key)
    scope = proposal.effect_area.scope
    facts: dict[str, object] = {
        "scope": scope.value,
        "municipalities": names,
        "kreise": list(kreise),
        "outside": list(outside.values()),
        "region": list(region.values()),
        "regional_min_municipalities": minimum,
    }
    extra = [_kreise(kreise)] if kreise else []
    extra += [f"außerhalb des Ruhrgebiets: {', '.join(outside.values())}"] if outside else []

    if scope in _WIDE_SCOPES or region:
        named = [_towns(names), *extra] if names else extra
        if scope in _WIDE_SCOPES:
            wide = f"Wirkungsbereich {quoted(scope.value)} ({_WIDE_SCOPES[scope]})"
            named = [*(f"{quoted(r)} (die ganze Region)" for r in region.values()), *named]
        else:
            verb = "steht" if len(region) == 1 else "stehen"
            spelled = and_list(quoted(r) for r in region.values())
            wide = f"{spelled} {verb} für das ganze Ruhrgebiet (alle {len(ref.municipalities)} Kommunen)"
        wide += ": wirkt über einzelne Kommunen hinaus"
        text = f"{wide}. Genannt: {_sentence(*named)}" if named else f"{wide}."
        return CriterionResult(Criterion.REGIONAL_EFFECT, Verdict.MET, text, facts)
    towns = f"{_towns(names)} (mindestens {minimum} nötig)"
    if len(names) >= minimum:
        text = _sentence(f"Wirkt in {towns}", *extra)
        return CriterionResult(Criterion.REGIONAL_EFFECT, Verdict.MET, text, facts)
    if names and outside:
        text = _sentence(
            f"Nur {towns}", *extra, end=" – ob der Vorschlag die Region voranbringt, ist zu prüfen."
        )
        return CriterionResult(Criterion.REGIONAL_EFFECT, Verdict.NEEDS_REVIEW, text, facts)
    if names:
        text = _sentence(f"Nur {towns}", *extra, end=", kein weiterer Ort – wirkt nur lokal.")
        return CriterionResult(Criterion.REGIONAL_EFFECT, Verdict.NOT_MET, text, facts)
    if outside:
        text = _sentence("Kein Ort im Ruhrgebiet genannt", *extra)
    else:
        text = (
            f"Kein Ort genannt und Wirkungsbereich {quoted(scope.value)} – "
            "keine Wirkung im Ruhrgebiet erkennbar."
        )
    return CriterionResult(Criterion.REGIONAL_EFFECT, Verdict.NOT_MET, text, facts)


def _sentence(*parts: str, end: str = ".") -> str:
    return "; ".join(part for part in parts if part) + end


def _towns(names: list[str]) -> str:
    return f"{plural(len(names), 'Kommune', 'Kommunen')} des Ruhrgebiets: {', '.join(names)}"


def _kreise(kreise: dict[str, int]) -> str:
    if len(kreise) == 1:
        [(name, count)] = kreise.items()
        return f"{name} zählt mit allen {count} Kommunen"
    named = and_list(f"{name} ({count} Kommunen)" for name, count in kreise.items())
    return f"{named} zählen mit allen ihren Kommunen"
