"""Errors raised by the store.

StoreError
 +-- ConcurrentUpdate      another transaction changed the instance first; retry the command
 +-- JobNotFound           no such job, or it is no longer open
 +-- JobLockLost           the caller's lease expired and the job was claimed by someone else
 +-- TaskNotOpen           the user task is completed or canceled
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
