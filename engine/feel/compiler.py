"""Compiler: syntax tree to a tree of Python closures, each ``(Env) -> value``.

Closures were chosen over a tree-walking ``evaluate(node)`` because they pay the
dispatch on node type once, at compile time; simple comparisons such as
``x > 5`` then cost a couple of function calls per evaluation.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, DecimalException
from typing import Any

from engine.feel import nodes as n
from engine.feel import operators as ops
from engine.feel.builtins import BUILTINS
from engine.feel.compiler_forms import compile_for, compile_quantified, compile_tests
from engine.feel.properties import get_path
from engine.feel.runtime import MISSING, Compiled, Env, invoke
from engine.feel.types import is_instance
from engine.feel.values import DECIMAL_CONTEXT as CTX
from engine.feel.values import FeelFunction, Range, to_feel

__all__ = ["Compiled", "compile_node"]

_ARITH: dict[str, Callable[[Any, Any], Any]] = {
    "+": ops.add, "-": ops.subtract, "*": ops.multiply, "/": ops.divide, "**": ops.power,
}


def _literal(node: n.Literal) -> Compiled:
    value = node.value
    return lambda env: value


def _name(node: n.Name) -> Compiled:
    key = node.name
    builtin = BUILTINS.get(key)

    if builtin is None:
        return lambda env: env.lookup(key)
    fn = builtin[0]

    def name_or_builtin(env: Env) -> Any:
        value = env.lookup_raw(key)
        return fn if value is MISSING else to_feel(value)

    return name_or_builtin


def _neg(node: n.Neg) -> Compiled:
    operand = compile_node(node.operand)
    return lambda env: ops.negate(operand(env))


def _compare(op: str, left: Compiled, right: Compiled, const: Any) -> Compiled:
    compare = ops.compare
    if type(const) is Decimal and op in ("<", "<=", ">", ">="):
        if op == ">":
            return lambda env: (a > const) if type(a := left(env)) is Decimal else compare(">", a, const)
        if op == "<":
            return lambda env: (a < const) if type(a := left(env)) is Decimal else compare("<", a, const)
        if op == ">=":
            return lambda env: (a >= const) if type(a := left(env)) is Decimal else compare(">=", a, const)
        return lambda env: (a <= const) if type(a := left(env)) is Decimal else compare("<=", a, const)
    if op == "=":
        equal = ops.equal
        return lambda env: equal(left(env), right(env))
    return lambda env: compare(op, left(env), right(env))


def _binary(node: n.Binary) -> Compiled:
    left, right = compile_node(node.left), compile_node(node.right)
    op = node.op
    if op in _ARITH:
        fn = _ARITH[op]
        if op == "+":
            add, plus = ops.add, CTX.add

            def addition(env: Env) -> Any:
                a, b = left(env), right(env)
                if type(a) is Decimal and type(b) is Decimal:
                    try:
                        return plus(a, b)
                    except DecimalException:
                        return None
                return add(a, b)

            return addition
        return lambda env: fn(left(env), right(env))
    const = node.right.value if isinstance(node.right, n.Literal) else MISSING
    return _compare(op, left, right, const)


def _and(node: n.And) -> Compiled:
    left, right = compile_node(node.left), compile_node(node.right)

    def conjunction(env: Env) -> bool | None:
        a = left(env)
        if a is False:
            return False
        b = right(env)
        if b is False:
            return False
        return True if a is True and b is True else None

    return conjunction


def _or(node: n.Or) -> Compiled:
    left, right = compile_node(node.left), compile_node(node.right)

    def disjunction(env: Env) -> bool | None:
        a = left(env)
        if a is True:
            return True
        b = right(env)
        if b is True:
            return True
        return False if a is False and b is False else None

    return disjunction


def _between(node: n.Between) -> Compiled:
    value, low, high = compile_node(node.value), compile_node(node.low), compile_node(node.high)

    def between(env: Env) -> bool | None:
        v = value(env)
        a = ops.compare(">=", v, low(env))
        b = ops.compare("<=", v, high(env))
        if a is False or b is False:
            return False
        return True if a is True and b is True else None

    return between


def _in(node: n.In) -> Compiled:
    value = compile_node(node.value)
    tests = compile_tests(node.tests, compile_node)

    def membership(env: Env) -> bool | None:
        v = value(env)
        unknown = False
        for test in tests:
            r = test(v, env)
            if r is True:
                return True
            if r is None:
                unknown = True
        return None if unknown else False

    return membership


def _instance_of(node: n.InstanceOf) -> Compiled:
    value, ref = compile_node(node.value), node.type
    return lambda env: is_instance(value(env), ref)


def _if(node: n.If) -> Compiled:
    cond, then, other = compile_node(node.cond), compile_node(node.then), compile_node(node.other)
    return lambda env: then(env) if cond(env) is True else other(env)


def _filter(node: n.Filter) -> Compiled:
    target, cond = compile_node(node.target), compile_node(node.cond)
    literal_index = node.cond.value if isinstance(node.cond, n.Literal) else None

    def index(items: list[Any], i: Any) -> Any:
        if not i.is_finite() or i.adjusted() > 18 or i != i.to_integral_value():
            return None
        k = int(i)
        if 1 <= k <= len(items):
            return items[k - 1]
        if -len(items) <= k <= -1:
            return items[k]
        return None

    def select(env: Env) -> Any:
        value = target(env)
        if value is None:
            return None
        items = value if type(value) is list else [value]
        if type(literal_index) is Decimal:
            return index(items, literal_index)
        kept: list[Any] = []
        env.state.step(len(items))
        for pos, item in enumerate(items):
            local = {"item": item}
            if type(item) is dict:
                local.update(item)
            r = cond(env.child(local))
            if pos == 0 and type(r) is Decimal:
                return index(items, r)
            if r is True:
                kept.append(item)
        return kept

    return select


def _path(node: n.Path) -> Compiled:
    # a.b.c over a plain variable reads the raw mapping and converts only the leaf.
    keys = [node.name]
    base: n.Node = node.target
    while isinstance(base, n.Path):
        keys.append(base.name)
        base = base.target
    keys.reverse()
    if isinstance(base, n.Name):
        root = base.name
        generic = compile_node(base)

        def path_of_name(env: Env) -> Any:
            value = env.lookup_raw(root)
            if value is MISSING:
                value = generic(env)
            for i, key in enumerate(keys):
                if type(value) is dict:
                    value = value.get(key)
                else:
                    value = to_feel(value)
                    for rest in keys[i:]:
                        value = get_path(value, rest)
                    return value
            return to_feel(value)

        return path_of_name
    target, name = compile_node(node.target), node.name
    return lambda env: get_path(target(env), name)


def _call(node: n.Call) -> Compiled:
    args = [compile_node(a) for a in node.args]
    names = node.named
    target = node.target
    if isinstance(target, n.Name) and target.name in BUILTINS:
        key, overloads = target.name, BUILTINS[target.name]

        def call_builtin(env: Env) -> Any:
            bound = env.lookup_raw(key)
            fns = (bound,) if type(bound) is FeelFunction else overloads
            return invoke(fns, [a(env) for a in args], names, env.state)

        return call_builtin
    callee = compile_node(target)

    def call(env: Env) -> Any:
        fn = callee(env)
        if type(fn) is not FeelFunction:
            return None
        return invoke((fn,), [a(env) for a in args], names, env.state)

    return call


def _list(node: n.ListLit) -> Compiled:
    items = [compile_node(i) for i in node.items]
    return lambda env: [i(env) for i in items]


def _context(node: n.ContextLit) -> Compiled:
    entries = [(key, compile_node(value)) for key, value in node.entries]
    if len({key for key, _ in entries}) != len(entries):
        return lambda env: None  # duplicate keys make the context invalid

    def context(env: Env) -> Any:
        result: dict[str, Any] = {}
        scope = env.child(result)
        for key, value in entries:
            result[key] = value(scope)
        return result

    return context


def _range(node: n.RangeLit) -> Compiled:
    start = compile_node(node.start) if node.start is not None else None
    end = compile_node(node.end) if node.end is not None else None
    si, ei = node.start_included, node.end_included

    def make_range(env: Env) -> Any:
        a = start(env) if start is not None else None
        b = end(env) if end is not None else None
        if (a is None and start is not None) or (b is None and end is not None):
            return None  # (null..10) is not the unbounded (< 10): an unknown endpoint gives null
        if a is not None and b is not None and ops.compare("<=", a, a) is None:
            return None
        if a is not None and b is not None and type(a) is not type(b):
            return None
        return Range(a, b, si, ei)

    return make_range


def _function(node: n.FunctionDef) -> Compiled:
    params, body = node.params, compile_node(node.body)
    typed = [(i, t) for i, t in enumerate(node.types) if t is not None and t.name != "Any"]

    def define(env: Env) -> FeelFunction:
        def impl(*args: Any) -> Any:
            for i, declared in typed:
                if i < len(args) and args[i] is not None and not is_instance(args[i], declared):
                    return None  # an argument of the wrong type makes the call null
            env.state.step()
            local = dict(zip(params, args, strict=False))
            for p in params[len(args):]:
                local[p] = None
            return body(env.child(local))

        return FeelFunction("anonymous", params, impl, required=0)

    return define


def _unary_compare(node: n.UnaryCompare) -> Compiled:
    return lambda env: None


_COMPILERS: dict[type[n.Node], Callable[[Any], Compiled]] = {
    n.Literal: _literal, n.Name: _name, n.Neg: _neg, n.Binary: _binary, n.And: _and, n.Or: _or,
    n.Between: _between, n.In: _in, n.InstanceOf: _instance_of, n.If: _if, n.Filter: _filter,
    n.Path: _path, n.Call: _call, n.ListLit: _list, n.ContextLit: _context, n.RangeLit: _range,
    n.FunctionDef: _function, n.UnaryCompare: _unary_compare,
    n.For: lambda node: compile_for(node, compile_node),
    n.Quantified: lambda node: compile_quantified(node, compile_node),
}


def compile_node(node: n.Node) -> Compiled:
    """Compile a syntax node (and its children) into a closure over an ``Env``."""
    return _COMPILERS[type(node)](node)
