"""Fuzzing FEEL with structure: whatever is written, evaluation gives a FEEL value or a FeelError, and no escape.

``test_feel_fuzz.py`` throws random text and token soup at the compiler. This file
builds expressions the grammar accepts (numbers from tiny to 1e6144, strings with
unicode and escapes, lists, contexts, ranges, if/for/some/every, built-in calls
with random arguments, nesting past the parser's depth limit) and evaluates them
against random variables. The property is stronger than "only FeelError leaves":
``api.py`` wraps any foreign exception in a FeelError, so a fault shows as a
FeelError whose cause chain holds a Python exception (``internal error ...``);
that counts as a failure here. A result must be a FEEL value that ``to_json``
turns into storable JSON. RELIABILITY.md E1-E3 (and the E5 canary) are checked
with a fixed corpus and with generated access paths.

Examples are derandomized and the database is off, so a CI run is reproducible;
``FEEL_FUZZ_EXAMPLES=5000`` gives a long local run.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.feel import (
    FeelError,
    FeelFunction,
    FeelLimitError,
    FeelSyntaxError,
    Range,
    YearsMonthsDuration,
    compile_expression,
    compile_unary_tests,
    to_json,
)
from engine.feel.builtins import BUILTINS
from engine.strict_json import JsonProblem, check_value

pytestmark = pytest.mark.slow

_EXAMPLES = int(os.environ.get("FEEL_FUZZ_EXAMPLES", "0"))


def _fuzz(examples: int) -> settings:
    """Settings for one property: reproducible (derandomized, no database) and each example under 2 s.

    No health check is suppressed: the strategies below draw little data and run quickly.
    """
    return settings(max_examples=_EXAMPLES or examples, deadline=dt.timedelta(seconds=2), derandomize=True,
                    database=None)


_NOW = dt.datetime(2024, 1, 1, 12, tzinfo=dt.UTC)
_NAMES = ["x", "y", "s", "l", "c", "n", "amount"]
_FEEL_TYPES = (type(None), bool, str, Decimal, dt.date, dt.time, dt.timedelta, YearsMonthsDuration, Range,
               FeelFunction)

# --- values the variables hold -------------------------------------------------------------------------------------

_json_scalars = (st.none() | st.booleans() | st.integers() | st.integers(min_value=-(10**60), max_value=10**60)
                 | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12))
_json_values = st.recursive(
    _json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from([*_NAMES, "a", "b", "", "k y"])
                                                                 | st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)
_variables = st.dictionaries(st.sampled_from(_NAMES), _json_values, max_size=len(_NAMES))

# --- FEEL source text ----------------------------------------------------------------------------------------------

_EXTREME_NUMBERS = [
    "0", "-0", "0.0", "1e999", "-1e999", "1e-999", "1e6144", "1e-6143", "9.999999999999999999999999999999999e6144",
    "99999999999999999999999999999999999999999", "0.000000000000000000000000000000000000001", "1000001", "1e6",
    "123456789.123456789123456789", ".5", "5.", "1E+3", "2**-1",
]
_numbers = st.one_of(
    st.integers(min_value=-20, max_value=20).map(str),
    st.sampled_from(_EXTREME_NUMBERS),
    st.builds(lambda i, f, e: f"{i}.{f}e{e}", st.integers(0, 999), st.integers(0, 999), st.integers(-400, 400)),
    st.decimals(allow_nan=False, allow_infinity=False, places=4, min_value=-(10**9), max_value=10**9).map(str),
)
# Escapes the lexer reads: the JSON ones, \u and \U (in range: \U beyond 10FFFF is the skipped bug test below),
# surrogate halves alone and in pairs, and regex escapes that stay as written.
_ESCAPES = ['\\"', "\\\\", "\\n", "\\t", "\\r", "\\'", "\\b", "\\f", "\\/", "\\u0041", "\\u00e9", "\\ud83d\\ude00",
            "\\ud800", "\\udfff", "\\U01F600", "\\U10FFFF", "\\d", "\\s", "\\w+", "\\"]


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


_strings = st.one_of(
    st.text(st.characters(exclude_categories=("Cs",)), max_size=12).map(_quote),
    st.lists(st.one_of(st.sampled_from(_ESCAPES), st.text(max_size=3).map(lambda t: _quote(t)[1:-1])), max_size=5)
    .map(lambda parts: '"' + "".join(parts) + '"'),
    st.sampled_from(['"(a+)+$"', '"[a-z]*"', '"^.*$"', '"(?i)x"', '"\\\\p{L}+"', '"["', '"(?P<n>a)"', '"a{1000}"',
                     '"{0.__class__}"', '"%s%s%s"', '"i"', '"sx"', '","']),
)
_temporals = st.sampled_from([
    '@"2020-01-01"', '@"2020-02-30"', '@"-999999999-01-01"', '@"P1Y2M"', '@"P1D"', '@"-P999999999DT1S"',
    '@"PT0.000000001S"', '@"10:00:00@Europe/Paris"', '@"2020-01-01T00:00:00Z"', '@"2020-01-01T23:59:60+14:00"',
    '@"x"', '@""', 'date("2020-01-31")', 'date and time("2020-03-29T02:30:00@Europe/Paris")', 'duration("P1Y")',
    "now()", "today()", 'time("24:00:00")',
])
_leaves = st.one_of(
    _numbers, _strings, _temporals,
    st.sampled_from([*_NAMES, "null", "true", "false", "item", "partial", "?", "missing", "x.a", "c.k y"]),
    st.sampled_from(sorted(BUILTINS)).filter(lambda name: " " not in name),  # a built-in as a value
)
_BINARY = ["+", "-", "*", "/", "**", "=", "!=", "<", "<=", ">", ">=", "and", "or"]
_TYPES = ["number", "string", "boolean", "date", "time", "date and time", "days and time duration", "context",
          "years and months duration", "list<number>", "list<Any>", "context<a: number>", "range<number>", "Any",
          "Null", "function<number>->number"]
_BUILTIN_NAMES = sorted(BUILTINS)


@st.composite
def _call(draw: st.DrawFn, inner: st.SearchStrategy[str]) -> str:
    """A call of a built-in: positional or named arguments, the right count or a wrong one."""
    name = draw(st.sampled_from(_BUILTIN_NAMES))
    overload = draw(st.sampled_from(BUILTINS[name]))
    count = draw(st.integers(min_value=0, max_value=len(overload.params) + 1))
    args = draw(st.lists(inner, min_size=count, max_size=count))
    if args and draw(st.booleans()) and count <= len(overload.params):
        return f"{name}({', '.join(f'{p}: {a}' for p, a in zip(overload.params, args, strict=False))})"
    return f"{name}({', '.join(args)})"


def _extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    var = st.sampled_from(["i", "j", "item"])
    return st.one_of(
        st.tuples(inner, st.sampled_from(_BINARY), inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        inner.map(lambda e: f"-{e}"),
        inner.map(lambda e: f"not({e})"),
        st.lists(inner, max_size=4).map(lambda items: f"[{', '.join(items)}]"),
        st.lists(st.tuples(st.sampled_from(["a", "b", '"k y"', '"__class__"', '""', "x"]), inner), max_size=3).map(
            lambda entries: "{" + ", ".join(f"{k}: {v}" for k, v in entries) + "}"),
        st.tuples(st.sampled_from("[(]"), inner, inner, st.sampled_from("])[")).map(
            lambda t: f"{t[0]}{t[1]}..{t[2]}{t[3]}"),
        st.tuples(inner, inner, inner).map(lambda t: f"if {t[0]} then {t[1]} else {t[2]}"),
        st.tuples(var, inner, inner).map(lambda t: f"for {t[0]} in {t[1]} return {t[2]}"),
        st.tuples(inner, inner).map(lambda t: f"for i in -3..{t[0]}, j in [1, i] return {t[1]}"),
        st.tuples(st.sampled_from(["some", "every"]), var, inner, inner).map(
            lambda t: f"{t[0]} {t[1]} in {t[2]} satisfies {t[3]}"),
        _call(inner),
        st.tuples(inner, inner).map(lambda t: f"({t[0]})[{t[1]}]"),
        st.tuples(inner, st.sampled_from(["a", "k y", "year", "start", "__class__", "__dict__", "upper"])).map(
            lambda t: f"({t[0]}).{t[1]}"),
        st.tuples(inner, st.sampled_from(_TYPES)).map(lambda t: f"({t[0]}) instance of {t[1]}"),
        st.tuples(inner, inner, inner).map(lambda t: f"({t[0]}) between {t[1]} and {t[2]}"),
        st.tuples(inner, inner).map(lambda t: f"({t[0]}) in ({t[1]})"),
        st.tuples(inner, inner).map(lambda t: f"(function(a, b) {t[0]})({t[1]}, a)"),
        st.tuples(inner, inner).map(lambda t: f"{{f: function(n) if n > 0 then f(n - 1) else {t[0]}, r: f({t[1]})}}.r"),
    )


_expressions = st.recursive(_leaves, _extend, max_leaves=16)
_CHARS = [*"0123456789.eE+-*/=!<>()[]{},:;\"'\\@?` \t\nabcdfinorstuxyz",
    "and", "or", "not", "if", "then", "else", "for", "in", "return", "some", "every", "satisfies", "between",
    "instance of", "function", "null", "true", "false", "..", "**", "->", "//", "/*", "*/", "\\u", "\\U", "é", "\u00a0",
    "\u200b", "\uff45", "\U0001f600", "\ufeff", "ǅ", "٣",
]

# --- the property --------------------------------------------------------------------------------------------------


def _internal_fault(error: BaseException) -> BaseException | None:
    """The Python exception behind a FeelError, if the package wrapped one instead of raising its own.

    RecursionError and MemoryError are turned into FeelLimitError on purpose; anything else in the
    cause chain (ValueError, TypeError, ...) is a fault the safety net in ``api.py`` caught.
    """
    cause = error.__cause__
    while cause is not None:
        if not isinstance(cause, FeelError) and not (
            isinstance(error, FeelLimitError) and isinstance(cause, RecursionError | MemoryError)
        ):
            return cause
        cause = cause.__cause__
    return None


def _foreign_objects(value: Any) -> list[Any]:
    """Values reachable from ``value`` that are not FEEL values (walks each list/context once)."""
    found: list[Any] = []
    seen: set[int] = set()
    stack = [value]
    while stack and len(seen) < 100_000:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if type(item) is list:
            stack.extend(item)
        elif type(item) is dict:
            found.extend(k for k in item if type(k) is not str)
            stack.extend(item.values())
        elif isinstance(item, Range):
            stack.extend([item.start, item.end])
        elif not isinstance(item, _FEEL_TYPES):
            found.append(item)
    return found


def _check(source: str, variables: dict[str, Any]) -> Any:
    """Compile and evaluate ``source``; assert the outcome is a storable FEEL value or a FeelError of its own."""
    try:
        result = compile_expression(source).evaluate(variables, now=_NOW)
        assert _foreign_objects(result) == [], f"{source!r} reached Python objects"
        stored = to_json(result)
        try:
            check_value(stored)
        except JsonProblem as problem:  # a value nested past what JSON storage takes is refused, by name
            assert "levels deep" in problem.reason, problem
            return result
        json.dumps(stored, allow_nan=False)
    except FeelError as error:
        fault = _internal_fault(error)
        assert fault is None, f"{source!r}: internal fault {fault!r}"
        return error
    try:
        compile_unary_tests(source).matches(Decimal(3), variables, now=_NOW)
    except FeelError as error:
        fault = _internal_fault(error)
        assert fault is None, f"unary tests {source!r}: internal fault {fault!r}"
    return result


@_fuzz(400)
@given(st.lists(st.sampled_from(_CHARS), max_size=40).map("".join), _variables)
def test_text_from_the_feel_alphabet_gives_a_value_or_a_feel_error_of_its_own(source: str, variables: dict[str, Any]
                                                                             ) -> None:
    _check(source, variables)


@_fuzz(600)
@given(_expressions, _variables)
def test_structured_expressions_give_a_storable_value_or_a_feel_error_of_its_own(
    source: str, variables: dict[str, Any]
) -> None:
    _check(source, variables)


_WRAPPERS = [("(", ")"), ("[", "]"), ("-", ""), ("not(", ")"), ("{a: ", "}"), ("if true then ", " else 1"),
             ("abs(", ")"), ("[", "][1]"), ("for i in [1] return ", ""), ("(function(a) ", ")(1)"), ("x + ", "")]


@_fuzz(60)
@given(st.integers(min_value=1, max_value=400), st.lists(st.sampled_from(_WRAPPERS), min_size=1, max_size=4))
def test_nesting_past_every_limit_gives_a_value_or_a_feel_error_of_its_own(depth: int, pattern: list[tuple[str, str]]
                                                                         ) -> None:
    wrappers = [pattern[level % len(pattern)] for level in range(depth)]  # hypothesis keeps lists short; depth is drawn
    source = "".join(o for o, _ in wrappers) + "1" + "".join(c for _, c in reversed(wrappers))
    outcome = _check(source, {"x": 1})
    if depth > 100 and all(closer for _, closer in pattern):  # bracketed: the parser refuses depth 80 and more
        assert isinstance(outcome, FeelSyntaxError | FeelLimitError)


@_fuzz(20)
@given(st.integers(min_value=1, max_value=20_000), st.sampled_from(["v", "count(v)", "flatten(v)", "string(v)",
                                                                      "v = v", "v.a", "v[1]", "get entries(v)"]))
def test_deeply_nested_variables_give_a_value_or_a_feel_error_of_its_own(depth: int, source: str) -> None:
    value: Any = 1
    for level in range(depth):
        value = [value] if level % 2 else {"a": value}
    _check(source, {"v": value})


# --- RELIABILITY.md E1-E3 (and E5): nothing reaches Python objects -------------------------------------------------


def _fullwidth(text: str) -> str:
    """``text`` in fullwidth forms, which Python's NFKC folds back to ASCII identifiers (E3)."""
    return "".join(chr(ord(c) + 0xFEE0) for c in text)


_ESCAPE_CORPUS = [
    "().__class__.__bases__[0].__subclasses__()", "__import__('os').system('id')", '__import__("os")',
    'open("/etc/passwd").read()', "getattr(x, '__cl' + 'ass__')", "(x for x in ()).gi_frame.f_back.f_globals",
    "type(x).__mro__", "vars()", "globals()", "locals()", "lambda: 1", "(y := 1)", 'eval("1")', 'exec("1")',
    'compile("1", "", "eval")', "x.__class__", "x.__class__.__mro__", "s.__class__.__base__.__subclasses__()",
    'x["__class__"]', 'get value(x, "__class__")', 'get value(c, "__dict__")', "__builtins__", "__class__",
    '"{0.__class__.__mro__}".format(x)', '"{0.__globals__}".format(f)', 'f"{x.__class__}"', 'str.format("{0}", x)',
    '"%s" % x', _fullwidth("eval") + "('1')", _fullwidth("eval") + '("1")', _fullwidth("__import__") + "('os')",
    _fullwidth("__class__"), "__" + _fullwidth("class") + "__", "x.__" + _fullwidth("class") + "__",
    "e\u200bval('1')", "f(1)", "f", "o.system('id')", "o.__class__", "o.__dict__", "o.canary", "o.canary()",
    'context put(x, "__class__", 1).__class__', "string(f)", "string(o)", "{a: f}.a(1)", "[f][1](1)",
    'sort([2, 1], f)', "for g in [f] return g(1)", '(function() f)()()',
]
_calls: list[tuple[Any, ...]] = []


def _canary(*args: Any) -> str:
    _calls.append(args)
    return "<class 'reached'>"


def _escape_variables() -> dict[str, Any]:
    return {"x": "text", "s": "", "c": {"a": 1}, "f": _canary, "o": SimpleNamespace(system=_canary, canary=_canary),
            "y": object()}


def _assert_contained(source: str) -> None:
    _calls.clear()
    outcome = _check(source, _escape_variables())
    assert _calls == [], f"{source!r} called a Python callable from the variables"
    if not isinstance(outcome, FeelError):
        text = json.dumps(to_json(outcome))
        assert "<class" not in text and "root:" not in text and "namespace" not in text, f"{source!r} -> {text}"


@pytest.mark.parametrize("source", _ESCAPE_CORPUS)
def test_the_escape_corpus_reaches_no_python_object(source: str) -> None:
    _assert_contained(source)


_escape_parts = st.sampled_from(["x", "f", "o", "y", "c", "s", "__class__", "__dict__", "__globals__", "__mro__",
                                 "__subclasses__", "__builtins__", "__import__", _fullwidth("eval"), "system",
                                 "canary", "format", "upper"])


@_fuzz(300)
@given(st.lists(st.tuples(_escape_parts, st.sampled_from([".", "(", "()", "[1]", '["__class__"]', "(1)."])),
                min_size=1, max_size=6))
def test_generated_attribute_and_call_chains_reach_no_python_object(chain: list[tuple[str, str]]) -> None:
    _assert_contained("".join(part + joint for part, joint in chain).rstrip(".(") or "x")


# --- a fault the fuzzing found -------------------------------------------------------------------------------------


@pytest.mark.parametrize("source", ['"\\UFFFFFF"', '"\\U110000"', '@"\\U110000"'])
def test_an_out_of_range_unicode_escape_is_a_syntax_error_naming_its_column(source: str) -> None:
    with pytest.raises(FeelSyntaxError) as refused:
        compile_expression(source)
    assert _internal_fault(refused.value) is None
    assert refused.value.position is not None
