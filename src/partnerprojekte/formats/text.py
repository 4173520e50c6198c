"""Text every field may hold: no control characters, no lone surrogates."""

from __future__ import annotations

import re

from partnerprojekte.errors import FieldError, ValidationError
from partnerprojekte.formats.show import (
    MAX_REPORTED_ERRORS,
    join_path,
    path_key,
)

# --- text every field may hold ----------------------------------------------------------------

# No text field holds C0 control characters but tab, line feed and carriage return (a browser's
# textarea sends CR LF), DEL, or a lone surrogate (no character at all: UTF-8 cannot store it). JSON's
# escapes (``\u000b``), form posts and command-line arguments bring them past the file checks above;
# PostgreSQL refuses NUL, and openpyxl refuses the others when a spreadsheet is exported.
_FORBIDDEN_IN_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def text_problem(value: str) -> str | None:
    """What is wrong with a text (German, to follow its field's name), or None if nothing is."""
    found = _FORBIDDEN_IN_TEXT.search(value)
    if found is None:
        return None
    code = ord(found.group())
    if code == 0:
        return "enthält ein Null-Zeichen (U+0000), das nicht erlaubt ist"
    if 0xD800 <= code <= 0xDFFF:
        return f"enthält das ungültige Zeichen U+{code:04X} (ein einzelnes Surrogat), das nicht erlaubt ist"
    return f"enthält das Steuerzeichen U+{code:04X}, das nicht erlaubt ist"


def replace_forbidden(value: str, replacement: str = "\ufffd") -> str:
    """The text with every character no field may hold replaced (for stored data that has them)."""
    return _FORBIDDEN_IN_TEXT.sub(replacement, value)


def check_text(value: str | None, field: str) -> None:
    """Refuse (``ValidationError`` naming ``field``) a text with a character no field may hold."""
    problem = text_problem(value) if value else None
    if problem is not None:
        raise ValidationError(FieldError(field, problem))


def text_errors(doc: object, prefix: str = "") -> list[FieldError]:
    """Every text of a loaded document (values and keys) with a character no field may hold."""
    errors: list[FieldError] = []

    def walk(value: object, where: str) -> None:
        if len(errors) >= MAX_REPORTED_ERRORS:
            return
        if isinstance(value, str):
            problem = text_problem(value)
            if problem is not None:
                errors.append(FieldError(where, problem))
        elif isinstance(value, dict):
            for key, item in value.items():
                name = str(key)
                problem = text_problem(name)
                if problem is not None:
                    errors.append(FieldError(where, f"ein Feldname {problem}"))
                    continue
                walk(item, join_path(where, path_key(name)))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, f"{where}[{index}]")

    walk(doc, prefix)
    return errors
