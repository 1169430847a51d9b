"""``{{secrets.NAME}}`` placeholders: credentials a task uses without them ever being process data.

A placeholder may stand anywhere in the url, a query value, a request header
value or a string of the body (``Authorization: "Bearer {{secrets.CRM_TOKEN}}"``,
Camunda's convention), and in a Camunda connector's authentication fields. The
variables, and so the journal, hold the placeholder; the connector replaces it
when it builds the request, from a ``SecretProvider``, and masks the value in
everything it returns or raises. A placeholder with no value fails the task
before anything is sent.

Providers (``secret_provider`` builds the hub's from its environment):

- ``environ_secret``, the default: ``AGENTHUB_SECRET_<NAME>`` when set, else the
  environment variable ``NAME`` itself, as Camunda's connector runtime reads it.
  Names starting with ``AGENTHUB_`` are never read: the hub's own settings (its
  database URL, its tokens) are not secrets a model may send somewhere.
- ``FileSecrets``: a JSON object or a ``.env`` file (``AGENTHUB_SECRETS_FILE``),
  read again when it changes, so a rotation needs no restart; consulted first.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final

from engine.redaction import REDACTED
from protocols.http.exceptions import InvalidTask

__all__ = [
    "SECRETS_FILE_ENV",
    "SECRET_ENV_PREFIX",
    "FileSecrets",
    "SecretProvider",
    "SecretResolver",
    "environ_secret",
    "first_of",
    "secret_provider",
]

SECRET_ENV_PREFIX: Final = "AGENTHUB_SECRET_"
SECRETS_FILE_ENV: Final = "AGENTHUB_SECRETS_FILE"
_OWN_SETTINGS: Final = "AGENTHUB_"
_ENV_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")
_PLACEHOLDER = re.compile(r"\{\{\s*secrets\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")

SecretProvider = Callable[[str], "str | None"]
"""The value of the secret ``NAME`` or None when there is none."""


def environ_secret(name: str) -> str | None:
    """``AGENTHUB_SECRET_<NAME>``, else ``NAME``, of this process's environment, read at call time (a rotation
    needs no restart); None for the hub's own ``AGENTHUB_*`` settings."""
    if name.startswith(_OWN_SETTINGS):
        return None
    return os.environ.get(SECRET_ENV_PREFIX + name) or os.environ.get(name) or None


class FileSecrets:
    """Secrets from a file: a JSON object of names to strings, or ``NAME=value`` lines (``.env``).

    The file is read again when its modification time or size changes. A file that cannot be read or
    parsed raises InvalidTask naming it (never quoting it) when a secret is asked for.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._seen: tuple[int, int] | None = None
        self._values: dict[str, str] = {}

    def __call__(self, name: str) -> str | None:
        return self._load().get(name) or None

    def _load(self) -> dict[str, str]:
        try:
            stat = self.path.stat()
            seen = (stat.st_mtime_ns, stat.st_size)
            if seen != self._seen:
                self._values, self._seen = _parse_secrets(self.path.read_text(encoding="utf-8")), seen
        except (OSError, UnicodeError, ValueError) as exc:
            reason = type(exc).__name__ if not isinstance(exc, OSError) else exc.strerror or type(exc).__name__
            raise InvalidTask(f"the secrets file {self.path} ({SECRETS_FILE_ENV}) cannot be read: {reason}") from None
        return self._values


def _parse_secrets(text: str) -> dict[str, str]:
    """A JSON object's string entries, or the ``NAME=value`` lines of a ``.env`` file (quotes removed)."""
    if text.lstrip().startswith("{"):
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("the JSON is not an object")
        return {str(k): v for k, v in data.items() if isinstance(v, str)}
    values: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _ENV_LINE.match(line)
        if match is None:
            raise ValueError("a line is neither NAME=value nor a comment")
        value = match.group(2)
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[match.group(1)] = value
    return values


def first_of(*providers: SecretProvider) -> SecretProvider:
    """A provider asking each of ``providers`` in turn; the first value found wins."""

    def provide(name: str) -> str | None:
        for provider in providers:
            found = provider(name)
            if found is not None:
                return found
        return None

    return provide


def secret_provider(environ: Mapping[str, str]) -> SecretProvider:
    """The hub's provider: the file named by ``AGENTHUB_SECRETS_FILE`` first, when set, then the environment."""
    path = environ.get(SECRETS_FILE_ENV, "").strip()
    return first_of(FileSecrets(path), environ_secret) if path else environ_secret


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
                              f"environment variable {name} (or {SECRET_ENV_PREFIX}{name}) where the hub's "
                              f"workers run, or add it to the file named by {SECRETS_FILE_ENV}")
        self.values.append(found)
        return found
