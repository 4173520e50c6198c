"""What every command group shares: exit codes, option types, error handling, the database, small parsers.

The one module of the command line that the others import; it imports none of them (no cycle). Heavy
modules (SQLAlchemy, pydantic) are imported inside the functions, so that ``--help`` stays instant.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from partnerprojekte.errors import (
    ConflictError,
    FieldError,
    NotFound,
    PartnerprojekteError,
    TransitionRefused,
    ValidationError,
)

if TYPE_CHECKING:
    from partnerprojekte.services import Services

EXIT_OK, EXIT_FAILED, EXIT_INVALID, EXIT_REFUSED, EXIT_CONFLICT = 0, 1, 2, 3, 4

# The option that gives an input the workflow refused for lack of it (``TransitionRefused.field``).
OPTION_FOR_INPUT = {
    "comment": "--comment",
    "visibility": "--visibility partner",
    "reasons": "--reason",
    "saeule_1_projekt": "--saeule-1-projekt",
}
# The command that satisfies a failed rule of the table, as a refusal's hint.
COMMAND_FOR_RULE = {"ressort_assigned": "assign-ressort", "all_criteria_met_or_confirmed": "confirm"}
# The inputs the use cases name in their field errors, as this command line calls them.
OPTION_FOR_FIELD = {
    "actor": "--as",
    "recipient": "--to",
    "name": "--name",
    "ressort": "--ressort",
    "organisation": "--organisation",
    "email": "EMAIL",
    "text": "TEXT",
    "event": "EVENT",
    "status": "--status",
    "proposal": "--proposal",
    "runde": "--runde",
    "jahr": "--jahr",
    "abgabe_bis": "--abgabe-bis",
    "abschnitte": "--abschnitte",
    "umsetzungsstand": "--umsetzungsstand",
    "kommentar": "--kommentar",
    "projekt_id": "PROJEKT_ID",
}

JsonOpt = Annotated[bool, typer.Option("--json", help="Ausgabe als JSON (englische Schlüssel).")]
AsOpt = Annotated[str, typer.Option("--as", help="E-Mail der handelnden Person.", metavar="EMAIL")]
AdminOpt = Annotated[str, typer.Option("--as", metavar="EMAIL", help="E-Mail der handelnden Administration.")]
EmailArg = Annotated[str, typer.Argument(metavar="EMAIL", help="E-Mail-Adresse der Person.")]
IdArg = Annotated[str, typer.Argument(help="Vorschlags-ID, z. B. PP-0001.", metavar="ID")]
FileArg = Annotated[
    Path,
    typer.Argument(help="Vorschlagsdatei (YAML oder JSON); - liest die Standardeingabe.", metavar="DATEI"),
]


def group(help_text: str, **options: Any) -> typer.Typer:
    """A command group with the German usage line (typer copies these placeholders to every command)."""
    return typer.Typer(
        help=help_text,
        no_args_is_help=True,
        rich_markup_mode=None,
        pretty_exceptions_enable=False,
        options_metavar="[OPTIONEN]",
        subcommand_metavar="BEFEHL [ARGUMENTE]...",
        **options,
    )


def echo_json(data: Any) -> None:
    """Print data as indented JSON with the German text unescaped."""
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def fail(message: str, code: int, *, as_json: bool = False, data: dict[str, Any] | None = None) -> NoReturn:
    """Print the German message (and with ``--json`` the error object) and exit with ``code``."""
    if as_json:
        typer.echo(
            json.dumps({"error": {"message": message, "exit_code": code, **(data or {})}}, ensure_ascii=False)
        )
    typer.echo(message, err=True)
    raise typer.Exit(code)


def handle(exc: PartnerprojekteError, as_json: bool) -> NoReturn:
    """Map an error to its exit code and German message (the one place that does so)."""
    if isinstance(exc, ValidationError):
        named = [FieldError(OPTION_FOR_FIELD.get(e.path, e.path), e.message) for e in exc.errors]
        fail(
            f"Ungültige Eingabe: {ValidationError(named, source=exc.source).render()}",
            EXIT_INVALID,
            as_json=as_json,
            data={"kind": "invalid", "fields": [{"path": e.path, "message": e.message} for e in exc.errors]},
        )
    if isinstance(exc, NotFound):
        option = OPTION_FOR_FIELD.get(exc.field or "")
        found = f"{option}: {exc}" if option else str(exc)
        if exc.field in ("actor", "person"):
            found = found.removesuffix(".") + " (users add)."  # how such a person comes to exist
        fail(f"Nicht gefunden: {found}", EXIT_INVALID, as_json=as_json, data={"kind": "not_found"})
    if isinstance(exc, TransitionRefused):
        fail(
            f"Abgelehnt: {_refusal(exc)}",
            EXIT_REFUSED,
            as_json=as_json,
            data={"kind": "refused", **exc.details()},
        )
    if isinstance(exc, ConflictError):
        fail(f"Konflikt: {exc}", EXIT_CONFLICT, as_json=as_json, data={"kind": "conflict"})
    fail(f"Fehler: {exc}", EXIT_FAILED, as_json=as_json, data={"kind": "error"})


def _refusal(exc: TransitionRefused) -> str:
    """A refusal worded for the command line: a person named by ``--as`` leads, a missing input trails."""
    if exc.field in OPTION_FOR_FIELD:
        return f"{OPTION_FOR_FIELD[exc.field]}: {exc}"
    hint = COMMAND_FOR_RULE.get(exc.rule or "") or OPTION_FOR_INPUT.get(exc.field or "")
    return with_option(str(exc), hint)


def with_option(message: str, option: str | None) -> str:
    """„… braucht einen Kommentar.“ → „… braucht einen Kommentar (--comment).“: the core names the input,
    the command line its option."""
    if not option:
        return message
    body = message[:-1] if message.endswith(".") else message
    return f"{body} ({option})."


@contextmanager
def handled(as_json: bool = False) -> Iterator[None]:
    """Run a command's body; a refusal or bad input ends the command with its exit code and message."""
    try:
        yield
    except PartnerprojekteError as exc:
        handle(exc, as_json)


def services() -> Services:
    """The services on the configured database; a German error if it was never initialised."""
    # Commands call it as ``support.services()`` (through the module): a test can swap in its own database.
    from partnerprojekte.config import get_settings
    from partnerprojekte.db.engine import Database, initialised_engine
    from partnerprojekte.services import Services

    settings = get_settings()
    return Services(Database(initialised_engine(settings.resolved_database_url())), settings)


def read_file(path: Path, limit: int | None = None) -> bytes:
    """Read at most one byte more than the limit: enough to refuse an oversized file, never more."""
    from partnerprojekte.config import get_settings

    limit = limit or get_settings().max_proposal_bytes
    try:
        if str(path) == "-":
            data = sys.stdin.buffer.read(limit + 1)
        else:
            with path.open("rb") as fh:
                data = fh.read(limit + 1)
        if len(data) > limit:
            # Only limit + 1 bytes were read: name the real size (not "limit + 1") where it is known.
            size = f"{number(path.stat().st_size)} Bytes" if str(path) != "-" else "zu viele Bytes"
            raise ValidationError(
                f"DATEI: „{path}“ ist zu groß: {size}, erlaubt sind höchstens {number(limit)} Bytes."
            )
        return data
    except FileNotFoundError:
        raise ValidationError(f"DATEI: „{path}“ gibt es nicht.") from None
    except IsADirectoryError:
        raise ValidationError(f"DATEI: „{path}“ ist ein Verzeichnis, keine Datei.") from None
    except PermissionError:
        raise ValidationError(f"DATEI: „{path}“ ist nicht lesbar (keine Berechtigung).") from None
    except OSError as exc:
        raise ValidationError(f"DATEI: „{path}“ lässt sich nicht lesen: {os_reason(exc)}") from None


def number(n: int) -> str:
    """1234567 → 1.234.567 (German thousands separator)."""
    return f"{n:,}".replace(",", ".")


def os_reason(exc: OSError) -> str:
    """The operating system's reason in German for the usual cases (its own text is English)."""
    import errno

    reasons = {
        errno.ENOENT: "Datei oder Verzeichnis gibt es nicht",
        errno.EACCES: "keine Berechtigung",
        errno.EPERM: "keine Berechtigung",
        errno.EISDIR: "ist ein Verzeichnis",
        errno.ENOTDIR: "ein Teil des Pfades ist kein Verzeichnis",
        errno.ENOSPC: "kein Speicherplatz mehr frei",
        errno.EROFS: "Dateisystem ist schreibgeschützt",
    }
    return reasons.get(exc.errno or 0, exc.strerror or str(exc))


def parse_proposal_id(text: str) -> int:
    """``PP-0001`` (or ``1``) → 1; a malformed id is a wrong argument, not „nicht gefunden“."""
    from partnerprojekte.ids import parse_id

    try:
        return parse_id(text)
    except NotFound as exc:
        raise ValidationError(f"ID: {exc}") from None


def choice(value: str, enum_cls: Any, what: str) -> Any:
    """The enum member named ``value`` (any case); else a German error listing the allowed values."""
    try:
        return enum_cls(value.strip().lower())
    except ValueError:
        allowed = ", ".join(m.value for m in enum_cls)
        raise ValidationError(f"{what}: unbekannter Wert „{value}“ – erlaubt: {allowed}.") from None


def local_time(iso: str | None) -> str:
    """An ISO timestamp as local „TT.MM.JJJJ HH:MM“ in the configured time zone; „–“ for none."""
    if not iso:
        return "–"
    from zoneinfo import ZoneInfo

    from partnerprojekte.config import get_settings

    moment = dt.datetime.fromisoformat(iso).astimezone(ZoneInfo(get_settings().timezone))
    return moment.strftime("%d.%m.%Y %H:%M")
