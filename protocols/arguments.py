"""Checking a tool call's arguments before anything runs: limits first, then the tool's input schema.

The limits hold whatever the schema says (RELIABILITY.md M14): at most
``MAX_ARGUMENT_BYTES`` of JSON, at most ``MAX_DEPTH`` levels of nesting, and
only finite numbers. The walk that checks them is iterative, so a hostile
nesting depth cannot exhaust the stack. What counts as a storable value (no
NaN or Infinity, no lone surrogate) is ``engine.strict_json``'s rule; a
refusal names the argument's path (``order.lines[1]``).

Shared by the MCP and A2A servers. The schemas checked here are the ones they write (``ToolSpec.input_schema()``
and the built-in tools'): ``type`` (one name or a list), ``enum``,
``minimum``/``maximum``, ``minLength``/``maxLength``, and for objects
``properties``, ``required`` and ``additionalProperties: false``. That small
subset keeps the messages precise ("'amount' must be a number, not a
string"); a general JSON Schema validator was rejected because it would bring
an untyped dependency for features these schemas never use.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from engine.strict_json import value_problem

MAX_ARGUMENT_BYTES = 1 << 20  # 1 MiB of JSON
MAX_DEPTH = 32

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


def check_arguments(schema: Mapping[str, Any], arguments: Mapping[str, Any] | None) -> dict[str, Any]:
    """The arguments as a plain dict, or ``ArgumentError`` saying everything that is wrong with them."""
    values: dict[str, Any] = dict(arguments or {})
    limit = _limit_problem(values)
    if limit is not None:
        raise ArgumentError([limit])
    problems = _schema_problems(schema, values, "")
    if problems:
        raise ArgumentError(problems)
    return values


def _limit_problem(values: dict[str, Any]) -> str | None:
    stack: list[tuple[Any, int]] = [(values, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                return f"the arguments nest deeper than {MAX_DEPTH} levels"
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children)
    unstorable = value_problem(values)
    if unstorable is not None:  # Infinity or a lone surrogate that a transport's parser let through
        return str(unstorable)
    size = len(json.dumps(values, ensure_ascii=False, separators=(",", ":")).encode())
    if size > MAX_ARGUMENT_BYTES:
        return f"the arguments take {size} bytes of JSON; at most {MAX_ARGUMENT_BYTES} are accepted"
    return None


def _schema_problems(schema: Mapping[str, Any], value: Any, where: str) -> list[str]:
    name = f"'{where}'" if where else "the arguments"
    kinds = schema.get("type")
    if kinds is not None:
        allowed = [kinds] if isinstance(kinds, str) else list(kinds)
        if not any(_is(kind, value) for kind in allowed):
            wanted = " or ".join(_JSON_TYPES.get(k, k) for k in allowed)
            return [f"{name} must be {wanted}, not {_describe(value)}"]
    problems: list[str] = []
    if "enum" in schema and value not in schema["enum"]:
        problems.append(f"{name} must be one of {', '.join(json.dumps(v) for v in schema['enum'])}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            problems.append(f"{name} must be at least {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            problems.append(f"{name} must be at most {schema['maximum']}")
    if isinstance(value, str):
        if "minLength" in schema and len(value) < schema["minLength"]:
            problems.append(f"{name} must have at least {schema['minLength']} characters")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            problems.append(f"{name} must have at most {schema['maxLength']} characters")
    if isinstance(value, dict):
        problems.extend(_object_problems(schema, value, where))
    return problems


def _object_problems(schema: Mapping[str, Any], value: dict[str, Any], where: str) -> list[str]:
    properties: Mapping[str, Any] = schema.get("properties") or {}
    problems = [
        f"missing required argument '{_join(where, key)}'" for key in schema.get("required", ()) if key not in value
    ]
    if schema.get("additionalProperties") is False:
        extra = sorted(key for key in value if key not in properties)
        if extra:
            known = ", ".join(sorted(properties)) or "none"
            problems.extend(f"unknown argument '{_join(where, key)}' (this tool takes: {known})" for key in extra[:10])
    for key, sub in properties.items():
        if key in value:
            problems.extend(_schema_problems(sub, value[key], _join(where, key)))
    return problems


def _is(kind: str, value: Any) -> bool:
    if kind == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer()
        )
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "string":
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "object":
        return isinstance(value, dict)
    if kind == "array":
        return isinstance(value, list)
    if kind == "null":
        return value is None
    return False


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else "an object"


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key
