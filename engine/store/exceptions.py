"""Errors raised by the store.

StoreError
 +-- ConcurrentUpdate      another transaction changed the instance first; retry the command
 +-- JobNotFound           no such job, or it is no longer open
 +-- JobLockLost           the caller's lease expired and the job was claimed by someone else
 +-- TaskNotOpen           the user task is completed or canceled
 +-- DatabaseBusy          the database stayed locked by other writers past the busy timeout; retry later
"""

from __future__ import annotations


class StoreError(Exception):
    """Base class of the store's errors."""


class ConcurrentUpdate(StoreError):
    pass


class JobNotFound(StoreError):
    pass


class JobLockLost(StoreError):
    pass


class TaskNotOpen(StoreError):
    pass


class DatabaseBusy(StoreError):
    """Other writers held the database past the busy timeout: nothing was done; the caller may retry later."""
