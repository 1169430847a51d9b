"""engine.canonical: one canonical JSON text and its hash, stable because digests are persisted."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from engine.canonical import NotCanonical, canonical_hash, canonical_json

# Checked independently: printf '%s' "$TEXT" | sha256sum
KNOWN: dict[str, Any] = {
    "title": "Wetter für Zürich",
    "name": "get_weather",
    "n": [1, 2.5, None, True],
    "inputSchema": {"type": "object", "properties": {"city": {"type": "string"}}},
}
KNOWN_TEXT = (
    '{"inputSchema":{"properties":{"city":{"type":"string"}},"type":"object"},'
    '"n":[1,2.5,null,true],"name":"get_weather","title":"Wetter f\\u00fcr Z\\u00fcrich"}'
)
KNOWN_DIGEST = "fde1cf94075e8628e1536510384a2ab586a5aadd0ee0c743a346b6ef4cf25550"


def test_the_canonical_form_is_locked_by_a_known_text_and_digest() -> None:
    assert canonical_json(KNOWN) == KNOWN_TEXT
    assert canonical_hash(KNOWN) == KNOWN_DIGEST


def test_the_form_is_the_one_registry_pins_were_stored_with() -> None:
    before = hashlib.sha256(json.dumps(KNOWN, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    assert canonical_hash(KNOWN) == before


def test_key_order_does_not_change_the_hash() -> None:
    one = {"a": 1, "b": {"x": [1, 2], "y": None}}
    other = {"b": {"y": None, "x": [1, 2]}, "a": 1}
    assert canonical_json(one) == canonical_json(other) == '{"a":1,"b":{"x":[1,2],"y":null}}'
    assert canonical_hash(one) == canonical_hash(other)


def test_list_order_and_number_types_do_change_the_hash() -> None:
    assert canonical_hash([1, 2]) != canonical_hash([2, 1])
    assert len({canonical_hash(10), canonical_hash(10.0), canonical_hash("10")}) == 3


def test_unicode_is_written_as_ascii_escapes_and_not_normalised() -> None:
    assert canonical_json({"k": "é€😀"}) == '{"k":"\\u00e9\\u20ac\\ud83d\\ude00"}'
    assert canonical_json("\u00e9") != canonical_json("e\u0301")  # composed and decomposed stay apart


def test_nested_values_are_canonical_at_every_level() -> None:
    deep: Any = {"z": 0}
    for level in range(50):
        deep = {"level": level, "inner": [deep, {"b": 2, "a": 1}]}
    text = canonical_json(deep)
    assert json.loads(text) == deep
    assert '{"a":1,"b":2}' in text and " " not in text


@pytest.mark.parametrize("number", [float("nan"), float("inf"), float("-inf")])
def test_nan_and_infinity_are_refused_with_a_clear_error(number: float) -> None:
    with pytest.raises(NotCanonical, match="no canonical JSON form"):
        canonical_json({"amount": [1, number]})
    with pytest.raises(ValueError):  # NotCanonical is a ValueError, for callers that catch that
        canonical_hash(number)


def test_values_that_are_not_json_are_refused() -> None:
    with pytest.raises(NotCanonical, match="not plain JSON"):
        canonical_json({"when": object()})
    looped: list[Any] = []
    looped.append(looped)
    with pytest.raises(NotCanonical):
        canonical_json(looped)
