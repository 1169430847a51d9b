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

import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, Table, delete, insert, select

from registry.schema import a2a_remote_calls as calls
from registry.store import RegistryStore, now_ms
from registry.tokens import secret_digest

__all__ = ["RemoteCall", "RemoteCalls", "by_job"]


@dataclass(frozen=True, slots=True)
class RemoteCall:
    """One job waiting on one task of a registered agent."""

    job: int
    instance: int
    agent: str
    task_id: str
    since: int  # ms since the epoch
    push_token_hash: str | None = None  # sha256 (hex) of the token the agent's push notifications carry

    def accepts_push(self, token: str | None) -> bool:
        """Whether ``token`` is the one this call gave its agent (compared in constant time)."""
        if not token or not self.push_token_hash:
            return False
        return hmac.compare_digest(secret_digest(token), self.push_token_hash)


class RemoteCalls:
    """The tasks a2a jobs wait on: added when a job first waits without a worker, removed once handled."""

    def __init__(self, store: RegistryStore) -> None:
        self.store = store

    def add(self, job: int, instance: int, agent: str, task_id: str, *, now: int | None = None,
            push_token_hash: str | None = None) -> None:
        """Remember (again) that ``job`` waits on ``task_id`` of ``agent``; a row for the job is replaced."""
        self.apply([RemoteCall(job, instance, agent, task_id, now_ms() if now is None else now, push_token_hash)])

    def get(self, job: int) -> RemoteCall | None:
        """The call ``job`` waits on without a worker, if it does."""
        with self.store.read() as conn:
            row = conn.execute(select(calls).where(calls.c.job == job)).first()
        return None if row is None else _call(row)

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
                        task_id=change.task_id[:255], since=change.since, push_token_hash=change.push_token_hash,
                    ))

    def page(self, *, after: int | None = None, limit: int = 500) -> list[RemoteCall]:
        """Up to ``limit`` calls by job key, past ``after``: a sweep reads them a page at a time."""
        return [_call(r) for r in by_job(self.store, calls, after, limit)]


def by_job(store: RegistryStore, table: Table, after: int | None, limit: int) -> Sequence[Row[Any]]:
    """Up to ``limit`` rows of a list of waits (``a2a_remote_calls``, ``mcp_remote_calls``) by job key, past
    ``after``."""
    query = select(table).order_by(table.c.job).limit(limit)
    if after is not None:
        query = query.where(table.c.job > after)
    with store.read() as conn:
        return conn.execute(query).all()


def _call(row: Any) -> RemoteCall:
    return RemoteCall(int(row.job), int(row.instance), str(row.agent), str(row.task_id), int(row.since),
                      row.push_token_hash)
