"""One outbox row a scheduled run plans (reminders, digests): its key, recipient and what came of it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

KEY_MAX = 200  # length of ``outbox.idempotency_key``

# The status of one planned outbox row in a report.
QUEUED, WOULD_QUEUE, EXISTS = "queued", "would_queue", "exists"


@dataclass(frozen=True)
class PlannedMail:
    """One outbox row a run queued, would queue (dry run), or found queued already."""

    kind: str
    recipient_email: str
    recipient_name: str | None
    key: str
    status: str = WOULD_QUEUE
    proposal: str | None = None
    days: int | None = None
    round: int | None = None
    # How much a digest holds, e.g. {"awaiting": 2, "changes": 5}; empty for reminders.
    summary: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` shape of one row."""
        return {
            "kind": self.kind,
            "recipient": self.recipient_email,
            "recipient_name": self.recipient_name,
            "proposal": self.proposal,
            "days": self.days,
            "round": self.round,
            "key": self.key,
            "status": self.status,
            "summary": self.summary,
        }


def idempotency_key(prefix: str, email: str) -> str:
    """``prefix:email``; an address too long for the column is replaced by a digest of it."""
    key = f"{prefix}:{email}"
    if len(key) <= KEY_MAX:
        return key
    return f"{prefix}:sha256-{hashlib.sha256(email.encode('utf-8')).hexdigest()[:40]}"
