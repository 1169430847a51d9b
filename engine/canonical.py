"""Canonical JSON: the one text form of a value that hashes and comparisons use.

Sorted keys, no whitespace (``","`` and ``":"``), non-ASCII written as
``\\uXXXX`` escapes, and no NaN or Infinity. Two values that are equal as
JSON objects (whatever their key order) give the same text and so the same
hash. Numbers keep their JSON type: ``10``, ``10.0`` and ``"10"`` all differ.

The form is persisted: the registry pins MCP tool definitions and A2A agent
cards by ``canonical_hash`` and compares a stored digest with a recomputed
one, and agent tool calls record ``argumentsHash`` in the journal. So the
form must not change; ``tests/engine/test_canonical.py`` locks it with a
fixed digest. ``ensure_ascii`` stays on (it was the registry's form before
this module existed); writing UTF-8 as-is was rejected because every stored
pin would have looked drifted.

Strings are hashed as given, not Unicode-normalised: a caller that wants
``"é"`` composed and decomposed to hash alike normalises first.

Owns: the canonical text and its SHA-256. Does not know: what is hashed or
where digests are stored.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

__all__ = ["NotCanonical", "canonical_hash", "canonical_json"]


class NotCanonical(ValueError):
    """The value has no canonical JSON form: a NaN or infinite number, a non-JSON type, or a cycle."""


def canonical_json(value: Any) -> str:
    """The canonical JSON text of ``value``; ``NotCanonical`` if it is not plain, finite JSON."""
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except ValueError as exc:  # NaN, Infinity, or a value that contains itself
        raise NotCanonical(f"the value has no canonical JSON form: {exc}") from None
    except TypeError as exc:  # a type JSON has no form for, or keys of mixed types that cannot be sorted
        raise NotCanonical(f"the value is not plain JSON: {exc}") from None
    except RecursionError:
        raise NotCanonical("the value nests too deeply to be written as JSON") from None


def canonical_hash(value: Any) -> str:
    """The SHA-256 hex digest of ``canonical_json(value)`` (64 lowercase hex characters)."""
    return hashlib.sha256(canonical_json(value).encode("ascii")).hexdigest()
