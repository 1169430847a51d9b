"""``{{secrets.NAME}}`` placeholders: credentials a task uses without them ever being process data.

A placeholder may stand anywhere in the url, a query value, a request header
value or a string of the body (``Authorization: "Bearer {{secrets.CRM_TOKEN}}"``,
Camunda's convention). The variables, and so the journal, hold the placeholder;
the connector replaces it when it builds the request, from a ``SecretProvider``
(by default ``environ_secret``: the environment variable ``AGENTHUB_SECRET_<NAME>``
of the process running the worker), and masks the value in everything it
returns or raises. A placeholder with no value fails the task before anything
is sent.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import Any, Final

from engine.redaction import REDACTED
from protocols.http.exceptions import InvalidTask

__all__ = ["SECRET_ENV_PREFIX", "SecretProvider", "SecretResolver", "environ_secret"]

SECRET_ENV_PREFIX: Final = "AGENTHUB_SECRET_"
_PLACEHOLDER = re.compile(r"\{\{\s*secrets\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")

SecretProvider = Callable[[str], "str | None"]
"""The value of the secret ``NAME`` or None when there is none."""


def environ_secret(name: str) -> str | None:
    """``AGENTHUB_SECRET_<NAME>`` of this process's environment, read at call time (so a rotation needs no restart)."""
    return os.environ.get(SECRET_ENV_PREFIX + name) or None


class SecretResolver:
    """Replaces the placeholders of one task and remembers the values it put in, to mask them later."""

    def __init__(self, provider: SecretProvider, where: str) -> None:
        self._provider = provider
        self._where = where
        self.values: list[str] = []

    def text(self, value: str, what: str) -> str:
        """``value`` with every placeholder replaced; ``what`` names the field for the error."""
        return _PLACEHOLDER.sub(lambda match: self._value(match.group(1), what), value)

    def data(self, value: Any, what: str) -> Any:
        """JSON-like ``value`` with the placeholders in its strings replaced (keys are left alone)."""
        if isinstance(value, str):
            return self.text(value, what)
        if isinstance(value, dict):
            return {key: self.data(item, what) for key, item in value.items()}
        if isinstance(value, list):
            return [self.data(item, what) for item in value]
        return value

    def mask(self, message: str) -> str:
        """``message`` with the values put in so far masked (an invalid URL's error may quote the URL)."""
        for value in sorted(self.values, key=len, reverse=True):
            message = message.replace(value, REDACTED)
        return message

    def _value(self, name: str, what: str) -> str:
        found = self._provider(name)
        if found is None:
            raise InvalidTask(f"{self._where}: {what} uses {{{{secrets.{name}}}}}, which has no value: set the "
                              f"environment variable {SECRET_ENV_PREFIX}{name} where the hub's workers run")
        self.values.append(found)
        return found
