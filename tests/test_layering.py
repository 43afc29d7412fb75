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

#: Back-edges that exist today and are being removed; the test fails when one is gone, so the
#: list only shrinks (issue 12 removed the last one, reports → api).
KNOWN_BACK_EDGES: set[tuple[str, str]] = set()
#: What the command line may import from the API: the app it serves (``kapacitet serve``).
CLI_API_MODULES = {"api.app"}


def _modules(path: Path) -> set[str]:
    """Every absolute module ``path`` imports (``from a.b import c`` counts as ``a.b``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _imports(path: Path) -> set[str]:
    return {name.split(".")[0] for name in _modules(path)}


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


def test_the_command_line_imports_only_the_app_from_api() -> None:
    """kapacitet/ reaches the workflow directly; from api it imports only the app it serves."""
    found = {
        str(path.relative_to(ROOT)): sorted(
            name
            for name in _modules(path)
            if name.split(".")[0] == "api" and name not in CLI_API_MODULES
        )
        for path in sorted((ROOT / "kapacitet").rglob("*.py"))
    }
    assert {path: names for path, names in found.items() if names} == {}


def test_no_router_imports_another_router() -> None:
    """Shared route logic lives in the workflow or interop, never in another router."""
    found = {
        path.stem: sorted(
            name
            for name in _modules(path)
            if name.startswith("api.routers.") and name != f"api.routers.{path.stem}"
        )
        for path in sorted((ROOT / "api" / "routers").glob("*.py"))
    }
    assert {router: names for router, names in found.items() if names} == {}
