"""The one table of names of every audited step: qualification events, actions, report events and steps.

History, mails, digests, pages and the CLI name an audit row's ``event`` through ``step_label``.
"""

from __future__ import annotations

from functools import cache

from partnerprojekte.model import ACTION_LABELS, EVENT_LABELS
from partnerprojekte.states.report_table import REPORT_ACTION_LABELS, REPORT_EVENT_LABELS


@cache
def step_labels() -> dict[str, str]:
    """Code → German label of every audited step."""
    tables = (EVENT_LABELS, ACTION_LABELS, REPORT_EVENT_LABELS, REPORT_ACTION_LABELS)
    return {step.value: label for table in tables for step, label in table.items()}


def step_label(code: str) -> str:
    """``recognise`` → ``Anerkennen``, ``submit_report`` → ``Fortschrittsmeldung einreichen``; an
    unknown code stays as it is (a row written by a later version)."""
    return step_labels().get(code, code)


def is_step(code: str) -> bool:
    """Whether the code names an audited step."""
    return code in step_labels()
