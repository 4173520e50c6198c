"""Thresholds of the four criteria (defaults of docs/criteria.md); configurable through Settings."""

from __future__ import annotations

from pydantic import BaseModel, Field


class CriteriaThresholds(BaseModel):
    """Thresholds of the four criteria."""

    rationale_min_chars: int = Field(20, ge=0)
    regional_min_municipalities: int = Field(2, ge=1)
    cooperation_min_organisations: int = Field(2, ge=1)
    cooperation_value_min_chars: int = Field(50, ge=0)
