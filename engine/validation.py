"""Checks of input from outside the engine."""

from __future__ import annotations

import json
from typing import Any

from engine.exceptions import InvalidInput


def check_variables(variables: dict[str, Any] | None) -> dict[str, Any]:
    if variables is None:
        return {}
    if not isinstance(variables, dict):
        raise InvalidInput(f"variables must be a JSON object, not {type(variables).__name__}")
    try:
        return dict(json.loads(json.dumps(variables)))
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"variables must be JSON values: {exc}") from None
