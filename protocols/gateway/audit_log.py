"""Gateway audit rows committed in groups, each durable before its call is answered.

A federated call's audit row (``audit``) is committed before the caller gets
its answer. Committing each row in a transaction of its own costs one
``BEGIN IMMEDIATE``, one commit (an fsync with ``synchronous=FULL``) and one
thread hop per call, and concurrent calls queue for SQLite's single writer.
``AuditLog`` is a group commit: the first row to arrive starts a writer on
the loop's executor; every row that arrives while that writer commits waits
for the next transaction, which takes them all. Each caller is woken only once the
transaction holding its row has committed, so nothing is acknowledged before
it is durable; a lone call pays what it paid before (one transaction).

A group that fails to commit is retried one row per transaction, so one bad
row fails its own call and no other. Rows are inserted in arrival order.

Rejected: writing the row after answering (a crash would lose the record of a
call that happened), and a timed batching window (it would add latency to
every sequential call to save commits only under load).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from dataclasses import dataclass

from protocols.gateway.audit import AuditRow
from registry import Registry

__all__ = ["AuditLog"]


@dataclass(frozen=True, slots=True)
class _Pending:
    row: AuditRow
    loop: asyncio.AbstractEventLoop
    done: asyncio.Future[None]


class AuditLog:
    """One hub's queue of gateway audit rows and its writer: ``await write(row)`` returns once the row is durable."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self._lock = threading.Lock()
        self._pending: list[_Pending] = []
        self._writing = False

    async def write(self, row: AuditRow) -> None:
        """Commit ``row`` (with whatever other rows are waiting); raises what its commit raised."""
        loop = asyncio.get_running_loop()
        pending = _Pending(row, loop, loop.create_future())
        with self._lock:
            self._pending.append(pending)
            start, self._writing = not self._writing, True
        if start:  # on the loop's executor, as ``asyncio.to_thread`` would: no thread started per call
            try:
                loop.run_in_executor(None, self._drain)
            except RuntimeError as exc:  # the executor is shut down: no row queued now can be written
                with self._lock:
                    dropped, self._pending, self._writing = self._pending, [], False
                for other in dropped:
                    _settle(other, exc)
        await asyncio.shield(pending.done)  # a caller that gives up still gets its row written

    def _drain(self) -> None:
        """The writer: commit groups until none is waiting (on an executor thread)."""
        while True:
            with self._lock:
                group, self._pending = self._pending, []
                if not group:
                    self._writing = False
                    return
            try:
                self._commit(group)
            except BaseException as exc:  # the writer itself failed: nobody may be left waiting on it
                with self._lock:
                    group, self._pending, self._writing = group + self._pending, [], False
                for pending in group:
                    _settle(pending, exc)
                raise

    def _commit(self, group: list[_Pending]) -> None:
        try:
            with self.registry.store.begin() as conn:
                for pending in group:
                    pending.row.insert(self.registry, conn)
        except Exception:  # one row at a time, so a bad row fails its own call only
            for pending in group:
                self._commit_one(pending)
        else:
            for pending in group:
                _settle(pending, None)

    def _commit_one(self, pending: _Pending) -> None:
        try:
            pending.row.commit(self.registry)
        except Exception as exc:
            _settle(pending, exc)
        else:
            _settle(pending, None)


def _settle(pending: _Pending, error: BaseException | None) -> None:
    def settle() -> None:
        if pending.done.done():
            return
        if error is None:
            pending.done.set_result(None)
        else:
            pending.done.set_exception(error)

    with contextlib.suppress(RuntimeError):  # the caller's loop has closed: nobody waits for this answer
        pending.loop.call_soon_threadsafe(settle)
