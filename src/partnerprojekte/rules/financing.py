"""Criterion ``financing``: the proposal says how it will be paid for, and how much of that is secured."""

from __future__ import annotations

from decimal import Decimal

from partnerprojekte.model import Criterion, CriterionResult, Verdict
from partnerprojekte.proposal import Proposal
from partnerprojekte.reference import Reference
from partnerprojekte.rules._text import euro, percent, plural
from partnerprojekte.rules.thresholds import CriteriaThresholds

_ZERO = Decimal(0)


def evaluate(proposal: Proposal, thresholds: CriteriaThresholds, ref: Reference) -> CriterionResult:
    """Met if secured sources cover the total cost; needs review if only all sources together do."""
    del thresholds, ref  # same signature as the other criteria; the rule has no thresholds
    financing = proposal.financing
    if financing is None:
        return CriterionResult(
            Criterion.FINANCING,
            Verdict.NOT_MET,
            "Keine Angaben zur Finanzierung – weder Gesamtkosten noch Finanzierungsquellen genannt.",
            {},
        )
    total = financing.total_cost_eur
    sources = financing.sources
    every = sum((source.amount_eur for source in sources), _ZERO)
    secured = sum((source.amount_eur for source in sources if source.secured), _ZERO)
    facts: dict[str, object] = {"total": total, "all": every, "secured": secured, "sources": len(sources)}
    if not sources:
        return CriterionResult(
            Criterion.FINANCING,
            Verdict.NOT_MET,
            f"Gesamtkosten {euro(total)}, aber keine Finanzierungsquelle angegeben.",
            facts,
        )
    from_sources = _sources(len(sources), every)
    if every < total:
        return CriterionResult(
            Criterion.FINANCING,
            Verdict.NOT_MET,
            f"Gesamtkosten {euro(total)}, {from_sources} – Finanzierungslücke von {euro(total - every)}.",
            facts,
        )
    if secured < total:
        open_sources = ", ".join(
            f"{source.name} ({euro(source.amount_eur)})" for source in sources if not source.secured
        )
        return CriterionResult(
            Criterion.FINANCING,
            Verdict.NEEDS_REVIEW,
            f"Gesamtkosten {euro(total)} sind durch {from_sources} gedeckt, "
            f"aber gesichert sind {percent(secured, total)} ({euro(secured)} von {euro(total)}); "
            f"noch nicht gesichert: {open_sources} – zu prüfen.",
            facts,
        )
    return CriterionResult(
        Criterion.FINANCING,
        Verdict.MET,
        f"Gesamtkosten {euro(total)} sind vollständig gesichert: {euro(secured)} aus gesicherten Quellen "
        f"({from_sources}).",
        facts,
    )


def _sources(count: int, amount: Decimal) -> str:
    together = "" if count == 1 else "zusammen "
    return f"{plural(count, 'Finanzierungsquelle', 'Finanzierungsquellen')} über {together}{euro(amount)}"
