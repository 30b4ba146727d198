"""The package's layers, read from the source: every import (function bodies included) points down, no circles.

core      -> the standard library and core only (no NumPy, rich or typer)
engine    -> core, engine, NumPy
io        -> core, io, engine (to build arrays), NumPy
render    -> core, render, NumPy, rich (an ``if TYPE_CHECKING:`` import is a type, not a dependency)
cli       -> everything
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "tconvcalc"
ALLOWED = {
    "core": {"core"},
    "engine": {"core", "engine"},
    "io": {"core", "io", "engine"},
    "render": {"core", "render"},
    "cli": {"core", "engine", "io", "render", "cli", ""},
    "": {"core", "engine", "cli", ""},  # tconvcalc/__init__.py and __main__.py: the public API
}
THIRD_PARTY = {"core": set(), "engine": {"numpy"}, "io": {"numpy", "yaml", "tomli"}, "render": {"numpy", "rich"}}


def module_name(path: Path) -> str:
    parts = ["tconvcalc", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def _type_checking_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def imports(name: str) -> list[tuple[str, int]]:
    """Every module ``name`` imports, anywhere in the file, as (module, line); type-only imports left out."""
    tree = ast.parse(MODULES[name].read_text())
    typing_only = _type_checking_lines(tree)
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in typing_only:
            continue
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:  # `from tconvcalc.core import sizes` imports the module tconvcalc.core.sizes
                sub = f"{node.module}.{alias.name}"
                found.append((sub if sub in MODULES else node.module, node.lineno))
    return found


def layer_of(module: str) -> str:
    """``tconvcalc.core.sizes`` -> ``core``; the package itself and ``__main__`` -> ``""``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in ALLOWED else ""


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_point_down_the_layers(name: str) -> None:
    """A module imports only from its own layer and the layers below it, and only the libraries its layer uses."""
    layer = layer_of(name)
    for target, line in imports(name):
        if target.startswith("tconvcalc"):
            assert layer_of(target) in ALLOWED[layer], f"{name}:{line} imports {target} ({layer} may not)"
        elif layer in THIRD_PARTY:
            top = target.split(".")[0]
            heavy = {"numpy", "rich", "typer", "click", "torch", "yaml", "tomli"}
            assert top not in heavy or top in THIRD_PARTY[layer], f"{name}:{line} imports {target}"


def test_no_import_cycles() -> None:
    """No circle between modules, counting imports inside functions: each module can be read on its own."""
    graph = {name: {t for t, _ in imports(name) if t in MODULES and t != name} for name in MODULES}
    # a package's __init__ is imported by its submodules' imports; it may import them only lazily (strings)
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle = path[path.index(nxt) :] + [nxt]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name)


def test_the_walker_sees_function_level_imports() -> None:
    """The checker itself: an import inside a function body is found (so a hidden cycle cannot slip through)."""
    found = dict(imports("tconvcalc.cli.shape"))
    assert any(t.startswith("tconvcalc.render") for t in found)
