"""Syntax errors say what and where; limits stop runaway expressions; nothing else escapes."""

import tracemalloc
from decimal import Decimal

import pytest

from engine.feel import FeelError, FeelEvaluationError, FeelSyntaxError, compile_expression, evaluate


def test_syntax_error_names_the_token_and_column() -> None:
    with pytest.raises(FeelSyntaxError) as info:
        compile_expression("a + (b))")
    assert str(info.value) == "unexpected ')' at column 8 in 'a + (b))'"
    assert info.value.position == 7
    assert info.value.source == "a + (b))"


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ("1 +", "unexpected end of expression at column 4"),
        ('"abc', "unterminated string at column 1"),
        ("if x then 1", "expected 'else' but found end of expression"),
        ("[1, 2", "expected ']' but found end of expression"),
        ("a # b", "unexpected character '#' at column 3"),
        ("/* open", "unterminated comment"),
    ],
)
def test_syntax_errors_describe_the_problem(source: str, fragment: str) -> None:
    with pytest.raises(FeelSyntaxError) as info:
        compile_expression(source)
    assert fragment in str(info.value)


def test_feel_errors_share_one_base_class() -> None:
    assert issubclass(FeelSyntaxError, FeelError)
    assert issubclass(FeelEvaluationError, FeelError)


def test_deeply_nested_source_is_a_syntax_error_not_a_recursion_error() -> None:
    with pytest.raises(FeelSyntaxError, match="nested too deeply"):
        compile_expression("(" * 500 + "1" + ")" * 500)


def test_unbounded_recursion_hits_the_call_depth_limit() -> None:
    with pytest.raises(FeelEvaluationError, match="nested deeper"):
        evaluate("{f: function(n) f(n + 1), r: f(1)}.r", {})


def test_huge_iteration_hits_the_size_limit() -> None:
    with pytest.raises(FeelEvaluationError, match="more than"):
        evaluate("for i in 1..100000000 return i", {})
    with pytest.raises(FeelEvaluationError, match="more than"):
        evaluate("count(for i in 1..5000, j in 1..5000 return 1)", {})


def test_string_growth_hits_the_size_limit() -> None:
    with pytest.raises(FeelEvaluationError, match="longer than"):
        evaluate('{f: function(s, n) if n = 0 then s else f(s + s, n - 1), r: f("ab", 40)}.r', {})


def test_compiled_expressions_are_cached_by_source() -> None:
    assert compile_expression("x > 5") is compile_expression("x > 5")


def test_exponential_recursion_hits_the_step_budget() -> None:
    with pytest.raises(FeelEvaluationError, match="steps"):
        evaluate("{f: function(n) if n = 0 then 0 else f(n - 1) + f(n - 1), r: f(40)}.r", {})


def test_values_that_share_sublists_cannot_blow_up_when_walked() -> None:
    from engine.feel import to_json

    shared = evaluate("for i in 1..40 return partial", {})
    assert len(shared) == 40
    with pytest.raises(FeelEvaluationError, match="nested items"):
        to_json(shared)
    with pytest.raises(FeelEvaluationError, match="nested items"):
        evaluate("flatten(for i in 1..40 return partial)", {})


def test_huge_number_literals_are_null_not_slow() -> None:
    assert evaluate("1e999999 + 1", {}) is None
    assert evaluate('substring("abc", x)', {"x": 10**100}) is None


def test_a_megabyte_expression_is_refused_before_it_is_parsed_in_little_memory() -> None:
    source = " + ".join(["1"] * 350_000)  # about 1 MB of FEEL
    text = '"' + "a" * (1 << 20) + '"'  # a 1 MB string literal
    tracemalloc.start()
    try:
        for big in (source, text):
            with pytest.raises(FeelSyntaxError, match="longer than 100000 characters"):
                evaluate(big, {})
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * 1024 * 1024  # the source itself is all it holds: no tokens or tree were built


def test_towers_of_powers_are_numbers_or_null_never_a_runaway_computation() -> None:
    # ``**`` groups to the left in FEEL, so 9**9**9 is (9**9)**9: large but finite.
    power = evaluate("9**9**9", {})
    assert power == evaluate("(9**9)**9", {})
    assert isinstance(power, Decimal) and power.adjusted() == 77 and str(power).startswith("1.96627050475552913618")
    for tower in ("9**(9**9)", "9**(9**(9**9))", "(-9)**(9**9)", "decimal(9**(9**9), 2)"):
        assert evaluate(tower, {}) is None, tower
