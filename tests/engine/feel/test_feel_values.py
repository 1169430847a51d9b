"""Mapping between JSON-like Python values and FEEL values, and the '=' marker helpers."""

import datetime as dt
from decimal import Decimal

from engine.feel import Range, YearsMonthsDuration, evaluate, is_expression, strip_marker, to_feel, to_json


def test_to_feel_converts_numbers_recursively_and_keeps_booleans() -> None:
    assert to_feel({"a": [1, 2.5, True, None, "s"]}) == {"a": [Decimal(1), Decimal("2.5"), True, None, "s"]}
    assert to_feel(True) is True
    assert to_feel(float("nan")) is None


def test_to_json_returns_ints_floats_and_keeps_booleans() -> None:
    assert to_json(Decimal(3)) == 3
    assert isinstance(to_json(Decimal(3)), int)
    assert to_json(Decimal("2.5")) == 2.5
    assert to_json(True) is True
    assert to_json([Decimal(1), {"a": None}]) == [1, {"a": None}]


def test_to_json_renders_temporal_values_durations_and_ranges_as_strings() -> None:
    assert to_json(dt.date(2020, 4, 6)) == "2020-04-06"
    assert to_json(dt.timedelta(days=1, hours=2)) == "P1DT2H"
    assert to_json(YearsMonthsDuration(14)) == "P1Y2M"
    assert to_json(Range(Decimal(1), Decimal(5), True, False)) == "[1..5)"
    assert to_json(evaluate("function(x) x", {})) is None


def test_expression_marker_helpers() -> None:
    assert is_expression("=a + 1")
    assert not is_expression("plain")
    assert strip_marker("=a + 1") == "a + 1"
    assert strip_marker("plain") == "plain"
