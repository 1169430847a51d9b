"""One event loop on a thread of its own that runs every job, as the worker loop runs async jobs.

The session pool keeps a session per server *on each event loop*: tests that
check sessions are shared between jobs run those jobs on this loop, not each
under an ``asyncio.run`` of its own (a loop that ends closes its sessions).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

import pytest

T = TypeVar("T")


class JobsLoop:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="jobs-loop", daemon=True)
        self.thread.start()

    def run(self, job: Coroutine[Any, Any, T], timeout_s: float = 60) -> T:
        """Run ``job`` on the loop and wait for its result (its exception is raised here)."""
        return asyncio.run_coroutine_threadsafe(job, self.loop).result(timeout_s)

    def close(self) -> None:
        """Cancel what is left on the loop (as ``asyncio.run`` does at its end), then stop and close it."""

        async def cancel_the_rest() -> None:
            left = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in left:
                task.cancel()
            await asyncio.gather(*left, return_exceptions=True)
            await asyncio.get_running_loop().shutdown_asyncgens()
            await asyncio.get_running_loop().shutdown_default_executor()

        self.run(cancel_the_rest())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=30)
        self.loop.close()


_RUNNING: list[JobsLoop] = []  # the loop of the module whose tests run now


@pytest.fixture(scope="module", autouse=True)
def jobs_loop() -> Iterator[JobsLoop]:
    """The worker's event loop stand-in for a test module, started before any test counts threads.

    A module takes it by assignment (``jobs_loop = loops.jobs_loop``); ``on_jobs_loop`` then runs jobs on it.
    """
    loop = JobsLoop()
    _RUNNING.append(loop)
    try:
        yield loop
    finally:
        _RUNNING.remove(loop)
        loop.close()


def on_jobs_loop(job: Coroutine[Any, Any, T], timeout_s: float = 60) -> T:
    """Run ``job`` on the current module's jobs loop and wait for its result."""
    assert _RUNNING, "no jobs loop: assign tests.protocols.mcp.jobs_loop.jobs_loop in the test module"
    return _RUNNING[-1].run(job, timeout_s)
