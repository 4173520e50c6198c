"""Output helpers shared by the command-line modules (light: only json and typer)."""

from __future__ import annotations

import json
from typing import Any

import typer


def echo_json(data: Any) -> None:
    """Print data as indented JSON with the German text unescaped."""
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
