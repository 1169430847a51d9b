"""Date and time built-ins: the conversion functions and calendar queries, plus ``now``/``today``."""

from __future__ import annotations

import calendar
import datetime as _dt
from decimal import Decimal
from typing import Any

from engine.feel.builtins._registry import builtin, integer
from engine.feel.temporal import parse_date, parse_date_and_time, parse_duration, parse_time
from engine.feel.values import YearsMonthsDuration, to_int

__all__: list[str] = []


@builtin("date", "from")
def date_from(value: Any) -> Any:
    if type(value) is str:
        return parse_date(value)
    if type(value) is _dt.datetime:
        return value.date()
    if type(value) is _dt.date:
        return value
    return None


@builtin("date", "year", "month", "day")
def date_of(year: Any, month: Any, day: Any) -> Any:
    return _dt.date(integer(year), integer(month), integer(day))


@builtin("time", "from")
def time_from(value: Any) -> Any:
    if type(value) is str:
        return parse_time(value)
    if type(value) is _dt.datetime:
        return value.timetz()
    if type(value) is _dt.date:
        return _dt.time(0, 0, 0, tzinfo=_dt.UTC)
    if type(value) is _dt.time:
        return value
    return None


@builtin("time", "hour", "minute", "second", "offset", required=3)
def time_of(hour: Any, minute: Any, second: Any, offset: Any = None) -> Any:
    if type(second) is not Decimal:
        return None
    whole = to_int(second)
    micro = int((second - whole) * 1_000_000)
    zone: _dt.tzinfo | None = None
    if offset is not None:
        if type(offset) is not _dt.timedelta:
            return None
        zone = _dt.timezone(offset)
    return _dt.time(integer(hour), integer(minute), whole, micro, tzinfo=zone)


@builtin("date and time", "from")
def date_and_time_from(value: Any) -> Any:
    if type(value) is str:
        return parse_date_and_time(value)
    if type(value) is _dt.datetime:
        return value
    if type(value) is _dt.date:
        return _dt.datetime(value.year, value.month, value.day)  # noqa: DTZ001 - FEEL local date and time
    return None


@builtin("date and time", "date", "time")
def date_and_time_of(day: Any, clock: Any) -> Any:
    if not isinstance(day, _dt.date) or type(clock) is not _dt.time:
        return None
    base = day.date() if isinstance(day, _dt.datetime) else day
    return _dt.datetime.combine(base, clock, tzinfo=clock.tzinfo)


@builtin("duration", "from")
def duration(value: Any) -> Any:
    return parse_duration(value) if type(value) is str else None


@builtin("years and months duration", "from", "to")
def years_and_months_duration(start: Any, end: Any) -> Any:
    if not isinstance(start, _dt.date) or not isinstance(end, _dt.date):
        return None
    # Only the calendar dates count (as in the TCK): the times of day are ignored.
    a, b = start, end
    months = (b.year - a.year) * 12 + (b.month - a.month)
    if months > 0 and b.day < a.day:
        months -= 1
    elif months < 0 and b.day > a.day:
        months += 1
    return YearsMonthsDuration(months)


def _date(value: Any) -> _dt.date:
    if not isinstance(value, _dt.date):
        raise TypeError("date expected")
    return value


@builtin("day of year", "date")
def day_of_year(value: Any) -> Any:
    return Decimal(_date(value).timetuple().tm_yday)


@builtin("day of week", "date")
def day_of_week(value: Any) -> Any:
    return calendar.day_name[_date(value).weekday()]


@builtin("month of year", "date")
def month_of_year(value: Any) -> Any:
    return calendar.month_name[_date(value).month]


@builtin("week of year", "date")
def week_of_year(value: Any) -> Any:
    return Decimal(_date(value).isocalendar()[1])


@builtin("last day of month", "date")
def last_day_of_month(value: Any) -> Any:
    day = _date(value)
    return Decimal(calendar.monthrange(day.year, day.month)[1])


@builtin("now", needs_clock=True)
def now(clock: _dt.datetime) -> Any:
    return clock


@builtin("today", needs_clock=True)
def today(clock: _dt.datetime) -> Any:
    return clock.date()
