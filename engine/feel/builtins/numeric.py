"""Numeric built-ins: rounding, abs, modulo, sqrt, log, exp, odd, even, number(), random number()."""

from __future__ import annotations

import datetime as _dt
import decimal
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from engine.feel.builtins._registry import builtin
from engine.feel.values import DECIMAL_CONTEXT as CTX
from engine.feel.values import YearsMonthsDuration, to_int

__all__: list[str] = []

_MAX_SCALE = 6176
_MIN_SCALE = -6111


def _number(value: Any) -> Decimal:
    if type(value) is not Decimal:
        raise TypeError("number expected")
    return value


def _round(value: Any, scale: Any, rounding: str) -> Any:
    n = _number(value)
    if type(scale) is not Decimal or not scale.is_finite():
        return None
    places = to_int(scale)  # a fractional scale is truncated, as in the TCK
    if not _MIN_SCALE <= places <= _MAX_SCALE:
        return None
    exponent = n.as_tuple().exponent
    if isinstance(exponent, int) and -exponent <= places:
        return n  # already at or below the requested scale: nothing to round
    result = n.quantize(Decimal(1).scaleb(-places), rounding=rounding, context=CTX)
    return result + 0 if result.is_zero() else result


@builtin("decimal", "n", "scale")
def to_decimal(n: Any, scale: Any) -> Any:
    return _round(n, scale, decimal.ROUND_HALF_EVEN)


@builtin("floor", "n")
def floor(n: Any) -> Any:
    return _round(n, Decimal(0), decimal.ROUND_FLOOR)


@builtin("floor", "n", "scale")
def floor_scale(n: Any, scale: Any) -> Any:
    return _round(n, scale, decimal.ROUND_FLOOR)


@builtin("ceiling", "n")
def ceiling(n: Any) -> Any:
    return _round(n, Decimal(0), decimal.ROUND_CEILING)


@builtin("ceiling", "n", "scale")
def ceiling_scale(n: Any, scale: Any) -> Any:
    return _round(n, scale, decimal.ROUND_CEILING)


@builtin("round up", "n", "scale")
def round_up(n: Any, scale: Any) -> Any:
    return _round(n, scale, decimal.ROUND_UP)


@builtin("round down", "n", "scale")
def round_down(n: Any, scale: Any) -> Any:
    return _round(n, scale, decimal.ROUND_DOWN)


@builtin("round half up", "n", "scale")
def round_half_up(n: Any, scale: Any) -> Any:
    return _round(n, scale, decimal.ROUND_HALF_UP)


@builtin("round half down", "n", "scale")
def round_half_down(n: Any, scale: Any) -> Any:
    return _round(n, scale, decimal.ROUND_HALF_DOWN)


@builtin("abs", "n")
def absolute(n: Any) -> Any:
    if type(n) is _dt.timedelta:
        return abs(n)
    if type(n) is YearsMonthsDuration:
        return YearsMonthsDuration(abs(n.months))
    return CTX.abs(_number(n))


@builtin("modulo", "dividend", "divisor")
def modulo(dividend: Any, divisor: Any) -> Any:
    a, b = _number(dividend), _number(divisor)
    if b.is_zero():
        return None
    quotient = CTX.divide(a, b).to_integral_value(rounding=decimal.ROUND_FLOOR)
    return CTX.subtract(a, CTX.multiply(b, quotient))


@builtin("sqrt", "number")
def sqrt(number: Any) -> Any:
    n = _number(number)
    return None if n < 0 else CTX.sqrt(n)


@builtin("log", "number")
def log(number: Any) -> Any:
    n = _number(number)
    return None if n <= 0 else CTX.ln(n)


@builtin("exp", "number")
def exp(number: Any) -> Any:
    return CTX.exp(_number(number))


@builtin("odd", "number")
def odd(number: Any) -> Any:
    n = _number(number)
    return None if n != n.to_integral_value() else to_int(n) % 2 == 1


@builtin("even", "number")
def even(number: Any) -> Any:
    n = _number(number)
    return None if n != n.to_integral_value() else to_int(n) % 2 == 0


_NUMBER_RE = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


@builtin("number", "from", "grouping separator", "decimal separator", required=1)
def number(text: Any, grouping: Any = None, decimal_sep: Any = None) -> Any:
    if type(text) is not str:
        return None
    if grouping not in (None, " ", ",", ".") or decimal_sep not in (None, ",", "."):
        return None
    if grouping is not None and grouping == decimal_sep:
        return None
    if grouping is not None:
        text = text.replace(grouping, "")
    if decimal_sep is not None:
        text = text.replace(decimal_sep, ".")
    if not _NUMBER_RE.fullmatch(text):
        return None
    return CTX.plus(Decimal(text))


@builtin("random number", needs_entropy=True)
def random_number(entropy: Callable[[int], bytes]) -> Any:
    """A number in [0, 1), as Camunda's ``random number()`` (53 random bits, like a Java double)."""
    return Decimal(repr((int.from_bytes(entropy(8), "big") >> 11) / (1 << 53)))
