"""Configuration is checked when it is read, not when it is first used."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from partnerprojekte.config import Settings


@pytest.mark.parametrize(
    ("approvals", "message"),
    [
        ({"anerkennen": {"in_abstimmung": ["ressort"]}}, "unbekanntes Ereignis"),
        ({"recognise": {"anerkannt": ["ressort"]}}, "unbekannter Status"),
        ({"recognise": {"in_abstimmung": ["ressort", "chef"]}}, "Rollen müssen verschieden"),
        ({"recognise": {"in_abstimmung": ["ressort", "ressort"]}}, "Rollen müssen verschieden"),
        ({"recognise": {"in_abstimmung": []}}, "Rollen müssen verschieden"),
    ],
)
def test_bad_approval_policy_is_refused(approvals: dict[str, dict[str, list[str]]], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings(approvals=approvals)


def test_policy_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARTNERPROJEKTE_APPROVALS", '{"recognise": {"in_abstimmung": ["arbeitsstab"]}}')
    monkeypatch.setenv("PARTNERPROJEKTE_CRITERIA__RATIONALE_MIN_CHARS", "30")
    settings = Settings()
    assert settings.approvals == {"recognise": {"in_abstimmung": ["arbeitsstab"]}}
    assert settings.criteria.rationale_min_chars == 30
