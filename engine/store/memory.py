"""The in-memory store: every table a dict of frozen rows, one writer at a time, copy-on-write transactions.

For tests and for embedding the engine where nothing has to survive the
process: ``Engine(MemoryStore())``. It satisfies ``engine.store.protocol.Store``
with the same rows and the same rules as the SQL store, so a scenario runs
the same on both (``tests/engine/memory`` checks that they agree).

Transactions: a transaction works on a copy of the table dicts (the rows
themselves are frozen and replaced, never changed in place), and commit swaps
the copy in. A unit of work that fails leaves nothing behind. Rejected: an
undo log, which must know how to reverse every kind of write; copying the
dicts costs a pass over the keys per transaction, which is nothing at the
sizes this store is meant for. Writers queue on one lock, as on SQLite;
readers work on a copy of the last commit and never wait.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from engine.store.memory_decisions import MemoryDecisions
from engine.store.memory_events import MemoryMessages, MemoryTimers
from engine.store.memory_forms import MemoryForms
from engine.store.memory_jobs import MemoryJobs
from engine.store.memory_rows import (
    MemoryConversations,
    MemoryDefinitions,
    MemoryIncidents,
    MemoryInstances,
    MemoryUserTasks,
)
from engine.store.memory_tables import Tables

__all__ = ["MemoryStore", "MemoryTx"]


class MemoryTx:
    """One unit of work on a copy of the tables."""

    def __init__(self, tables: Tables) -> None:
        self.tables = tables
        self.definitions = MemoryDefinitions(tables)
        self.decisions = MemoryDecisions(tables)
        self.forms = MemoryForms(tables)
        self.instances = MemoryInstances(tables)
        self.jobs = MemoryJobs(tables)
        self.user_tasks = MemoryUserTasks(tables)
        self.incidents = MemoryIncidents(tables)
        self.timers = MemoryTimers(tables)
        self.messages = MemoryMessages(tables)
        self.conversations = MemoryConversations(tables)

    def next_key(self) -> int:
        return self.tables.next_key()

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A snapshot of the working copy, put back if the block raises (keys handed out meanwhile stay used)."""
        snapshot = self.tables.copy()
        try:
            yield
        except BaseException:
            self.tables.restore(snapshot)
            raise

    def count_jobs(self, types: Sequence[str] | None = None, *, state: str | None = None) -> int:
        """``jobs.count``, as ``engine.store.tx.Tx`` offers it to tests and tools."""
        return self.jobs.count(types, state=state)


class MemoryStore:
    """Plain Python structures behind ``engine.store.protocol.Store``; nothing survives the process."""

    url = "memory:"
    dialect = "memory"

    def __init__(self) -> None:
        self._tables = Tables()
        self._writer = threading.RLock()

    @contextmanager
    def transaction(self) -> Iterator[MemoryTx]:
        """Everything done through the transaction is kept together, when the block ends without an error."""
        with self._writer:
            work = self._tables.copy()
            yield MemoryTx(work)
            self._tables = work

    @contextmanager
    def reader(self) -> Iterator[MemoryTx]:
        """A look at the last commit; nothing written through it is kept."""
        yield MemoryTx(self._tables.copy())

    def close(self) -> None:
        pass
