"""Strict JSON: the one parser every input goes through, and the one check that a value is storable JSON.

Python's ``json`` bends the standard in ways that hurt later: it reads ``NaN``
and ``Infinity``, turns ``1e999`` into Infinity, keeps the last of two equal
keys, and passes ``"\\ud800"`` through as a lone surrogate. A stored Infinity
makes every later listing fail to serialise; a lone surrogate cannot be
encoded as UTF-8 at all. So every input (REST bodies, MCP and A2A payloads,
the CLI's ``--vars``, and the engine's own ``check_variables`` as the last line
of defence) is read or checked here, and a refusal names the field
(``variables.amount``) so the caller knows what to fix.

Owns: what counts as acceptable JSON. Does not know: who asked, or how the
refusal is reported (a 400 problem, a JSON-RPC error, a CLI message).
"""

from __future__ import annotations

import json
import math
from typing import Any

__all__ = ["JsonProblem", "check_value", "loads", "value_problem"]


# Deeper than this, Python's own encoder and decoder run out of stack; nothing legitimate nests so far.
MAX_DEPTH = 500
# Items one check walks at most: a value built in Python may share parts and so be far larger than it looks.
MAX_NODES = 2_000_000
_LEAVE = object()  # marks where the walk leaves a container again


class JsonProblem(ValueError):
    """What makes a JSON text or value unacceptable; ``path`` names the field (``None``: the text as a whole)."""

    def __init__(self, reason: str, path: str | None = None) -> None:
        self.reason = reason
        self.path = path or None  # "" is the document itself
        shown = path if path is None or len(path) <= 200 else f"{path[:120]}...{path[-60:]}"
        super().__init__(f"'{shown}': {reason}" if path else reason)


class _BadNumber:
    """Stands in for a number the parser must not accept, until the walk finds its path."""

    __slots__ = ("literal",)

    def __init__(self, literal: str) -> None:
        self.literal = literal


def _constant(literal: str) -> _BadNumber:
    return _BadNumber(literal)


def _number(literal: str) -> float | _BadNumber:
    value = float(literal)
    return value if math.isfinite(value) else _BadNumber(literal)


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise JsonProblem(f"the key '{_printable(key)}' appears twice in one object (a duplicate key)")
        result[key] = value
    return result


def loads(text: str | bytes, *, root: str = "") -> Any:
    """The value of ``text``, or ``JsonProblem``: no duplicate keys, no NaN, Infinity or overflowing
    numbers, no lone surrogates, no nesting deep enough to exhaust the parser. ``root`` prefixes the
    paths in refusals (``--vars`` gives paths like ``amount``, a REST body ``variables.amount``)."""
    try:
        value = json.loads(text, object_pairs_hook=_unique, parse_constant=_constant, parse_float=_number)
    except JsonProblem:
        raise
    except RecursionError:
        raise JsonProblem("the JSON nests too deeply") from None
    except UnicodeDecodeError:
        raise JsonProblem("the JSON is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise JsonProblem(f"{exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    except ValueError as exc:  # an integer with more digits than Python converts
        raise JsonProblem(str(exc)) from None
    check_value(value, root)
    return value


def check_value(value: Any, root: str = "") -> None:
    """Raise ``JsonProblem`` naming the first field of ``value`` that holds a non-finite number or a lone surrogate."""
    problem = value_problem(value, root)
    if problem is not None:
        raise problem


def value_problem(value: Any, root: str = "") -> JsonProblem | None:
    """The first non-finite number or lone surrogate in ``value`` (in document order), or None.

    Iterative, so a hostile nesting depth cannot exhaust the stack; nesting
    deeper than ``MAX_DEPTH`` (which no serialiser could write back) and a value
    that contains itself are refused too. Values of other types pass: whether
    they are JSON at all is the serialiser's call.
    """
    stack: list[tuple[Any, str, int]] = [(value, root, 0)]
    # The containers on the way down to the item, to tell a value that contains itself from one shared twice.
    inside: dict[int, Any] = {}
    visited = 0
    while stack:
        item, path, depth = stack.pop()
        if item is _LEAVE:
            inside.pop(depth, None)  # for a leave marker, ``depth`` holds the container's id
            continue
        visited += 1
        if visited > MAX_NODES:
            return JsonProblem(f"the value holds more than {MAX_NODES} items", path)
        if isinstance(item, dict | list | tuple):
            if depth > MAX_DEPTH:
                return JsonProblem(f"the value nests more than {MAX_DEPTH} levels deep", path)
            if id(item) in inside:
                return JsonProblem("the value contains itself, which JSON cannot write", path)
            inside[id(item)] = item
            stack.append((_LEAVE, path, id(item)))
        if isinstance(item, str):
            if not _is_unicode(item):
                shown = _printable(item[:40])
                return JsonProblem(f"the text '{shown}' holds a lone surrogate, which is not Unicode", path)
        elif isinstance(item, float):
            if not math.isfinite(item):
                return JsonProblem(f"{item} is not a finite number: JSON has no NaN or Infinity", path)
        elif isinstance(item, _BadNumber):
            return JsonProblem(_bad_number(item.literal), path)
        elif isinstance(item, dict):
            children: list[tuple[Any, str, int]] = []
            for key, child in item.items():
                name = _printable(str(key))
                if not isinstance(key, str):
                    return JsonProblem(f"the key {name!r} is not text: JSON object keys are strings", path)
                if not _is_unicode(key):
                    return JsonProblem(f"the key '{name}' holds a lone surrogate, which is not Unicode", path)
                children.append((child, f"{path}.{name}" if path else name, depth + 1))
            stack.extend(reversed(children))
        elif isinstance(item, list | tuple):
            stack.extend(reversed([(child, f"{path}[{index}]", depth + 1) for index, child in enumerate(item)]))
    return None


def _bad_number(literal: str) -> str:
    if literal in ("NaN", "Infinity", "-Infinity"):
        return f"{literal} is not a JSON number"
    shown = literal if len(literal) <= 40 else literal[:37] + "..."
    return f"{shown} is too large: numbers must be finite, and this one would be Infinity"


def _is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _printable(text: str) -> str:
    """``text`` with lone surrogates written as escapes, so a message about them can itself be sent."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
