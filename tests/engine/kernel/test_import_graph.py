"""The engine's modules import each other without cycles, and the kernel imports nothing inside functions.

A cycle of imports is held open only by an import inside a function (or by
import order); both hide a dependency that the layering should make plain.
"""

from __future__ import annotations

import ast
from pathlib import Path

import grimp

from engine.graphs import strongly_connected

ROOT = Path(__file__).resolve().parents[3]


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The strongly connected components of more than one module."""
    modules = graph.modules
    found = strongly_connected(modules, lambda m: sorted(graph.find_modules_directly_imported_by(m)))
    return [component for component in found if len(component) > 1]


def _report(cycles: list[list[str]]) -> str:
    return "import cycles:\n" + "\n".join(f"  {len(c)} modules: {', '.join(c)}" for c in cycles)


def test_no_module_of_the_engine_takes_part_in_an_import_cycle() -> None:
    cycles = _cycles(grimp.build_graph("engine", cache_dir=None))
    assert not cycles, _report(cycles)


def test_the_runtime_and_the_agent_take_part_in_no_import_cycle() -> None:
    cycles = _cycles(grimp.build_graph("engine", cache_dir=None))
    ours = [c for c in cycles if any(m.startswith(("engine.runtime", "engine.agent")) for m in c)]
    assert not ours, _report(ours)


def test_the_runtime_does_not_import_the_agent_that_plugs_into_it() -> None:
    graph = grimp.build_graph("engine", cache_dir=None)
    runtime = {m for m in graph.modules if m == "engine.runtime" or m.startswith("engine.runtime.")}
    agent = {m for m in graph.modules if m == "engine.agent" or m.startswith("engine.agent.")}
    wrong = sorted(f"{r} imports {a}" for r in runtime for a in graph.find_modules_directly_imported_by(r)
                   if a in agent)
    assert not wrong, "\n".join(wrong)


def _function_imports(path: Path, root: Path = ROOT) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[str] = []
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        for node in ast.walk(function):
            if isinstance(node, ast.Import | ast.ImportFrom):
                found.append(f"{path.relative_to(root)}:{node.lineno} in {getattr(function, 'name', 'lambda')}")
    return sorted(set(found))


def test_no_import_statement_runs_inside_a_function_of_the_kernel_the_runtime_or_the_agent_loop() -> None:
    agent = ROOT / "engine" / "agent"
    paths = [*sorted((ROOT / "engine" / "runtime").rglob("*.py")), ROOT / "engine" / "kernel.py",
             *(agent / name for name in ("loop.py", "behavior.py", "config.py", "governance.py", "turn.py"))]
    found = [line for path in paths for line in _function_imports(path)]
    assert not found, "imports inside functions:\n" + "\n".join(found)


def test_the_scan_for_imports_inside_functions_finds_one(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import os\n\n\ndef f():\n    import json\n    return json\n", encoding="utf-8")
    assert _function_imports(sample, tmp_path) == ["sample.py:5 in f"]
