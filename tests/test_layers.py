"""The house keeps its layers: portal → processes/registry → workflows, never back up; only
workflows/engine/ imports SpiffWorkflow and only workflows/ imports it; no import circles.

Read from the source (every import statement, those inside functions too), so a shortcut taken
under deadline shows here before it shows in a review."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("config", "portal", "processes", "registry", "workflows")
# What each top-level package may import of the others (the floors, top to bottom).
MAY_IMPORT = {
    "portal": {"processes", "registry", "workflows", "config"},
    "processes": {"registry", "workflows"},
    "registry": {"workflows"},
    "workflows": set(),
    "config": {"workflows", "registry", "processes", "portal"},  # settings and URL wiring
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, module: str) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            found.add(prefix)
            # "from . import x" may name a module x.
            found.update(f"{prefix}.{alias.name}" for alias in node.names)
    return found


def _graph() -> dict[str, set[str]]:
    sources = {
        _module_name(path): path
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    }
    return {
        module: {name for name in _imports(path, module) if name in sources and name != module}
        | {name for name in _imports(path, module) if not name.startswith(PACKAGES)}
        for module, path in sources.items()
    }


GRAPH = _graph()


def test_only_the_engine_imports_spiffworkflow():
    offenders = [
        module
        for module, names in GRAPH.items()
        if not module.startswith("workflows.engine")
        and any(name.split(".")[0] == "SpiffWorkflow" for name in names)
    ]
    assert offenders == []


def test_only_the_host_imports_its_engine():
    offenders = [
        module
        for module, names in GRAPH.items()
        if not module.startswith("workflows.")
        and any(name.startswith("workflows.engine") for name in names)
    ]
    assert offenders == []


def test_dependencies_point_down_only():
    offenders = []
    for module, names in GRAPH.items():
        top = module.split(".")[0]
        for name in names:
            other = name.split(".")[0]
            if other in PACKAGES and other != top and other not in MAY_IMPORT[top]:
                offenders.append(f"{module} → {name}")
    assert offenders == []


def _reach(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for other in graph.get(todo.pop(), ()):
            if other in graph and other not in seen:
                seen.add(other)
                todo.append(other)
    return seen


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The groups of modules that reach each other through their imports."""
    reach = {node: _reach(graph, node) for node in graph}
    circles = {
        tuple(sorted(other for other in reach[node] if node in reach[other]))
        for node in graph
        if node in reach[node]
    }
    return sorted(list(c) for c in circles)


def test_no_import_circles():
    # A package's __init__ re-exporting its modules is not a circle of concerns.
    graph = {
        module: {name for name in names if not module.startswith(name + ".")}
        for module, names in GRAPH.items()
    }
    assert _circles(graph) == []


def test_the_circle_finder_finds_a_circle():
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
