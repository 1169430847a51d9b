"""Hardening item 5 for tool arguments (MCP over stdio and HTTP, A2A data parts): the field is named, nothing is a 500.

``engine.arguments.check_arguments`` is where every transport's tool call
lands after the SDK has parsed it, so a value the SDK let through
(Infinity from ``1e999``, a lone surrogate) is refused here by its path.
"""

from __future__ import annotations

from typing import Any

import pytest

from engine.arguments import ArgumentError, check_arguments

SCHEMA: dict[str, Any] = {"type": "object", "properties": {"order": {"type": "object"}, "note": {"type": "string"}}}


@pytest.mark.parametrize("number", [float("inf"), float("-inf"), float("nan")])
def test_a_non_finite_number_in_the_arguments_is_refused_naming_its_path(number: float) -> None:
    with pytest.raises(ArgumentError) as refused:
        check_arguments(SCHEMA, {"order": {"lines": [1, number]}})
    assert refused.value.problems[0].startswith("'order.lines[1]': ")
    assert "not a finite number" in refused.value.problems[0]


def test_a_lone_surrogate_in_the_arguments_is_an_argument_error_naming_its_path_not_a_crash() -> None:
    with pytest.raises(ArgumentError) as refused:
        check_arguments(SCHEMA, {"note": "ab\ud800"})
    assert refused.value.problems[0].startswith("'note': ") and "lone surrogate" in refused.value.problems[0]


def test_a_lone_surrogate_in_an_argument_name_is_refused_too() -> None:
    with pytest.raises(ArgumentError) as refused:
        check_arguments({"type": "object"}, {"order": {"\udc00": 1}})
    assert refused.value.problems[0].startswith("'order': ") and "lone surrogate" in refused.value.problems[0]
