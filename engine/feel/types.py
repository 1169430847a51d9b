"""``instance of``: checking a value against a FEEL type reference."""

from __future__ import annotations

import datetime as _dt
from decimal import Decimal
from typing import Any

from engine.feel.nodes import TypeRef
from engine.feel.values import FeelFunction, Range, YearsMonthsDuration

__all__ = ["is_instance", "type_name"]

_SIMPLE: dict[str, Any] = {
    "number": Decimal,
    "string": str,
    "boolean": bool,
    "date": _dt.date,
    "time": _dt.time,
    "date and time": _dt.datetime,
    "days and time duration": _dt.timedelta,
    "years and months duration": YearsMonthsDuration,
}


def type_name(value: Any) -> str:
    """The FEEL type name of a value (``Null`` for null)."""
    if value is None:
        return "Null"
    for name, cls in _SIMPLE.items():
        if type(value) is cls:
            return name
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "context"
    if isinstance(value, Range):
        return "range"
    if isinstance(value, FeelFunction):
        return "function"
    return "Any"


def is_instance(value: Any, ref: TypeRef) -> bool:
    """Whether ``value`` is an instance of the referenced type (null is only of type Null)."""
    name = ref.name
    if name == "Any":
        return value is not None
    if name in ("Null", "null"):
        return value is None
    if value is None:
        return False
    if name in _SIMPLE:
        return type(value) is _SIMPLE[name]
    if name == "list":
        if not isinstance(value, list):
            return False
        return not ref.args or all(v is None or is_instance(v, ref.args[0]) for v in value)
    if name == "context":
        if not isinstance(value, dict):
            return False
        return all(
            k in value and (value[k] is None or is_instance(value[k], t))
            for k, t in zip(ref.keys, ref.args, strict=False)
        )
    if name == "range":
        if not isinstance(value, Range):
            return False
        return not ref.args or all(
            e is None or is_instance(e, ref.args[0]) for e in (value.start, value.end)
        )
    if name == "function":
        return isinstance(value, FeelFunction)
    return False
