"""Criterion ``cooperation``: added value through several organisations working together."""

from __future__ import annotations

from partnerprojekte.model import Criterion, CriterionResult, Verdict
from partnerprojekte.proposal import OrganisationKind, Proposal
from partnerprojekte.reference import Reference
from partnerprojekte.rules._text import non_blank_chars, plural, quoted
from partnerprojekte.rules.thresholds import CriteriaThresholds


def evaluate(proposal: Proposal, thresholds: CriteriaThresholds, ref: Reference) -> CriterionResult:
    """Met with enough distinct organisations and a described added value; names count and kinds."""
    del ref  # same signature as the other criteria; this one needs no reference data
    organisations: dict[str, tuple[str, OrganisationKind]] = {}
    repeated: dict[str, str] = {}
    for name, kind in [
        (proposal.submitter.name, proposal.submitter.kind),
        *((partner.name, partner.kind) for partner in proposal.partners),
    ]:
        # "ZBZ Witten" and "zbz  witten" are the same organisation written twice.
        key = " ".join(name.casefold().split())
        if key in organisations:
            repeated.setdefault(key, organisations[key][0])
        else:
            organisations[key] = (name, kind)
    kinds = list(dict.fromkeys(kind for _, kind in organisations.values()))
    count = len(organisations)
    value_chars = non_blank_chars(proposal.cooperation_value)
    minimum = thresholds.cooperation_min_organisations
    value_minimum = thresholds.cooperation_value_min_chars
    facts: dict[str, object] = {
        "organisations": [name for name, _ in organisations.values()],
        "kinds": [kind.value for kind in kinds],
        "repeated": list(repeated.values()),
        "cooperation_value_chars": value_chars,
        "cooperation_min_organisations": minimum,
        "cooperation_value_min_chars": value_minimum,
    }
    who = (
        f"{plural(count, 'Organisation', 'Organisationen')} aus {plural(len(kinds), 'Bereich', 'Bereichen')} "
        f"({', '.join(kind.label for kind in kinds)}): "
        + ", ".join(name for name, _ in organisations.values())
    )
    if repeated:
        names = ", ".join(quoted(name) for name in repeated.values())
        counts_once = "zählt nur einmal" if len(repeated) == 1 else "zählen jeweils nur einmal"
        who += f" ({names} mehrfach genannt, {counts_once})"
    if count < minimum:
        return CriterionResult(
            Criterion.COOPERATION,
            Verdict.NOT_MET,
            f"Nur {who} – für eine Zusammenarbeit sind mindestens {minimum} Organisationen nötig.",
            facts,
        )
    if value_chars < value_minimum:
        return CriterionResult(
            Criterion.COOPERATION,
            Verdict.NEEDS_REVIEW,
            f"{who}; der Mehrwert der Zusammenarbeit ist mit {value_chars} Zeichen zu knapp beschrieben "
            f"(mindestens {value_minimum} Zeichen ohne Leerzeichen) – zu prüfen.",
            facts,
        )
    return CriterionResult(
        Criterion.COOPERATION,
        Verdict.MET,
        f"{who}; der Mehrwert der Zusammenarbeit ist beschrieben ({value_chars} Zeichen ohne Leerzeichen).",
        facts,
    )
