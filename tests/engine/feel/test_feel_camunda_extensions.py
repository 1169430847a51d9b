"""Camunda 8's FEEL extensions beyond DMN 1.4: uuid(), random number(), base64, JSON, and the older context names."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest

from engine.feel import compile_expression, evaluate

NOW = dt.datetime(2026, 3, 1, 12, 0, 0, tzinfo=dt.UTC)


def zeros(size: int) -> bytes:
    return bytes(size)


def ones(size: int) -> bytes:
    return b"\xff" * size


def run(source: str, **variables: Any) -> Any:
    return evaluate(source, variables)


def test_uuid_gives_a_version_7_uuid_that_starts_with_the_evaluation_time() -> None:
    text = compile_expression("uuid()").evaluate({}, NOW, entropy=zeros)
    value = uuid.UUID(text)
    assert value.version == 7 and value.variant == uuid.RFC_4122
    assert value.int >> 80 == int(NOW.timestamp() * 1000)
    assert text == str(value) and len(text) == 36


def test_uuid_takes_its_random_bits_from_the_injected_source_and_differs_between_calls() -> None:
    assert compile_expression("uuid()").evaluate({}, NOW, entropy=zeros).endswith("7000-8000-000000000000")
    assert compile_expression("uuid()").evaluate({}, NOW, entropy=ones).endswith("7fff-bfff-ffffffffffff")
    first, second = compile_expression("[uuid(), uuid()]").evaluate({}, NOW)
    assert first != second


def test_random_number_is_a_number_from_zero_up_to_but_not_including_one() -> None:
    assert compile_expression("random number()").evaluate({}, entropy=zeros) == Decimal(0)
    top = compile_expression("random number()").evaluate({}, entropy=ones)
    assert Decimal("0.999") < top < 1
    assert run("random number() >= 0 and random number() < 1") is True


def test_to_and_from_base64_encode_utf8_text() -> None:
    assert run('to base64("Hello, Wörld")') == "SGVsbG8sIFfDtnJsZA=="
    assert run('from base64("SGVsbG8sIFfDtnJsZA==")') == "Hello, Wörld"


@pytest.mark.parametrize("source", ['from base64("%%%")', 'from base64("/w==")', "to base64(12)"])
def test_base64_functions_give_null_for_what_they_cannot_convert(source: str) -> None:
    assert run(source) is None


def test_from_json_gives_feel_values_and_null_for_text_that_is_not_json() -> None:
    assert run("from json(text)", text='{"a": [1, 2.5, null, true], "b": "x"}') == {
        "a": [Decimal(1), Decimal("2.5"), None, True], "b": "x"}
    assert run('from json("nope")') is None
    assert run('from json("[NaN]")') is None
    assert run("from json(null)") is None


def test_to_json_writes_compact_json_with_temporal_values_as_iso_text() -> None:
    assert run('to json({a: [1, 2.5, null, true], d: date("2024-01-02")})') == (
        '{"a":[1,2.5,null,true],"d":"2024-01-02"}')
    assert run('to json("x")') == '"x"'
    assert run("from json(to json(v))", v={"k": [1, {"n": None}]}) == {"k": [Decimal(1), {"n": None}]}


def test_put_and_put_all_are_the_older_names_of_context_put_and_context_merge() -> None:
    assert run('put({a: 1}, "b", 2)') == run('context put({a: 1}, "b", 2)') == {"a": 1, "b": 2}
    assert run("put all([{a: 1}, {b: 2}])") == {"a": 1, "b": 2}


def test_a_variable_may_still_be_called_uuid() -> None:
    assert run("uuid", uuid="mine") == "mine"
