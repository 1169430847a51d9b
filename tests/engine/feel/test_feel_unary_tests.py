"""DMN unary tests as used in decision table input entries."""

from typing import Any

import pytest

from engine.feel import compile_unary_tests


@pytest.mark.parametrize(
    ("tests", "value", "expected"),
    [
        ("< 5", 3, True),
        ("< 5", 7, False),
        ("[1..3]", 3, True),
        ("]1..3]", 1, False),
        ("-", "anything", True),
        ('"a", "b"', "b", True),
        ('"a", "b"', "c", False),
        ("not(1, 2)", 3, True),
        ("not(1, 2)", 2, False),
        ("> limit", 11, True),
        ("? > 2 and ? < 5", 3, True),
        ("count(?) > 1", [1, 2], True),
        ("null", None, True),
        ("< 5", None, False),
        ("[1, 2, 3]", 2, True),
    ],
)
def test_unary_tests_match_input_values(tests: str, value: Any, expected: bool) -> None:
    assert compile_unary_tests(tests).matches(value, {"limit": 10}) is expected
