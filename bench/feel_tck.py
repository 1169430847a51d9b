"""Run the FEEL part of the DMN TCK (compliance level 3, ``*-feel-*``) against engine.feel.

Usage: .venv/bin/python bench/feel_tck.py [--verbose] [--filter 0068] [--corpus DIR]

For every test case the decisions named in its result nodes are evaluated: each
decision's boxed expression (literal expression, context, invocation, list,
relation, function definition) is evaluated with the test inputs, the results of
the decisions it requires and the model's business knowledge models in scope;
the result is coerced to the decision's type and compared with the expected value.
A test case passes only if every result node matches. Decimals are compared with a
relative tolerance of 1e-12.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from lxml import etree

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from engine.feel import FeelError, FeelFunction, compile_expression, compile_unary_tests  # noqa: E402
from engine.feel.operators import equal  # noqa: E402
from engine.feel.temporal import parse_date, parse_date_and_time, parse_duration, parse_time  # noqa: E402
from engine.feel.types import type_name  # noqa: E402

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus"
TCK_DIR = Path("dmn-tck") / "TestCases" / "compliance-level-3"
NOW = _dt.datetime(2024, 5, 17, 10, 30, tzinfo=_dt.UTC)
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True)


def local(el: Any) -> str:
    return str(etree.QName(el).localname) if isinstance(el.tag, str) else ""


def children(el: Any, name: str) -> list[Any]:
    return [c for c in el if local(c) == name]


def child(el: Any, name: str) -> Any:
    found = children(el, name)
    return found[0] if found else None


# -- expected / input values --------------------------------------------------
def _scalar(el: Any) -> Any:
    if el.get(XSI_NIL) == "true":
        return None
    text = el.text or ""
    kind = (el.get(XSI_TYPE) or "").split(":")[-1]
    if kind in ("decimal", "double", "int", "integer", "long", "float"):
        try:
            return Decimal(text.strip())
        except InvalidOperation:
            return text
    if kind == "boolean":
        return text.strip() == "true"
    if kind == "date":
        return parse_date(text.strip())
    if kind == "dateTime":
        return parse_date_and_time(text.strip())
    if kind == "time":
        return parse_time(text.strip())
    if kind == "duration":
        return parse_duration(text.strip())
    return text


def xml_value(el: Any) -> Any:
    """The FEEL value of a TCK ``value``/``list``/``component`` holder element."""
    if el.get(XSI_NIL) == "true":
        return None
    value = child(el, "value")
    if value is not None:
        return _scalar(value)
    lst = child(el, "list")
    if lst is not None:
        return [xml_value(item) for item in children(lst, "item")]
    comps = children(el, "component")
    if comps:
        return {c.get("name"): xml_value(c) for c in comps}
    if local(el) == "value":
        return _scalar(el)
    return None


class Scope(Mapping[str, Any]):
    """Read-only chain of mappings, first one wins (what the engine's scope chain looks like)."""

    def __init__(self, *maps: Mapping[str, Any]) -> None:
        self.maps = maps

    def __getitem__(self, key: str) -> Any:
        for m in self.maps:
            if key in m:
                return m[key]
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        return any(key in m for m in self.maps)

    def __iter__(self) -> Iterator[str]:
        return iter({k for m in self.maps for k in m})

    def __len__(self) -> int:
        return len({k for m in self.maps for k in m})


# -- model ---------------------------------------------------------------------
@dataclass
class Model:
    decisions: dict[str, Any] = field(default_factory=dict)
    bkms: dict[str, Any] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)
    item_defs: dict[str, Any] = field(default_factory=dict)
    names: frozenset[str] = frozenset()


def load_model(path: Path) -> Model:
    root = etree.parse(str(path), _PARSER).getroot()
    model = Model()
    for el in root:
        kind, name = local(el), el.get("name")
        if name is None:
            continue
        if kind == "decision":
            model.decisions[name] = el
        elif kind == "businessKnowledgeModel":
            model.bkms[name] = el
        elif kind == "itemDefinition":
            model.item_defs[name] = el
        ident = el.get("id")
        if ident:
            model.ids[ident] = name
    names = {el.get("name") for el in root if el.get("name")}
    model.names = frozenset(n for n in names if n)
    return model


class Evaluator:
    """Evaluates the decisions of one model for one test case."""

    def __init__(self, model: Model, inputs: dict[str, Any]) -> None:
        self.model = model
        self.inputs = inputs
        self.results: dict[str, Any] = {}
        self.functions = {name: self.bkm_function(name, el) for name, el in model.bkms.items()}

    def scope(self) -> Scope:
        return Scope(self.results, self.inputs, self.functions)

    def decision(self, name: str) -> Any:
        if name in self.results:
            return self.results[name]
        el = self.model.decisions[name]
        for req in children(el, "informationRequirement"):
            ref = child(req, "requiredDecision")
            if ref is not None:
                target = self.model.ids.get(ref.get("href", "").lstrip("#"))
                if target in self.model.decisions:
                    self.decision(target)
        expr = next((c for c in el if local(c) not in ("variable", "description", "question", "allowedAnswers",
                                                       "informationRequirement", "knowledgeRequirement",
                                                       "authorityRequirement", "extensionElements")), None)
        value = self.boxed(expr, self.scope()) if expr is not None else None
        variable = child(el, "variable")
        type_ref = (variable.get("typeRef") if variable is not None else None) or el.get("typeRef")
        value = self.coerce(value, type_ref)
        self.results[name] = value
        return value

    def bkm_function(self, name: str, el: Any) -> FeelFunction:
        logic = child(el, "encapsulatedLogic")
        return self.function(logic, name)

    def function(self, el: Any, name: str = "anonymous", scope: Mapping[str, Any] | None = None) -> FeelFunction:
        params = tuple(p.get("name") for p in children(el, "formalParameter"))
        body = next((c for c in el if local(c) not in ("formalParameter", "description")), None)

        def impl(*args: Any) -> Any:
            local_vars = dict(zip(params, args, strict=False))
            outer = scope if scope is not None else self.scope()
            return self.boxed(body, Scope(local_vars, outer)) if body is not None else None

        return FeelFunction(name, params, impl, required=0)

    def feel(self, text: str, scope: Mapping[str, Any]) -> Any:
        return compile_expression(text.strip(), self.model.names).evaluate(scope, NOW)

    def boxed(self, el: Any, scope: Mapping[str, Any]) -> Any:
        kind = local(el)
        if kind == "literalExpression":
            text = child(el, "text")
            return self.feel(text.text or "", scope) if text is not None else None
        if kind == "context":
            result: dict[str, Any] = {}
            inner = Scope(result, scope)
            for entry in children(el, "contextEntry"):
                var = child(entry, "variable")
                expr = next((c for c in entry if local(c) != "variable"), None)
                value = self.boxed(expr, inner) if expr is not None else None
                if var is None:
                    return value
                result[var.get("name")] = value
            return result
        if kind == "list":
            return [self.boxed(c, scope) for c in el if local(c)]
        if kind == "relation":
            cols = [c.get("name") for c in children(el, "column")]
            return [
                {col: self.boxed(cell, scope) for col, cell in zip(cols, [c for c in row if local(c)], strict=False)}
                for row in children(el, "row")
            ]
        if kind == "functionDefinition":
            return self.function(el, scope=scope)
        if kind == "invocation":
            return self.invocation(el, scope)
        if kind == "decisionTable":
            return self.decision_table(el, scope)
        return None

    def invocation(self, el: Any, scope: Mapping[str, Any]) -> Any:
        target = next((c for c in el if local(c) != "binding"), None)
        fn = self.boxed(target, scope) if target is not None else None
        if not isinstance(fn, FeelFunction):
            return None
        named = {}
        for binding in children(el, "binding"):
            param = child(binding, "parameter").get("name")
            expr = next((c for c in binding if local(c) != "parameter"), None)
            named[param] = self.boxed(expr, scope) if expr is not None else None
        if set(named) - set(fn.params):
            return None
        return fn.impl(*[named.get(p) for p in fn.params])

    def decision_table(self, el: Any, scope: Mapping[str, Any]) -> Any:
        inputs = [
            self.feel(child(child(i, "inputExpression"), "text").text or "", scope) for i in children(el, "input")
        ]
        outputs = [o.get("name") for o in children(el, "output")]
        hit = el.get("hitPolicy", "UNIQUE")
        matched = []
        for rule in children(el, "rule"):
            tests = [child(e, "text").text or "-" for e in children(rule, "inputEntry")]
            if all(compile_unary_tests(t.strip(), self.model.names).matches(v, scope, NOW)
                   for t, v in zip(tests, inputs, strict=False)):
                outs = [self.feel(child(e, "text").text or "null", scope) for e in children(rule, "outputEntry")]
                matched.append(outs[0] if len(outs) == 1 else dict(zip(outputs, outs, strict=False)))
        if hit in ("COLLECT", "RULE ORDER", "OUTPUT ORDER"):
            return matched
        return matched[0] if matched else None

    # -- typeRef coercion --------------------------------------------------
    def coerce(self, value: Any, type_ref: str | None) -> Any:
        if type_ref is None or value is None:
            return value
        type_ref = type_ref.split(":")[-1]
        simple = {"number": "number", "string": "string", "boolean": "boolean", "date": "date",
                  "time": "time", "dateTime": "date and time", "date and time": "date and time",
                  "dayTimeDuration": "days and time duration", "yearMonthDuration": "years and months duration",
                  "days and time duration": "days and time duration",
                  "years and months duration": "years and months duration"}
        if type_ref in simple:
            if isinstance(value, list) and len(value) == 1:
                value = value[0]
            return value if type_name(value) == simple[type_ref] else None
        item = self.model.item_defs.get(type_ref)
        if item is not None and item.get("isCollection") == "true":
            if not isinstance(value, list):
                value = [value]
            base = child(item, "typeRef")
            if base is not None and (base.text or "").strip() in simple:
                target = simple[(base.text or "").strip()]
                if any(v is not None and type_name(v) != target for v in value):
                    return None
        elif item is not None and child(item, "typeRef") is not None:
            return self.coerce(value, (child(item, "typeRef").text or "").strip())
        return value


# -- comparison ------------------------------------------------------------------
def same(actual: Any, expected: Any) -> bool:
    if expected is None or actual is None:
        return actual is None and expected is None
    if isinstance(expected, Decimal):
        if not isinstance(actual, Decimal) or not actual.is_finite():
            return False
        if abs(actual - expected) <= Decimal("1e-12") * max(Decimal(1), abs(expected)):
            return True
        # Expected values written with few decimals (54.59815003) are compared at that precision.
        exponent = expected.as_tuple().exponent
        return isinstance(exponent, int) and -34 < exponent < 0 and actual.quantize(expected) == expected
    if isinstance(expected, list):
        return isinstance(actual, list) and len(actual) == len(expected) and all(
            same(a, e) for a, e in zip(actual, expected, strict=True)
        )
    if isinstance(expected, dict):
        return isinstance(actual, dict) and actual.keys() == expected.keys() and all(
            same(actual[k], expected[k]) for k in expected
        )
    if type(actual) is not type(expected):
        return False
    if isinstance(expected, _dt.datetime | _dt.time) and (
        (actual.tzinfo is None) != (expected.tzinfo is None) or actual.utcoffset() != expected.utcoffset()
    ):
        return False
    return equal(actual, expected) is True


@dataclass
class Outcome:
    directory: str
    case: str
    passed: bool
    detail: str = ""


def run_case(model: Model, case: Any) -> Outcome:
    inputs = {n.get("name"): xml_value(n) for n in children(case, "inputNode")}
    evaluator = Evaluator(model, inputs)
    problems = []
    for node in children(case, "resultNode"):
        name = node.get("name")
        expected = xml_value(child(node, "expected"))
        try:
            actual = evaluator.decision(name) if name in model.decisions else None
        except FeelError as exc:
            actual = f"<error {exc}>"
        if not same(actual, expected):
            el = model.decisions.get(name)
            texts = [t.text for t in el.iter() if local(t) == "text"] if el is not None else []
            source = " | ".join((t or "").strip() for t in texts)[:200]
            problems.append(f"{name}: expected {expected!r} got {actual!r} <- {source}")
    return Outcome("", case.get("id") or "?", not problems, "; ".join(problems))


def run_tck(corpus: Path = DEFAULT_CORPUS, name_filter: str = "") -> list[Outcome]:
    """Run every ``*-feel-*`` TCK directory (optionally those containing ``name_filter``)."""
    outcomes: list[Outcome] = []
    for directory in sorted((corpus / TCK_DIR).glob("*-feel-*")):
        if name_filter not in directory.name:
            continue
        models = {p.name: p for p in directory.glob("*.dmn")}
        for test_file in sorted(directory.glob("*-test-*.xml")):
            cases = etree.parse(str(test_file), _PARSER).getroot()
            model_name = child(cases, "modelName")
            path = models.get((model_name.text or "").strip()) if model_name is not None else None
            if path is None:
                path = next(iter(models.values()))
            model = load_model(path)
            for case in children(cases, "testCase"):
                outcome = run_case(model, case)
                outcome.directory = directory.name
                outcomes.append(outcome)
    return outcomes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--verbose", action="store_true", help="print every failing test case")
    parser.add_argument("--filter", default="", help="only directories whose name contains this text")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="the corpus root folder")
    args = parser.parse_args(argv)
    outcomes = run_tck(args.corpus, args.filter)
    by_dir: dict[str, list[Outcome]] = {}
    for o in outcomes:
        by_dir.setdefault(o.directory, []).append(o)
    for directory, items in by_dir.items():
        passed = sum(o.passed for o in items)
        print(f"{directory:50s} {passed:4d}/{len(items):4d}")
        if args.verbose:
            for o in items:
                if not o.passed:
                    print(f"    FAIL {o.case}: {o.detail[:300]}")
    total = len(outcomes)
    passed = sum(o.passed for o in outcomes)
    rate = 100.0 * passed / total if total else 0.0
    print(f"TOTAL {passed}/{total} passed ({rate:.1f}%)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
