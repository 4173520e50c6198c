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


def _names_the_outbox(node: ast.expr) -> bool:
    """``OutboxRow``, ``OUTBOX``, ``outbox.OUTBOX`` or ``TABLES["outbox"]``."""
    if isinstance(node, ast.Name):
        return node.id in ("OutboxRow", "OUTBOX")
    if isinstance(node, ast.Attribute):
        return node.attr in ("OutboxRow", "OUTBOX", "__table__") and _names_the_outbox(node.value)
    if isinstance(node, ast.Subscript):
        return isinstance(node.slice, ast.Constant) and node.slice.value == "outbox"
    return False


def _outbox_writes(tree: ast.Module) -> list[int]:
    """Lines that build an ``OutboxRow`` or call an ``insert`` on the outbox table."""
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        called = (
            func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        )
        inserts = called == "insert" and bool(node.args) and _names_the_outbox(node.args[0])
        if inserts or _names_the_outbox(func):
            lines.append(node.lineno)
    return lines


def test_only_db_outbox_writes_outbox_rows() -> None:
    # One write path: an event's rows by fan_out, every other row by pending_row and insert_new.
    home = PACKAGE / "db" / "outbox.py"
    found = [
        f"{p.relative_to(PACKAGE)}:{line}" for p in MODULES if p != home for line in _outbox_writes(_tree(p))
    ]
    assert found == []
    assert _outbox_writes(_tree(home)), "db/outbox.py writes no row: the rule looks for the wrong thing"


def test_the_outbox_rule_sees_each_way_of_writing_a_row() -> None:
    for source in (
        "insert(OutboxRow).values(kind='x')",
        "postgresql.insert(OUTBOX)",
        "sqlite.insert(OutboxRow.__table__)",
        "s.add(OutboxRow(kind='x'))",
        "insert(TABLES['outbox'])",
    ):
        assert _outbox_writes(ast.parse(source)), source
    assert _outbox_writes(ast.parse("insert(AuditRow)")) == []
