"""One Settings object; the only reader of ``os.environ`` (prefix ``PARTNERPROJEKTE_``, nesting ``__``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from partnerprojekte.rules.thresholds import CriteriaThresholds


def _default_approvals() -> dict[str, dict[str, list[str]]]:
    return {
        "recognise": {"in_abstimmung": ["ressort", "arbeitsstab"]},
        "decline": {"in_abstimmung": ["ressort", "arbeitsstab"]},
    }


class Settings(BaseSettings):
    """Runtime configuration with embedded defaults (SQLite file in ``./var``)."""

    model_config = SettingsConfigDict(
        env_prefix="PARTNERPROJEKTE_", env_nested_delimiter="__", extra="ignore"
    )

    data_dir: Path = Path("var")
    database_url: str | None = None
    criteria: CriteriaThresholds = CriteriaThresholds()
    # event -> from-state -> roles whose approval is required (each by a different person)
    approvals: dict[str, dict[str, list[str]]] = Field(default_factory=_default_approvals)
    arbeitsstab_mailbox: str | None = None
    timezone: str = "Europe/Berlin"
    max_proposal_bytes: int = Field(1_000_000, ge=1_000)

    def resolved_database_url(self) -> str:
        """The configured URL, or a SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'partnerprojekte.db').as_posix()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once on first use."""
    return Settings()
