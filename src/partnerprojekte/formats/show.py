"""Values and field paths in German words: what the messages of every refusal quote."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Final

# More errors than this help nobody; the rest is summarised in one line.
MAX_REPORTED_ERRORS: Final = 100


def join_path(prefix: str, path: str) -> str:
    if prefix and path:
        return f"{prefix}.{path}" if not path.startswith("[") else prefix + path
    return prefix or path


def format_loc(loc: Iterable[int | str]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{path_key(part)}" if path else path_key(part)
    return path


def path_key(key: str) -> str:
    return clip(key.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t"), 60)


# --- describing values in German -------------------------------------------------------------


def describe(value: object) -> str:
    """What a value is, in German, with a short excerpt (for 'gefunden: …')."""
    if value is None:
        return "nichts (null)"
    if isinstance(value, bool):
        return f"Wahrheitswert ({'true' if value else 'false'})"
    if isinstance(value, int):
        return f"Zahl ({clip(str(value), 30)})"
    if isinstance(value, float | Decimal):
        return f"Kommazahl ({clip(str(value), 30)})"
    if isinstance(value, str):
        return f"Text ({quote(value)})"
    if isinstance(value, dt.datetime):
        return f"Zeitpunkt ({value.isoformat()})"
    if isinstance(value, dt.date):
        return f"Datum ({value.isoformat()})"
    if isinstance(value, list | tuple):
        return "leere Liste" if not value else f"Liste mit {len(value)} Einträgen"
    if isinstance(value, dict):
        if not value:
            return "leeres Objekt"
        keys = ", ".join(clip(str(key), 30) for key in list(value)[:5])
        return f"Objekt mit den Feldern {keys}{', …' if len(value) > 5 else ''}"
    return f"Wert vom Typ {type(value).__name__}"


def show_value(value: object) -> str:
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return clip(str(value), 30)
    return describe(value)


def quote(value: object) -> str:
    text = str(value).replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return f"'{clip(text, 60)}'"


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def text_length(value: object) -> int | str:
    # The model strips surrounding blanks before it counts.
    return len(value.strip()) if isinstance(value, str) else "?"
