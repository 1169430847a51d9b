"""engine.arguments: the one check of a tool call's arguments, for agents' tools and for MCP and A2A calls alike."""

from __future__ import annotations

from typing import Any

import pytest

from engine.arguments import MAX_ARGUMENT_BYTES, MAX_DEPTH, MAX_PROBLEMS, ArgumentError, check_arguments

QUOTE: dict[str, Any] = {
    "type": "object",
    "properties": {
        "amount": {"type": "number", "minimum": 0, "maximum": 1000},
        "note": {"type": "string", "maxLength": 5},
        "currency": {"type": "string", "enum": ["EUR", "USD"]},
        "order": {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]},
        "count": {"type": "integer"},
        "code": {"type": "string", "pattern": "^[A-Z]{3}$"},
    },
    "required": ["amount"],
    "additionalProperties": False,
}


def problems(arguments: Any, schema: dict[str, Any] = QUOTE) -> list[str]:
    with pytest.raises(ArgumentError) as refused:
        check_arguments(schema, arguments)
    return refused.value.problems


def test_arguments_that_fit_come_back_as_a_plain_dict() -> None:
    given = {"amount": 5, "count": 3.0, "order": {"id": "o-1"}}
    assert check_arguments(QUOTE, given) == given
    assert check_arguments(QUOTE, '{"amount": 2.5}') == {"amount": 2.5}
    assert check_arguments({"type": "object"}, None) == {} == check_arguments({"type": "object"}, "  ")


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        ({"amount": "5"}, "'amount' must be a number, not a string"),
        ({"amount": True}, "'amount' must be a number, not a boolean"),
        ({"amount": 1, "count": 2.5}, "'count' must be an integer, not a number"),
        ({}, "missing required argument 'amount'"),
        ({"amount": 1, "order": {}}, "missing required argument 'order.id'"),
        (
            {"amount": 1, "tip": 2},
            "unknown argument 'tip' (this tool takes: amount, code, count, currency, note, order)",
        ),
        ({"amount": -1}, "'amount' must be at least 0"),
        ({"amount": 1001}, "'amount' must be at most 1000"),
        ({"amount": 1, "note": "too long"}, "'note' must have at most 5 characters"),
        ({"amount": 1, "currency": "GBP"}, "'currency' must be one of \"EUR\", \"USD\""),
        ({"amount": 1, "code": "eur"}, "'code' must match the pattern '^[A-Z]{3}$'"),
        ([1, 2], "the arguments must be a JSON object, not an array"),
    ],
)
def test_each_problem_names_the_argument_and_what_it_must_be(arguments: Any, problem: str) -> None:
    assert problem in problems(arguments)


def test_every_problem_is_reported_at_once_and_a_wrong_type_is_not_repeated_as_a_wrong_value() -> None:
    found = problems({"currency": 5, "x": 1})
    assert found == [
        "'currency' must be a string, not a number",
        "missing required argument 'amount'",
        "unknown argument 'x' (this tool takes: amount, code, count, currency, note, order)",
    ]


def test_keywords_without_a_message_of_their_own_keep_jsonschemas_words_with_the_path() -> None:
    schema = {"type": "object", "properties": {"v": {"anyOf": [{"type": "string"}, {"type": "integer"}]}}}
    [problem] = problems({"v": 1.5}, schema)
    assert problem.startswith("'v': ") and "is not valid under any of the given schemas" in problem


def test_text_is_read_by_the_strict_parser() -> None:
    assert problems('{"amount": 1, "amount": 2}') == [
        "the arguments are not valid JSON: the key 'amount' appears twice in one object (a duplicate key)"
    ]
    assert "NaN is not a JSON number" in problems('{"amount": NaN}')[0]
    assert "not valid JSON" in problems('{"amount": 5} {"name": "delete_account"}')[0]


@pytest.mark.parametrize("number", [float("nan"), float("inf"), float("-inf")])
def test_a_non_finite_number_is_refused_by_its_path(number: float) -> None:
    [problem] = problems({"amount": 1, "order": {"id": "o", "lines": [1, number]}}, {"type": "object"})
    assert problem.startswith("'order.lines[1]': ") and "not a finite number" in problem


def test_the_size_limit_counts_utf8_bytes_of_compact_json() -> None:
    fits = "é" * ((MAX_ARGUMENT_BYTES - 20) // 2)
    assert check_arguments({"type": "object"}, {"t": fits}) == {"t": fits}
    [problem] = problems({"t": fits + "é" * 20}, {"type": "object"})
    assert f"bytes of JSON; at most {MAX_ARGUMENT_BYTES} are accepted" in problem
    assert problems("x" * (MAX_ARGUMENT_BYTES + 1)) == [
        f"the arguments are larger than {MAX_ARGUMENT_BYTES} bytes of JSON"
    ]


def test_nesting_deeper_than_the_limit_is_refused_without_exhausting_the_stack() -> None:
    deep: dict[str, Any] = {}
    inner = deep
    for _ in range(MAX_DEPTH):
        inner["a"] = {}
        inner = inner["a"]
    assert problems(deep, {"type": "object"}) == [f"the arguments nest deeper than {MAX_DEPTH} levels"]
    very: Any = []
    for _ in range(100_000):
        very = [very]
    assert problems({"v": very}, {"type": "object"}) == [f"the arguments nest deeper than {MAX_DEPTH} levels"]


def test_a_flood_of_problems_is_cut_to_the_first_few() -> None:
    schema = {"type": "object", "additionalProperties": {"type": "string"}}
    assert len(problems({f"k{i}": i for i in range(500)}, schema)) == MAX_PROBLEMS


def test_values_json_cannot_write_are_refused() -> None:
    assert problems({"when": object()}, {"type": "object"})[0].startswith("the arguments are not plain JSON")
