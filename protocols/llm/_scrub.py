"""Keeping API keys out of answers, usage and error messages.

Keys reach litellm only through the environment. Whatever comes back (a
provider's error text, a server that echoes a header) is scrubbed of every
value of an environment variable whose name says it is a secret.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

_SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH", re.IGNORECASE)
_MIN_LENGTH = 6  # shorter values ("1", "true") would blank out ordinary words
MASK = "[secret]"


def secrets(environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """The secret values in the environment, longest first (so no secret is left half-masked)."""
    env = os.environ if environ is None else environ
    found = {value for name, value in env.items() if _SECRET_NAME.search(name) and len(value) >= _MIN_LENGTH}
    return tuple(sorted(found, key=len, reverse=True))


def scrub_text(text: str, hidden: tuple[str, ...]) -> str:
    for secret in hidden:
        text = text.replace(secret, MASK)
    return text


def scrub(value: Any, hidden: tuple[str, ...]) -> Any:
    """``value`` (JSON-like) with every secret in its strings, keys included, masked."""
    if not hidden:
        return value
    if isinstance(value, str):
        return scrub_text(value, hidden)
    if isinstance(value, dict):
        return {scrub_text(str(key), hidden): scrub(item, hidden) for key, item in value.items()}
    if isinstance(value, list):
        return [scrub(item, hidden) for item in value]
    return value
