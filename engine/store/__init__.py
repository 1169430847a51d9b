"""Persistence: one engine command is one transaction.

Owns: the store interface (``protocol``: ``Store`` hands out ``StoreTx``
transactions, made of one part per group of rows), its two implementations
side by side (``sql.SqlStore`` over SQLite or PostgreSQL, with the tables,
their Alembic migrations and the SQL that claims jobs with leases; and
``memory.MemoryStore`` over plain Python structures), the rows both hand back
(``rows``) and the store's typed errors (``exceptions``).

Does not know: BPMN semantics. It stores what the step computed and carries
out its effects' rows; it never decides where a token goes.
"""

from engine.store.exceptions import (
    ConcurrentUpdate,
    DatabaseBusy,
    JobLockLost,
    JobNotFound,
    RowMissing,
    StateConflict,
    StoreError,
    TaskMissing,
    TaskNotOpen,
)
from engine.store.memory import MemoryStore
from engine.store.protocol import Store, StoreTx
from engine.store.sql import SqlStore
from engine.store.tx import Tx

__all__ = [
    "ConcurrentUpdate",
    "DatabaseBusy",
    "JobLockLost",
    "JobNotFound",
    "MemoryStore",
    "RowMissing",
    "SqlStore",
    "StateConflict",
    "Store",
    "StoreError",
    "StoreTx",
    "TaskMissing",
    "TaskNotOpen",
    "Tx",
]
