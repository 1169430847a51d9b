"""Checking submitted variables against a Camunda Form (form-js JSON), as form-js validates them in the browser.

The same rules run on every surface that completes a user task (REST, MCP,
CLI, the console), in the engine, so no client can skip them by not using
form-js. Per component type:

- ``textfield``, ``textarea``: a string; ``validate.minLength``/``maxLength``,
  ``validate.pattern`` (searched, as JavaScript's ``RegExp.test`` does) and
  ``validate.validationType`` ``email``/``phone``;
- ``number``: a number (a numeric string with ``serializeToString``);
  ``validate.min``/``max``;
- ``checkbox``: a boolean (``required`` means checked);
- ``radio``, ``select``: one of the static ``values`` options;
- ``checklist``, ``taglist``: a list of them (``required``: not empty);
- ``datetime``: an ISO date, time or date-time string, as its ``subtype`` says;
- ``group`` (with an optional ``path``) and ``dynamiclist`` (a list under
  ``path``, each item checked against the inner components).

``validate.required`` holds for every field. A field that is ``disabled`` or
``readonly``, or hidden by ``conditional.hide`` (FEEL, evaluated against the
values), is not checked, as form-js does not. Options from ``valuesKey`` or
``valuesExpression`` are dynamic and not checked. Patterns run on RE2
(``engine.feel.linear_regex``): a pattern cannot freeze the engine.

Does not know: where the form came from or which task it belongs to
(``engine.forms``).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterator, Mapping
from typing import Any, Final, TypeGuard

from engine.exceptions import FieldError
from engine.feel import FeelError, evaluate, strip_marker
from engine.feel.linear_regex import RegexError, compile_linear

__all__ = ["form_errors"]

_TEXT: Final = frozenset({"textfield", "textarea"})
_ONE_OF: Final = frozenset({"radio", "select"})
_MANY_OF: Final = frozenset({"checklist", "taglist"})
_EMAIL: Final = re.compile(r"^[^\s@]+@[^\s@]+\.[^\s@]+$")
_PHONE: Final = re.compile(r"^\+?[0-9 ()./-]{5,}$")
_TIME: Final = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?(Z|[+-][0-9]{2}:?[0-9]{2})?$")


def form_errors(schema: Mapping[str, Any], values: Mapping[str, Any], now: dt.datetime) -> list[FieldError]:
    """Each field of ``schema`` whose value in ``values`` (the variables the task completes with) fails the form."""
    return list(_components(schema.get("components"), values, values, "", now))


def _components(components: Any, data: Mapping[str, Any], root: Mapping[str, Any], prefix: str,
                now: dt.datetime) -> Iterator[FieldError]:
    for component in components if isinstance(components, list) else []:
        if not isinstance(component, dict) or _skipped(component, root, now):
            continue
        kind = component.get("type")
        path = component.get("path")
        if kind == "group":
            inner = _at(data, path) if isinstance(path, str) and path else data
            where = f"{prefix}{path}." if isinstance(path, str) and path else prefix
            yield from _components(component.get("components"), inner if isinstance(inner, Mapping) else {}, root,
                                   where, now)
        elif kind == "dynamiclist" and isinstance(path, str) and path:
            items = _at(data, path)
            for index, item in enumerate(items if isinstance(items, list) else []):
                yield from _components(component.get("components"), item if isinstance(item, Mapping) else {},
                                       root, f"{prefix}{path}[{index}].", now)
        elif isinstance(component.get("key"), str):
            key = component["key"]
            message = _field_error(component, kind, _at(data, key))
            if message is not None:
                yield FieldError(prefix + key, message)


def _skipped(component: Mapping[str, Any], root: Mapping[str, Any], now: dt.datetime) -> bool:
    if component.get("disabled") is True or component.get("readonly") is True:
        return True
    conditional = component.get("conditional")
    hide = conditional.get("hide") if isinstance(conditional, dict) else None
    if not isinstance(hide, str) or not hide.strip():
        return False
    try:
        return evaluate(strip_marker(hide), root, now) is True
    except FeelError:
        return False  # a condition that does not evaluate hides nothing: the field is checked


def _at(data: Mapping[str, Any], key: str) -> Any:
    """The value under a form key; ``a.b`` is a nested path, as form-js binds it."""
    value: Any = data
    for part in key.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value is False


def _field_error(component: Mapping[str, Any], kind: Any, value: Any) -> str | None:
    rules = component.get("validate") if isinstance(component.get("validate"), dict) else {}
    assert isinstance(rules, dict)
    if _empty(value):
        return "is required" if rules.get("required") is True else None
    if kind in _TEXT:
        return _text_error(rules, value)
    if kind == "number":
        return _number_error(component, rules, value)
    if kind == "checkbox":
        return None if isinstance(value, bool) else "must be true or false"
    if kind in _ONE_OF:
        return _option_error(component, value)
    if kind in _MANY_OF:
        if not isinstance(value, list):
            return "must be a list of options"
        return next((e for e in (_option_error(component, v) for v in value) if e is not None), None)
    if kind == "datetime":
        return _datetime_error(component, value)
    return None


def _text_error(rules: Mapping[str, Any], value: Any) -> str | None:
    if not isinstance(value, str):
        return "must be text"
    low, high = rules.get("minLength"), rules.get("maxLength")
    if _is_number(low) and len(value) < low:
        return f"must have at least {low} characters"
    if _is_number(high) and len(value) > high:
        return f"must have at most {high} characters"
    kind = rules.get("validationType")
    if kind == "email" and not _EMAIL.match(value):
        return "must be an email address"
    if kind == "phone" and not _PHONE.match(value):
        return "must be a phone number"
    pattern = rules.get("pattern")
    if isinstance(pattern, str) and pattern and kind in (None, "", "custom"):
        try:
            matched = compile_linear(pattern).search(value)
        except RegexError:
            return f"cannot be checked: the form's pattern '{pattern}' is not a regular expression this hub runs"
        if not matched:
            return f"must match the pattern '{pattern}'"
    return None


def _is_number(value: Any) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _number_error(component: Mapping[str, Any], rules: Mapping[str, Any], value: Any) -> str | None:
    number = value
    if isinstance(value, str) and component.get("serializeToString") is True:
        try:
            number = float(value)
        except ValueError:
            return "must be a number"
    if not _is_number(number):
        return "must be a number"
    low, high = rules.get("min"), rules.get("max")
    if _is_number(low) and number < low:
        return f"must be at least {low}"
    if _is_number(high) and number > high:
        return f"must be at most {high}"
    return None


def _option_error(component: Mapping[str, Any], value: Any) -> str | None:
    options = component.get("values")
    if not isinstance(options, list) or component.get("valuesKey") or component.get("valuesExpression"):
        return None  # dynamic options: what they are is known only where the form is rendered
    allowed = [o.get("value") for o in options if isinstance(o, dict)]
    if value in allowed:
        return None
    return f"must be one of {', '.join(repr(a) for a in allowed)}"


def _datetime_error(component: Mapping[str, Any], value: Any) -> str | None:
    subtype = component.get("subtype") or "date"
    if not isinstance(value, str):
        return "must be a date or time as text"
    if subtype == "time":
        return None if _TIME.match(value) else "must be a time (HH:MM)"
    try:
        if subtype == "date":
            dt.date.fromisoformat(value)
        else:
            dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return "must be a date (YYYY-MM-DD)" if subtype == "date" else "must be a date and time (ISO 8601)"
    return None
