"""Range built-ins of DMN 1.4 (before, after, meets, overlaps, includes, ...) on points and ranges."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.feel import operators as ops
from engine.feel.builtins._registry import builtin
from engine.feel.values import Range

__all__: list[str] = []


def _c(op: str, a: Any, b: Any) -> bool:
    """A comparison that must be decidable; TypeError (so the call gives null) otherwise."""
    r = ops.compare(op, a, b)
    if r is None:
        raise TypeError("values cannot be compared")
    return r


def _register(name: str, shapes: tuple[tuple[str, str], ...], impl: Callable[[Any, Any], Any]) -> None:
    def call(a: Any, b: Any) -> Any:
        if a is None or b is None:
            return None
        for r in (a, b):
            if type(r) is Range and (r.start is None or r.end is None):
                return None
        return impl(a, b)

    for first, second in shapes:
        builtin(name, first, second)(call)


_POINT_RANGE = (("point1", "point2"), ("point", "range"), ("range", "point"), ("range1", "range2"))
_RANGE_POINT = (("range", "point"), ("range1", "range2"))
_POINT_OR_RANGE = (("point", "range"), ("range1", "range2"))


def _before(a: Any, b: Any) -> bool:
    ra, rb = type(a) is Range, type(b) is Range
    if not ra and not rb:
        return _c("<", a, b)
    if not ra:
        return _c("<", a, b.start) or (_c("=", a, b.start) and not b.start_included)
    if not rb:
        return _c("<", a.end, b) or (_c("=", a.end, b) and not a.end_included)
    return _c("<", a.end, b.start) or (
        (not a.end_included or not b.start_included) and _c("=", a.end, b.start)
    )


def _meets(a: Range, b: Range) -> bool:
    if type(a) is not Range or type(b) is not Range:
        raise TypeError("ranges expected")
    return a.end_included and b.start_included and _c("=", a.end, b.start)


def _overlaps(a: Range, b: Range) -> bool:
    if type(a) is not Range or type(b) is not Range:
        raise TypeError("ranges expected")
    left = _c(">", a.end, b.start) or (_c("=", a.end, b.start) and a.end_included and b.start_included)
    right = _c("<", a.start, b.end) or (_c("=", a.start, b.end) and a.start_included and b.end_included)
    return left and right


def _overlaps_before(a: Range, b: Range) -> bool:
    if type(a) is not Range or type(b) is not Range:
        raise TypeError("ranges expected")
    return (
        (_c("<", a.start, b.start) or (_c("=", a.start, b.start) and a.start_included and not b.start_included))
        and (_c(">", a.end, b.start) or (_c("=", a.end, b.start) and a.end_included and b.start_included))
        and (_c("<", a.end, b.end) or (_c("=", a.end, b.end) and (not a.end_included or b.end_included)))
    )


def _finishes(a: Any, b: Any) -> bool:
    if type(b) is not Range:
        raise TypeError("range expected")
    if type(a) is not Range:
        return b.end_included and _c("=", a, b.end)
    return (
        a.end_included == b.end_included and _c("=", a.end, b.end)
        and (_c(">", a.start, b.start) or (_c("=", a.start, b.start) and (not a.start_included or b.start_included)))
    )


def _includes(a: Any, b: Any) -> bool:
    if type(a) is not Range:
        raise TypeError("range expected")
    if type(b) is not Range:
        r = ops.range_contains(a, b)
        if r is None:
            raise TypeError("values cannot be compared")
        return r
    return (
        (_c("<", a.start, b.start) or (_c("=", a.start, b.start) and (a.start_included or not b.start_included)))
        and (_c(">", a.end, b.end) or (_c("=", a.end, b.end) and (a.end_included or not b.end_included)))
    )


def _starts(a: Any, b: Any) -> bool:
    if type(b) is not Range:
        raise TypeError("range expected")
    if type(a) is not Range:
        return b.start_included and _c("=", a, b.start)
    return (
        _c("=", a.start, b.start) and a.start_included == b.start_included
        and (_c("<", a.end, b.end) or (_c("=", a.end, b.end) and (not a.end_included or b.end_included)))
    )


def _coincides(a: Any, b: Any) -> bool:
    ra, rb = type(a) is Range, type(b) is Range
    if ra != rb:
        raise TypeError("two points or two ranges expected")
    if not ra:
        return _c("=", a, b)
    return (
        _c("=", a.start, b.start) and _c("=", a.end, b.end)
        and a.start_included == b.start_included and a.end_included == b.end_included
    )


_register("before", _POINT_RANGE, _before)
_register("after", _POINT_RANGE, lambda a, b: _before(b, a))
_register("meets", (("range1", "range2"),), _meets)
_register("met by", (("range1", "range2"),), lambda a, b: _meets(b, a))
_register("overlaps", (("range1", "range2"),), _overlaps)
_register("overlaps before", (("range1", "range2"),), _overlaps_before)
_register("overlaps after", (("range1", "range2"),), lambda a, b: _overlaps_before(b, a))
_register("finishes", _POINT_OR_RANGE, _finishes)
_register("finished by", _RANGE_POINT, lambda a, b: _finishes(b, a))
_register("includes", _RANGE_POINT, _includes)
_register("during", _POINT_OR_RANGE, lambda a, b: _includes(b, a))
_register("starts", _POINT_OR_RANGE, _starts)
_register("started by", _RANGE_POINT, lambda a, b: _starts(b, a))
_register("coincides", (("point1", "point2"), ("range1", "range2")), _coincides)
