"""Criterion ``handlungsfeld_fit``: the proposal contributes to at least one Handlungsfeld, with reasons."""

from __future__ import annotations

from partnerprojekte.model import Criterion, CriterionResult, Verdict
from partnerprojekte.proposal import Proposal
from partnerprojekte.reference import Reference
from partnerprojekte.rules._text import non_blank_chars, plural, quoted
from partnerprojekte.rules.thresholds import CriteriaThresholds


def evaluate(proposal: Proposal, thresholds: CriteriaThresholds, ref: Reference) -> CriterionResult:
    """Met if one rationale has enough non-blank characters; needs review if all are shorter."""
    minimum = thresholds.rationale_min_chars
    if not proposal.handlungsfelder:
        return CriterionResult(
            Criterion.HANDLUNGSFELD_FIT,
            Verdict.NOT_MET,
            "Kein Handlungsfeld angegeben – der Vorschlag muss zu mindestens einem der fünf "
            "Handlungsfelder der Ruhr-Konferenz beitragen.",
            {"handlungsfelder": {}, "rationale_min_chars": minimum},
        )
    counts = {entry.key.value: non_blank_chars(entry.rationale) for entry in proposal.handlungsfelder}
    named = ", ".join(
        f"{quoted(ref.handlungsfelder[key].title)} ({_rationale(count)})" for key, count in counts.items()
    )
    fields = plural(len(counts), "Handlungsfeld", "Handlungsfeldern")
    rule = f"{minimum} Zeichen ohne Leerzeichen"
    facts: dict[str, object] = {"handlungsfelder": counts, "rationale_min_chars": minimum}
    if max(counts.values()) >= minimum:
        return CriterionResult(
            Criterion.HANDLUNGSFELD_FIT,
            Verdict.MET,
            f"Beitrag zu {fields}: {named}; mindestens eine Begründung erreicht {rule}.",
            facts,
        )
    return CriterionResult(
        Criterion.HANDLUNGSFELD_FIT,
        Verdict.NEEDS_REVIEW,
        f"Beitrag zu {fields}: {named}; keine Begründung erreicht {rule} – der Beitrag ist zu prüfen.",
        facts,
    )


def _rationale(count: int) -> str:
    return "ohne Begründung" if count == 0 else f"Begründung mit {count} Zeichen"
