"""Errors raised by the store, typed so that callers tell them apart by class, never by message text.

StoreError
 +-- RowMissing            no such row
 |    +-- JobNotFound      no such job, or it is no longer open
 |    +-- TaskMissing      no such user task
 +-- StateConflict         the row is there, but not in a state that allows the change
 |    +-- ConcurrentUpdate another transaction changed the instance first; retry the command
 |    +-- JobLockLost      the caller's lease expired and the job was claimed by someone else
 |    +-- TaskNotOpen      the user task is completed or canceled
 +-- DatabaseBusy          the database stayed locked by other writers past the busy timeout; retry later
"""

from __future__ import annotations


class StoreError(Exception):
    """Base class of the store's errors."""


class RowMissing(StoreError):
    """The row asked for does not exist."""


class StateConflict(StoreError):
    """The row exists, but its state does not allow what was asked."""


class ConcurrentUpdate(StateConflict):
    pass


class JobNotFound(RowMissing):
    pass


class JobLockLost(StateConflict):
    pass


class TaskMissing(RowMissing):
    pass


class TaskNotOpen(StateConflict):
    pass


class DatabaseBusy(StoreError):
    """Other writers held the database past the busy timeout: nothing was done; the caller may retry later."""
