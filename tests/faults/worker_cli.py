"""A fault-test worker: one OS process that runs real CLI commands in rounds, on a signal from the test.

``python -m tests.faults.worker_cli DIR N ARGS…``: for each round it waits for ``DIR/go-<r>`` (which holds
the proposal id), runs ``partnerprojekte <ARGS with {pid}>`` through the real command line (same code,
same exit codes as the console script, without paying its start-up for every round), and writes the exit
code and stderr to ``DIR/<r>-<worker>.out``. Ends after N rounds or when ``DIR/stop`` appears.
"""

from __future__ import annotations

import contextlib
import io
import sys
import time
from pathlib import Path
from typing import Any

import typer.main


def run_cli(args: list[str]) -> tuple[int, str]:
    """Run one command of the real CLI in this process; its exit code and what it wrote to stderr."""
    from partnerprojekte import cli

    err = io.StringIO()
    command = typer.main.get_command(cli.app)
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = command.main(args, prog_name="partnerprojekte", standalone_mode=False)
        except SystemExit as exc:  # pragma: no cover - click maps Exit to a return value
            code = exc.code
    return int(code or 0), err.getvalue()


def _one_engine_per_process() -> None:
    """Each CLI command makes its engine and leaves it to the end of the process; run in a loop here, one
    engine per URL is reused instead, or 32 workers would exhaust PostgreSQL's connections."""
    from partnerprojekte.db import engine as engine_module

    made: dict[str, Any] = {}
    original = engine_module.make_engine

    def cached(url: str, **kwargs: Any) -> Any:
        if url not in made:
            made[url] = original(url, **kwargs)
        return made[url]

    engine_module.make_engine = cached  # type: ignore[assignment]


def main() -> int:
    """Wait for each round's signal file, act, report."""
    folder, rounds, name, template = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4:]
    _one_engine_per_process()
    run_cli(["--help"])  # import everything before the first round
    (folder / f"ready-{name}").touch()
    for r in range(rounds):
        go = folder / f"go-{r}"
        while not go.exists():
            if (folder / "stop").exists():
                return 0
            time.sleep(0.002)
        pid = go.read_text().strip()
        code, err = run_cli([a.replace("{pid}", pid) for a in template])
        (folder / f"{r}-{name}.tmp").write_text(f"{code}\n{err}", encoding="utf-8")
        (folder / f"{r}-{name}.tmp").rename(folder / f"{r}-{name}.out")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
