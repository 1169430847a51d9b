"""Fuzzing the JSON inputs: ``strict_json.loads`` and ``check_variables`` accept storable JSON or refuse, nothing else.

Every input (REST bodies, MCP and A2A payloads, ``--vars``, worker results) goes
through ``engine/strict_json.py``, and ``check_variables`` is the engine's last
line of defence. Whatever text or value arrives, the answer is a value that
``json.dumps(allow_nan=False)`` writes and that reads back equal, or the one
documented refusal (``JsonProblem``, ``InvalidInput``). The generators lean on
what Python's ``json`` bends: NaN, Infinity, 1e999, 5000-digit integers, lone
surrogates (escaped, raw and in UTF-16 bytes), duplicate keys, deep nesting.

Examples are derandomized and the database is off, so a CI run is reproducible;
``JSON_FUZZ_EXAMPLES=5000`` gives a long local run.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.exceptions import InvalidInput
from engine.strict_json import JsonProblem, check_value, loads
from engine.validation import check_variables

pytestmark = pytest.mark.slow

_EXAMPLES = int(os.environ.get("JSON_FUZZ_EXAMPLES", "0"))


def _fuzz(examples: int) -> settings:
    """Settings for one property: reproducible (derandomized, no database) and each example under 2 s.

    No health check is suppressed: the strategies below draw little data and run quickly.
    """
    return settings(max_examples=_EXAMPLES or examples, deadline=dt.timedelta(seconds=2), derandomize=True,
                    database=None)


# Any code point, lone surrogates included (hypothesis leaves category Cs out unless asked).
_any_char = st.characters() | st.characters(codec=None, categories=["Cs"])

# --- JSON-like text ------------------------------------------------------------------------------------------------

_NUMBERS = ["0", "-0", "1", "-1", "0.5", "1e308", "1.7976931348623157e308", "1.8e308", "1e999", "-1e999", "1e-999",
            "5e-324", "2e-324", "NaN", "-NaN", "Infinity", "-Infinity", "+1", "01", "1.", ".5", "1e", "0x10",
            "1" * 4300, "1" * 4301, "-" + "9" * 5000, "1" + "0" * 400 + ".0", "1E400", "123456789012345678901234567890"]
_ESCAPES = ["\\ud800", "\\udfff", "\\ud83d\\ude00", "\\ude00\\ud83d", "\\u0000", "\\u00e9", "\\n", '\\"', "\\\\",
            "\\/", "\\x41", "\\u12", "\\U0001F600", "\\"]
_string_bodies = st.lists(
    st.sampled_from(_ESCAPES) | st.text(_any_char, max_size=4).map(lambda t: t.replace("\\", "").replace('"', "")),
    max_size=4,
).map("".join)
_strings = _string_bodies.map(lambda body: f'"{body}"')
_keys = st.sampled_from(['"a"', '"b"', '"a"', '""', '"\\u0061"', '"\\ud800"', '"__proto__"', '"é"', '"e\\u0301"'])
_space = st.sampled_from(["", " ", "\n", "\t", "\r\n", "\u00a0", "\ufeff"])


def _json_text(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.lists(inner, max_size=4).map(lambda items: "[" + ",".join(items) + "]"),
        st.lists(st.tuples(_keys, inner), max_size=4).map(
            lambda entries: "{" + ",".join(f"{k}:{v}" for k, v in entries) + "}"),  # repeated keys are likely
        st.tuples(_space, inner, _space).map("".join),
    )


_documents = st.recursive(
    st.one_of(st.sampled_from(_NUMBERS), _strings, st.sampled_from(["true", "false", "null", "True", "None", "nul"])),
    _json_text,
    max_leaves=12,
)


@st.composite
def _mangled(draw: st.DrawFn) -> str:
    """A JSON-like document with a slice cut out or a few characters put in."""
    text = draw(_documents)
    at = draw(st.integers(min_value=0, max_value=len(text)))
    cut = draw(st.integers(min_value=0, max_value=3))
    return text[:at] + draw(st.text(_any_char | st.sampled_from(list('[]{}:,"\\')), max_size=3)) + text[at + cut:]


_OPEN_CLOSE = [("[", "]"), ('{"a":', "}"), ('{"a":[', "]}"), ("[", "}")]


@st.composite
def _deep(draw: st.DrawFn) -> str:
    """Nesting from shallow to far past the parser's recursion limit, sometimes unbalanced."""
    opener, closer = draw(st.sampled_from(_OPEN_CLOSE))
    depth = draw(st.integers(min_value=1, max_value=50_000))
    closing = depth - draw(st.sampled_from([0, 0, 1]))
    return opener * depth + draw(st.sampled_from(["1", "NaN", '"\\ud800"', "1e999", ""])) + closer * closing


# --- the property --------------------------------------------------------------------------------------------------


def _assert_storable(value: Any) -> None:
    """``value`` is plain JSON: written without NaN or Infinity, as UTF-8, and read back equal by both parsers."""
    check_value(value)
    text = json.dumps(value, allow_nan=False, ensure_ascii=False)
    text.encode("utf-8")
    assert json.loads(text) == value
    assert loads(text) == value


def _loads_outcome(text: str | bytes) -> Any:
    try:
        value = loads(text, root="variables")
    except JsonProblem as problem:
        assert problem.path is None or problem.path.startswith("variables")
        return problem
    _assert_storable(value)
    return value


@_fuzz(300)
@given(st.text(_any_char, max_size=80))
def test_loads_of_any_text_is_storable_json_or_a_json_problem(text: str) -> None:
    _loads_outcome(text)


@_fuzz(300)
@given(st.binary(max_size=80))
def test_loads_of_any_bytes_is_storable_json_or_a_json_problem(data: bytes) -> None:
    _loads_outcome(data)


@_fuzz(800)
@given(_documents | _mangled())
def test_loads_of_json_like_text_is_storable_json_or_a_json_problem(text: str) -> None:
    _loads_outcome(text)


@_fuzz(200)
@given(_documents, st.sampled_from(["utf-8", "utf-16", "utf-16-le", "utf-32-be"]))
def test_loads_of_json_like_bytes_in_any_encoding_is_storable_json_or_a_json_problem(text: str, codec: str) -> None:
    _loads_outcome(text.encode(codec, "surrogatepass"))


@_fuzz(40)
@given(_deep())
def test_loads_of_deep_nesting_is_storable_json_or_a_json_problem(text: str) -> None:
    _loads_outcome(text)


_finite_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=16,
)


@_fuzz(300)
@given(_finite_json)
def test_loads_reads_back_every_finite_json_value_that_python_writes(value: Any) -> None:
    assert loads(json.dumps(value, allow_nan=False)) == value
    assert loads(json.dumps(value, allow_nan=False, ensure_ascii=False).encode("utf-8")) == value


# --- check_variables -----------------------------------------------------------------------------------------------

_python_scalars = st.one_of(
    # Integers past 4300 digits are built, not listed: hypothesis cannot repr them in a sampled_from.
    st.none(), st.booleans(), st.integers(), st.sampled_from([4299, 4300, 5000]).map(lambda digits: -(10**digits)),
    st.floats(), st.sampled_from([math.inf, -math.inf, math.nan, -0.0, 5e-324]),
    st.text(_any_char, max_size=6), st.binary(max_size=3), st.decimals(), st.just(object()),
    st.sampled_from([dt.date(2024, 1, 1), {1, 2}, frozenset(), range(2), print, type, Ellipsis]),
)
_python_keys = st.one_of(st.text(_any_char, max_size=4), st.integers(), st.floats(), st.none(), st.booleans(),
                         st.tuples(st.integers()), st.just(Decimal(1)))
_python_values = st.recursive(
    _python_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.lists(inner, max_size=3).map(tuple),
                            st.dictionaries(_python_keys, inner, max_size=4)),
    max_leaves=12,
)


@_fuzz(600)
@given(st.one_of(st.dictionaries(_python_keys, _python_values, max_size=5), _python_values))
def test_check_variables_gives_storable_json_or_invalid_input(variables: Any) -> None:
    try:
        checked = check_variables(variables)
    except InvalidInput:
        return
    assert type(checked) is dict
    _assert_storable(checked)


@_fuzz(200)
@given(st.dictionaries(st.text(max_size=6), _finite_json, max_size=5))
def test_check_variables_keeps_every_finite_json_object_as_it_is(variables: dict[str, Any]) -> None:
    assert check_variables(variables) == variables


# --- faults the fuzzing found --------------------------------------------------------------------------------------


def test_check_variables_refuses_nesting_too_deep_to_store() -> None:
    value: Any = 1
    for _ in range(5_000):
        value = [value]
    with pytest.raises(InvalidInput):
        check_variables({"deep": value})


def test_check_variables_refuses_a_value_that_contains_itself() -> None:
    cycle: dict[str, Any] = {}
    cycle["self"] = cycle
    with pytest.raises(InvalidInput):
        check_variables({"a": cycle})
