"""The import graph has no back-edge: each package imports only the layers below it.

Layers, lowest first (docs/architecture.md): ``capacity`` (domain data), ``solver`` (pure
optimisation), ``scenarios`` (simulation), ``workflow`` (access, runs, decisions, write paths),
``interop`` (FHIR), ``reports``, ``api`` (HTTP), ``kapacitet`` (the command line). Imports
inside functions count too.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("capacity", "solver", "scenarios", "workflow", "interop", "reports", "api", "kapacitet")

#: Back-edges that exist today and are being removed (issue 12 moves the meeting pack's run
#: queries out of api/); the test fails when one is gone, so the list only shrinks.
KNOWN_BACK_EDGES = {("reports", "api")}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def _edges() -> dict[tuple[str, str], list[str]]:
    """(importer layer, imported layer) → files, for every import between two layers."""
    edges: dict[tuple[str, str], list[str]] = {}
    for layer in LAYERS:
        for path in sorted((ROOT / layer).rglob("*.py")):
            for name in _imports(path) & set(LAYERS):
                if name != layer:
                    edges.setdefault((layer, name), []).append(str(path.relative_to(ROOT)))
    return edges


def test_no_package_imports_a_layer_above_it() -> None:
    back = {
        edge: files
        for edge, files in _edges().items()
        if LAYERS.index(edge[1]) > LAYERS.index(edge[0]) and edge not in KNOWN_BACK_EDGES
    }
    assert back == {}, "imports of a higher layer (see docs/architecture.md)"


def test_known_back_edges_still_exist() -> None:
    """A removed back-edge must leave KNOWN_BACK_EDGES too, so it cannot come back unseen."""
    assert set(_edges()) >= KNOWN_BACK_EDGES
