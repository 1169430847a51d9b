"""Writes to the hub's list of waiting A2A calls (``registry.a2a_calls``), gathered into few transactions.

Every ``a2a`` job that leaves its worker adds its call, and removes it once
its task's outcome is handled: with a thousand calls that is two thousand
small registry transactions, each taking SQLite's write lock beside the
engine's. Writes that arrive while one is under way wait for it and then go
together in the next: each caller returns once its own change is committed,
so a job never leaves its worker before its call is listed.
"""

from __future__ import annotations

import asyncio

from registry import RemoteCall, RemoteCalls

__all__ = ["CallList"]


class CallList:
    """The list's adds and removes for one handler, on the event loop its jobs run on."""

    def __init__(self, calls: RemoteCalls) -> None:
        self._calls = calls
        self._pending: list[tuple[RemoteCall | int, asyncio.Future[None]]] = []
        self._drain: asyncio.Task[None] | None = None

    async def add(self, call: RemoteCall) -> None:
        await self._submit(call)

    async def remove(self, job: int) -> None:
        await self._submit(job)

    async def _submit(self, change: RemoteCall | int) -> None:
        done = asyncio.get_running_loop().create_future()
        self._pending.append((change, done))
        if self._drain is None or self._drain.done():
            # a task of its own: a caller canceled meanwhile does not strand the others' changes
            self._drain = asyncio.ensure_future(self._write_all())
        await done

    async def _write_all(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                await asyncio.to_thread(self._calls.apply, [change for change, _ in batch])
            except Exception as exc:
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
            else:
                for _, done in batch:
                    if not done.done():
                        done.set_result(None)
