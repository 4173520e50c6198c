"""Safe loading of YAML and JSON documents: size, depth and node limits, exact numbers, no tags.

Longer than 400 lines on purpose: the JSON and YAML loaders share their limits (size, depth, nodes)
and their refusals; most of it is the YAML event walk that builds values without constructors.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from itertools import accumulate
from typing import Any, Final

import yaml

from partnerprojekte.errors import FieldError, ValidationError
from partnerprojekte.formats.show import (
    describe,
    path_key,
    quote,
)
from partnerprojekte.formats.validation import proposal_from_document
from partnerprojekte.proposal import Proposal

DEFAULT_MAX_BYTES: Final = 1_000_000
DEFAULT_MAX_DEPTH: Final = 32
DEFAULT_MAX_NODES: Final = 100_000
# An import file carries many proposals with their histories: more bytes and nodes, same depth.
IMPORT_MAX_BYTES: Final = 20_000_000
IMPORT_MAX_NODES: Final = 500_000

# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------


class _Refusal(Exception):
    """A document refused while loading; turned into a ValidationError at the public boundary."""

    def __init__(self, message: str, path: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.path = path


class _SyntaxRefusal(_Refusal):
    """A syntax error: the other parser (YAML for JSON-looking text) may still succeed."""


def load_document(
    data: bytes,
    *,
    source: str = "",
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_nodes: int = DEFAULT_MAX_NODES,
) -> object:
    """Decode and parse a YAML or JSON document; refuse anything hostile with a German ValidationError."""
    try:
        text = _decode(data, max_bytes)
        return _parse(text, max_depth=max_depth, max_nodes=max_nodes)
    except _Refusal as refusal:
        # No chained traceback: the message is all a user needs.
        raise ValidationError([FieldError(refusal.path, refusal.message)], source=source) from None


def load_mapping_document(
    data: bytes,
    *,
    source: str = "",
    max_bytes: int = IMPORT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_nodes: int = IMPORT_MAX_NODES,
) -> dict[str, object]:
    """Load a document whose top level must be a mapping (e.g. an import file); larger limits by default."""
    doc = load_document(data, source=source, max_bytes=max_bytes, max_depth=max_depth, max_nodes=max_nodes)
    if not isinstance(doc, dict):
        raise ValidationError(
            [FieldError("", f"erwartet ein Objekt mit Feldern, gefunden: {describe(doc)}")],
            source=source,
        )
    return doc


def parse_proposal(data: bytes, *, source: str = "", max_bytes: int = DEFAULT_MAX_BYTES) -> Proposal:
    """Load a proposal file (YAML or JSON, docs/proposal-format.md) and validate it."""
    doc = load_document(data, source=source, max_bytes=max_bytes)
    return proposal_from_document(doc, source=source)


# --- decoding --------------------------------------------------------------------------------

# YAML 1.1 allows only these characters; JSON text written by people has no others either.
_NOT_PRINTABLE = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _decode(data: bytes, max_bytes: int) -> str:
    size = len(data)
    if size > max_bytes:
        shown, allowed = _format_size(size), _format_size(max_bytes)
        if shown == allowed:
            shown, allowed = f"{_thousands(size)} Bytes", f"{_thousands(max_bytes)} Bytes"
        raise _Refusal(f"Die Datei ist zu groß: {shown}, erlaubt sind höchstens {allowed}.")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _Refusal(
            "Die Datei ist keine Textdatei (UTF-8): sie ist als UTF-16 gespeichert; "
            "bitte als UTF-8 speichern."
        )
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise _Refusal(
            f"Die Datei ist keine Textdatei (UTF-8): sie enthält Binärdaten (Null-Byte in Zeile {line})."
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise _Refusal(
            "Die Datei ist keine Textdatei (UTF-8): ungültiges Byte "
            f"0x{data[exc.start]:02X} in Zeile {line} – vermutlich in Windows-1252 oder "
            "ISO-8859-1 gespeichert; bitte als UTF-8 speichern."
        ) from None
    bad = _NOT_PRINTABLE.search(text)
    if bad:
        line, column = _line_column(text, bad.start())
        raise _Refusal(
            "Die Datei ist keine reine Textdatei (UTF-8): Zeile "
            f"{line}, Spalte {column} enthält das Steuerzeichen U+{ord(bad.group()):04X}."
        )
    if not text.strip():
        raise _Refusal("Die Datei ist leer.")
    return text


def _format_size(size: int) -> str:
    if size >= 1_000_000:
        return f"{size / 1_000_000:.1f} MB".replace(".", ",")
    if size >= 1_000:
        return f"{size / 1_000:.1f} kB".replace(".", ",")
    return f"{size} Bytes"


def _thousands(number: int) -> str:
    return f"{number:,}".replace(",", ".")


def _line_column(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def _parse(text: str, *, max_depth: int, max_nodes: int) -> object:
    json_error: _SyntaxRefusal | None = None
    if text.lstrip().startswith(("{", "[")):
        try:
            return _parse_json(text, max_depth=max_depth, max_nodes=max_nodes)
        except _SyntaxRefusal as exc:
            # Maybe a YAML flow mapping ({title: …}); if YAML fails too, the JSON error is shown.
            json_error = exc
    try:
        return _parse_yaml(text, max_depth=max_depth, max_nodes=max_nodes)
    except _SyntaxRefusal:
        if json_error is not None:
            raise json_error from None
        raise


# --- JSON ------------------------------------------------------------------------------------

# A JSON string, written so that the regex engine never backtracks.
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_BRACKET_DELTA: Final = {"[": 1, "{": 1, "]": -1, "}": -1}
_JSON_MESSAGES: Final = (
    ("Expecting value", "hier wird ein Wert erwartet"),
    (
        "Expecting property name enclosed in double quotes",
        'Feldname in doppelten Anführungszeichen (") erwartet',
    ),
    ("Expecting ':' delimiter", "Doppelpunkt ':' erwartet"),
    ("Expecting ',' delimiter", "Komma ',' erwartet"),
    ("Unterminated string", "Zeichenkette ohne schließendes Anführungszeichen"),
    ("Invalid control character", "Steuerzeichen (z. B. Zeilenumbruch) in einer Zeichenkette"),
    ("Invalid \\uXXXX escape", "ungültige Unicode-Escape-Sequenz"),
    ("Invalid \\escape", "ungültige Escape-Sequenz (\\)"),
    ("Extra data", "weitere Daten nach dem Ende des Dokuments"),
)


def _parse_json(text: str, *, max_depth: int, max_nodes: int) -> object:
    # json is recursive and builds the whole tree: check depth and size on the text first, where
    # strings are blanked out so that brackets and commas inside them do not count.
    skeleton = _JSON_STRING.sub('""', text)
    opens = skeleton.count("[") + skeleton.count("{")
    if opens > max_depth:
        brackets = _NOT_BRACKET.sub("", skeleton)
        depth = max(accumulate(map(_BRACKET_DELTA.__getitem__, brackets)), default=0)
        if depth > max_depth:
            raise _Refusal(_too_deep(max_depth) + ".")
    # Every value is the first in its container or follows a comma; every key has a colon.
    if opens + skeleton.count(",") + skeleton.count(":") + 1 > max_nodes:
        raise _Refusal(_too_many(max_nodes))
    try:
        return json.loads(
            text,
            object_pairs_hook=_json_object,
            parse_float=_json_float,
            parse_constant=_json_constant,
        )
    except json.JSONDecodeError as exc:
        german = next((de for en, de in _JSON_MESSAGES if exc.msg.startswith(en)), None)
        detail = german or f"ungültige JSON-Syntax ({exc.msg})"
        raise _SyntaxRefusal(
            f"JSON-Syntaxfehler in Zeile {exc.lineno}, Spalte {exc.colno}: {detail}."
        ) from None
    except ValueError:
        # int() refuses more than 4300 digits.
        raise _Refusal("Die Datei enthält eine Zahl mit zu vielen Stellen.") from None
    except RecursionError:  # pragma: no cover - the depth check above comes first
        raise _Refusal(_too_deep(max_depth) + ".") from None


def _json_object(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result: dict[str, object] = {}
    for key, value in pairs:
        if key in result:
            raise _Refusal(f"Schlüssel {quote(key)} ist doppelt.")
        result[key] = value
    return result


def _json_float(text: str) -> Decimal | float:
    return _number(text)


def _json_constant(text: str) -> object:
    raise _Refusal(f"{text} ist keine gültige JSON-Zahl.")


def _number(text: str) -> Decimal | float:
    # Decimal keeps what was written ("900.000" stays recognisable, 0.1 stays exact); exponents
    # and very long numbers become floats, so that no one can make a later int() build a huge number.
    if len(text) <= 40 and "e" not in text.lower():
        try:
            return Decimal(text)
        except InvalidOperation:
            pass
    return float(text)


def _sentence(text: str) -> str:
    return text if text.endswith((".", "?", "!")) else text + "."


def _too_deep(max_depth: int) -> str:
    return f"Die Datei ist zu tief verschachtelt: mehr als {max_depth} Ebenen"


def _too_many(max_nodes: int) -> str:
    return f"Die Datei enthält zu viele Elemente: mehr als {_thousands(max_nodes)}."


# --- YAML ------------------------------------------------------------------------------------

# Only the parser's event stream is used (libyaml when present): the tree is built here, so that
# anchors, tags, depth, size and keys are checked before anything is constructed.
_EVENT_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_RESOLVER: Any = yaml.resolver.Resolver()
_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_CORE: Final = "tag:yaml.org,2002:"
_PLAIN_DECIMAL = re.compile(r"[-+]?[0-9_]*\.[0-9_]*")

_TAB_MESSAGE: Final = "Tabulatorzeichen sind zur Einrückung nicht erlaubt – bitte Leerzeichen verwenden"
_YAML_MESSAGES: Final = (
    ("tab character", _TAB_MESSAGE),
    ("found character '\\t'", _TAB_MESSAGE),
    (
        "mapping values are not allowed",
        "Doppelpunkt an unerwarteter Stelle – Werte mit ': ' bitte in Anführungszeichen setzen",
    ),
    ("could not find expected ':'", "Doppelpunkt ':' nach dem Schlüssel erwartet"),
    (
        "did not find expected key",
        "hier wird ein neuer Schlüssel erwartet – Einrückung und Anführungszeichen prüfen",
    ),
    (
        "expected <block end>",
        "hier wird ein neuer Schlüssel erwartet – Einrückung und Anführungszeichen prüfen",
    ),
    (
        "did not find expected '-' indicator",
        "Einrückung passt nicht: hier wird ein Listeneintrag '- ' erwartet",
    ),
    ("did not find expected ',' or ']'", "Komma ',' oder schließende Klammer ']' erwartet"),
    ("expected ',' or ']'", "Komma ',' oder schließende Klammer ']' erwartet"),
    ("did not find expected ',' or '}'", "Komma ',' oder schließende Klammer '}' erwartet"),
    ("expected ',' or '}'", "Komma ',' oder schließende Klammer '}' erwartet"),
    (
        "found unexpected end of stream",
        "unerwartetes Dateiende – fehlt ein schließendes Anführungszeichen oder eine Klammer?",
    ),
    ("found unknown escape character", "unbekannte Escape-Sequenz (\\) in einer Zeichenkette"),
    ("block sequence entries are not allowed", "Listeneintrag '- ' an unerwarteter Stelle"),
    ("did not find expected node content", "hier wird ein Wert erwartet"),
    ("expected the node content", "hier wird ein Wert erwartet"),
    ("found unexpected ':'", "Doppelpunkt an unerwarteter Stelle"),
    ("found undefined tag handle", "unbekannter Tag (!…)"),
    (
        "character that cannot start any token",
        "dieses Zeichen darf hier nicht stehen (z. B. '@' oder '`' am Anfang eines Werts: "
        "bitte in Anführungszeichen setzen)",
    ),
    ("did not find expected alphabetic or numeric character", "ungültiger Anker- oder Aliasname"),
    ("expected alphabetic or numeric character", "ungültiger Anker- oder Aliasname"),
    ("did not find expected comment or line break", "nach dem Wert wird ein Zeilenende erwartet"),
    ("expected a comment or a line break", "nach dem Wert wird ein Zeilenende erwartet"),
    ("found unexpected document indicator", "Dokumentmarke ('---' oder '...') an unerwarteter Stelle"),
    ("did not find expected <document start>", "hier wird der Anfang eines Dokuments ('---') erwartet"),
    ("expected '<document start>'", "hier wird der Anfang eines Dokuments ('---') erwartet"),
)


@dataclass(slots=True)
class _Frame:
    """An open mapping or sequence while the tree is built."""

    container: dict[str, object] | list[object]
    path: str
    key: str | None = None  # a mapping's key whose value is still to come


def _parse_yaml(text: str, *, max_depth: int, max_nodes: int) -> object:
    try:
        loader = _EVENT_LOADER(text)
    except yaml.YAMLError as exc:  # pragma: no cover - _decode refused such characters already
        raise _yaml_syntax(exc, text) from None
    try:
        return _build(loader, max_depth=max_depth, max_nodes=max_nodes)
    except yaml.YAMLError as exc:
        raise _yaml_syntax(exc, text) from None
    finally:
        loader.dispose()


def _build(loader: Any, *, max_depth: int, max_nodes: int) -> object:
    # Hot loop (up to max_nodes events): exact type checks, no helper calls for plain values.
    stack: list[_Frame] = []
    root: object = None
    documents = 0
    nodes = 0
    get_event = loader.get_event
    while True:
        event = get_event()
        kind = type(event)
        if kind is yaml.ScalarEvent or kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
            nodes += 1
            if nodes > max_nodes:
                raise _Refusal(_too_many(max_nodes))
            if event.anchor is not None:
                raise _Refusal(_no_anchors(_where(event)), _path(stack))
            if kind is yaml.ScalarEvent:
                value = _scalar(event, stack)
                if not stack:
                    root = value
                    continue
                top = stack[-1]
                if isinstance(top.container, list):
                    top.container.append(value)
                elif top.key is None:
                    top.key = _yaml_key(value, event, top)
                else:
                    top.container[top.key] = value
                    top.key = None
                continue
            if event.tag not in (None, "!", _CORE + "map", _CORE + "seq"):
                raise _Refusal(_bad_tag(event.tag, _where(event)), _path(stack))
            if stack and stack[-1].key is None and isinstance(stack[-1].container, dict):
                found = "Objekt" if kind is yaml.MappingStartEvent else "Liste"
                raise _Refusal(
                    f"Schlüssel müssen Text sein, gefunden: {found} ({_where(event)}).", _path(stack)
                )
            if len(stack) >= max_depth:
                raise _Refusal(f"{_too_deep(max_depth)} ({_where(event)}).", _path(stack))
            container: dict[str, object] | list[object] = {} if kind is yaml.MappingStartEvent else []
            stack.append(_Frame(container, _path(stack)))
        elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
            done = stack.pop().container
            if not stack:
                root = done
                continue
            top = stack[-1]
            if isinstance(top.container, list):
                top.container.append(done)
            else:
                # A collection as a key was refused at its start: the key is known here.
                top.container[top.key or ""] = done
                top.key = None
        elif kind is yaml.AliasEvent:
            raise _Refusal(_no_anchors(_where(event)), _path(stack))
        elif kind is yaml.DocumentStartEvent:
            documents += 1
            if documents > 1:
                raise _Refusal(
                    "Die Datei enthält mehrere YAML-Dokumente (Trennlinie '---' in "
                    f"{_where(event)}); erlaubt ist genau eines."
                )
        elif kind is yaml.StreamEndEvent or event is None:
            break
    if documents == 0:
        raise _Refusal("Die Datei ist leer (sie enthält nur Kommentare).")
    return root


def _where(event: yaml.Event) -> str:
    mark = event.start_mark
    if mark is None:  # pragma: no cover - both parsers set marks
        return "Stelle unbekannt"
    return f"Zeile {mark.line + 1}, Spalte {mark.column + 1}"


def _path(stack: list[_Frame]) -> str:
    """The document path of the value that comes next (spec notation: ``a.b[2].c``)."""
    if not stack:
        return ""
    top = stack[-1]
    if isinstance(top.container, list):
        return f"{top.path}[{len(top.container)}]"
    if top.key is None:
        return top.path
    return f"{top.path}.{path_key(top.key)}" if top.path else path_key(top.key)


# Plain scalars starting with any other character are text; the resolver is not asked.
_RESOLVABLE_FIRST: Final = frozenset(yaml.resolver.Resolver.yaml_implicit_resolvers) - {None}
_DECIMAL_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]{0,99})")


def _scalar(event: yaml.ScalarEvent, stack: list[_Frame]) -> object:
    value: str = event.value
    tag = event.tag
    if tag is None or tag == "!":
        if not event.implicit[0] or (value and value[0] not in _RESOLVABLE_FIRST):
            return value
        tag = _RESOLVER.resolve(yaml.ScalarNode, value, event.implicit)
    if not tag.startswith(_CORE):
        raise _Refusal(_bad_tag(tag, _where(event)), _path(stack))
    kind = tag[len(_CORE) :]
    if kind in ("str", "merge", "value"):
        # "<<" and "=" would mean merge keys and default values in YAML 1.1: here they are text.
        return value
    if kind == "null":
        return None
    node = yaml.ScalarNode(tag, value)
    try:
        if kind == "int":
            if _DECIMAL_INT.fullmatch(value):
                return int(value)
            return _CONSTRUCTOR.construct_yaml_int(node)
        if kind == "float":
            if _PLAIN_DECIMAL.fullmatch(value):
                return _number(value.replace("_", ""))
            return _CONSTRUCTOR.construct_yaml_float(node)
        if kind == "bool":
            return _CONSTRUCTOR.construct_yaml_bool(node)
        if kind == "timestamp":
            try:
                if len(value) == 10:  # the common date-only form, without the slow regex
                    return dt.date.fromisoformat(value)
                return _CONSTRUCTOR.construct_yaml_timestamp(node)
            except ValueError:
                # 2020-02-30: left as text, so that the proposal check names the field.
                return value
    except (ValueError, KeyError, TypeError):
        if event.implicit[0]:
            problem = f"Die Zahl {quote(value)} hat zu viele Stellen"
        else:
            problem = f"Der Wert {quote(value)} passt nicht zum Tag {_show_tag(tag)}"
        raise _Refusal(f"{problem} ({_where(event)}).", _path(stack)) from None
    raise _Refusal(_bad_tag(tag, _where(event)), _path(stack))


def _yaml_key(value: object, event: yaml.ScalarEvent, frame: _Frame) -> str:
    if value == "<<" and event.implicit[0]:
        raise _Refusal(f"Merge-Schlüssel '<<' sind nicht erlaubt ({_where(event)}).", frame.path)
    if not isinstance(value, str):
        hint = " – bitte in Anführungszeichen setzen" if value is not None else ""
        raise _Refusal(
            f"Schlüssel müssen Text sein, gefunden: {describe(value)} ({_where(event)}){hint}.",
            frame.path,
        )
    if value in frame.container:
        raise _Refusal(f"Schlüssel {quote(value)} ist doppelt ({_where(event)}).", frame.path)
    return value


def _no_anchors(where: str) -> str:
    return (
        f"YAML-Anker und -Aliase (&name, *name) sind nicht erlaubt ({where}); bitte die Werte ausschreiben."
    )


def _bad_tag(tag: str, where: str) -> str:
    return f"Der YAML-Tag {_show_tag(tag)} ist nicht erlaubt ({where})."


def _show_tag(tag: str) -> str:
    shown = "!!" + tag[len(_CORE) :] if tag.startswith(_CORE) else tag
    return quote(shown)


def _yaml_syntax(exc: yaml.YAMLError, text: str) -> _SyntaxRefusal:
    problem = str(getattr(exc, "problem", None) or exc)
    mark = getattr(exc, "problem_mark", None)
    german = next((de for en, de in _YAML_MESSAGES if en in problem), None)
    if mark is None:
        return _SyntaxRefusal(_sentence(f"YAML-Syntaxfehler: {german or 'ungültige YAML-Syntax'}"))
    line, column = mark.line, mark.column
    lines = text.splitlines()
    if line < len(lines) and column < len(lines[line]) and lines[line][column] == "\t":
        german = _TAB_MESSAGE
    detail = german or f"ungültige YAML-Syntax (Parser meldet: {problem})"
    return _SyntaxRefusal(_sentence(f"YAML-Syntaxfehler in Zeile {line + 1}, Spalte {column + 1}: {detail}"))
