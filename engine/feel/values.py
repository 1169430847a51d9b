"""FEEL value types and the mapping between JSON-like Python values and FEEL values.

FEEL type             Python type
-------------------   -----------------------------------------------
number                decimal.Decimal (34 digits, ROUND_HALF_EVEN)
string                str
boolean               bool
null                  None
date                  datetime.date
time                  datetime.time (tzinfo optional)
date and time         datetime.datetime (naive = local, or tz-aware)
days/time duration    datetime.timedelta
years/months duration YearsMonthsDuration
list                  list
context               dict (insertion ordered, str keys)
range                 Range
function              FeelFunction
"""

from __future__ import annotations

import datetime as _dt
import decimal
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from engine.feel.exceptions import FeelLimitError

__all__ = [
    "DECIMAL_CONTEXT",
    "MAX_CALL_DEPTH",
    "MAX_ITEMS",
    "MAX_STEPS",
    "MAX_STRING",
    "FeelFunction",
    "Range",
    "YearsMonthsDuration",
    "spend",
    "to_feel",
    "to_int",
]

#: DECIMAL128-like arithmetic; errors trap so they can be turned into null.
DECIMAL_CONTEXT = decimal.Context(
    prec=34,
    rounding=decimal.ROUND_HALF_EVEN,
    Emax=6144,
    Emin=-6143,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)

#: Largest list a single evaluation may build (for loops, ranges, flatten, ...).
MAX_ITEMS = 1_000_000
#: Longest string a single operation may build.
MAX_STRING = 1_000_000
#: Most steps (loop iterations, filter items, function calls) one evaluation may take.
MAX_STEPS = 1_000_000
#: Deepest nesting of FEEL function calls (user functions calling themselves).
MAX_CALL_DEPTH = 64


@dataclass(frozen=True, slots=True, order=True)
class YearsMonthsDuration:
    """A FEEL years-and-months duration, kept as a signed total number of months."""

    months: int

    @property
    def years_part(self) -> int:
        """The whole years of the duration, signed like the duration."""
        return int(self.months / 12)

    @property
    def months_part(self) -> int:
        """The months left over after whole years, signed like the duration."""
        return self.months - 12 * self.years_part


@dataclass(frozen=True, slots=True)
class Range:
    """A FEEL range; an endpoint of None means the range is unbounded on that side."""

    start: Any
    end: Any
    start_included: bool
    end_included: bool


@dataclass(frozen=True, slots=True, eq=False)
class FeelFunction:
    """A callable FEEL value: a built-in or a function defined in FEEL.

    ``impl`` takes the arguments positionally in the order of ``params``; optional
    parameters beyond ``required`` may be left out. A ``variadic`` function takes
    any number of arguments after the required ones. ``needs_clock`` marks the
    built-ins (``now``, ``today``) that receive the evaluation's clock first;
    ``needs_entropy`` those (``uuid``, ``random number``) that then receive its
    source of random bytes.
    """

    name: str
    params: tuple[str, ...]
    impl: Callable[..., Any]
    required: int = -1
    variadic: bool = False
    needs_clock: bool = False
    needs_entropy: bool = False

    @property
    def min_args(self) -> int:
        """How many arguments the function needs at least."""
        return len(self.params) if self.required < 0 else self.required


_PASS_THROUGH = (str, Decimal, bool, _dt.date, _dt.time, _dt.timedelta, YearsMonthsDuration, Range, FeelFunction)


def to_int(value: Decimal) -> int:
    """``int(value)`` for numbers below 10**18; ValueError otherwise, so that a huge exponent
    (``1e999999``) cannot make Python build an int with a million digits."""
    if not value.is_finite() or value.adjusted() > 18:
        raise ValueError("number too large")
    return int(value)


def to_feel(value: Any) -> Any:
    """Turn a JSON-like Python value into a FEEL value (ints and floats become Decimal).

    Values that are already FEEL values pass through; anything unknown becomes null.
    """
    t = type(value)
    if value is None or t is str or t is Decimal or t is bool:
        return value
    if t is int:
        return Decimal(value)
    if t is float:
        if value != value or value in (float("inf"), float("-inf")):
            return None
        return Decimal(repr(value))
    if t is list or t is tuple:
        return [to_feel(v) for v in value]
    if t is dict:
        return {str(k): to_feel(v) for k, v in value.items()}
    if isinstance(value, _PASS_THROUGH):
        return value
    if isinstance(value, int):
        return Decimal(int(value))
    if isinstance(value, dict):
        return {str(k): to_feel(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_feel(v) for v in value]
    return None


def spend(budget: list[int], count: int = 1) -> None:
    """Take ``count`` from a walk budget; values that share sub-lists (``for ... return partial``)
    can be exponentially large as trees, so every walk over a value is bounded."""
    budget[0] -= count
    if budget[0] < 0:
        raise FeelLimitError(f"value has more than {MAX_ITEMS} nested items")
