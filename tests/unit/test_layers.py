"""The layers contract covers the whole package, its picture in the docs is current, and it can fail."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tools.layers import layers, section

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "partnerprojekte"


def _parts() -> set[str]:
    """Every top-level module and subpackage of the package."""
    found = {p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    found |= {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    return found


def test_every_part_of_the_package_is_in_exactly_one_layer() -> None:
    named = [part for layer in layers() for part in layer]
    assert sorted(named) == sorted(set(named)), "ein Teil steht in zwei Schichten"
    assert set(named) == _parts()


def test_the_picture_in_the_docs_is_generated_from_the_contract() -> None:
    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert section(layers()) in doc, "docs/architecture.md ist veraltet: make docs"


def test_an_import_upwards_breaks_the_contract(tmp_path: Path) -> None:
    shutil.copytree(
        PACKAGE, tmp_path / "src" / "partnerprojekte", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    # The lowest layer reaches for the database: exactly what the contract exists to stop.
    model = tmp_path / "src" / "partnerprojekte" / "model.py"
    model.write_text(
        model.read_text(encoding="utf-8") + "\nimport partnerprojekte.db.schema\n", encoding="utf-8"
    )
    lint = Path(sys.executable).parent / "lint-imports"
    env = {"PYTHONPATH": str(tmp_path / "src"), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [str(lint), "--no-cache"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Schichten: Ränder oben, Kern unten BROKEN" in result.stdout
    assert "partnerprojekte.model -> partnerprojekte.db.schema" in result.stdout
