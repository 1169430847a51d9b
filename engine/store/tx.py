"""One SQL transaction: a part per group of rows, composed over one shared connection.

Each part owns its tables and nothing else (``tx_definitions``,
``tx_instances``, ``tx_jobs``, ``tx_tasks``, ``tx_events``); ``Tx`` only
puts them together and hands out keys. It satisfies
``engine.store.protocol.StoreTx``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from sqlalchemy.engine import Connection

from engine.store.rawsql import Session
from engine.store.tx_decisions import SqlDecisions
from engine.store.tx_definitions import SqlDefinitions
from engine.store.tx_events import SqlMessages, SqlTimers
from engine.store.tx_forms import SqlForms
from engine.store.tx_instances import SqlConversations, SqlInstances
from engine.store.tx_jobs import SqlJobs
from engine.store.tx_tasks import SqlIncidents, SqlUserTasks

__all__ = ["Tx"]


class Tx:
    """A unit of work on one connection. It also serves the step as its source of keys."""

    def __init__(
        self, session: Session, next_key: Callable[[], int], reserved: list[bool] | None = None,
        drop_keys: Callable[[], None] | None = None,
    ) -> None:
        self._session = session
        self._next_key = next_key
        self._reserved = reserved if reserved is not None else []
        self._drop_keys = drop_keys
        self.definitions = SqlDefinitions(session)
        self.decisions = SqlDecisions(session)
        self.forms = SqlForms(session)
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

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A part of the transaction that an exception rolls back alone (``SAVEPOINT``), the rest kept.

        Straight on the driver, as the hot statements are: one per command of a group commit.
        """
        reserved = len(self._reserved)
        self._session.run("SAVEPOINT part")
        try:
            yield
        except BaseException:
            self._session.run("ROLLBACK TO SAVEPOINT part")
            self._session.run("RELEASE SAVEPOINT part")
            # a key block reserved inside rolled back with it: its keys must not be handed out again
            if len(self._reserved) > reserved and self._drop_keys is not None:
                self._drop_keys()
            raise
        self._session.run("RELEASE SAVEPOINT part")

    def count_jobs(self, types: Sequence[str] | None = None, *, state: str | None = None) -> int:
        """``jobs.count``, kept here for the tests and tools that count open jobs through a reader."""
        return self.jobs.count(types, state=state)

    def close(self) -> None:
        """Release the driver cursor (``SqlStore`` calls this before the connection is returned to its pool)."""
        self._session.close()
