"""Fuzzing: whatever text comes in, only FeelError subclasses come out."""

import contextlib
import datetime as dt
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.feel import FeelError, compile_expression, compile_unary_tests, to_json

_NOW = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
_VARIABLES: dict[str, Any] = {
    "x": 7, "s": "text", "l": [1, 2, 3], "c": {"a": 1, "b": [1, {"c": None}]}, "n": None, "b": True,
    "Monthly Salary": 1000.5,
}
_TOKENS = [
    "1", "0", "-1", "2.5", "100", "1e3", "1e999", '"a"', '"x\\u0041"', '""', "true", "false", "null", "x", "s",
    "l", "c", "n", "b", "Monthly Salary", "item", "partial", "?",
    "+", "-", "*", "/", "**", "=", "!=", "<", "<=", ">", ">=", "and", "or", "not", "(", ")", "[", "]", "{", "}",
    ",", ":", ".", "..", "in", "between", "instance of", "number", "list<number>", "if", "then", "else", "for",
    "return", "some", "every", "satisfies", "function", "->", "@\"2020-01-01\"", '@"P1D"', '@"10:00:00@Europe/Paris"',
    "date", "date and time", "duration", "count", "sum", "substring", "string length", "matches", "replace",
    "sort", "for i in 1..50 return", "a", "b c", "//", "/*", "*/", "`q`", "get value", "context put", "before",
    "decimal", "round up", "years and months duration", "now", "today", "string", "flatten", "append",
]


def _run(source: str) -> None:
    try:
        result = compile_expression(source).evaluate(_VARIABLES, now=_NOW)
        to_json(result)
    except FeelError:
        pass
    with contextlib.suppress(FeelError):
        compile_unary_tests(source).matches(3, _VARIABLES, now=_NOW)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=60))
def test_random_text_raises_nothing_but_feel_errors(source: str) -> None:
    _run(source)


@settings(max_examples=2500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_TOKENS), min_size=1, max_size=14))
def test_random_token_soup_raises_nothing_but_feel_errors(tokens: list[str]) -> None:
    _run(" ".join(tokens))


@settings(max_examples=300, deadline=None)
@given(st.recursive(
    st.sampled_from(["1", "x", '"s"', "null", "[1,2]", "{a: 1}", '@"2020-01-01"', '@"P1D"', "l"]),
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "**", "=", "<", "and", "or"]), inner).map(" ".join),
        inner.map(lambda e: f"({e})"),
        inner.map(lambda e: f"[{e}]"),
        inner.map(lambda e: f"for i in [{e}] return i"),
        st.tuples(st.sampled_from(["count", "sum", "string", "abs", "not", "reverse", "min"]), inner).map(
            lambda t: f"{t[0]}({t[1]})"
        ),
    ),
    max_leaves=12,
))
def test_well_formed_random_expressions_evaluate_without_foreign_exceptions(source: str) -> None:
    _run(source)
