"""Compilation of iteration (``for``, ``some``, ``every``) and of unary tests; also the
syntax-tree walks that find free names and uses of ``?``."""

from __future__ import annotations

import dataclasses
import datetime as _dt
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from engine.feel import nodes as n
from engine.feel import operators as ops
from engine.feel.builtins import BUILTINS
from engine.feel.exceptions import FeelLimitError
from engine.feel.runtime import Compiled, Env
from engine.feel.values import MAX_ITEMS, Range

__all__ = ["compile_for", "compile_quantified", "compile_tests", "free_names", "uses_name", "walk"]

Test = Callable[[Any, Env], "bool | None"]
_BAD = object()


def walk(node: n.Node) -> Iterator[n.Node]:
    """Every node of the tree, parents before children."""
    stack: list[Any] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, n.Node):
            yield item
            stack.extend(getattr(item, f.name) for f in dataclasses.fields(item))
        elif isinstance(item, tuple):
            stack.extend(item)


def uses_name(node: n.Node, name: str) -> bool:
    return any(isinstance(x, n.Name) and x.name == name for x in walk(node))


def free_names(node: n.Node) -> frozenset[str]:
    """Names the expression reads from its variables (best effort: names bound inside are left out)."""
    used: set[str] = set()
    bound: set[str] = {"?", "item", "partial"}
    for x in walk(node):
        if isinstance(x, n.Name):
            used.add(x.name)
        elif isinstance(x, n.For | n.Quantified):
            bound.update(b[0] for b in x.bindings)
        elif isinstance(x, n.FunctionDef):
            bound.update(x.params)
        elif isinstance(x, n.ContextLit):
            bound.update(k for k, _ in x.entries)
        elif isinstance(x, n.Filter) and not isinstance(x.cond, n.Literal):
            bound.update(y.name for y in walk(x.cond) if isinstance(y, n.Name))
    callees = {x.target.name for x in walk(node) if isinstance(x, n.Call) and isinstance(x.target, n.Name)}
    return frozenset(u for u in used - bound if not (u in callees and u in BUILTINS))


def _iteration_items(start: Any, end: Any, has_end: bool) -> list[Any] | Any:
    if has_end:
        if type(start) is _dt.date and type(end) is _dt.date:
            days = (end - start).days
            if abs(days) >= MAX_ITEMS:
                raise FeelLimitError(f"iteration over more than {MAX_ITEMS} items")
            step = 1 if days >= 0 else -1
            return [start + _dt.timedelta(days=i) for i in range(0, days + step, step)]
        if type(start) is not Decimal or type(end) is not Decimal:
            return _BAD
        if start != start.to_integral_value() or end != end.to_integral_value():
            return _BAD
        if abs(start) >= MAX_ITEMS ** 2 or abs(end) >= MAX_ITEMS ** 2:
            raise FeelLimitError(f"iteration over more than {MAX_ITEMS} items")
        lo, hi = int(start), int(end)
        if abs(hi - lo) >= MAX_ITEMS:
            raise FeelLimitError(f"iteration over more than {MAX_ITEMS} items")
        step = 1 if hi >= lo else -1
        return [Decimal(i) for i in range(lo, hi + step, step)]
    if type(start) is list:
        return start
    if type(start) is Range:
        r = start
        if type(r.start) is not Decimal or type(r.end) is not Decimal:
            return _BAD
        if abs(r.start) >= MAX_ITEMS ** 2 or abs(r.end) >= MAX_ITEMS ** 2:
            raise FeelLimitError(f"iteration over more than {MAX_ITEMS} items")
        lo = int(r.start) + (0 if r.start_included else 1)
        hi = int(r.end) - (0 if r.end_included else 1)
        if r.start > r.end:
            return _BAD
        if hi - lo >= MAX_ITEMS:
            raise FeelLimitError(f"iteration over more than {MAX_ITEMS} items")
        return [Decimal(i) for i in range(lo, hi + 1)]
    if start is None:
        return _BAD
    return [start]


def _iterate(
    bindings: list[tuple[str, Compiled, Compiled | None]], env: Env, local: dict[str, Any]
) -> Iterator[Env] | None:
    """Environments for every combination of the bindings (later ones may use earlier ones)."""
    scope = env.child(local)
    state = env.state
    count = 0

    def level(i: int) -> Iterator[Env]:
        nonlocal count
        if i == len(bindings):
            count += 1
            if count > MAX_ITEMS:
                raise FeelLimitError(f"iteration over more than {MAX_ITEMS} items")
            state.step()
            yield scope
            return
        name, source, end = bindings[i]
        items = _iteration_items(source(scope), end(scope) if end else None, end is not None)
        if items is _BAD:
            raise _BadIteration
        for item in items:
            local[name] = item
            yield from level(i + 1)

    return level(0)


class _BadIteration(Exception):
    """An iteration context that is not a list or an integer range: the result is null."""


def _detach(value: Any, results: list[Any], env: Env) -> Any:
    """Replace references to the live ``partial`` list by snapshots, so results never contain themselves."""
    if value is results:
        env.state.step(len(results))
        return list(results)
    if type(value) is list and any(v is results for v in value):
        env.state.step(len(results))
        return [list(results) if v is results else v for v in value]
    if type(value) is dict and any(v is results for v in value.values()):
        env.state.step(len(results))
        return {k: list(results) if v is results else v for k, v in value.items()}
    return value


def compile_for(node: n.For, compile_node: Callable[[n.Node], Compiled]) -> Compiled:
    bindings = [(name, compile_node(src), compile_node(end) if end else None) for name, src, end in node.bindings]
    body = compile_node(node.body)

    def for_loop(env: Env) -> Any:
        results: list[Any] = []
        iterations = _iterate(bindings, env, {"partial": results})
        try:
            for scope in iterations or ():
                results.append(_detach(body(scope), results, env))
        except _BadIteration:
            return None
        return results

    return for_loop


def compile_quantified(node: n.Quantified, compile_node: Callable[[n.Node], Compiled]) -> Compiled:
    bindings = [(name, compile_node(src), compile_node(end) if end else None) for name, src, end in node.bindings]
    cond, every = compile_node(node.cond), node.every

    def quantified(env: Env) -> bool | None:
        try:
            for scope in _iterate(bindings, env, {}) or ():
                r = cond(scope)
                if every and r is not True:
                    return False
                if not every and r is True:
                    return True
        except _BadIteration:
            return None
        return every

    return quantified


def _matches_value(v: Any, expected: Any) -> bool | None:
    if type(expected) is Range:
        return ops.range_contains(expected, v)
    if type(expected) is list:
        if type(v) is list and ops.equal(v, expected) is True:
            return True
        return any(
            (ops.range_contains(e, v) if type(e) is Range else ops.equal(v, e)) is True for e in expected
        )
    if expected is None:
        return True if v is None else None
    return ops.equal(v, expected)


def _compile_test(node: n.Node, compile_node: Callable[[n.Node], Compiled]) -> Test:
    if isinstance(node, n.UnaryAny):
        return lambda v, env: True
    if isinstance(node, n.UnaryCompare):
        operand, op = compile_node(node.operand), node.op
        return lambda v, env: ops.compare(op, v, operand(env))
    if isinstance(node, n.UnaryNot):
        tests = compile_tests(node.tests, compile_node)

        def negation(v: Any, env: Env) -> bool | None:
            results = [t(v, env) for t in tests]
            if any(r is True for r in results):
                return False
            return None if any(r is None for r in results) else True

        return negation
    expr_node = node.expr if isinstance(node, n.UnaryValue) else node
    expr = compile_node(expr_node)
    if uses_name(expr_node, "?"):

        def with_input(v: Any, env: Env) -> bool | None:
            r = expr(env.child({"?": v}))
            return r if type(r) is bool else _matches_value(v, r)

        return with_input
    return lambda v, env: _matches_value(v, expr(env))


def compile_tests(tests: tuple[n.Node, ...], compile_node: Callable[[n.Node], Compiled]) -> list[Test]:
    """Compile positive unary tests into predicates ``(input, env) -> bool | None``."""
    return [_compile_test(t, compile_node) for t in tests]
