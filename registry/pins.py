"""Pinning: the states of a pinned entry (an MCP tool, an A2A agent) and the digest it is pinned by.

An entry is callable only while it is ``APPROVED`` and the digest of what
was last seen upstream equals the digest an admin approved. The states are
stored as their string values (``approved``, ``pending``, ...), which is why
they are a ``StrEnum``: rows written before the enum existed read back as
members.

``pin_digest`` is the canonical-JSON SHA-256 of ``engine.canonical``, written
again here because the layers forbid the registry to import the engine
(``tests/test_layers.py``). ``tests/registry/test_pins.py`` checks that the two
agree and locks the digest of a fixed value, so they cannot drift apart: a
changed form would make every stored pin look drifted.
"""

from __future__ import annotations

import hashlib
import json
from enum import StrEnum
from typing import Any

from registry.exceptions import InvalidEntry

__all__ = ["PinState", "pin_digest"]


class PinState(StrEnum):
    """Where a pinned entry stands. A2A agents use ``APPROVED`` and ``CHANGED`` only."""

    APPROVED = "approved"  # what is seen upstream is what an admin approved: callable
    PENDING = "pending"  # new upstream and never approved (MCP tools)
    CHANGED = "changed"  # differs from what was approved: held until approved again
    REJECTED = "rejected"  # an admin reviewed what is offered now and refused it: held; a further change is held anew
    REMOVED = "removed"  # no longer offered upstream (MCP tools)


def pin_digest(value: Any, what: str) -> str:
    """SHA-256 hex of ``value`` as canonical JSON (sorted keys, no whitespace, ASCII escapes, finite numbers).

    ``what`` names the value in the ``InvalidEntry`` raised for one that has no
    canonical form (a NaN or infinite number, a non-JSON type).
    """
    try:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        raise InvalidEntry(f"{what} cannot be pinned: it is not plain, finite JSON ({exc})") from None
    return hashlib.sha256(text.encode("ascii")).hexdigest()
