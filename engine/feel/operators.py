"""FEEL operator semantics on values: arithmetic, equality, ordering, ranges and types.

Every function returns None (FEEL null) when its operands do not fit, instead of raising.
"""

from __future__ import annotations

import datetime as _dt
from decimal import Decimal, DecimalException
from typing import Any

from engine.feel.exceptions import FeelLimitError
from engine.feel.temporal import add_months
from engine.feel.values import DECIMAL_CONTEXT as CTX
from engine.feel.values import MAX_ITEMS, MAX_STRING, FeelFunction, Range, YearsMonthsDuration, spend, to_int

__all__ = ["add", "compare", "divide", "equal", "multiply", "negate", "power", "range_contains", "subtract"]

_DATE = _dt.date
_DATETIME = _dt.datetime
_TIME = _dt.time
_DELTA = _dt.timedelta
_YM = YearsMonthsDuration
_DAY = _dt.date(2000, 1, 3)  # any fixed day: times are added on it and the date thrown away
_MAX_MONTHS = 12 * 999_999_999
_ERRORS = (TypeError, ValueError, OverflowError, ArithmeticError, DecimalException)


def _months(total: Decimal) -> YearsMonthsDuration | None:
    months = to_int(total)
    return _YM(months) if abs(months) <= _MAX_MONTHS else None


def _micro(delta: _DELTA) -> int:
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _on_day(t: _TIME) -> _DATETIME:
    return _DATETIME.combine(_DAY, t)


def _as_datetime(value: _DATE, like: _DATETIME) -> _DATETIME:
    return _DATETIME(value.year, value.month, value.day, tzinfo=like.tzinfo)


def _add(a: Any, b: Any) -> Any:
    ta, tb = type(a), type(b)
    if ta is Decimal and tb is Decimal:
        return CTX.add(a, b)
    if ta is str and tb is str:
        if len(a) + len(b) > MAX_STRING:
            raise FeelLimitError(f"string longer than {MAX_STRING} characters")
        return a + b
    if tb in (_DATE, _DATETIME, _TIME) and ta in (_DELTA, _YM):
        a, b, ta, tb = b, a, tb, ta
    if tb is _DELTA:
        if ta is _DELTA or ta is _DATETIME:
            return a + b
        if ta is _DATE:
            return (_DATETIME(a.year, a.month, a.day) + b).date()
        if ta is _TIME:
            return (_on_day(a) + b).timetz()
    elif tb is _YM:
        if ta is _YM:
            return _YM(a.months + b.months)
        if ta is _DATE or ta is _DATETIME:
            return add_months(a, b.months)
    return None


def add(a: Any, b: Any) -> Any:
    """``a + b``: numbers, strings, and temporal values with durations."""
    try:
        return _add(a, b)
    except _ERRORS:
        return None


def _subtract(a: Any, b: Any) -> Any:
    ta, tb = type(a), type(b)
    if ta is Decimal and tb is Decimal:
        return CTX.subtract(a, b)
    if tb is _DELTA or tb is _YM:
        if ta is tb or ta in (_DATE, _DATETIME, _TIME):
            return _add(a, -b if tb is _DELTA else _YM(-b.months))
        return None
    if ta is _DATE and tb is _DATE:
        return _DATETIME(a.year, a.month, a.day) - _DATETIME(b.year, b.month, b.day)
    if ta is _DATETIME and tb is _DATE:
        b, tb = _as_datetime(b, a), _DATETIME
    elif ta is _DATE and tb is _DATETIME:
        a, ta = _as_datetime(a, b), _DATETIME
    if ta is _DATETIME and tb is _DATETIME:
        if (a.tzinfo is None) != (b.tzinfo is None):
            return None
        return a - b
    if ta is _TIME and tb is _TIME:
        if (a.tzinfo is None) != (b.tzinfo is None):
            return None
        return _DATETIME.combine(_DAY, a, tzinfo=a.tzinfo) - _DATETIME.combine(_DAY, b, tzinfo=b.tzinfo)
    return None


def subtract(a: Any, b: Any) -> Any:
    """``a - b``: numbers, temporal differences and temporal values minus durations."""
    try:
        return _subtract(a, b)
    except _ERRORS:
        return None


def multiply(a: Any, b: Any) -> Any:
    """``a * b``: numbers, and durations scaled by numbers."""
    ta, tb = type(a), type(b)
    try:
        if ta is Decimal and tb is Decimal:
            return CTX.multiply(a, b)
        if ta is Decimal and tb in (_DELTA, _YM):
            a, b, ta, tb = b, a, tb, ta
        if tb is Decimal:
            if ta is _DELTA:
                return _DELTA(microseconds=to_int(CTX.multiply(Decimal(_micro(a)), b)))
            if ta is _YM:
                return _months(CTX.multiply(Decimal(a.months), b))
    except _ERRORS:
        return None
    return None


def divide(a: Any, b: Any) -> Any:
    """``a / b``: numbers (division by zero is null), durations by numbers or by durations."""
    ta, tb = type(a), type(b)
    try:
        if ta is Decimal and tb is Decimal:
            return CTX.divide(a, b) if b else None
        if tb is Decimal and b:
            if ta is _DELTA:
                return _DELTA(microseconds=to_int(CTX.divide(Decimal(_micro(a)), b)))
            if ta is _YM:
                return _months(CTX.divide(Decimal(a.months), b))
        if ta is _DELTA and tb is _DELTA and b:
            return CTX.divide(Decimal(_micro(a)), Decimal(_micro(b)))
        if ta is _YM and tb is _YM and b.months:
            return CTX.divide(Decimal(a.months), Decimal(b.months))
    except _ERRORS:
        return None
    return None


def power(a: Any, b: Any) -> Any:
    """``a ** b`` on numbers; results too large for DECIMAL128 are null."""
    if type(a) is not Decimal or type(b) is not Decimal:
        return None
    try:
        return CTX.power(a, b)
    except _ERRORS:
        return None


def negate(a: Any) -> Any:
    """Arithmetic negation of a number or duration."""
    t = type(a)
    if t is Decimal:
        return CTX.minus(a)
    if t is _DELTA:
        return -a
    if t is _YM:
        return _YM(-a.months)
    return None


def _equal_lists(a: list[Any], b: list[Any], budget: list[int]) -> bool | None:
    if len(a) != len(b):
        return False
    spend(budget, len(a))
    unknown = False
    for x, y in zip(a, b, strict=True):
        r = equal(x, y, budget)
        if r is False:
            return False
        if r is None:
            unknown = True
    return None if unknown else True


def equal(a: Any, b: Any, budget: list[int] | None = None) -> bool | None:
    """FEEL ``=``: null equals only null; values of different types compare as null."""
    if a is None or b is None:
        return a is b
    ta, tb = type(a), type(b)
    if ta is not tb:
        if isinstance(a, _dt.tzinfo) or isinstance(b, _dt.tzinfo):  # pragma: no cover - never FEEL values
            return None
        return None
    if ta is list:
        return True if a is b else _equal_lists(a, b, budget or [MAX_ITEMS])
    if ta is dict:
        if a.keys() != b.keys():
            return False
        return _equal_lists(list(a.values()), [b[k] for k in a], budget or [MAX_ITEMS])
    if ta is _DATETIME or ta is _TIME:
        if (a.tzinfo is None) != (b.tzinfo is None):
            return None
        try:
            return bool(a == b) and (ta is not _TIME or a.utcoffset() == b.utcoffset())
        except _ERRORS:
            return None
    if ta is FeelFunction:
        return a is b
    if ta is Range:
        return (
            a.start_included == b.start_included and a.end_included == b.end_included
            and equal(a.start, b.start) is True and equal(a.end, b.end) is True
        )
    return bool(a == b)


_ORDERED = (Decimal, str, _DATE, _DATETIME, _TIME, _DELTA, _YM)


def compare(op: str, a: Any, b: Any) -> bool | None:
    """FEEL ``<``, ``<=``, ``>``, ``>=``, ``=`` and ``!=``; null when the operands cannot be compared."""
    if op == "=":
        return equal(a, b)
    if op == "!=":
        r = equal(a, b)
        return None if r is None else not r
    ta = type(a)
    if ta is not type(b) or ta not in _ORDERED:
        return None
    try:
        if op == "<":
            return bool(a < b)
        if op == "<=":
            return bool(a <= b)
        if op == ">":
            return bool(a > b)
        return bool(a >= b)
    except _ERRORS:
        return None


def range_contains(r: Range, value: Any) -> bool | None:
    """Whether ``value`` lies in the range; null if it cannot be compared with the endpoints."""
    if value is None:
        return None
    if r.start is not None:
        c = compare(">=" if r.start_included else ">", value, r.start)
        if c is not True:
            return c
    if r.end is not None:
        c = compare("<=" if r.end_included else "<", value, r.end)
        if c is not True:
            return c
    return True
