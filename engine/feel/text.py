"""The FEEL ``string()`` rendering of values."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from engine.feel.values import MAX_ITEMS, FeelFunction, spend

__all__ = ["format_number", "to_text"]


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
    from engine.feel.temporal import format_value

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
    return format_value(value)
