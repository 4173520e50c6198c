"""The one translator of pydantic validation errors into field paths and German messages."""

from __future__ import annotations

import datetime as dt
import difflib
import re
import types
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, Final, Union, get_args, get_origin

import pydantic
from pydantic import BaseModel

from partnerprojekte.errors import FieldError, ValidationError
from partnerprojekte.formats.show import (
    MAX_REPORTED_ERRORS,
    describe,
    format_loc,
    join_path,
    quote,
    show_value,
    text_length,
)
from partnerprojekte.formats.text import text_errors
from partnerprojekte.proposal import HandlungsfeldKey, Proposal

# Errors raised by our own validators (proposal.py) already carry a German message.
_GERMAN_ERROR_TYPES: Final = frozenset(
    {
        "period_end_before_start",
        "handlungsfeld_duplicate",
        "amount_thousands_separator",
        "amount_too_many_places",
    }
)


def proposal_from_document(doc: object, *, source: str = "", path_prefix: str = "") -> Proposal:
    """Validate a loaded document as a proposal; every error gets a spec path and a German message."""
    prefix = path_prefix.rstrip(".")
    if not isinstance(doc, dict):
        fields = ", ".join(Proposal.model_fields)
        message = f"Ein Vorschlag ist ein Objekt mit den Feldern {fields}; gefunden: {describe(doc)}"
        raise ValidationError([FieldError(prefix, message)], source=source)
    errors = text_errors(doc, prefix)
    proposal: Proposal | None = None
    ressort_invalid = False
    try:
        proposal = Proposal.model_validate(doc)
    except pydantic.ValidationError as exc:
        bad_text = {e.path for e in errors}
        for error in exc.errors(include_url=False):
            found = _field_error(error, prefix, Proposal)
            if found.path not in bad_text:  # said already, without echoing the character
                errors.append(found)
            ressort_invalid = ressort_invalid or tuple(error["loc"][:1]) == ("ressort",)
    ressort = doc.get("ressort")
    canonical: str | None = None
    if isinstance(ressort, str) and not ressort_invalid:
        canonical = _canonical_ressort(ressort)
        if canonical is None:
            errors.append(FieldError(join_path(prefix, "ressort"), _unknown_ressort(ressort)))
    if errors:
        if len(errors) > MAX_REPORTED_ERRORS:
            rest = len(errors) - MAX_REPORTED_ERRORS
            errors = [*errors[:MAX_REPORTED_ERRORS], FieldError(prefix, f"… und {rest} weitere Fehler")]
        raise ValidationError(errors, source=source)
    assert proposal is not None
    if canonical is not None and canonical != proposal.ressort:
        proposal = proposal.model_copy(update={"ressort": canonical})
    return proposal


def pydantic_errors_to_field_errors(
    exc: pydantic.ValidationError, *, model: type[BaseModel] | None = None, path_prefix: str = ""
) -> list[FieldError]:
    """Translate pydantic's errors into spec paths and German messages (``model`` names allowed fields)."""
    return field_errors(exc.errors(include_url=False), model=model, path_prefix=path_prefix)


def field_errors(
    errors: Iterable[Mapping[str, Any]], *, model: type[BaseModel] | None = None, path_prefix: str = ""
) -> list[FieldError]:
    """pydantic's error dicts (also FastAPI's request errors) as field paths with German messages, each
    field once (a parameter read by a dependency and by the route is reported once)."""
    prefix = path_prefix.rstrip(".")
    result: list[FieldError] = []
    for error in errors:
        found = _field_error(error, prefix, model)
        if found not in result:
            result.append(found)
    return result


def _canonical_ressort(value: str) -> str | None:
    wanted = _ressort_key(value)
    return next((abk for abk in _known_ressorts() if _ressort_key(abk) == wanted), None)


def _ressort_key(value: str) -> str:
    # "stk / mbei" and "Stk/MBEI" are the same Ressort.
    return "".join(value.split()).casefold()


def _known_ressorts() -> list[str]:
    # Imported here: the reference data is only needed when a proposal names a Ressort.
    from partnerprojekte.reference import load_reference

    return list(load_reference().ressorts)


def _unknown_ressort(value: str) -> str:
    known = _known_ressorts()
    message = f"unbekanntes Ressort {quote(value.strip())} – bekannt sind: {', '.join(known)}"
    return message + _suggestion(value.strip(), known)


def _field_error(error: Mapping[str, Any], prefix: str, root: type[BaseModel] | None) -> FieldError:
    loc: tuple[int | str, ...] = tuple(error["loc"])
    kind: str = error["type"]
    ctx: Mapping[str, Any] = error.get("ctx") or {}
    if kind == "period_end_before_start":
        loc = (*loc, "end")
    elif kind == "handlungsfeld_duplicate":
        loc = (*loc, int(ctx["index"]), "key")
    if kind in _GERMAN_ERROR_TYPES:
        message = str(error["msg"])
    else:
        message = _german_message(kind, loc, error.get("input"), ctx, root)
    return FieldError(join_path(prefix, format_loc(loc)), message)


_TEXT_TYPES: Final = frozenset({"string_type", "string_sub_type", "string_unicode"})
_INT_TYPES: Final = frozenset({"int_type", "int_parsing"})
_NUMBER_TYPES: Final = frozenset({"decimal_type", "decimal_parsing", "float_type", "float_parsing"})
_BOOL_TYPES: Final = frozenset({"bool_type", "bool_parsing"})
_DATE_TYPES: Final = frozenset({"date_type", "date_parsing", "date_from_datetime_parsing"})
_DATETIME_TYPES: Final = frozenset(
    {"datetime_type", "datetime_parsing", "datetime_from_date_parsing", "datetime_object_invalid"}
)
_OBJECT_TYPES: Final = frozenset({"model_type", "model_attributes_type", "dict_type"})


def _german_message(
    kind: str, loc: tuple[int | str, ...], value: Any, ctx: Mapping[str, Any], root: type[BaseModel] | None
) -> str:
    field_name = next((part for part in reversed(loc) if isinstance(part, str)), "")
    found = describe(value)
    if kind == "missing":
        return "Pflichtfeld fehlt"
    if kind == "json_invalid":
        return "kein gültiges JSON"
    if kind == "string_unicode":
        return "enthält Zeichen, die kein gültiges Unicode sind"
    if kind == "value_error":
        # Our own validators raise ValueError with a German text; pydantic prefixes it.
        return str(ctx.get("error", "")) or "ungültiger Wert"
    if kind == "extra_forbidden":
        return _unknown_field(root, loc)
    if field_name == "themenforum" and kind in {*_BOUND_TYPES, *_INT_TYPES, "int_from_float"}:
        return f"Themenforum muss eine Nummer von 1 bis 20 sein, gefunden: {found}"
    if kind in _TEXT_TYPES:
        hint = ""
        if isinstance(value, int | float | Decimal | dt.date):
            hint = " – bitte in Anführungszeichen setzen"
        return f"erwartet Text, gefunden: {found}{hint}"
    if kind in _INT_TYPES:
        return f"erwartet eine ganze Zahl, gefunden: {found}"
    if kind == "int_from_float":
        return f"erwartet eine ganze Zahl, gefunden: {found}"
    if kind in _NUMBER_TYPES:
        hint = ""
        if isinstance(value, str) and ("," in value or value.count(".") > 1):
            hint = (
                " – Beträge ohne Tausenderpunkte und mit Dezimalpunkt schreiben, z. B. 1200000 oder 1200.50"
            )
        return f"erwartet eine Zahl, gefunden: {found}{hint}"
    if kind in _BOOL_TYPES:
        return f"erwartet true oder false, gefunden: {found}"
    if kind in _DATE_TYPES:
        if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
            return f"ungültiges Datum: {quote(value.strip())} gibt es im Kalender nicht"
        return f"erwartet ein Datum im Format JJJJ-MM-TT (z. B. 2020-05-01), gefunden: {found}"
    if kind in _DATETIME_TYPES:
        return f"erwartet einen Zeitpunkt mit Zeitzone (z. B. 2020-02-03T10:00:00+01:00), gefunden: {found}"
    if kind == "timezone_aware":
        return f"Zeitpunkt ohne Zeitzone – bitte mit Zeitzone angeben (z. B. +01:00), gefunden: {found}"
    if kind == "date_from_datetime_inexact":
        return f"erwartet ein Datum ohne Uhrzeit im Format JJJJ-MM-TT, gefunden: {found}"
    if kind == "list_type":
        return f"erwartet eine Liste, gefunden: {found}"
    if kind in _OBJECT_TYPES:
        model = _type_at(root, loc)
        if isinstance(model, type) and issubclass(model, BaseModel):
            return f"erwartet ein Objekt mit den Feldern {', '.join(model.model_fields)}, gefunden: {found}"
        return f"erwartet ein Objekt, gefunden: {found}"
    if kind in ("enum", "literal_error"):
        return _unknown_value(root, loc, value, ctx)
    if kind == "string_too_short":
        minimum = int(ctx.get("min_length", 1))
        if minimum <= 1:
            return "darf nicht leer sein"
        return f"mindestens {minimum} Zeichen, gefunden {text_length(value)}"
    if kind == "string_too_long":
        return f"höchstens {ctx.get('max_length')} Zeichen, gefunden {text_length(value)}"
    if kind == "too_short":
        return f"mindestens {ctx.get('min_length')} Einträge, gefunden {ctx.get('actual_length', '?')}"
    if kind == "too_long":
        return f"höchstens {ctx.get('max_length')} Einträge, gefunden {ctx.get('actual_length', '?')}"
    if kind in _BOUND_TYPES:
        return _BOUND_TYPES[kind](ctx) + f", gefunden: {show_value(value)}"
    if kind == "decimal_max_digits":
        return f"höchstens {ctx.get('max_digits')} Ziffern insgesamt, gefunden: {show_value(value)}"
    if kind == "decimal_max_places":
        return f"höchstens {ctx.get('decimal_places')} Nachkommastellen, gefunden: {show_value(value)}"
    if kind == "decimal_whole_digits":
        return f"höchstens {ctx.get('whole_digits')} Stellen vor dem Komma, gefunden: {show_value(value)}"
    if kind == "finite_number":
        return f"muss eine endliche Zahl sein, gefunden: {show_value(value)}"
    if kind == "int_parsing_size":
        return "die Zahl ist zu groß"
    if kind == "string_pattern_mismatch":
        if field_name == "email":
            return f"keine gültige E-Mail-Adresse (z. B. name@example.org), gefunden: {found}"
        return f"enthält unzulässige Zeichen oder hat nicht das erwartete Format, gefunden: {found}"
    # Never show pydantic's English text; the type name helps whoever maintains the rule.
    return f"ungültiger Wert (Prüfung '{kind}' nicht bestanden), gefunden: {found}"


_BOUND_TYPES: Final[dict[str, Callable[[Mapping[str, Any]], str]]] = {
    "greater_than": lambda ctx: f"muss größer als {ctx.get('gt')} sein",
    "greater_than_equal": lambda ctx: (
        "darf nicht negativ sein" if str(ctx.get("ge")) == "0" else f"muss mindestens {ctx.get('ge')} sein"
    ),
    "less_than": lambda ctx: f"muss kleiner als {ctx.get('lt')} sein",
    "less_than_equal": lambda ctx: f"darf höchstens {ctx.get('le')} sein",
}


def _unknown_field(root: type[BaseModel] | None, loc: tuple[int | str, ...]) -> str:
    key = str(loc[-1]) if loc else ""
    model = _type_at(root, loc[:-1])
    message = f"unbekanntes Feld {quote(key)}"
    if isinstance(model, type) and issubclass(model, BaseModel):
        allowed = list(model.model_fields)
        message += f" – erlaubt sind: {', '.join(allowed)}" + _suggestion(key, allowed)
    return message


def _unknown_value(
    root: type[BaseModel] | None, loc: tuple[int | str, ...], value: Any, ctx: Mapping[str, Any]
) -> str:
    enum = _type_at(root, loc)
    if isinstance(enum, type) and issubclass(enum, Enum):
        allowed = [str(member.value) for member in enum]
    else:
        allowed = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
    options = ", ".join(allowed)
    if not isinstance(value, str):
        what = "ein Handlungsfeld" if enum is HandlungsfeldKey else "einen der Werte"
        return f"erwartet {what} ({options}), gefunden: {describe(value)}"
    noun = "unbekanntes Handlungsfeld" if enum is HandlungsfeldKey else "unbekannter Wert"
    return f"{noun} {quote(value)} – erlaubt: {options}" + _suggestion(value, allowed)


def _suggestion(value: str, allowed: list[str]) -> str:
    folded = {option.casefold(): option for option in allowed}
    close = folded.get(value.casefold())
    if close is None:
        matches = difflib.get_close_matches(value.casefold(), list(folded), n=1, cutoff=0.7)
        close = folded[matches[0]] if matches else None
    return f"; meinten Sie {quote(close)}?" if close is not None else ""


def _type_at(root: type[BaseModel] | None, loc: Iterable[int | str]) -> object:
    """The declared type at a location of a model (None where it cannot be told)."""
    current: object = root
    for part in loc:
        current = _unwrap(current)
        if isinstance(part, int):
            if get_origin(current) is not list:
                return None
            current = get_args(current)[0]
        elif isinstance(current, type) and issubclass(current, BaseModel):
            info = current.model_fields.get(part)
            if info is None:
                return None
            current = info.annotation
        else:
            return None
    return _unwrap(current)


def _unwrap(annotation: object) -> object:
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin is Union or origin is types.UnionType:
            members = [arg for arg in get_args(annotation) if arg is not type(None)]
            if len(members) != 1:
                return annotation
            annotation = members[0]
        else:
            return annotation
