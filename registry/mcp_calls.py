"""The upstream MCP tasks that ``mcp`` service tasks wait on without a worker, so that an orphaned one is cancelled.

An ``mcp`` job whose upstream answered with a task (the MCP Tasks extension)
leaves its worker and waits durably (``engine.WaitRemote``). While it waits no
handler runs, so nothing would notice that the job was withdrawn (a boundary
event fired, the instance was cancelled) and cancel the task upstream. This
table is the hub's durable list of those tasks, as ``a2a_calls`` is for A2A: a
row is written when a job first leaves its worker to wait and deleted when the
task's outcome is handled; a periodic sweep (``protocols.mcp.call_sweep``)
cancels the task of every row whose job no longer exists, then deletes the row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert

from registry.a2a_calls import by_job
from registry.schema import mcp_remote_calls as calls
from registry.store import RegistryStore, now_ms

__all__ = ["McpCall", "McpCalls"]


@dataclass(frozen=True, slots=True)
class McpCall:
    """One job waiting on one task of a registered MCP server."""

    job: int
    instance: int
    server: str
    task_id: str
    since: int  # ms since the epoch


class McpCalls:
    """The tasks mcp jobs wait on: added when a job first waits without a worker, removed once handled."""

    def __init__(self, store: RegistryStore) -> None:
        self.store = store

    def add(self, job: int, instance: int, server: str, task_id: str, *, now: int | None = None) -> None:
        """Remember that ``job`` waits on ``task_id`` of ``server``; a row for the job is replaced."""
        with self.store.begin() as conn:
            conn.execute(delete(calls).where(calls.c.job == job))
            conn.execute(insert(calls).values(job=job, instance=instance, server=server[:255], task_id=task_id[:255],
                                              since=now_ms() if now is None else now))

    def remove(self, job: int) -> None:
        with self.store.begin() as conn:
            conn.execute(delete(calls).where(calls.c.job == job))

    def page(self, *, after: int | None = None, limit: int = 500) -> list[McpCall]:
        """Up to ``limit`` calls by job key, past ``after``: a sweep reads them a page at a time."""
        return [_call(r) for r in by_job(self.store, calls, after, limit)]


def _call(row: Any) -> McpCall:
    return McpCall(int(row.job), int(row.instance), str(row.server), str(row.task_id), int(row.since))
