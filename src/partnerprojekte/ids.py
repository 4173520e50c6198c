"""Short stable proposal ids (``PP-0007``) and their parsing."""

from __future__ import annotations

import re

from partnerprojekte.errors import NotFound

_ID = re.compile(r"^\s*(?:pp-?)?0*(\d{1,9})\s*$", re.IGNORECASE | re.ASCII)


def format_id(number: int) -> str:
    """``7`` → ``PP-0007``."""
    return f"PP-{number:04d}"


def parse_id(text: str) -> int:
    """Accept ``PP-0007``, ``pp-7``, ``PP7`` or ``7``; raise ``NotFound`` with a German message otherwise."""
    match = _ID.match(text)
    if not match or int(match.group(1)) == 0:
        raise NotFound(f"„{text}“ ist keine gültige Vorschlags-ID (Form PP-0001).")
    return int(match.group(1))
