"""Coercing a decision's result to its ``typeRef``, as DMN asks (conformance level 3, section 10.3.2.9.4).

A singleton list becomes its item where a simple type is expected, a
non-list becomes a singleton list where a collection is expected, and a value
of the wrong simple type becomes null. Item definitions are followed to their
base type; structured item definitions pass values through unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from engine.dmn.model import ItemDefinition
from engine.feel.types import type_name

__all__ = ["coerce"]

_SIMPLE: Final = {
    "number": "number", "string": "string", "boolean": "boolean", "date": "date", "time": "time",
    "dateTime": "date and time", "date and time": "date and time",
    "dayTimeDuration": "days and time duration", "days and time duration": "days and time duration",
    "yearMonthDuration": "years and months duration", "years and months duration": "years and months duration",
}


def coerce(value: Any, type_ref: str | None, items: Mapping[str, ItemDefinition], depth: int = 0) -> Any:
    """``value`` as a value of ``type_ref`` (None when it cannot be one); unknown types pass it through."""
    if type_ref is None or value is None or depth > 16:
        return value
    simple = _SIMPLE.get(type_ref)
    if simple is not None:
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
        return value if type_name(value) == simple else None
    item = items.get(type_ref)
    if item is None:
        return value
    if item.is_collection:
        values = value if isinstance(value, list) else [value]
        base = _SIMPLE.get(item.type_ref or "")
        if base is not None and any(v is not None and type_name(v) != base for v in values):
            return None
        return values
    if item.type_ref is not None:
        return coerce(value, item.type_ref, items, depth + 1)
    return value
