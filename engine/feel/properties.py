"""Path access on values: context entries, projections over lists, and the properties of
temporal values, durations and ranges (``d.year``, ``t.time offset``, ``r.start included``)."""

from __future__ import annotations

import datetime as _dt
import zoneinfo
from decimal import Decimal
from typing import Any

from engine.feel.values import Range, YearsMonthsDuration

__all__ = ["get_path"]


def _zone_props(value: _dt.time | _dt.datetime, name: str) -> Any:
    if name == "time offset":
        offset = value.utcoffset() if isinstance(value, _dt.datetime) else (
            value.tzinfo.utcoffset(None) if value.tzinfo is not None else None
        )
        return offset
    if name == "timezone":
        tz = value.tzinfo
        if isinstance(tz, zoneinfo.ZoneInfo):
            return tz.key
        return None
    return None


def _temporal(value: Any, name: str) -> Any:
    if isinstance(value, _dt.date):
        if name == "year":
            return Decimal(value.year)
        if name == "month":
            return Decimal(value.month)
        if name == "day":
            return Decimal(value.day)
        if name == "weekday":
            return Decimal(value.isoweekday())
        if not isinstance(value, _dt.datetime):
            return None
    if isinstance(value, _dt.datetime | _dt.time):
        if name == "hour":
            return Decimal(value.hour)
        if name == "minute":
            return Decimal(value.minute)
        if name == "second":
            return Decimal(value.second)
        return _zone_props(value, name)
    return None


def _duration(value: Any, name: str) -> Any:
    if isinstance(value, YearsMonthsDuration):
        if name == "years":
            return Decimal(value.years_part)
        if name == "months":
            return Decimal(value.months_part)
        return None
    sign = -1 if value < _dt.timedelta(0) else 1
    size = abs(value)
    parts = {
        "days": size.days,
        "hours": size.seconds // 3600,
        "minutes": size.seconds % 3600 // 60,
        "seconds": size.seconds % 60,
    }
    if name not in parts:
        return None
    return Decimal(sign * parts[name])


def _range(value: Range, name: str) -> Any:
    if name == "start":
        return value.start
    if name == "end":
        return value.end
    if name == "start included":
        return value.start_included
    if name == "end included":
        return value.end_included
    return None


def get_path(value: Any, name: str) -> Any:
    """``value.name``: an entry of a context, a projection over a list, or a property."""
    t = type(value)
    if t is dict:
        return value.get(name)
    if t is list:
        # One level of projection only: nested lists give null, which keeps shared structures cheap.
        return [None if type(v) is list else get_path(v, name) for v in value]
    if value is None:
        return None
    if t is _dt.timedelta or t is YearsMonthsDuration:
        return _duration(value, name)
    if t is Range:
        return _range(value, name)
    return _temporal(value, name)
