"""List built-ins: membership, aggregation, slicing, set operations, sorting."""

from __future__ import annotations

import functools
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from engine.feel import operators as ops
from engine.feel.builtins._registry import builtin, integer, number_list
from engine.feel.exceptions import FeelLimitError
from engine.feel.values import DECIMAL_CONTEXT as CTX
from engine.feel.values import MAX_ITEMS, FeelFunction, spend

__all__: list[str] = []


def _items(value: Any) -> list[Any]:
    if type(value) is not list:
        raise TypeError("list expected")
    return value


def _checked(result: list[Any]) -> list[Any]:
    if len(result) > MAX_ITEMS:
        raise FeelLimitError(f"list longer than {MAX_ITEMS} items")
    return result


def _index(items: list[Any], match: Any) -> int:
    for i, v in enumerate(items):
        if ops.equal(v, match) is True:
            return i
    return -1


def _numbers(args: tuple[Any, ...]) -> list[Decimal]:
    values = number_list(args)
    if any(type(v) is not Decimal for v in values):
        raise TypeError("numbers expected")
    return values


@builtin("list contains", "list", "element")
def list_contains(items: Any, element: Any) -> Any:
    return _index(_items(items), element) >= 0


@builtin("count", "list", required=1, variadic=True)
def count(*args: Any) -> Any:
    return Decimal(len(number_list(args)))


def _extreme(args: tuple[Any, ...], pick: Callable[[Any, Any], bool]) -> Any:
    values = number_list(args)
    if not values:
        return None
    best = values[0]
    for v in values[1:]:
        r = ops.compare("<", v, best)
        if r is None:
            return None
        if pick(r, v):
            best = v
    return best


@builtin("min", "list", required=1, variadic=True)
def minimum(*args: Any) -> Any:
    return _extreme(args, lambda less, v: less)


@builtin("max", "list", required=1, variadic=True)
def maximum(*args: Any) -> Any:
    values = number_list(args)
    if not values:
        return None
    best = values[0]
    for v in values[1:]:
        r = ops.compare(">", v, best)
        if r is None:
            return None
        if r:
            best = v
    return best


@builtin("sum", "list", required=1, variadic=True)
def total(*args: Any) -> Any:
    values = _numbers(args)
    if not values:
        return None
    result = Decimal(0)
    for v in values:
        result = CTX.add(result, v)
    return result


@builtin("mean", "list", required=1, variadic=True)
def mean(*args: Any) -> Any:
    values = _numbers(args)
    if not values:
        return None
    return CTX.divide(functools.reduce(CTX.add, values, Decimal(0)), Decimal(len(values)))


@builtin("product", "list", required=1, variadic=True)
def product(*args: Any) -> Any:
    values = _numbers(args)
    if not values:
        return None
    return functools.reduce(CTX.multiply, values, Decimal(1))


@builtin("median", "list", required=1, variadic=True)
def median(*args: Any) -> Any:
    values = sorted(_numbers(args))
    if not values:
        return None
    mid = len(values) // 2
    if len(values) % 2:
        return values[mid]
    return CTX.divide(CTX.add(values[mid - 1], values[mid]), Decimal(2))


@builtin("stddev", "list", required=1, variadic=True)
def stddev(*args: Any) -> Any:
    values = _numbers(args)
    if len(values) < 2:
        return None
    avg = CTX.divide(functools.reduce(CTX.add, values, Decimal(0)), Decimal(len(values)))
    squares = functools.reduce(CTX.add, (CTX.power(CTX.subtract(v, avg), 2) for v in values), Decimal(0))
    return CTX.sqrt(CTX.divide(squares, Decimal(len(values) - 1)))


@builtin("mode", "list", required=1, variadic=True)
def mode(*args: Any) -> Any:
    values = _numbers(args)
    counts: dict[Decimal, int] = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    if not counts:
        return []
    top = max(counts.values())
    return sorted(v for v, c in counts.items() if c == top)


def _booleans(args: tuple[Any, ...]) -> list[Any]:
    return number_list(args)


@builtin("all", "list", required=1, variadic=True)
def all_true(*args: Any) -> Any:
    values = _booleans(args)
    if any(v is False for v in values):
        return False
    return True if all(v is True for v in values) else None


@builtin("and", "list", required=1, variadic=True)
def and_all(*args: Any) -> Any:
    return all_true(*args)


@builtin("any", "list", required=1, variadic=True)
def any_true(*args: Any) -> Any:
    values = _booleans(args)
    if any(v is True for v in values):
        return True
    return False if all(v is False for v in values) else None


@builtin("or", "list", required=1, variadic=True)
def or_any(*args: Any) -> Any:
    return any_true(*args)


@builtin("sublist", "list", "start position", "length", required=2)
def sublist(items: Any, start: Any, length: Any = None) -> Any:
    values, first = _items(items), integer(start)
    if first == 0 or abs(first) > len(values):
        return None
    index = first - 1 if first > 0 else len(values) + first
    if length is None:
        return values[index:]
    size = integer(length)
    if size < 0 or index + size > len(values):
        return None
    return values[index : index + size]


@builtin("append", "list", "item", required=1, variadic=True)
def append(items: Any, *extra: Any) -> Any:
    return _checked([*_items(items), *extra])


@builtin("concatenate", "list", required=0, variadic=True)
def concatenate(*lists: Any) -> Any:
    result: list[Any] = []
    for v in lists:
        result.extend(_items(v))
        _checked(result)
    return result


@builtin("insert before", "list", "position", "newItem")
def insert_before(items: Any, position: Any, new_item: Any) -> Any:
    values, pos = list(_items(items)), integer(position)
    if pos == 0 or abs(pos) > len(values):
        return None
    values.insert(pos - 1 if pos > 0 else len(values) + pos, new_item)
    return values


@builtin("remove", "list", "position")
def remove(items: Any, position: Any) -> Any:
    values, pos = list(_items(items)), integer(position)
    if pos == 0 or abs(pos) > len(values):
        return None
    del values[pos - 1 if pos > 0 else pos]
    return values


@builtin("reverse", "list")
def reverse(items: Any) -> Any:
    return list(reversed(_items(items)))


@builtin("index of", "list", "match")
def index_of(items: Any, match: Any) -> Any:
    return [Decimal(i + 1) for i, v in enumerate(_items(items)) if ops.equal(v, match) is True]


_HASHABLE = (str, Decimal, bool, type(None))


def _distinct(values: list[Any]) -> list[Any]:
    """Values in first-seen order without FEEL-equal repeats; hashing keeps long lists fast."""
    result: list[Any] = []
    seen: set[tuple[type, Any]] = set()
    others: list[Any] = []
    for v in values:
        if isinstance(v, _HASHABLE):
            key = (type(v), v)
            if key not in seen:
                seen.add(key)
                result.append(v)
        elif _index(others, v) < 0:
            others.append(v)
            result.append(v)
    return result


@builtin("union", "list", required=0, variadic=True)
def union(*lists: Any) -> Any:
    return _distinct(concatenate(*lists))


@builtin("distinct values", "list")
def distinct_values(items: Any) -> Any:
    return _distinct(_items(items))


@builtin("duplicate values", "list")
def duplicate_values(items: Any) -> Any:
    values = _items(items)
    once = _distinct(values)
    counts = [sum(1 for v in values if _same(v, u)) for u in once] if len(values) < 2000 else None
    if counts is None:
        return None
    return [u for u, c in zip(once, counts, strict=True) if c > 1]


def _same(a: Any, b: Any) -> bool:
    return (a is None and b is None) or ops.equal(a, b) is True


def _flatten(value: list[Any], out: list[Any], depth: int, budget: list[int]) -> None:
    if depth > 64:
        raise FeelLimitError("list nested too deeply to flatten")
    spend(budget, len(value) + 1)
    for v in value:
        if type(v) is list:
            _flatten(v, out, depth + 1, budget)
        else:
            out.append(v)
            if len(out) > MAX_ITEMS:
                raise FeelLimitError(f"list longer than {MAX_ITEMS} items")


@builtin("flatten", "list")
def flatten(items: Any) -> Any:
    out: list[Any] = []
    _flatten(_items(items), out, 0, [MAX_ITEMS])
    return _checked(out)


@builtin("sort", "list", "precedes", required=1)
def sort(items: Any, precedes: Any = None) -> Any:
    values = list(_items(items))
    if precedes is None:
        if any(ops.compare("<", v, values[0]) is None for v in values):
            return None
        return sorted(values)
    if type(precedes) is not FeelFunction:
        return None

    def order(a: Any, b: Any) -> int:
        if precedes.impl(a, b) is True:
            return -1
        return 1 if precedes.impl(b, a) is True else 0

    return sorted(values, key=functools.cmp_to_key(order))


@builtin("is empty", "list")
def is_empty(items: Any) -> Any:
    return len(_items(items)) == 0


@builtin("partition", "list", "size")
def partition(items: Any, size: Any) -> Any:
    values, step = _items(items), integer(size)
    if step <= 0:
        return None
    return [values[i : i + step] for i in range(0, len(values), step)]
