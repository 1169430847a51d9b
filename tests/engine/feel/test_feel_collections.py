"""Lists, filters, iteration, contexts, ranges, membership and types."""

from decimal import Decimal
from typing import Any

from engine.feel import Range, evaluate


def feel(source: str, **variables: Any) -> Any:
    return evaluate(source, variables)


def nums(*values: int) -> list[Decimal]:
    return [Decimal(v) for v in values]


def test_filters_select_items_by_condition_with_item_and_context_keys() -> None:
    assert feel("[1, 2, 3, 4][item > 2]") == nums(3, 4)
    assert feel("orders[amount > 10].id", orders=[{"id": "a", "amount": 5}, {"id": "b", "amount": 20}]) == ["b"]
    assert feel("[{item: 1}, {item: 3}][item >= 2]") == [{"item": Decimal(3)}]


def test_numeric_filters_index_from_one_and_from_the_end() -> None:
    assert feel("[10, 20, 30][1]") == Decimal(10)
    assert feel("[10, 20, 30][-1]") == Decimal(30)
    assert feel("[10, 20, 30][0]") is None
    assert feel("[10, 20, 30][i]", i=2) == Decimal(20)
    assert feel("5[1]") == Decimal(5)


def test_for_loops_iterate_lists_and_integer_ranges_with_partial_results() -> None:
    assert feel("for i in [1, 2, 3] return i * i") == nums(1, 4, 9)
    assert feel("for i in 1..3, j in [10, 20] return i + j") == nums(11, 21, 12, 22, 13, 23)
    assert feel("for i in 3..1 return i") == nums(3, 2, 1)
    assert feel("for i in 1..5 return if i = 1 then 1 else i * partial[-1]") == nums(1, 2, 6, 24, 120)
    assert feel("for i in null return i") is None


def test_some_and_every_quantify_over_lists() -> None:
    assert feel("some x in [1, 5, 9] satisfies x > 8") is True
    assert feel("every x in [1, 5, 9] satisfies x > 0") is True
    assert feel("every x in [1, 5, 9] satisfies x > 1") is False
    assert feel("some x in [] satisfies x > 1") is False


def test_contexts_keep_order_and_let_entries_use_earlier_entries() -> None:
    assert feel('{a: 1, "b c": 2, d: a + 1}') == {"a": Decimal(1), "b c": Decimal(2), "d": Decimal(2)}
    assert feel("{first name: \"Ada\"}.first name") == "Ada"
    assert feel("{a: 1, a: 2}") is None


def test_range_literals_and_membership() -> None:
    assert feel("[1..5]") == Range(Decimal(1), Decimal(5), True, True)
    assert feel("]1..5[") == Range(Decimal(1), Decimal(5), False, False)
    assert feel("(< 10)") == Range(None, Decimal(10), False, False)
    assert feel("5 in [1..5]") is True
    assert feel("5 in [1..5)") is False
    assert feel("1 in (1..5]") is False
    assert feel("x in (< 5, > 10)", x=11) is True
    assert feel("x in (< 5, > 10)", x=7) is False
    assert feel("2 in [1, 2, 3]") is True
    assert feel("2 in <= 3") is True
    assert feel("1 in [[2..4], [1..3]]") is True
    assert feel("5 in (null..10]") is None


def test_range_functions_compare_points_and_ranges() -> None:
    assert feel("before(1, 10)") is True
    assert feel("before([1..5], 10)") is True
    assert feel("overlaps([1..5], [3..8])") is True
    assert feel("includes([1..10], 5)") is True
    assert feel("during(5, [1..10])") is True
    assert feel("meets([1..5], [5..10])") is True
    assert feel("coincides([1..5], [1..5])") is True
    assert feel('after(range1: [5..10], range2: [1..3])') is True


def test_instance_of_checks_feel_types() -> None:
    assert feel("1 instance of number") is True
    assert feel('"a" instance of string') is True
    assert feel('@"2020-01-01T00:00:00" instance of date and time') is True
    assert feel('@"P1D" instance of days and time duration') is True
    assert feel("[1, 2] instance of list<number>") is True
    assert feel('[1, "a"] instance of list<number>') is False
    assert feel('{a: 1} instance of context<a: number>') is True
    assert feel("null instance of number") is False
    assert feel("(function(x) x) instance of function<Any> -> Any") is True
