"""Checking a decision graph before it is deployed: every FEEL text compiles, every reference resolves.

Run at deployment so that a typo in a rule is a deployment problem with its
decision named, rather than an incident on the first instance that reaches
the rule. Evaluation stays lazy (a decision compiles its FEEL through the
cache as it goes), so these checks are the only eager pass.
"""

from __future__ import annotations

from collections.abc import Iterator

from engine.dmn.model import (
    Boxed,
    Conditional,
    Context,
    DecisionGraph,
    DecisionTable,
    Filter,
    FunctionDefinition,
    Invocation,
    ListOf,
    Literal,
    Relation,
)
from engine.dmn.model import (
    Iterator as BoxedIterator,
)
from engine.feel import FeelSyntaxError, compile_expression, compile_unary_tests

__all__ = ["graph_problems"]


def graph_problems(graph: DecisionGraph) -> list[tuple[str, int | None, str]]:
    """``(element id, line, message)`` for each FEEL text that does not compile and each requirement not found."""
    problems: list[tuple[str, int | None, str]] = []
    for decision in graph.decisions.values():
        for required in decision.required_decisions:
            if required not in graph.decisions:
                problems.append((decision.id, decision.line, f"requires decision '{required}', which is not "
                                                             "in this DMN file"))
        for text, unary in _texts(decision.logic):
            message = _compile(text, unary, graph.names)
            if message is not None:
                problems.append((decision.id, decision.line, message))
    for bkm in graph.knowledge.values():
        for text, unary in _texts(bkm.logic):
            message = _compile(text, unary, graph.names)
            if message is not None:
                problems.append((bkm.id, None, message))
    return problems


def _compile(text: str, unary: bool, names: frozenset[str]) -> str | None:
    try:
        if unary:
            compile_unary_tests(text.strip() or "-", names)
        else:
            compile_expression(text.strip() or "null", names)
    except FeelSyntaxError as exc:
        return f"FEEL {text.strip()[:80]!r} does not compile: {exc.message}"
    return None


def _texts(logic: Boxed | None) -> Iterator[tuple[str, bool]]:
    """Every FEEL text inside ``logic``, with whether it is unary tests."""
    if logic is None:
        return
    if isinstance(logic, Literal):
        yield logic.text, False
    elif isinstance(logic, DecisionTable):
        for table_input in logic.inputs:
            yield table_input.expression, False
            if table_input.allowed:
                yield table_input.allowed, True
        for output in logic.outputs:
            if output.default:
                yield output.default, False
        for rule in logic.rules:
            yield from ((test, True) for test in rule.tests)
            yield from ((text, False) for text in rule.outputs)
    elif isinstance(logic, Context):
        for entry in logic.entries:
            yield from _texts(entry.value)
    elif isinstance(logic, ListOf):
        for item in logic.items:
            yield from _texts(item)
    elif isinstance(logic, Relation):
        for row in logic.rows:
            for cell in row:
                yield from _texts(cell)
    elif isinstance(logic, FunctionDefinition):
        yield from _texts(logic.body)
    elif isinstance(logic, Invocation):
        yield from _texts(logic.target)
        for _, value in logic.bindings:
            yield from _texts(value)
    elif isinstance(logic, Conditional):
        for part in (logic.condition, logic.then, logic.otherwise):
            yield from _texts(part)
    elif isinstance(logic, Filter):
        yield from _texts(logic.source)
        yield from _texts(logic.match)
    elif isinstance(logic, BoxedIterator):
        yield from _texts(logic.source)
        yield from _texts(logic.body)
