"""A long-lived process that runs the real ``deliver-notifications`` flow again and again, as a served
deployment's schedule would (the database-outage fault test's sender).

``python -m tests.faults.flow_loop SECONDS``: runs the flow (Prefect, with its task retries) every
``SECONDS`` until stopped with SIGTERM; prints one JSON line per run: ``{"ok": true, "sent": 12, "at": …}``
or ``{"ok": false, "error": "OperationalError", "at": …}`` (``at``: ``time.monotonic()`` when the run
ended, the same clock as the test's on Linux). A failed run is what a Prefect runner shows as *Failed*;
the next one starts on time, like the next minute's scheduled run.
"""

from __future__ import annotations

import json
import signal
import sys
import time
from types import FrameType


def main() -> int:
    """Run the flow until SIGTERM."""
    pause = float(sys.argv[1])
    stop = False

    def _stop(_sig: int, _frame: FrameType | None) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, _stop)
    from partnerprojekte.flows.deliver import deliver_notifications

    while not stop:
        try:
            totals = deliver_notifications()
            line: dict[str, object] = {"ok": True, "sent": totals["sent"], "claimed": totals["claimed"]}
        except Exception as exc:  # every failure is a failed run; the loop is the schedule
            line = {"ok": False, "error": type(exc).__name__}
        line["at"] = time.monotonic()
        print(json.dumps(line), flush=True)
        time.sleep(pause)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
