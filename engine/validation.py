"""Checks of input from outside the engine."""

from __future__ import annotations

import json
from typing import Any

from engine.exceptions import InvalidInput
from engine.strict_json import JsonProblem, check_value


def check_variables(variables: dict[str, Any] | None) -> dict[str, Any]:
    """``variables`` as plain JSON data, or ``InvalidInput`` naming the field that cannot be stored.

    The last line of defence for every path into an instance (REST, MCP, A2A,
    workers, model answers): a non-finite number or a lone surrogate stored
    here would break every later read of the instance.
    """
    if variables is None:
        return {}
    if not isinstance(variables, dict):
        raise InvalidInput(f"variables must be a JSON object, not {type(variables).__name__}")
    try:
        check_value(variables, "variables")
    except JsonProblem as exc:
        raise InvalidInput(f"variables must be JSON values: {exc}") from None
    try:
        return dict(json.loads(json.dumps(variables, allow_nan=False)))
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"variables must be JSON values: {exc}") from None
