"""How FEEL values read outside FEEL: the ``string()`` text of a value, and its JSON form.

Both renderings live here, above ``values`` and ``temporal``, because each
needs the other's pieces: a range's text holds its endpoints' text, and the
JSON form of a temporal value or range is its text.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from engine.feel.exceptions import FeelLimitError
from engine.feel.temporal import format_value
from engine.feel.values import MAX_ITEMS, FeelFunction, Range, spend

__all__ = ["format_number", "to_json", "to_text"]


def format_number(value: Decimal) -> str:
    """A number as plain decimal text, without exponent (``1.23E+4`` -> ``12300``)."""
    if not value.is_finite():
        return str(value)
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _quoted(value: Any, budget: list[int]) -> str:
    if isinstance(value, str):
        spend(budget, len(value) // 64)
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return _text(value, budget)


def to_text(value: Any) -> str:
    """The text of a value as ``string(value)`` gives it (null renders as ``null``)."""
    return _text(value, [MAX_ITEMS])


def _text(value: Any, budget: list[int]) -> str:
    spend(budget)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, Decimal):
        return format_number(value)
    if isinstance(value, list):
        return "[" + ", ".join(_quoted(v, budget) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_quoted(v, budget)}" for k, v in value.items()) + "}"
    if isinstance(value, FeelFunction):
        return f"function {value.name}({', '.join(value.params)})"
    if isinstance(value, Range):
        return _range_text(value)
    return format_value(value)


def _range_text(value: Range) -> str:
    left = "[" if value.start_included else "("
    right = "]" if value.end_included else ")"
    start = "" if value.start is None else to_text(value.start)
    end = "" if value.end is None else to_text(value.end)
    return f"{left}{start}..{end}{right}"


def to_json(value: Any) -> Any:
    """Turn a FEEL value into JSON-serialisable Python, as Camunda 8 does.

    Numbers become int when integral else float; temporal values and durations
    become ISO 8601 strings; ranges become their FEEL text; functions become None.
    """
    try:
        return _to_json(value, [MAX_ITEMS])
    except RecursionError:
        raise FeelLimitError("value nests too deeply to convert to JSON") from None


def _to_json(value: Any, budget: list[int]) -> Any:
    spend(budget)
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, Decimal):
        if not value.is_finite():
            return None
        if value.adjusted() <= 18 and value == value.to_integral_value():
            return int(value)
        number = float(value)
        return None if number in (float("inf"), float("-inf")) else number
    if isinstance(value, int | float):
        return value
    if isinstance(value, list):
        return [_to_json(v, budget) for v in value]
    if isinstance(value, dict):
        return {str(k): _to_json(v, budget) for k, v in value.items()}
    if isinstance(value, FeelFunction):
        return None
    if isinstance(value, Range):
        return _range_text(value)
    return format_value(value)
