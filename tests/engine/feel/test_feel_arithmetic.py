"""Literals, decimal arithmetic, comparison and three-valued logic."""

from decimal import Decimal
from typing import Any

import pytest

from engine.feel import evaluate


def feel(source: str, **variables: Any) -> Any:
    return evaluate(source, variables)


def test_decimal_addition_is_exact_so_point_one_plus_point_two_equals_point_three() -> None:
    assert feel("0.1 + 0.2 = 0.3") is True
    assert feel("0.1 + 0.2") == Decimal("0.3")


def test_numbers_evaluate_to_decimals_with_34_digit_precision() -> None:
    assert feel("1 / 3") == Decimal("0.3333333333333333333333333333333333")
    assert feel("12300 = 1.23e4") is True
    assert isinstance(feel("2 * 3"), Decimal)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("1 + 2 * 3", Decimal(7)),
        ("(1 + 2) * 3", Decimal(9)),
        ("10 - 2 - 3", Decimal(5)),
        ("2 ** 3", Decimal(8)),
        ("3 ** 4 ** 5", Decimal(3486784401)),
        ("-3 ** 2", Decimal(9)),
        ("-(1 + 2)", Decimal(-3)),
        ("7 / 2", Decimal("3.5")),
    ],
)
def test_arithmetic_follows_feel_precedence(source: str, expected: Decimal) -> None:
    assert feel(source) == expected


@pytest.mark.parametrize("source", ['"a" + 1', "1 / 0", "null + 1", "true * 2", '"x" ** 2', "2 ** 100000000"])
def test_arithmetic_type_errors_and_overflow_give_null(source: str) -> None:
    assert feel(source) is None


def test_strings_concatenate_with_plus() -> None:
    assert feel('"foo" + "bar"') == "foobar"


def test_string_literals_support_escapes_including_unicode() -> None:
    assert feel(r'"a\"b\\c\n\u00e9"') == 'a"b\\c\né'
    assert feel(r'"\ud83d\udc0e"') == "\U0001f40e"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("1 < 2", True),
        ("2 <= 2", True),
        ("3 > 4", False),
        ('"a" < "b"', True),
        ("1 = 1.0", True),
        ("1 != 2", True),
        ('1 = "1"', None),
        ("null = null", True),
        ("1 = null", False),
        ("1 < null", None),
        ("[1, 2] = [1, 2]", True),
        ("{a: 1} = {a: 1}", True),
        ("true < false", None),
    ],
)
def test_comparisons_return_booleans_or_null_for_mismatched_types(source: str, expected: bool | None) -> None:
    assert feel(source) is expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("true and true", True),
        ("true and false", False),
        ("false and null", False),
        ("true and null", None),
        ("true or null", True),
        ("false or null", None),
        ("false or false", False),
        ('1 and true', None),
        ("not(true)", False),
        ("not(null)", None),
        ('not("x")', None),
    ],
)
def test_and_or_not_use_three_valued_logic(source: str, expected: bool | None) -> None:
    assert feel(source) is expected


def test_if_then_else_takes_else_branch_for_null_condition() -> None:
    assert feel('if x > 5 then "big" else "small"', x=7) == "big"
    assert feel('if x > 5 then "big" else "small"', x=None) == "small"
    assert feel('if null then 1 else 2') == Decimal(2)


def test_between_is_inclusive_and_null_aware() -> None:
    assert feel("5 between 1 and 10") is True
    assert feel("10 between 1 and 10") is True
    assert feel("11 between 1 and 10") is False
    assert feel("null between 1 and 10") is None


def test_comments_are_ignored() -> None:
    assert feel("1 + /* two */ 2 // three\n") == Decimal(3)
