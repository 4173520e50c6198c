"""The package has no import cycle: not at module level, not through imports inside functions."""

from __future__ import annotations

import grimp  # the import graph of import-linter (a dependency of it, in the dev group)


def cycles(package: str) -> list[list[str]]:
    """Groups of modules that import each other in a circle (strongly connected, Tarjan)."""
    # Imports under TYPE_CHECKING are for the type checker only and never run: they do not count.
    graph = grimp.build_graph(package, exclude_type_checking_imports=True, cache_dir=None)
    edges = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in sorted(graph.modules)}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in edges[module]:
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in edges:
        if module not in index:
            visit(module)
    return found


def test_no_module_of_the_package_imports_itself_through_others() -> None:
    assert cycles("partnerprojekte") == []
