"""Values as both stores keep them in their columns: JSON as compact text, free text without NUL."""

from __future__ import annotations

import json
from typing import Any

# One encoder for every call: ``json.dumps`` with options builds a new one each time, which cost as much as the
# encoding of a small value (several per step). Encoding keeps no state on the encoder, so threads share it.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def dumps(value: Any) -> str:
    """A JSON column's text."""
    return _ENCODER.encode(value)


def free_text(value: str) -> str:
    """Free text from outside (a handler's error message) as a column value.

    PostgreSQL text cannot hold NUL, which SQLite stores; JSON columns are
    safe, since ``json.dumps`` escapes control characters.
    """
    return value.replace("\x00", "\ufffd")



def element_needle(key: int) -> str:
    """How an instance's state text (``dumps``) begins element instance ``key``: ``{"key":KEY,"element":``."""
    return dumps({"key": key, "element": ""})[:-2]
