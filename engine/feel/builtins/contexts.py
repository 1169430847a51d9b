"""Context and boolean built-ins: get value, get entries, context put/merge (and Camunda's older names put and
put all), context(), from json, to json, not, is defined, get or else, assert, is."""

from __future__ import annotations

import datetime as _dt
import json
from decimal import Decimal
from typing import Any

from engine.feel import operators as ops
from engine.feel.builtins._registry import builtin
from engine.feel.exceptions import FeelEvaluationError
from engine.feel.text import to_json
from engine.feel.values import to_feel

__all__: list[str] = []


def _context(value: Any) -> dict[str, Any]:
    if type(value) is not dict:
        raise TypeError("context expected")
    return value


@builtin("get value", "m", "key")
def get_value(m: Any, key: Any) -> Any:
    ctx = _context(m)
    if type(key) is str:
        return ctx.get(key)
    if type(key) is list and all(type(k) is str for k in key):
        value: Any = ctx
        for k in key:
            if type(value) is not dict:
                return None
            value = value.get(k)
        return value
    return None


@builtin("get entries", "m")
def get_entries(m: Any) -> Any:
    return [{"key": k, "value": v} for k, v in _context(m).items()]


def _put(ctx: dict[str, Any], keys: list[Any], value: Any) -> dict[str, Any]:
    if not keys or any(type(k) is not str for k in keys):
        raise TypeError("keys must be strings")
    result = dict(ctx)
    head = keys[0]
    if len(keys) == 1:
        result[head] = value
    else:
        inner = result.get(head, {})
        result[head] = _put(_context(inner), keys[1:], value)
    return result


@builtin("context put", "context", "keys", "value")
def context_put_keys(context: Any, keys: Any, value: Any) -> Any:
    return _put(_context(context), keys if type(keys) is list else [keys], value)


@builtin("put", "context", "key", "value")
@builtin("context put", "context", "key", "value")
def context_put(context: Any, key: Any, value: Any) -> Any:
    if type(key) is not str:
        return None
    return _put(_context(context), [key], value)


@builtin("put all", "contexts")
@builtin("context merge", "contexts")
def context_merge(contexts: Any) -> Any:
    if type(contexts) is dict:
        contexts = [contexts]
    if type(contexts) is not list:
        return None
    result: dict[str, Any] = {}
    for c in contexts:
        result.update(_context(c))
    return result


@builtin("context", "entries")
def context(entries: Any) -> Any:
    if type(entries) is dict:
        entries = [entries]
    if type(entries) is not list:
        return None
    result: dict[str, Any] = {}
    for e in entries:
        entry = _context(e)
        key = entry.get("key")
        if type(key) is not str or "value" not in entry or key in result:
            return None
        result[key] = entry["value"]
    return result


@builtin("not", "negand")
def negation(negand: Any) -> Any:
    return (not negand) if type(negand) is bool else None


@builtin("is defined", "value")
def is_defined(value: Any) -> Any:
    return value is not None


@builtin("get or else", "value", "default")
def get_or_else(value: Any, default: Any) -> Any:
    return default if value is None else value


@builtin("assert", "value", "condition", "cause", required=2)
def assertion(value: Any, condition: Any, cause: Any = None) -> Any:
    if condition is not True:
        raise FeelEvaluationError(f"assertion failed: {cause if cause is not None else 'condition is not true'}")
    return value


@builtin("is", "value1", "value2")
def is_same(value1: Any, value2: Any) -> Any:
    if type(value1) is not type(value2):
        return False
    if isinstance(value1, _dt.datetime | _dt.time) and value1.tzinfo != value2.tzinfo:
        return False
    return ops.equal(value1, value2) is True


@builtin("fromAi", "value", "description", "type", "schema", "options", required=1)
def from_ai(value: Any, *_declaration: Any) -> Any:
    """Camunda 8's marker for a parameter an AI agent fills in: the value itself; the rest describes it."""
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


@builtin("from json", "json")
def from_json(text: Any) -> Any:
    """The FEEL value of a JSON text (Camunda); null when it is not JSON."""
    if type(text) is not str:
        raise TypeError("string expected")
    try:
        data = json.loads(text, parse_float=Decimal, parse_int=Decimal, parse_constant=_no_constant)
    except RecursionError:
        return None
    return to_feel(data)


@builtin("to json", "value")
def to_json_text(value: Any) -> Any:
    """The JSON text of a FEEL value (Camunda): temporal values as ISO 8601 strings, functions as null."""
    return json.dumps(to_json(value), ensure_ascii=False, separators=(",", ":"))
