"""Parsing, formatting and calendar arithmetic of FEEL dates, times and durations."""

from __future__ import annotations

import calendar
import datetime as _dt
import re
import zoneinfo
from decimal import Decimal
from typing import Any

from engine.feel.values import YearsMonthsDuration

__all__ = [
    "add_months",
    "format_value",
    "make_zone",
    "parse_date",
    "parse_date_and_time",
    "parse_duration",
    "parse_temporal",
    "parse_time",
]

_DATE_RE = re.compile(r"(-?(?:[1-9]\d{4,8}|\d{4}))-(\d{2})-(\d{2})")
_TIME_RE = re.compile(
    r"(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?"
    r"(?:(Z)|([+-])(\d{2}):(\d{2})(?::(\d{2}))?|@([A-Za-z0-9_+\-/]+))?"
)
_DURATION_RE = re.compile(
    r"(-)?P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?"
    r"(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d*)?)S)?)?"
)
_MAX_DAYS = 999_999_999


def make_zone(name: str) -> _dt.tzinfo | None:
    """An IANA zone (or ``Z`` / ``UTC``) by name, or None if it is unknown."""
    if name in ("Z", "UTC"):
        return _dt.UTC
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return None


def parse_date(text: str) -> _dt.date | None:
    """A FEEL date string (``2020-04-06``) as a date, or None if invalid."""
    m = _DATE_RE.fullmatch(text)
    if m is None:
        return None
    try:
        return _dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def _zone_from_match(m: re.Match[str]) -> tuple[bool, _dt.tzinfo | None]:
    if m.group(5):
        return True, _dt.UTC
    if m.group(6):
        hours, minutes = int(m.group(7)), int(m.group(8))
        secs = int(m.group(9) or 0)
        if hours > 18 or minutes > 59 or secs > 59:
            return False, None
        delta = _dt.timedelta(hours=hours, minutes=minutes, seconds=secs)
        return True, _dt.timezone(-delta if m.group(6) == "-" else delta)
    if m.group(10):
        zone = make_zone(m.group(10))
        return zone is not None, zone
    return True, None


def parse_time(text: str) -> _dt.time | None:
    """A FEEL time string (``10:30:00``, ``10:30:00+02:00``, ``10:30:00@Europe/Paris``), or None."""
    m = _TIME_RE.fullmatch(text)
    if m is None:
        return None
    ok, zone = _zone_from_match(m)
    hour, minute, second = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if not ok or hour > 23 or minute > 59 or second > 59:
        return None
    micro = int((m.group(4) or "").ljust(6, "0")[:6])
    return _dt.time(hour, minute, second, micro, tzinfo=zone)


def parse_date_and_time(text: str) -> _dt.datetime | None:
    """A FEEL date-and-time string, or a plain date (taken at midnight), or None."""
    date_part, sep, time_part = text.partition("T")
    day = parse_date(date_part)
    if day is None:
        return None
    if not sep:
        return _dt.datetime(day.year, day.month, day.day)  # noqa: DTZ001 - FEEL local date and time
    if time_part.startswith("24:00:00") and _TIME_RE.fullmatch(time_part):
        clock = parse_time("00" + time_part[2:])
        if clock is None or day == _dt.date.max:
            return None
        day = day + _dt.timedelta(days=1)
    else:
        clock = parse_time(time_part)
    if clock is None:
        return None
    return _dt.datetime.combine(day, clock, tzinfo=clock.tzinfo)


def parse_duration(text: str) -> _dt.timedelta | YearsMonthsDuration | None:
    """An ISO 8601 duration: years/months give YearsMonthsDuration, days/time timedelta."""
    m = _DURATION_RE.fullmatch(text)
    if m is None:
        return None
    sign = -1 if m.group(1) else 1
    years, months, days, hours, minutes, seconds = m.group(2, 3, 4, 5, 6, 7)
    has_ym = years is not None or months is not None
    has_dt = any(v is not None for v in (days, hours, minutes, seconds))
    try:
        if has_ym and not has_dt:
            total = int(years or 0) * 12 + int(months or 0)
            if total > _MAX_DAYS:
                return None
            return YearsMonthsDuration(sign * total)
        if has_ym:
            return None
        secs = Decimal(seconds or 0)
        delta = _dt.timedelta(
            days=int(days or 0), hours=int(hours or 0), minutes=int(minutes or 0),
            seconds=int(secs), microseconds=int((secs % 1) * 1_000_000),
        )
        return -delta if sign < 0 else delta
    except (OverflowError, ValueError):
        return None


def parse_temporal(text: str) -> Any:
    """The value of an ``@"..."`` literal: date, time, date and time or duration; None if invalid."""
    if text.startswith(("P", "-P")):
        return parse_duration(text)
    if "T" in text:
        return parse_date_and_time(text)
    if _DATE_RE.fullmatch(text):
        return parse_date(text)
    return parse_time(text)


def add_months(day: _dt.date, months: int) -> _dt.date:
    """``day`` moved by ``months``, clamped to the end of a shorter month (Jan 31 + 1M = Feb 28)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1] if 1 <= year <= 9999 else 28
    return day.replace(year=year, month=month + 1, day=min(day.day, last))


def _format_fraction(micro: int) -> str:
    return ("." + f"{micro:06d}".rstrip("0")) if micro else ""


def _format_zone(value: _dt.time | _dt.datetime) -> str:
    tz = value.tzinfo
    if tz is None:
        return ""
    if isinstance(tz, zoneinfo.ZoneInfo):
        return "@" + tz.key
    offset = tz.utcoffset(None) if isinstance(value, _dt.time) else value.utcoffset()
    if offset is None:
        return ""
    if not offset:
        return "Z"
    sign = "-" if offset < _dt.timedelta(0) else "+"
    total = abs(int(offset.total_seconds()))
    text = f"{sign}{total // 3600:02d}:{total % 3600 // 60:02d}"
    return text + (f":{total % 60:02d}" if total % 60 else "")


def _format_time(value: _dt.time | _dt.datetime) -> str:
    clock = f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}"
    return clock + _format_fraction(value.microsecond) + _format_zone(value)


def _format_timedelta(value: _dt.timedelta) -> str:
    sign = "-" if value < _dt.timedelta(0) else ""
    value = abs(value)
    days, secs = value.days, value.seconds
    hours, rest = divmod(secs, 3600)
    minutes, seconds = divmod(rest, 60)
    text = f"{sign}P" + (f"{days}D" if days else "")
    clock = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    if seconds or value.microseconds:
        clock += f"{seconds}{_format_fraction(value.microseconds)}S"
    if clock:
        text += "T" + clock
    return text if text not in ("P", "-P") else "PT0S"


def _format_ym(value: YearsMonthsDuration) -> str:
    sign = "-" if value.months < 0 else ""
    years, months = divmod(abs(value.months), 12)
    text = (f"{years}Y" if years else "") + (f"{months}M" if months else "")
    return f"{sign}P{text}" if text else "P0M"


def format_value(value: Any) -> str:
    """The FEEL ``string()`` text of a temporal value or duration (ISO 8601); ranges are ``text``'s to render."""
    if isinstance(value, _dt.datetime):
        return f"{value.year:04d}-{value.month:02d}-{value.day:02d}T" + _format_time(value)
    if isinstance(value, _dt.date):
        return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"
    if isinstance(value, _dt.time):
        return _format_time(value)
    if isinstance(value, _dt.timedelta):
        return _format_timedelta(value)
    if isinstance(value, YearsMonthsDuration):
        return _format_ym(value)
    return str(value)
