"""One Settings object; the only reader of ``os.environ`` (prefix ``PARTNERPROJEKTE_``, nesting ``__``)."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from partnerprojekte.rules.thresholds import CriteriaThresholds


class MailSettings(BaseModel):
    """How e-mail leaves the system: SMTP when a host is set, otherwise ``.eml`` files in a folder."""

    smtp_host: str | None = None
    smtp_port: int = Field(587, ge=1, le=65535)
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    timeout_seconds: float = Field(30.0, gt=0)
    max_concurrency: int = Field(4, ge=1, le=64)
    batch_size: int = Field(200, ge=1, le=10_000)
    max_attempts: int = Field(8, ge=1)
    retry_base_seconds: float = Field(30.0, gt=0)
    sending_timeout_seconds: float = Field(600.0, gt=0)
    sender: str = "Arbeitsstab Ruhr-Konferenz <partnerprojekte@localhost>"
    # None: <data_dir>/mail
    outbox_dir: Path | None = None
    # A folder whose templates override the packaged ones (same file names).
    template_dir: Path | None = None
    # Links in e-mails point here (the web application of issue 4).
    base_url: str = "http://127.0.0.1:8000"


class ServeSettings(BaseModel):
    """Where the local servers started by ``partnerprojekte run`` listen (always 127.0.0.1 by default)."""

    host: str = "127.0.0.1"
    prefect_port: int = Field(4200, ge=1, le=65535)
    web_port: int = Field(8000, ge=1, le=65535)


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
    # Any request body (JSON, forms, also anonymous and chunked ones) above this is answered with 413;
    # never below max_proposal_bytes, so that a proposal up to its own limit still gets through.
    max_request_bytes: int = Field(1_048_576, ge=10_000)
    # The Swagger UI at /api/v1/docs is off: it would load its script from a CDN. To switch it on, name
    # a folder holding swagger-ui-bundle.js and swagger-ui.css (from the swagger-ui-dist package); they
    # are then served from this application. /api/v1/openapi.json is always there.
    api_docs_assets: Path | None = None
    # How long an activation link (new account, reactivation, password reset) stays valid.
    activation_link_hours: int = Field(48, ge=1, le=24 * 30)
    mail: MailSettings = MailSettings()
    serve: ServeSettings = ServeSettings()
    # Reverse proxies whose X-Forwarded-For is believed: addresses or networks, comma-separated
    # ("10.0.0.5, 10.1.0.0/24"). Empty (the default): the connection's own peer address is the client.
    trusted_proxies: Annotated[tuple[str, ...], NoDecode] = ()

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: object) -> object:
        """Accept a comma-separated string (the environment) as well as a list."""
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _known_proxies(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        """Each entry is an IP address or network (normalised, e.g. ``10.1.0.0/24``)."""
        result = []
        for entry in value:
            try:
                result.append(str(ipaddress.ip_network(entry.strip(), strict=False)))
            except ValueError:
                raise ValueError(
                    f"trusted_proxies: „{entry}“ ist keine IP-Adresse und kein Netz "
                    "(z. B. 10.0.0.5 oder 10.1.0.0/24)"
                ) from None
        return tuple(result)

    @field_validator("approvals")
    @classmethod
    def _known_approvals(cls, value: dict[str, dict[str, list[str]]]) -> dict[str, dict[str, list[str]]]:
        """Refuse at start-up what could only fail later: unknown events, states or roles, doubled roles."""
        events = {
            "recognise",
            "decline",
            "request_changes",
            "integrate_into_pillar_1",
            "reopen",
            "withdraw",
            "take_up",
            "start_coordination",
        }
        states = {"eingereicht", "in_bearbeitung", "in_abstimmung", "nicht_weiterverfolgt"}
        roles = {"partner", "ressort", "arbeitsstab"}
        for event, by_state in value.items():
            if event not in events:
                raise ValueError(f"approvals: unbekanntes Ereignis „{event}“")
            for state, required in by_state.items():
                if state not in states:
                    raise ValueError(f"approvals.{event}: unbekannter Status „{state}“")
                unknown = [r for r in required if r not in roles]
                if unknown or len(set(required)) != len(required) or not required:
                    raise ValueError(
                        f"approvals.{event}.{state}: Rollen müssen verschieden sein und aus "
                        f"{', '.join(sorted(roles))} stammen, gefunden: {required}"
                    )
        return value

    def request_body_limit(self) -> int:
        """The largest request body accepted, in bytes."""
        return max(self.max_request_bytes, self.max_proposal_bytes + 1)

    def resolved_database_url(self) -> str:
        """The configured URL, or a SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'partnerprojekte.db').as_posix()}"

    def resolved_outbox_dir(self) -> Path:
        """Where the file transport writes ``.eml`` files."""
        return self.mail.outbox_dir or self.data_dir / "mail"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once on first use."""
    return Settings()
