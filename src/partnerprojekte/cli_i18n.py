"""German texts for click's and typer's own messages (usage, help headings, usage errors).

click and typer bind ``gettext.gettext`` when they are imported and ship no German catalogue, so the
command line installs this one before importing them: a person reads German everywhere.
"""

from __future__ import annotations

import gettext

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


def _gettext(message: str) -> str:
    return CATALOG.get(message, message)


def _ngettext(singular: str, plural: str, n: int) -> str:
    return _gettext(singular if n == 1 else plural)


def install() -> None:
    """Make ``gettext.gettext`` answer in German; must run before click or typer is imported."""
    gettext.gettext = _gettext
    gettext.ngettext = _ngettext
