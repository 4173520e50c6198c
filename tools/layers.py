"""The layer picture of docs/architecture.md, generated from the layers contract in pyproject.toml."""

from __future__ import annotations

import argparse
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BEGIN = "<!-- Schichtenbild: erzeugt von `make docs` aus pyproject.toml, nicht von Hand ändern -->"
END = "<!-- Ende des Schichtenbilds -->"

# What each part is, as a newcomer needs to hear it (the contract only knows names).
ROLES = {
    "cli": "Kommandozeile (typer)",
    "runner": "`partnerprojekte run`",
    "web": "API, Seiten, Anmeldung",
    "flows": "Prefect-Flows",
    "importer": "Import mit Vorgeschichte",
    "mailing": "Versand, Erinnerungen, Wochenüberblicke",
    "services": "Anwendungsfälle (schreiben)",
    "reading": "Lesemodell (lesen)",
    "db": "SQLAlchemy, Protokoll, Outbox",
    "notifications": "Vorlagen, MIME, SMTP",
    "config": "Einstellungen",
    "access": "wer was sieht",
    "audience": "wer benachrichtigt wird",
    "formats": "sicheres YAML/JSON",
    "rules": "Kriterien",
    "states": "Zustandsmaschine",
    "proposal": "Einreichungsformat",
    "reference": "Referenzdaten",
    "ids": "PP-Nummern",
    "model": "Werte",
    "errors": "Fehler",
}


def layers(pyproject: Path = ROOT / "pyproject.toml") -> list[list[str]]:
    """The layers of the contract, top first, each as its independent parts."""
    config = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    for contract in config["tool"]["importlinter"]["contracts"]:
        if contract["type"] == "layers":
            return [[part.strip() for part in layer.split("|")] for layer in contract["layers"]]
    raise LookupError("pyproject.toml hat keinen layers-Vertrag")


def picture(found: list[list[str]]) -> str:
    """The layers as a text picture: each line may import only from the lines below it."""
    cells = found
    width = max(len("  │  ".join(c)) for c in cells)
    lines = ["┌" + "─" * (width + 2) + "┐"]
    for i, layer in enumerate(cells):
        lines.append("│ " + "  │  ".join(layer).center(width) + " │")
        if i < len(cells) - 1:
            lines.append("│ " + "↓".center(width) + " │")
    lines.append("└" + "─" * (width + 2) + "┘")
    return "\n".join(lines)


def section(found: list[list[str]]) -> str:
    """The marked block as it belongs into docs/architecture.md."""
    legend = "\n".join(
        f"- `{p}`: {ROLES.get(p, '(ohne Beschreibung in tools/layers.py)')}" for layer in found for p in layer
    )
    return f"{BEGIN}\n```text\n{picture(found)}\n```\n\n{legend}\n{END}"


def rewrite(doc: Path) -> bool:
    """Replace the marked block in ``doc``; True if it changed."""
    text = doc.read_text(encoding="utf-8")
    start, end = text.index(BEGIN), text.index(END) + len(END)
    new = text[:start] + section(layers()) + text[end:]
    doc.write_text(new, encoding="utf-8")
    return new != text


def main() -> int:
    """``python -m tools.layers [--check]``: write (or check) the picture in docs/architecture.md."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="only report whether the picture is current")
    doc = ROOT / "docs" / "architecture.md"
    if parser.parse_args().check:
        current = section(layers()) in doc.read_text(encoding="utf-8")
        print("aktuell" if current else "veraltet: make docs")
        return 0 if current else 1
    print("geändert" if rewrite(doc) else "unverändert")
    return 0


if __name__ == "__main__":
    sys.exit(main())
