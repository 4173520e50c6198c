"""German texts for click's and typer's own messages (usage, help headings, usage errors).

click and typer bind ``gettext.gettext`` when they are imported and ship no German catalogue, so the
command line installs this one before importing them: a person reads German everywhere.

Newer typer releases (0.2x) ship their own copy of click (``typer._click``) whose texts are plain English
strings, not gettext calls. ``install`` therefore also puts German into the usage line and the help
option, and ``usage_error`` translates the usage errors that copy raises.
"""

from __future__ import annotations

import gettext
import re
from typing import Any

CATALOG: dict[str, str] = {
    "Usage:": "Aufruf:",
    "Options": "Optionen",
    "Arguments": "Argumente",
    "Commands": "Befehle",
    "Positional arguments": "Positionsargumente",
    "Error": "Fehler",
    "Error: {message}": "Fehler: {message}",
    "Show this message and exit.": "Diese Hilfe anzeigen und beenden.",
    "Show the version and exit.": "Die Version anzeigen und beenden.",
    "Aborted!": "Abgebrochen.",
    "Aborted.": "Abgebrochen.",
    "Missing argument": "Fehlendes Argument",
    "Missing option": "Fehlende Option",
    "Missing parameter": "Fehlender Parameter",
    "Missing {param_type}": "Fehlend: {param_type}",
    "Missing parameter: {param_name}": "Fehlender Parameter: {param_name}",
    "Missing command.": "Es fehlt ein Befehl.",
    "No such command {name!r}.": "Unbekannter Befehl {name!r}.",
    "No such option {name!r}.": "Unbekannte Option {name!r}.",
    "Did you mean {possibility}?": "Meinten Sie {possibility}?",
    "(Did you mean one of: {possibilities}?)": "(Meinten Sie eine von: {possibilities}?)",
    "Option {name!r} requires an argument.": "Die Option {name!r} braucht einen Wert.",
    "Option {name!r} requires {nargs} arguments.": "Die Option {name!r} braucht {nargs} Werte.",
    "Option {name!r} does not take a value.": "Die Option {name!r} nimmt keinen Wert.",
    "Got unexpected extra argument ({args})": "Unerwartetes zusätzliches Argument ({args})",
    "Got unexpected extra arguments ({args})": "Unerwartete zusätzliche Argumente ({args})",
    "Invalid value for {param_hint}: {message}": "Ungültiger Wert für {param_hint}: {message}",
    "Invalid value: {message}": "Ungültiger Wert: {message}",
    "{value!r} is not one of {choices}.": "{value!r} ist keiner von {choices}.",
    "{value!r} is not {choice}.": "{value!r} ist nicht {choice}.",
    "{value!r} is not a valid {number_type}.": "{value!r} ist keine gültige Zahl.",
    "{value} is not in the range {range}.": "{value} liegt nicht im Bereich {range}.",
    "{value!r} is not a valid boolean. Recognized values: {states}": (
        "{value!r} ist kein Wahrheitswert. Erlaubt: {states}"
    ),
    "{value!r} does not match the format {format}.": "{value!r} hat nicht das Format {format}.",
    "{value!r} does not match the formats {formats}.": "{value!r} hat keines der Formate {formats}.",
    "{name} {filename!r} does not exist.": "{name} {filename!r} gibt es nicht.",
    "{name} {filename!r} is a directory.": "{name} {filename!r} ist ein Verzeichnis.",
    "{name} {filename!r} is a file.": "{name} {filename!r} ist eine Datei.",
    "{name} {filename!r} is not readable.": "{name} {filename!r} ist nicht lesbar.",
    "{name} {filename!r} is not writable.": "{name} {filename!r} ist nicht schreibbar.",
    "{name} {filename!r} is not executable.": "{name} {filename!r} ist nicht ausführbar.",
    "Could not open file {filename!r}: {message}": "Datei {filename!r} lässt sich nicht öffnen: {message}",
    "Try '{command} {option}' for help.": "Hilfe mit „{command} {option}“.",
    "Try [blue]'{command_path} {help_option}'[/] for help.": (
        "Hilfe mit [blue]„{command_path} {help_option}“[/]."
    ),
    "[default: {}]": "[Standard: {}]",
    "[env var: {}]": "[Umgebungsvariable: {}]",
    "[required]": "[Pflicht]",
    "default: {default}": "Standard: {default}",
    "env var: {var}": "Umgebungsvariable: {var}",
    "required": "Pflicht",
    "(deprecated) ": "(veraltet) ",
    "deprecated": "veraltet",
    "file": "Datei",
    "directory": "Verzeichnis",
    "path": "Pfad",
    "unknown error": "unbekannter Fehler",
    "Choose from:\n\t{choices}": "Zur Auswahl:\n\t{choices}",
}

# The usage errors of typer's own click copy, as (English pattern, German text); ``{name}`` groups are
# carried over. Checked in order, the first match wins; an unknown message stays as it is.
_USAGE_ERRORS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p, re.DOTALL), german)
    for p, german in [
        (r"^Missing argument (?P<hint>.+?)\.(?P<rest>.*)$", "Fehlendes Argument {hint}.{rest}"),
        (r"^Missing option (?P<hint>.+?)\.(?P<rest>.*)$", "Fehlende Option {hint}.{rest}"),
        (r"^Missing parameter:? (?P<hint>.+?)\.?$", "Fehlender Parameter {hint}."),
        (
            r"^No such option: (?P<name>\S+) \(Possible options: (?P<more>.+)\)$",
            "Unbekannte Option {name} (meinten Sie: {more}?)",
        ),
        (r"^No such option: (?P<name>.+)$", "Unbekannte Option {name}."),
        (r"^Got unexpected extra argument(?:s|\(s\))? \((?P<args>.*)\)$", "Unerwartete Argumente: {args}"),
        (r"^Option (?P<name>\S+) requires an argument\.$", "Die Option {name} braucht einen Wert."),
        (r"^Option (?P<name>\S+) requires (?P<n>\d+) arguments\.$", "Die Option {name} braucht {n} Werte."),
        (r"^Option (?P<name>\S+) does not take a value\.$", "Die Option {name} nimmt keinen Wert."),
        (r"^Invalid value for (?P<hint>.+?): (?P<msg>.*)$", "Ungültiger Wert für {hint}: {msg}"),
        (r"^Invalid value: (?P<msg>.*)$", "Ungültiger Wert: {msg}"),
        (r"^(?P<head>.*)\. Did you mean (?P<some>.+)\?$", "{head}. Meinten Sie {some}?"),
    ]
]


def _gettext(message: str) -> str:
    return CATALOG.get(message, message)


def _ngettext(msgid1: str, msgid2: str, n: int) -> str:
    return _gettext(msgid1 if n == 1 else msgid2)


def install() -> None:
    """Make ``gettext.gettext`` answer in German; must run before click or typer is imported."""
    gettext.gettext = _gettext
    gettext.ngettext = _ngettext
    _localise_typer_click()


def _localise_typer_click() -> None:
    """German usage line and help option for typer's own copy of click (no gettext there)."""
    try:
        from typer._click import core, formatting
    except ImportError:  # a typer that uses click itself: the gettext catalogue covers it
        return
    if getattr(formatting.HelpFormatter.write_usage, "_german", False):
        return  # installed already
    write_usage = formatting.HelpFormatter.write_usage
    get_help_option = core.Command.get_help_option

    def german_write_usage(self: Any, prog: str, args: str = "", prefix: str | None = None) -> None:
        write_usage(self, prog, args, f"{_gettext('Usage:')} " if prefix is None else prefix)

    def german_help_option(self: Any, ctx: Any) -> Any:
        option = get_help_option(self, ctx)
        if option is not None and option.help:
            option.help = _gettext(option.help)
        if option is not None and option.default is None:
            # An unused --help flag defaults to None, which typer coerces through pydantic: that import
            # alone costs more than the whole help text. False is a bool and skips the coercion.
            option.default = False
        return option

    german_write_usage._german = True  # type: ignore[attr-defined]
    formatting.HelpFormatter.write_usage = german_write_usage  # type: ignore[method-assign]
    core.Command.get_help_option = german_help_option  # type: ignore[method-assign]


def usage_error(message: str) -> str:
    """A usage error of click or typer in German (messages that are German already pass through)."""
    for pattern, german in _USAGE_ERRORS:
        match = pattern.match(message)
        if match:
            groups = {k: usage_error(v) if k == "head" else (v or "") for k, v in match.groupdict().items()}
            text = german.format(**groups)
            return text.replace("Choose from:", "Zur Auswahl:")
    return message
