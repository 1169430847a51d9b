"""Persistence: one engine command is one transaction.

Owns: the tables (instances with their state and revision, the journal,
jobs, user tasks, incidents, deployed definitions, key blocks), their Alembic
migrations, and the SQL that claims jobs with leases.

Does not know: BPMN semantics. It stores what the step computed and carries
out its effects' rows; it never decides where a token goes.
"""

from engine.store.exceptions import ConcurrentUpdate, DatabaseBusy, JobLockLost, JobNotFound, StoreError, TaskNotOpen
from engine.store.sql import SqlStore
from engine.store.tx import Tx

__all__ = [
    "ConcurrentUpdate",
    "DatabaseBusy",
    "JobLockLost",
    "JobNotFound",
    "SqlStore",
    "StoreError",
    "TaskNotOpen",
    "Tx",
]
