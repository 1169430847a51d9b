"""The table of built-in functions and the decorator that fills it."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

from engine.feel.values import FeelFunction, to_int

__all__ = ["REGISTRY", "builtin", "integer", "number_list"]

REGISTRY: dict[str, list[FeelFunction]] = {}
F = TypeVar("F", bound=Callable[..., Any])


def builtin(
    name: str, *params: str, required: int | None = None, variadic: bool = False, needs_clock: bool = False,
    needs_entropy: bool = False,
) -> Callable[[F], F]:
    """Register ``impl`` as (one overload of) the built-in ``name`` with the given parameter names."""

    def register(impl: F) -> F:
        fn = FeelFunction(
            name, params, impl, len(params) if required is None else required, variadic, needs_clock, needs_entropy
        )
        REGISTRY.setdefault(name, []).append(fn)
        return impl

    return register


def integer(value: Any) -> int:
    """The value as a Python int; TypeError (so the call gives null) unless it is an integral number."""
    if type(value) is not Decimal or not value.is_finite() or value != value.to_integral_value():
        raise TypeError("integer expected")
    return to_int(value)


def number_list(args: tuple[Any, ...]) -> list[Any]:
    """Arguments of a list-or-varargs function (``sum([1, 2])`` or ``sum(1, 2)``) as a list."""
    if len(args) == 1 and type(args[0]) is list:
        return list(args[0])
    return list(args)
