"""A sample of each family of built-in functions."""

from decimal import Decimal
from typing import Any

import pytest

from engine.feel import FeelEvaluationError, evaluate


def feel(source: str, **variables: Any) -> Any:
    return evaluate(source, variables)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('string length("héllo")', Decimal(5)),
        ('upper case("abc")', "ABC"),
        ('substring before("foobar", "bar")', "foo"),
        ('substring after("foobar", "ob")', "ar"),
        ('contains("foobar", "ob")', True),
        ('starts with("foobar", "fo")', True),
        ('ends with("foobar", "r")', True),
        ('matches("foobar", "^fo*b")', True),
        ('replace("abc", "b", "[$0]")', "a[b]c"),
        ('replace("ABC", "b", "x", "i")', "AxC"),
        ('split("a,b,,c", ",")', ["a", "b", "", "c"]),
        ('string join(["a", null, "c"], "-")', "a-c"),
        ('extract("a1b22", "[0-9]+")', ["1", "22"]),
        ("string(1.50)", "1.5"),
        ('string([1, "a"])', '[1, "a"]'),
        ('number("1 000,5", " ", ",")', Decimal("1000.5")),
    ],
)
def test_string_functions(source: str, expected: Any) -> None:
    assert feel(source) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("list contains([1, 2], 2)", True),
        ("count([1, 2, 3])", Decimal(3)),
        ("min([3, 1, 2])", Decimal(1)),
        ("max(3, 1, 2)", Decimal(3)),
        ("sum([1, 2, 3])", Decimal(6)),
        ("mean([1, 2, 3, 4])", Decimal("2.5")),
        ("median([3, 1, 2, 4])", Decimal("2.5")),
        ("mode([1, 2, 2, 3])", [Decimal(2)]),
        ("product([2, 3, 4])", Decimal(24)),
        ("all([true, true])", True),
        ("any([false, null, true])", True),
        ("sublist([1, 2, 3, 4], 2, 2)", [Decimal(2), Decimal(3)]),
        ("append([1], 2, 3)", [Decimal(1), Decimal(2), Decimal(3)]),
        ("concatenate([1], [2])", [Decimal(1), Decimal(2)]),
        ("insert before([1, 3], 2, 2)", [Decimal(1), Decimal(2), Decimal(3)]),
        ("remove([1, 2, 3], 2)", [Decimal(1), Decimal(3)]),
        ("reverse([1, 2])", [Decimal(2), Decimal(1)]),
        ("index of([1, 2, 1], 1)", [Decimal(1), Decimal(3)]),
        ("union([1, 2], [2, 3])", [Decimal(1), Decimal(2), Decimal(3)]),
        ("distinct values([1, 1, 2])", [Decimal(1), Decimal(2)]),
        ("duplicate values([1, 1, 2, 2, 3])", [Decimal(1), Decimal(2)]),
        ("flatten([1, [2, [3]]])", [Decimal(1), Decimal(2), Decimal(3)]),
        ("sort([3, 1, 2], function(a, b) a > b)", [Decimal(3), Decimal(2), Decimal(1)]),
        ("is empty([])", True),
        ("partition([1, 2, 3], 2)", [[Decimal(1), Decimal(2)], [Decimal(3)]]),
        ("sum([])", None),
        ('sum([1, "a"])', None),
    ],
)
def test_list_functions(source: str, expected: Any) -> None:
    assert feel(source) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("decimal(1/3, 2)", Decimal("0.33")),
        ("decimal(2.5, 0)", Decimal(2)),
        ("floor(-1.5)", Decimal(-2)),
        ("ceiling(1.2)", Decimal(2)),
        ("round up(5.51, 1)", Decimal("5.6")),
        ("round down(-5.59, 1)", Decimal("-5.5")),
        ("round half up(2.5, 0)", Decimal(3)),
        ("round half down(2.5, 0)", Decimal(2)),
        ("abs(-3)", Decimal(3)),
        ("modulo(-12, 5)", Decimal(3)),
        ("sqrt(16)", Decimal(4)),
        ("sqrt(-1)", None),
        ("odd(3)", True),
        ("even(3)", False),
        ("floor(1.5, null)", None),
    ],
)
def test_numeric_functions(source: str, expected: Any) -> None:
    assert feel(source) == expected


def test_context_and_boolean_functions() -> None:
    assert feel('get value({a: 1}, "a")') == Decimal(1)
    assert feel("get entries({a: 1})") == [{"key": "a", "value": Decimal(1)}]
    assert feel('context put({a: 1}, "b", 2)') == {"a": Decimal(1), "b": Decimal(2)}
    assert feel('context put({a: {b: 1}}, ["a", "b"], 2)') == {"a": {"b": Decimal(2)}}
    assert feel("context merge([{a: 1}, {b: 2}])") == {"a": Decimal(1), "b": Decimal(2)}
    assert feel('context([{key: "a", value: 1}])') == {"a": Decimal(1)}
    assert feel("is defined(x)", x=1) is True
    assert feel("is defined(missing)") is False
    assert feel('get or else(null, "default")') == "default"
    assert feel('is(date("2020-01-01"), date("2020-01-01"))') is True


def test_assert_stops_evaluation_when_the_condition_fails() -> None:
    assert feel("assert(x, x > 0)", x=1) == Decimal(1)
    with pytest.raises(FeelEvaluationError, match="assertion failed"):
        feel('assert(x, x > 0, "x must be positive")', x=-1)
