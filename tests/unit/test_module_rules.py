"""House rules of the package's modules: a long module says why at its top, no private name crosses a
module boundary, no error class is defined and never raised."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "partnerprojekte"
MODULES = sorted(p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts)
LIMIT = 400
REASON = "Longer than 400 lines on purpose:"


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def test_a_module_over_400_lines_gives_its_reason_at_the_top() -> None:
    silent = [
        f"{p.relative_to(PACKAGE)} ({n} Zeilen)"
        for p in MODULES
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > LIMIT
        and REASON not in (ast.get_docstring(_tree(p)) or "")
    ]
    assert silent == []


def test_no_private_name_is_imported_from_another_module() -> None:
    found = [
        f"{p.relative_to(PACKAGE)}: from {node.module} import {alias.name}"
        for p in MODULES
        for node in ast.walk(_tree(p))
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("partnerprojekte")
        for alias in node.names
        if alias.name.startswith("_") and not alias.name.startswith("__")
    ]
    assert found == []


def test_every_error_class_of_the_package_is_raised_or_caught_somewhere() -> None:
    trees = {p: _tree(p) for p in MODULES}
    defined = {
        node.name
        for tree in trees.values()
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef)
        and any(
            isinstance(b, ast.Name) and (b.id.endswith(("Error", "Refused")) or b.id == "Exception")
            for b in node.bases
        )
    }
    used: set[str] = set()
    for tree in trees.values():
        for node in ast.walk(tree):
            if isinstance(node, ast.Raise) and node.exc is not None:
                target = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
                if isinstance(target, ast.Name):
                    used.add(target.id)
                elif isinstance(target, ast.Attribute):
                    used.add(target.attr)
            if isinstance(node, ast.ExceptHandler) and node.type is not None:
                kinds = node.type.elts if isinstance(node.type, ast.Tuple) else [node.type]
                used |= {k.id for k in kinds if isinstance(k, ast.Name)}
                used |= {k.attr for k in kinds if isinstance(k, ast.Attribute)}
    # A base class counts as used when a used class derives from it (to a fixpoint: order-free).
    bases = {
        node.name: {b.id for b in node.bases if isinstance(b, ast.Name)}
        for tree in trees.values()
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef)
    }
    while more := set().union(*(bases.get(name, set()) for name in used)) - used:
        used |= more
    unused = sorted(defined - used)
    assert unused == []
