"""One SQL transaction: a part per group of rows, composed over one shared connection.

Each part owns its tables and nothing else (``tx_definitions``,
``tx_instances``, ``tx_jobs``, ``tx_tasks``, ``tx_events``); ``Tx`` only
puts them together and hands out keys. It satisfies
``engine.store.protocol.StoreTx``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy.engine import Connection

from engine.store.rawsql import Session
from engine.store.tx_definitions import SqlDefinitions
from engine.store.tx_events import SqlMessages, SqlTimers
from engine.store.tx_instances import SqlConversations, SqlInstances
from engine.store.tx_jobs import SqlJobs
from engine.store.tx_tasks import SqlIncidents, SqlUserTasks

__all__ = ["Tx"]


class Tx:
    """A unit of work on one connection. It also serves the step as its source of keys."""

    def __init__(self, session: Session, next_key: Callable[[], int]) -> None:
        self._session = session
        self._next_key = next_key
        self.definitions = SqlDefinitions(session)
        self.instances = SqlInstances(session)
        self.jobs = SqlJobs(session)
        self.user_tasks = SqlUserTasks(session)
        self.incidents = SqlIncidents(session)
        self.timers = SqlTimers(session)
        self.messages = SqlMessages(session)
        self.conversations = SqlConversations(session)

    @property
    def conn(self) -> Connection:
        """SQLAlchemy's connection of this transaction (for checks such as the hub's readiness)."""
        return self._session.conn

    def next_key(self) -> int:
        return self._next_key()

    def count_jobs(self, types: Sequence[str] | None = None, *, state: str | None = None) -> int:
        """``jobs.count``, kept here for the tests and tools that count open jobs through a reader."""
        return self.jobs.count(types, state=state)

    def close(self) -> None:
        """Release the driver cursor (``SqlStore`` calls this before the connection is returned to its pool)."""
        self._session.close()
