"""Dates, times, durations, zones, temporal arithmetic and the injected clock."""

import datetime as dt
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from engine.feel import YearsMonthsDuration, evaluate, to_json


def feel(source: str, **variables: Any) -> Any:
    return evaluate(source, variables)


def test_at_literals_build_dates_times_datetimes_and_durations() -> None:
    assert feel('@"2020-04-06"') == dt.date(2020, 4, 6)
    assert feel('@"08:00:00"') == dt.time(8, 0)
    assert feel('@"2020-04-06T08:00:00"') == dt.datetime(2020, 4, 6, 8)  # noqa: DTZ001
    assert feel('@"P1DT2H"') == dt.timedelta(days=1, hours=2)
    assert feel('@"P1Y2M"') == YearsMonthsDuration(14)
    assert feel('@"not a date"') is None


def test_iana_zones_are_kept_on_date_and_time_values() -> None:
    value = feel('@"2020-01-01T10:00:00@Europe/Paris"')
    assert value.tzinfo == ZoneInfo("Europe/Paris")
    assert to_json(value) == "2020-01-01T10:00:00@Europe/Paris"
    assert feel('date and time("2018-10-08T00:00:00+02:00") = @"2018-10-08T00:00:00@Europe/Paris"') is True


def test_conversion_functions_parse_and_build_temporal_values() -> None:
    assert feel('date("2012-12-25")') == dt.date(2012, 12, 25)
    assert feel("date(2012, 12, 25)") == dt.date(2012, 12, 25)
    assert feel('date("2012-13-25")') is None
    assert feel('time("10:30:00+02:00")').utcoffset() == dt.timedelta(hours=2)
    assert feel("time(10, 30, 15.5, null)") == dt.time(10, 30, 15, 500000)
    assert feel('date and time(date("2012-12-25"), time("10:00:00"))') == dt.datetime(2012, 12, 25, 10)  # noqa: DTZ001
    assert feel('duration("-P1D")') == dt.timedelta(days=-1)
    assert feel('duration("P1Y2D")') is None


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('date("2020-01-31") + duration("P1M")', dt.date(2020, 2, 29)),
        ('date("2020-03-01") - date("2020-02-01")', dt.timedelta(days=29)),
        ('date("2020-01-01") + duration("P1D")', dt.date(2020, 1, 2)),
        ('@"2020-01-01T23:00:00" + @"PT2H"', dt.datetime(2020, 1, 2, 1)),  # noqa: DTZ001
        ('time("23:00:00") + duration("PT2H")', dt.time(1, 0)),
        ('time("10:00:00") - time("08:30:00")', dt.timedelta(hours=1, minutes=30)),
        ('duration("P1D") * 2', dt.timedelta(days=2)),
        ('duration("P1Y") / 2', YearsMonthsDuration(6)),
        ('duration("P2D") / duration("P1D")', Decimal(2)),
        ('duration("P1Y") + duration("P2M")', YearsMonthsDuration(14)),
        ('@"2020-01-01T00:00:00" - @"2020-01-01T00:00:00Z"', None),
    ],
)
def test_temporal_arithmetic(source: str, expected: Any) -> None:
    assert feel(source) == expected


def test_temporal_properties() -> None:
    assert feel('date("2020-04-06").year') == Decimal(2020)
    assert feel('date("2020-04-06").weekday') == Decimal(1)
    assert feel('@"2020-04-06T08:15:30+02:00".hour') == Decimal(8)
    assert feel('@"2020-04-06T08:15:30+02:00".time offset') == dt.timedelta(hours=2)
    assert feel('@"2020-04-06T08:15:30@Europe/Paris".timezone') == "Europe/Paris"
    assert feel('duration("P1DT2H").hours') == Decimal(2)
    assert feel('duration("P3Y5M").months') == Decimal(5)


def test_calendar_functions() -> None:
    assert feel('day of week(date("2020-04-06"))') == "Monday"
    assert feel('month of year(date("2020-04-06"))') == "April"
    assert feel('day of year(date("2020-02-01"))') == Decimal(32)
    assert feel('week of year(date("2021-01-01"))') == Decimal(53)
    assert feel('last day of month(date("2020-02-10"))') == Decimal(29)
    assert feel('years and months duration(date("2011-12-22"), date("2013-08-24"))') == YearsMonthsDuration(20)


def test_now_and_today_use_the_injected_clock() -> None:
    clock = dt.datetime(2024, 5, 17, 10, 30, tzinfo=dt.UTC)
    from engine.feel import compile_expression

    assert compile_expression("now()").evaluate({}, now=clock) == clock
    assert compile_expression("today()").evaluate({}, now=clock) == dt.date(2024, 5, 17)


def test_to_json_writes_iso_8601_like_camunda() -> None:
    assert to_json(feel('@"2020-04-06"')) == "2020-04-06"
    assert to_json(feel('@"08:00:00"')) == "08:00:00"
    assert to_json(feel('@"2020-04-06T08:00:00+02:00"')) == "2020-04-06T08:00:00+02:00"
    assert to_json(feel('@"P1DT2H"')) == "P1DT2H"
    assert to_json(feel('@"P1Y2M"')) == "P1Y2M"
    assert to_json(feel('duration("-PT1M30S")')) == "-PT1M30S"
    assert to_json(feel('duration("P0D")')) == "PT0S"
    assert feel('string(@"2020-04-06T08:00:00Z")') == "2020-04-06T08:00:00Z"
