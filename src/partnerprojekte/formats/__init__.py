"""Input formats: safe loading of YAML and JSON (documents), the text every field may hold (text), the
one translator of validation errors into German (validation), and how values are quoted (show)."""

from __future__ import annotations

from partnerprojekte.formats.documents import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_DEPTH,
    DEFAULT_MAX_NODES,
    IMPORT_MAX_BYTES,
    IMPORT_MAX_NODES,
    load_document,
    load_mapping_document,
    parse_proposal,
)
from partnerprojekte.formats.show import MAX_REPORTED_ERRORS
from partnerprojekte.formats.text import check_text, replace_forbidden, text_errors, text_problem
from partnerprojekte.formats.validation import (
    field_errors,
    proposal_from_document,
    pydantic_errors_to_field_errors,
)

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_MAX_NODES",
    "IMPORT_MAX_BYTES",
    "IMPORT_MAX_NODES",
    "MAX_REPORTED_ERRORS",
    "check_text",
    "field_errors",
    "load_document",
    "load_mapping_document",
    "parse_proposal",
    "proposal_from_document",
    "pydantic_errors_to_field_errors",
    "replace_forbidden",
    "text_errors",
    "text_problem",
]
