"""Checking a tool call's arguments before anything runs: limits first, then the tool's JSON Schema.

The one validator for every tool call: an agent's call to one of its tools
(``engine.agent.tools``) and a call from outside to a process or built-in
tool over MCP or A2A (``protocols.mcp``, ``protocols.a2a``). Before it existed the two
paths had validators of their own with different limits; the limits here
are the stricter of each:

- at most ``MAX_ARGUMENT_BYTES`` (256 KiB) of compact UTF-8 JSON, and a text
  longer than that is refused before it is parsed;
- at most ``MAX_DEPTH`` (32) levels of nesting, checked by an iterative walk
  so a hostile depth cannot exhaust the stack;
- only storable JSON (``engine.strict_json``'s rule: finite numbers, no lone
  surrogates, no duplicate keys in a text);
- then the schema, by ``jsonschema`` (Draft 2020-12), so explicit
  ``<agenthub:schema>`` schemas get every keyword they may use.

Every problem names the argument's path (``'order.lines[1]'``); the common
keywords get messages written for a person or a model to act on ("'amount'
must be a number, not a string"), the rest keep jsonschema's own words.

Owns: what arguments a schema accepts. Does not know: which tool or
transport asked, or how a refusal is reported.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from engine import strict_json

if TYPE_CHECKING:
    import jsonschema

__all__ = ["MAX_ARGUMENT_BYTES", "MAX_DEPTH", "MAX_PROBLEMS", "ArgumentError", "check_arguments"]

MAX_ARGUMENT_BYTES = 256 * 1024
MAX_DEPTH = 32
MAX_PROBLEMS = 20  # a hostile call may break the schema thousands of times; the first few say enough
_MAX_UNKNOWN = 10  # unknown arguments listed per object

_JSON_TYPES = {
    "string": "a string",
    "number": "a number",
    "integer": "an integer",
    "boolean": "true or false",
    "object": "an object",
    "array": "an array",
    "null": "null",
}


class ArgumentError(ValueError):
    """The arguments break a limit or the schema; ``problems`` lists each finding."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


def check_arguments(schema: Mapping[str, Any], arguments: Any) -> dict[str, Any]:
    """The arguments as a plain dict, or ``ArgumentError`` saying what is wrong with them.

    ``arguments`` is a mapping, JSON text of one (as models send it), or None
    for none at all.
    """
    if isinstance(arguments, str | bytes):
        arguments = _parse(arguments)
    if arguments is None:
        arguments = {}
    if not isinstance(arguments, Mapping):
        raise ArgumentError([f"the arguments must be a JSON object, not {_describe(arguments)}"])
    values: dict[str, Any] = dict(arguments)
    limit = _limit_problem(values)
    if limit is not None:
        raise ArgumentError([limit])
    problems = _schema_problems(schema, values)
    if problems:
        raise ArgumentError(problems)
    return values


def _parse(text: str | bytes) -> Any:
    if len(text) > MAX_ARGUMENT_BYTES:
        raise ArgumentError([f"the arguments are larger than {MAX_ARGUMENT_BYTES} bytes of JSON"])
    if not text.strip():
        return None
    try:
        return strict_json.loads(text)
    except strict_json.JsonProblem as exc:
        raise ArgumentError([f"the arguments are not valid JSON: {exc}"]) from None


def _limit_problem(values: dict[str, Any]) -> str | None:
    stack: list[tuple[Any, int]] = [(values, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list | tuple):
            if depth > MAX_DEPTH:
                return f"the arguments nest deeper than {MAX_DEPTH} levels"
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children)
    unstorable = strict_json.value_problem(values)
    if unstorable is not None:  # Infinity or a lone surrogate that a transport's parser let through
        return str(unstorable)
    try:
        size = len(json.dumps(values, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode())
    except (TypeError, ValueError) as exc:  # a value built in Python that JSON has no form for
        return f"the arguments are not plain JSON: {exc}"
    if size > MAX_ARGUMENT_BYTES:
        return f"the arguments take {size} bytes of JSON; at most {MAX_ARGUMENT_BYTES} are accepted"
    return None


def _schema_problems(schema: Mapping[str, Any], values: dict[str, Any]) -> list[str]:
    import jsonschema  # here, not at the top: loading it is ~70 ms of every CLI command that never checks arguments

    validator = jsonschema.Draft202012Validator(schema)
    problems: dict[str, None] = {}  # ordered and without repeats
    mistyped: set[tuple[str | int, ...]] = set()
    for error in validator.iter_errors(values):
        path = tuple(error.absolute_path)
        if error.validator == "type":
            mistyped.add(path)
        elif path in mistyped:
            continue  # "must be a number, not a string" says it; "must be one of" would only repeat it
        for problem in _describe_error(error, path):
            problems.setdefault(problem)
        if len(problems) >= MAX_PROBLEMS:
            break
    return list(problems)[:MAX_PROBLEMS]


def _describe_error(error: jsonschema.ValidationError, path: tuple[str | int, ...]) -> Iterator[str]:
    name = f"'{_where(path)}'" if path else "the arguments"
    keyword, value = error.validator, error.instance
    expected: Any = error.validator_value
    if keyword == "type":
        kinds = [expected] if isinstance(expected, str) else list(expected)
        yield f"{name} must be {' or '.join(_JSON_TYPES.get(k, str(k)) for k in kinds)}, not {_describe(value)}"
    elif keyword == "required" and isinstance(value, dict):
        yield from (f"missing required argument '{_where((*path, key))}'" for key in expected if key not in value)
    elif keyword == "additionalProperties" and isinstance(value, dict) and isinstance(error.schema, Mapping):
        properties: Mapping[str, Any] = error.schema.get("properties") or {}
        patterns = list(error.schema.get("patternProperties") or {})
        extra = sorted(k for k in value if k not in properties and not any(re.search(p, k) for p in patterns))
        known = ", ".join(sorted(properties)) or "none"
        yield from (f"unknown argument '{_where((*path, key))}' (this tool takes: {known})"
                    for key in extra[:_MAX_UNKNOWN])
    elif keyword in _BOUNDS:
        yield f"{name} {_BOUNDS[str(keyword)].format(expected)}"
    elif keyword == "enum":
        yield f"{name} must be one of {', '.join(json.dumps(v) for v in expected)}"
    elif keyword == "const":
        yield f"{name} must be {json.dumps(expected)}"
    else:
        message = error.message if len(error.message) <= 200 else error.message[:197] + "..."
        yield f"{name}: {message}"


_BOUNDS = {
    "minimum": "must be at least {}",
    "maximum": "must be at most {}",
    "exclusiveMinimum": "must be more than {}",
    "exclusiveMaximum": "must be less than {}",
    "multipleOf": "must be a multiple of {}",
    "minLength": "must have at least {} characters",
    "maxLength": "must have at most {} characters",
    "minItems": "must have at least {} items",
    "maxItems": "must have at most {} items",
    "minProperties": "must have at least {} properties",
    "maxProperties": "must have at most {} properties",
    "pattern": "must match the pattern {!r}",
}


def _where(path: tuple[str | int, ...]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "an array"
    return "an object" if isinstance(value, Mapping) else type(value).__name__
