"""The import graph, built from the source: no cycle, and no arrow from a lower layer up.

Every module of ``hotline/`` and ``workers/`` sits in one layer of :data:`LAYERS` (the README's
Development section draws them); a module may import its own layer's modules and those below.
Imports made only for type checking count too: they are a dependency a reader follows all the
same. Deferred imports inside a function count as well.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ROOT_PACKAGE = "hotline"

# Lowest first. A module belongs to the entry naming it or the nearest package above it; the
# root package names only itself (its app factory), so a new module at the top of hotline/
# must be placed here on purpose.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("hotline.domain",),
    ("hotline.infra", "hotline.settings", "hotline.catalogue"),
    ("hotline.db",),
    ("hotline.sms",),
    ("hotline.services",),
    ("hotline.runtime",),
    ("hotline.background",),
    ("hotline.web",),
    ("hotline", "hotline.cli", "hotline.devtools", "workers"),
)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in ("hotline", "workers"):
        for path in sorted((ROOT / package).rglob("*.py")):
            found[module_name(path)] = path
    return found


def imported(path: Path, name: str, known: set[str]) -> Iterator[tuple[str, int]]:
    """The project modules ``path`` imports, with the line of each import."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # "from hotline import jobs" names a module; "from hotline import create_app" not.
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        for target in targets:
            module = _known_prefix(target, known)
            if module is not None and module != name:
                yield module, node.lineno


def _known_prefix(target: str, known: set[str]) -> str | None:
    while target:
        if target in known:
            return target
        target = target.rpartition(".")[0]
    return None


def graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    edges: dict[str, set[str]] = {}
    for name, path in found.items():
        edges[name] = {target for target, _ in imported(path, name, known)}
    # "from hotline.db import models" also names the package hotline.db: drop an arrow to a
    # package the module itself is inside (its __init__ runs first anyway, and is checked on
    # its own).
    for name, targets in edges.items():
        edges[name] = {t for t in targets if not name.startswith(t + ".")}
    return edges


def layer_of(name: str) -> int:
    best: tuple[int, int] | None = None  # (length of the matching prefix, layer)
    for index, layer in enumerate(LAYERS):
        for prefix in layer:
            inside = prefix != ROOT_PACKAGE and name.startswith(prefix + ".")
            if (name == prefix or inside) and (best is None or len(prefix) > best[0]):
                best = (len(prefix), index)
    if best is None:
        raise AssertionError(f"{name} is in no layer: add it to LAYERS")
    return best[1]


def upward(edges: dict[str, set[str]]) -> list[str]:
    return sorted(
        f"{source} ({LAYERS[layer_of(source)][0]}) imports {target} ({LAYERS[layer_of(target)][0]})"
        for source, targets in edges.items()
        for target in targets
        if layer_of(target) > layer_of(source)
    )


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_every_module_is_in_a_layer() -> None:
    for name in modules():
        layer_of(name)


def test_no_module_imports_a_higher_layer() -> None:
    assert upward(graph()) == []


def test_the_import_graph_has_no_cycle() -> None:
    assert cycles(graph()) == []


def test_the_domain_imports_nothing_but_the_domain() -> None:
    edges = graph()
    outside = {
        f"{source} imports {target}"
        for source, targets in edges.items()
        if source.startswith("hotline.domain")
        for target in targets
        if not target.startswith("hotline.domain")
    }
    assert outside == set()


# -- the checks can fail ---------------------------------------------------------------------


def test_an_upward_arrow_is_reported() -> None:
    edges = {"hotline.domain.triage": {"hotline.services.queue"}, "hotline.services.queue": set()}
    assert upward(edges) == [
        "hotline.domain.triage (hotline.domain) imports hotline.services.queue (hotline.services)"
    ]


def test_a_cycle_is_reported() -> None:
    edges = {
        "hotline.services.a": {"hotline.services.b"},
        "hotline.services.b": {"hotline.services.c"},
        "hotline.services.c": {"hotline.services.a"},
        "hotline.services.d": {"hotline.services.a"},
    }
    assert cycles(edges) == [["hotline.services.a", "hotline.services.b", "hotline.services.c"]]


def test_a_module_outside_every_layer_is_reported() -> None:
    with pytest.raises(AssertionError, match=r"hotline_extra\.thing is in no layer"):
        layer_of("hotline_extra.thing")


def test_relative_and_type_only_imports_are_followed(tmp_path: Path) -> None:
    source = tmp_path / "mod.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "from . import sibling\n"
        "if TYPE_CHECKING:\n"
        "    from hotline.runtime import Runtime\n"
        "def later():\n"
        "    from hotline.services import queue\n"
    )
    known = {"hotline.services.sibling", "hotline.runtime", "hotline.services.queue"}
    found = {target for target, _ in imported(source, "hotline.services.mod", known)}
    assert found == known
