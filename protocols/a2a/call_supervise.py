"""How long an ``a2a`` job follows its remote task while it holds a worker's slot, and why it stopped.

The handler (``call_task``) hands ``supervise`` the work that follows the
task (a send, a stream, polling) and learns how it ended: the task's outcome,
or one of the reasons to stop following it while it holds the slot.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Literal

from protocols.a2a.client import TaskOutcome

__all__ = ["Ended", "supervise"]

Ended = Literal["timeout", "withdrawn", "closing", "inline"]


async def supervise(
    work: Coroutine[Any, Any, TaskOutcome],
    *,
    remaining: float | None,
    stop: asyncio.Event,
    inline_s: float,
    check_s: float,
    job_open: Callable[[], Awaitable[bool]],
    may_leave: Callable[[], bool],
) -> TaskOutcome | Ended:
    """Run ``work``: its outcome (or what it raised), unless the wait ends first; then why it ended.

    ``"timeout"``: ``remaining`` seconds passed. ``"closing"``: ``stop`` was set (the hub stops).
    ``"inline"``: ``inline_s`` passed and ``may_leave()`` (the task's id is recorded), so the job may wait
    without its worker. ``"withdrawn"``: ``job_open()``, asked every ``check_s``, said the job is gone.
    Whatever the answer, ``work`` has been canceled and awaited by then, so nothing of it outlives the call.
    """
    loop = asyncio.get_running_loop()
    deadline = None if remaining is None else loop.time() + remaining
    inline_until = loop.time() + inline_s
    waiter = asyncio.ensure_future(work)
    stopped = asyncio.ensure_future(stop.wait())
    try:
        next_check = loop.time() + check_s
        while True:
            until = min(t for t in (next_check, deadline, inline_until) if t is not None)
            done, _ = await asyncio.wait(
                {waiter, stopped}, timeout=max(0.0, until - loop.time()), return_when=asyncio.FIRST_COMPLETED
            )
            if waiter in done:
                return waiter.result()
            if stopped in done:
                return "closing"
            if deadline is not None and loop.time() >= deadline:
                return "timeout"
            if loop.time() >= inline_until:
                if may_leave():
                    return "inline"
                inline_until = loop.time() + inline_s  # no task id yet: leaving now would send again
            if loop.time() >= next_check:
                if not await job_open():
                    return "withdrawn"
                next_check = loop.time() + check_s
    finally:
        for pending in (waiter, stopped):
            if not pending.done():
                pending.cancel()
        await asyncio.gather(waiter, stopped, return_exceptions=True)
