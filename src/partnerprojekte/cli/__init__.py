"""The command line ``partnerprojekte``: German messages, ``--json`` with English keys.

Exit codes: 0 success, 1 audit chain broken or unexpected failure, 2 invalid input, 3 event refused,
4 conflict. ``program`` puts the command groups together (one module each), ``support`` is what they share and
imports none of them. Heavy modules (SQLAlchemy, pydantic, Prefect) are imported inside the commands, so
``--help`` stays instant.
"""

from __future__ import annotations

from typing import Any

from partnerprojekte.cli import i18n

# click and typer bind gettext when they are imported: the German texts must be installed first.
i18n.install()


def __getattr__(name: str) -> Any:
    # ``partnerprojekte.cli:main`` (the console script) and ``cli.app`` without importing every group
    # for ``python -m partnerprojekte.cli.flows`` (which would then be imported twice).
    if name in ("app", "main"):
        from partnerprojekte.cli import program

        return getattr(program, name)
    raise AttributeError(name)
