"""What every flow needs: the product database for one flow run, and reports as plain JSON dicts."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from partnerprojekte.config import Settings
from partnerprojekte.db.engine import Database, initialised_engine


@contextmanager
def open_database(settings: Settings) -> Iterator[Database]:
    """The product database for one flow run; its connections are closed when the run ends."""
    # Not initialised: a ValidationError, which the flows do not retry (an outage would be retried).
    engine = initialised_engine(settings.resolved_database_url())
    try:
        yield Database(engine)
    finally:
        # A served process runs flows for months: a pool per run that is never closed would leak connections.
        engine.dispose()


def as_dict(report: Any) -> dict[str, Any]:
    """A report (dataclass, pydantic model or object with ``to_json``) as a JSON-safe dict."""
    if isinstance(report, dict):
        data: Any = report
    elif hasattr(report, "to_json"):
        data = report.to_json()
    elif dataclasses.is_dataclass(report) and not isinstance(report, type):
        data = dataclasses.asdict(report)
    elif hasattr(report, "model_dump"):
        data = report.model_dump(mode="json")
    else:
        data = vars(report)
    # Through JSON once: dates become ISO strings, so the result is the same in the UI, the log and --json.
    result: dict[str, Any] = json.loads(json.dumps(data, default=str, ensure_ascii=False))
    return result
