"""Imports point down the layers: hub -> {protocols, discover} -> {engine, registry}; engine and registry import
nothing of ours; pm4py (AGPL-3.0, an optional extra) is imported by nothing but discover's mining."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ALLOWED = {
    "hub": {"hub", "protocols", "discover", "engine", "registry"},
    "protocols": {"protocols", "engine", "registry"},
    "discover": {"discover", "engine", "registry"},
    "engine": {"engine"},
    "registry": {"registry"},
}


def imported_packages(path: Path, among: set[str] | None = None) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found & (set(ALLOWED) if among is None else among)


def layer_violations(root: Path) -> list[str]:
    problems = []
    for package, allowed in ALLOWED.items():
        for path in sorted((root / package).rglob("*.py")):
            for target in sorted(imported_packages(path) - allowed):
                problems.append(f"{path.relative_to(root)} imports {target}, which is above {package}")
    return problems


def test_no_import_points_up_the_layers() -> None:
    assert layer_violations(REPO) == []


def test_the_layer_check_catches_an_upward_import(tmp_path: Path) -> None:
    for package in ALLOWED:
        (tmp_path / package).mkdir()
    (tmp_path / "engine" / "bad.py").write_text("from hub.cli import app\nimport protocols\n")
    assert layer_violations(tmp_path) == [
        "engine/bad.py imports hub, which is above engine",
        "engine/bad.py imports protocols, which is above engine",
    ]


def test_only_discovers_mining_imports_pm4py() -> None:
    """pm4py is AGPL-3.0 and optional (``agenthub[discover]``): the core runs and exports without it."""
    importers = [str(path.relative_to(REPO)) for package in ALLOWED for path in sorted((REPO / package).rglob("*.py"))
                 if imported_packages(path, {"pm4py"})]
    assert set(importers) <= {"discover/mining.py"}
