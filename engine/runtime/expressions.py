"""Evaluating the model's expressions and mappings against a scope.

A failure here never raises past the step: it becomes an incident on the
element, with a message that names the expression and what went wrong.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from engine.feel import FeelError, compile_expression, seeded_entropy, to_json
from engine.model import Mapping as IoMapping
from engine.model import Value
from engine.runtime.variables import ScopeView, assign_path


class ExpressionFailure(Exception):
    """An expression could not be evaluated, or gave a value of the wrong type."""


class DecisionFailure(ExpressionFailure):
    """A business rule task's DMN decision is not deployed, or its evaluation failed (an incident of type decision)."""


def evaluate(source: str, scope: Mapping[str, Any], now: datetime, *, what: str = "expression") -> Any:
    try:
        # uuid() and random number() follow from the element instance, the time and the expression: a step replays.
        seed = f"{scope.seed if isinstance(scope, ScopeView) else ''}|{now.isoformat()}|{source}"
        result = compile_expression(source).evaluate(scope, now=now, entropy=seeded_entropy(seed))
    except FeelError as exc:
        raise ExpressionFailure(f"failed to evaluate {what} '{source}': {exc}") from exc
    return to_json(result)


def evaluate_value(value: Value, scope: Mapping[str, Any], now: datetime, *, what: str) -> Any:
    if not value.is_expression:
        return value.text
    return evaluate(value.text, scope, now, what=what)


def evaluate_condition(source: str, scope: Mapping[str, Any], now: datetime, *, what: str) -> bool:
    result = evaluate(source, scope, now, what=what)
    if result is None:
        return False
    if not isinstance(result, bool):
        raise ExpressionFailure(f"expected {what} '{source}' to be a boolean, but it was {_describe(result)}")
    return result


def evaluate_list(source: str, scope: Mapping[str, Any], now: datetime, *, what: str) -> list[Any]:
    result = evaluate(source, scope, now, what=what)
    if not isinstance(result, list):
        raise ExpressionFailure(f"expected {what} '{source}' to be a list, but it was {_describe(result)}")
    return result


def evaluate_strings(value: Value | None, scope: Mapping[str, Any], now: datetime, *, what: str) -> list[str]:
    """A list of names: a FEEL list, or a static comma-separated string (candidate groups and users)."""
    if value is None:
        return []
    if not value.is_expression:
        return [part.strip() for part in value.text.split(",") if part.strip()]
    result = evaluate(value.text, scope, now, what=what)
    if result is None:
        return []
    if isinstance(result, str):
        return [part.strip() for part in result.split(",") if part.strip()]
    if isinstance(result, list) and all(isinstance(item, str) for item in result):
        return list(result)
    raise ExpressionFailure(f"expected {what} '{value.text}' to be a list of strings, but it was {_describe(result)}")


def apply_mappings(
    mappings: tuple[IoMapping, ...], scope: Mapping[str, Any], now: datetime, *, what: str
) -> dict[str, Any]:
    """Evaluate input or output mappings; later mappings see the results of earlier ones."""
    results: dict[str, Any] = {}
    view = _Overlay(results, scope)
    for mapping in mappings:
        if mapping.is_expression:
            value = evaluate(mapping.source, view, now, what=f"{what} '{mapping.target}'")
        else:
            value = mapping.source
        if "." in mapping.target:
            root = mapping.target.split(".", 1)[0]
            if root not in results:
                existing = view.get(root)
                results[root] = dict(existing) if isinstance(existing, dict) else {}
            assign_path(results, mapping.target, value)
        else:
            results[mapping.target] = value
    return results


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int | float):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"a string ('{value[:40]}')"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a context"
    return type(value).__name__


class _Overlay(Mapping[str, Any]):
    """The mapping results so far, over the element's scope."""

    def __init__(self, top: dict[str, Any], below: Mapping[str, Any]) -> None:
        self._top = top
        self._below = below

    def __getitem__(self, name: str) -> Any:
        if name in self._top:
            return self._top[name]
        return self._below[name]

    def get(self, name: str, default: Any = None) -> Any:
        if name in self._top:
            return self._top[name]
        return self._below.get(name, default)

    def __contains__(self, name: object) -> bool:
        return name in self._top or name in self._below

    def __iter__(self):  # type: ignore[no-untyped-def]
        yield from self._top
        yield from (k for k in self._below if k not in self._top)

    def __len__(self) -> int:
        return len(set(self._top) | set(self._below))
