"""Run the decision-level DMN TCK (compliance levels 2 and 3) against engine.dmn.

Usage: .venv/bin/python bench/dmn_tck.py [--verbose] [--filter 0004] [--corpus DIR] [--level 2|3]

Unlike ``bench/feel_tck.py`` (which evaluates the FEEL of each decision with a
small evaluator of its own), this reads every model with ``engine.parser.parse_dmn``
and evaluates each test case's result nodes with ``engine.dmn.evaluate_decision``,
the same code a business rule task runs. A result node whose evaluation fails
counts as null (what the TCK expects of an error, or of ``errorResult="true"``).
A test case passes only if every result node matches (compared as feel_tck does).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
# feel_tck sits beside this script: bench/ goes last, never first, so that ``engine`` stays the package and not
# bench/engine.py, also in the processes a test that loaded this module spawns later (they copy sys.path)
if str(ROOT / "bench") not in sys.path:
    sys.path.append(str(ROOT / "bench"))

from feel_tck import NOW, child, children, same, xml_value  # noqa: E402

from engine.dmn import DmnError, evaluate_decision, evaluate_service  # noqa: E402
from engine.dmn.model import DecisionGraph  # noqa: E402
from engine.parser import DmnParseError, parse_dmn  # noqa: E402

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus"
LEVELS = {"2": Path("dmn-tck") / "TestCases" / "compliance-level-2",
          "3": Path("dmn-tck") / "TestCases" / "compliance-level-3"}
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True)


@dataclass
class Outcome:
    level: str
    directory: str
    case: str
    passed: bool
    detail: str = ""


def _result(graph: DecisionGraph, name: str, inputs: dict[str, Any], service: str | None) -> tuple[Any, str]:
    try:
        if service is not None:  # a test case of type decisionService: invoke the service, read one output
            return evaluate_service(graph, service, inputs, NOW).get(name), ""
        return evaluate_decision(graph, name, inputs, NOW).value, ""
    except DmnError as exc:
        return None, f" ({exc.message[:200]})"


def run_case(graph: DecisionGraph | None, case: Any, problem: str = "") -> tuple[bool, str]:
    inputs = {n.get("name"): xml_value(n) for n in children(case, "inputNode")}
    problems = []
    for node in children(case, "resultNode"):
        name = node.get("name")
        expected = None if node.get("errorResult") == "true" else xml_value(child(node, "expected"))
        service = case.get("invocableName") if case.get("type") == "decisionService" else None
        actual, error = _result(graph, name, inputs, service) if graph is not None else (f"<not read: {problem}>", "")
        if not same(actual, expected):
            problems.append(f"{name}: expected {expected!r} got {actual!r}{error}")
    return not problems, "; ".join(problems)


def _graph(path: Path, cache: dict[Path, tuple[DecisionGraph | None, str]]) -> tuple[DecisionGraph | None, str]:
    if path not in cache:
        try:
            cache[path] = (parse_dmn(path.read_bytes(), source_name=path.name), "")
        except DmnParseError as exc:
            cache[path] = (None, str(exc)[:200])
    return cache[path]


def run_tck(corpus: Path = DEFAULT_CORPUS, name_filter: str = "", levels: tuple[str, ...] = ("2", "3"),
            feel: bool = True) -> list[Outcome]:
    """Every test case of the given levels (``feel=False`` leaves out the ``*-feel-*`` directories)."""
    outcomes: list[Outcome] = []
    cache: dict[Path, tuple[DecisionGraph | None, str]] = {}
    for level in levels:
        for directory in sorted((corpus / LEVELS[level]).iterdir()):
            if not directory.is_dir() or name_filter not in directory.name or (not feel and "-feel-" in directory.name):
                continue
            models = {p.name: p for p in directory.glob("*.dmn")}
            for test_file in sorted(directory.glob("*-test-*.xml")):
                cases = etree.parse(str(test_file), _PARSER).getroot()
                model_name = child(cases, "modelName")
                path = models.get((model_name.text or "").strip()) if model_name is not None else None
                if path is None and models:
                    path = sorted(models.values())[0]
                graph, problem = _graph(path, cache) if path is not None else (None, "no model")
                for case in children(cases, "testCase"):
                    passed, detail = run_case(graph, case, problem)
                    outcomes.append(Outcome(level, directory.name, case.get("id") or "?", passed, detail))
    return outcomes


def _rate(outcomes: list[Outcome]) -> str:
    passed = sum(o.passed for o in outcomes)
    return f"{passed}/{len(outcomes)} passed ({100.0 * passed / len(outcomes) if outcomes else 0.0:.1f}%)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--verbose", action="store_true", help="print every failing test case")
    parser.add_argument("--filter", default="", help="only directories whose name contains this text")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="the corpus root folder")
    parser.add_argument("--level", choices=sorted(LEVELS), action="append", help="a compliance level (repeatable)")
    args = parser.parse_args(argv)
    outcomes = run_tck(args.corpus, args.filter, tuple(args.level or LEVELS))
    by_dir: dict[str, list[Outcome]] = {}
    for o in outcomes:
        by_dir.setdefault(f"{o.level} {o.directory}", []).append(o)
    for directory, items in by_dir.items():
        passed = sum(o.passed for o in items)
        if args.verbose or passed < len(items):
            print(f"{directory:52s} {passed:4d}/{len(items):4d}")
        if args.verbose:
            for o in items:
                if not o.passed:
                    print(f"    FAIL {o.case}: {o.detail[:300]}")
    for level in sorted({o.level for o in outcomes}):
        at = [o for o in outcomes if o.level == level]
        print(f"level {level}: {_rate(at)}; without -feel- directories: "
              f"{_rate([o for o in at if '-feel-' not in o.directory])}")
    print(f"TOTAL {_rate(outcomes)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
