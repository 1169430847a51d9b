"""Tool calls per (token, tool): a token bucket each, refused calls told when to come back (RELIABILITY.md M15).

``CallRate.take`` never awaits, so on the event loop that serves every MCP
request it is atomic: twenty parallel calls against a bucket of five get
exactly five yeses. Time comes from an injected monotonic clock.

The table forgets a bucket once it has refilled (a full bucket is the same
as none), pruned when it has doubled since the last prune, so a caller that
invents tool names grows it only as fast as it can send requests.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

RATE_LIMITED = -32029
"""JSON-RPC code of a call refused by the rate limit; ``data.retryAfterSeconds`` says when one will pass."""

_MIN_PRUNE = 1024
_MAX_KEY = 200  # tool names longer than this share a bucket with their first 200 characters


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float


class CallRate:
    """Token buckets of ``burst`` calls, refilled at ``per_minute``, one per (principal key, tool name)."""

    def __init__(self, per_minute: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_second = per_minute / 60
        self.burst = burst
        self.clock = clock
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._prune_at = _MIN_PRUNE

    def take(self, principal: str, tool: str) -> int | None:
        """Spend one call: None when it may go ahead, else the whole seconds until one would be allowed."""
        if self.per_second <= 0:
            return None
        now = self.clock()
        key = (principal, tool[:_MAX_KEY])
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self._prune_at:
                self._prune(now)
            bucket = self._buckets[key] = _Bucket(float(self.burst), now)
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.at) * self.per_second)
        bucket.at = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return None
        wait = (1 - bucket.tokens) / self.per_second
        return max(1, math.ceil(wait - 1e-9))  # 1.0000000001 s of float noise is still 1 s

    def _prune(self, now: float) -> None:
        full = [
            key for key, b in self._buckets.items() if b.tokens + (now - b.at) * self.per_second >= self.burst
        ]
        for key in full:
            del self._buckets[key]
        self._prune_at = max(_MIN_PRUNE, 2 * len(self._buckets))

    def __len__(self) -> int:
        return len(self._buckets)
