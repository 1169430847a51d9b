"""Waiting on the engine's commits: what a caller that waits for something to change listens to.

A commit in this process (the hub's own worker loop, a REST call) sets the
event at once; commits by other processes (separate ``agenthub worker``
processes) are not seen here, so every wait also reads again on a timer.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from engine import Engine

__all__ = ["commit_signal"]


@contextlib.asynccontextmanager
async def commit_signal(engine: Engine) -> AsyncIterator[asyncio.Event]:
    """An event that every commit of ``engine`` in this process sets while the block runs (clear it after a read).

    Enter it before the first read: a commit after that read is then never missed.
    """
    loop = asyncio.get_running_loop()
    committed = asyncio.Event()

    def on_commit() -> None:  # runs on the committing thread
        loop.call_soon_threadsafe(committed.set)

    engine.commit_listeners.add(on_commit)
    try:
        yield committed
    finally:
        engine.commit_listeners.discard(on_commit)
