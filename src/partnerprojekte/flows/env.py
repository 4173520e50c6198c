"""Prefect's telemetry off, wherever the product starts Prefect (no machine here reaches the internet)."""

from __future__ import annotations

import os

# DO_NOT_TRACK silences the SDK's usage events, the other setting the server's analytics heartbeat.
TELEMETRY_OFF: dict[str, str] = {"DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}


def telemetry_off() -> None:
    """Switch Prefect's telemetry off for this process and its children; call before ``import prefect``."""
    # Written, not read: Prefect reads these when it is imported or starts a server. Forced, because the
    # product never sends telemetry, whatever the surrounding shell says.
    os.environ.update(TELEMETRY_OFF)
