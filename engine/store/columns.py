"""Values as both stores keep them in their columns: JSON as compact text, free text without NUL."""

from __future__ import annotations

import json
from typing import Any


def dumps(value: Any) -> str:
    """A JSON column's text."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def free_text(value: str) -> str:
    """Free text from outside (a handler's error message) as a column value.

    PostgreSQL text cannot hold NUL, which SQLite stores; JSON columns are
    safe, since ``json.dumps`` escapes control characters.
    """
    return value.replace("\x00", "\ufffd")

