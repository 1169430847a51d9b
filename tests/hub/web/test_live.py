"""The bridge from the engine's commits (any thread) to the live pages' streams (the event loop), and its cap."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

from hub.web.live import Commits


class _Engine:
    def __init__(self) -> None:
        self.commit_listeners: set[Callable[[], None]] = set()

    def commit(self) -> None:
        for listener in tuple(self.commit_listeners):
            listener()


def test_a_commit_on_another_thread_wakes_every_open_stream() -> None:
    engine = _Engine()
    commits = Commits(engine, max_streams=5)

    async def scenario() -> None:
        first, second = commits.open(), commits.open()
        assert first is not None and second is not None
        assert len(engine.commit_listeners) == 1  # one listener, however many streams
        threading.Thread(target=engine.commit).start()
        await asyncio.wait_for(asyncio.gather(first.wait(), second.wait()), timeout=5)
        commits.close(first)
        commits.close(second)

    asyncio.run(scenario())
    assert engine.commit_listeners == set() and commits.open_streams == 0


def test_streams_beyond_the_cap_are_refused() -> None:
    engine = _Engine()
    commits = Commits(engine, max_streams=2)

    async def scenario() -> None:
        opened = [commits.open(), commits.open()]
        assert None not in opened
        assert commits.open() is None
        first = opened[0]
        assert first is not None
        commits.close(first)
        assert commits.open() is not None

    asyncio.run(scenario())
