"""The A2A tasks that ``a2a`` service tasks wait on without a worker, so that an orphaned one is canceled.

An ``a2a`` job whose remote task runs long leaves its worker and waits
durably (``engine.WaitRemote``). While it waits no handler runs, so nothing
would notice that the job was withdrawn (a boundary event fired, the instance
was canceled) and cancel the task at the agent. This table is the hub's
durable list of those tasks: a row is written when a job first leaves its
worker to wait and deleted when the task's outcome is handled; a periodic
sweep (``protocols.a2a.call_sweep``) cancels the task of every row whose job
no longer exists, then deletes the row.

Rejected alternative: the record on the job's element instance (``a2aTask``),
which ends with the element instance: exactly when it is needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, insert, select

from registry.schema import a2a_remote_calls as calls
from registry.store import RegistryStore, now_ms

__all__ = ["RemoteCall", "RemoteCalls"]


@dataclass(frozen=True, slots=True)
class RemoteCall:
    """One job waiting on one task of a registered agent."""

    job: int
    instance: int
    agent: str
    task_id: str
    since: int  # ms since the epoch


class RemoteCalls:
    """The tasks a2a jobs wait on: added when a job first waits without a worker, removed once handled."""

    def __init__(self, store: RegistryStore) -> None:
        self.store = store

    def add(self, job: int, instance: int, agent: str, task_id: str, *, now: int | None = None) -> None:
        """Remember (again) that ``job`` waits on ``task_id`` of ``agent``; a row for the job is replaced."""
        with self.store.begin() as conn:
            conn.execute(delete(calls).where(calls.c.job == job))
            conn.execute(insert(calls).values(job=job, instance=instance, agent=agent[:255], task_id=task_id[:255],
                                              since=now_ms() if now is None else now))

    def remove(self, job: int) -> None:
        with self.store.begin() as conn:
            conn.execute(delete(calls).where(calls.c.job == job))

    def apply(self, changes: Sequence[RemoteCall | int]) -> None:
        """Many adds (a call) and removes (a job's key) in one transaction, in order: a busy hub gathers them."""
        with self.store.begin() as conn:
            for change in changes:
                job = change if isinstance(change, int) else change.job
                conn.execute(delete(calls).where(calls.c.job == job))
                if isinstance(change, RemoteCall):
                    conn.execute(insert(calls).values(
                        job=change.job, instance=change.instance, agent=change.agent[:255],
                        task_id=change.task_id[:255], since=change.since,
                    ))

    def page(self, *, after: int | None = None, limit: int = 500) -> list[RemoteCall]:
        """Up to ``limit`` calls by job key, past ``after``: a sweep reads them a page at a time."""
        query = select(calls).order_by(calls.c.job).limit(limit)
        if after is not None:
            query = query.where(calls.c.job > after)
        with self.store.read() as conn:
            rows = conn.execute(query).all()
        return [RemoteCall(int(r.job), int(r.instance), str(r.agent), str(r.task_id), int(r.since)) for r in rows]
