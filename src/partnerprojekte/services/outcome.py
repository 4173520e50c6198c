"""What a use case answers: the proposal's state afterwards and what is still owed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from partnerprojekte.errors import ConflictError
from partnerprojekte.ids import format_id
from partnerprojekte.model import CheckResult, State


class AlreadyImported(ConflictError):
    """The proposal of an import file is in the database already."""


@dataclass(frozen=True)
class Outcome:
    """What an event or action did: the proposal's state afterwards and what is still owed."""

    proposal_id: int
    event: str
    status: State
    fired: bool
    seq: int
    pending_approvals: list[dict[str, Any]] = field(default_factory=list)
    notifications: int = 0
    check: CheckResult | None = None

    def to_json(self) -> dict[str, Any]:
        """The ``transition --json`` shape."""
        data: dict[str, Any] = {
            "id": format_id(self.proposal_id),
            "event": self.event,
            "status": self.status.value,
            "fired": self.fired,
            "pending_approvals": self.pending_approvals,
            "notifications": self.notifications,
        }
        if self.check is not None:
            data["check"] = self.check.to_json()
        return data
