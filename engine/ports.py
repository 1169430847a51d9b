"""What the engine needs from outside, as small protocols.

The layers above plug implementations in: the clock, the source of keys, and
the store, whose interface is ``engine.store.protocol.Store`` (implemented by
``engine.store.SqlStore`` and ``engine.store.MemoryStore``). The engine's core
step sees only these, so it stays deterministic and testable without a
database or a real clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

from engine.dmn import DecisionBinding, DecisionVersion
from engine.model import Process


@runtime_checkable
class Clock(Protocol):
    """The engine's only source of time."""

    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that moves only when told to: tests never sleep."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta

    def set(self, moment: datetime) -> None:
        self._now = moment


class IdSource(Protocol):
    """Hands out unique integer keys for instances, element instances, jobs, tasks and incidents."""

    def next_key(self) -> int: ...


class CountingIds:
    """Keys from a counter: for tests and for the in-memory store."""

    def __init__(self, start: int = 1) -> None:
        self._next = start

    def next_key(self) -> int:
        key = self._next
        self._next += 1
        return key


class ProcessLookup(Protocol):
    """Read access to deployed process definitions and DMN decisions, as the step needs it."""

    def latest(self, process_id: str) -> tuple[int, int, Process] | None:
        """``(definition_key, version, process)`` of the newest version, or None."""
        ...

    def by_key(self, definition_key: int) -> Process: ...

    def decision(self, decision_id: str, binding: DecisionBinding, version_tag: str | None,
                 definition_key: int) -> DecisionVersion | None:
        """The version of a decision a business rule task of ``definition_key`` binds to, or None."""
        ...
