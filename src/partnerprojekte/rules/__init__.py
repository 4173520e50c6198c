"""The four criteria of docs/criteria.md as pure functions, and ``check`` that evaluates them all."""

from __future__ import annotations

from collections.abc import Callable

from partnerprojekte.model import CheckResult, Criterion, CriterionResult
from partnerprojekte.proposal import Proposal
from partnerprojekte.reference import Reference, load_reference
from partnerprojekte.rules import cooperation, financing, handlungsfeld_fit, regional_effect
from partnerprojekte.rules.thresholds import CriteriaThresholds

Rule = Callable[[Proposal, CriteriaThresholds, Reference], CriterionResult]

RULES: dict[Criterion, Rule] = {
    Criterion.HANDLUNGSFELD_FIT: handlungsfeld_fit.evaluate,
    Criterion.REGIONAL_EFFECT: regional_effect.evaluate,
    Criterion.COOPERATION: cooperation.evaluate,
    Criterion.FINANCING: financing.evaluate,
}


def check(
    proposal: Proposal, thresholds: CriteriaThresholds | None = None, ref: Reference | None = None
) -> CheckResult:
    """Evaluate all four criteria in their order; defaults are the spec thresholds and the package data."""
    if thresholds is None:
        thresholds = CriteriaThresholds()
    if ref is None:
        ref = load_reference()
    return CheckResult({criterion: RULES[criterion](proposal, thresholds, ref) for criterion in Criterion})


__all__ = ["RULES", "CriteriaThresholds", "Rule", "check"]
