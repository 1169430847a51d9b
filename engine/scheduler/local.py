"""Jobs handed straight to this process's worker loop, without a separate claim.

When a step creates a job of a type that a worker loop in this process
handles, the job row is written already locked by that worker, in the same
transaction, and the job is queued in memory once the transaction commits.
That saves the claim transaction (and its commit) per job. Nothing is lost if
the process dies: the row is locked with an ordinary lease, which expires,
and any worker claims the job again.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable

from engine.views import ActivatedJob


def _nothing() -> None:
    pass


class LocalJobs:
    """The queue between the threads that commit steps and one worker loop.

    ``wake`` is called (from the committing thread) when jobs arrive, so an
    idle loop wakes at once instead of polling; the worker loop passes one that
    is safe to call from any thread.
    """

    def __init__(
        self, owner: str, types: frozenset[str], lease_ms: int, capacity: int, wake: Callable[[], None] = _nothing
    ) -> None:
        self.owner = owner
        self.types = types
        self.lease_ms = lease_ms
        self.capacity = capacity
        self.wake = wake
        self._queue: deque[ActivatedJob] = deque()
        self._lock = threading.Lock()
        self._staged = threading.local()

    def accepts(self, job_type: str) -> bool:
        return job_type in self.types and len(self._queue) + len(self._pending()) < self.capacity

    def _pending(self) -> list[ActivatedJob]:
        pending: list[ActivatedJob] | None = getattr(self._staged, "jobs", None)
        if pending is None:
            pending = []
            self._staged.jobs = pending
        return pending

    def stage(self, job: ActivatedJob) -> None:
        """Hold a job until the transaction that locked it commits."""
        self._pending().append(job)

    def discard_staged(self) -> None:
        self._pending().clear()

    def publish_staged(self) -> None:
        pending = self._pending()
        if pending:
            with self._lock:
                self._queue.extend(pending)
            pending.clear()
            self.wake()

    def hold(self, jobs: list[ActivatedJob]) -> None:
        """Queue jobs the loop claimed itself beyond its free slots (committed already)."""
        if jobs:
            with self._lock:
                self._queue.extend(jobs)

    def take(self, limit: int) -> list[ActivatedJob]:
        with self._lock:
            taken: list[ActivatedJob] = []
            while self._queue and len(taken) < limit:
                taken.append(self._queue.popleft())
            return taken

    def queued(self) -> list[ActivatedJob]:
        """The jobs waiting for a free slot (their leases are extended like running jobs')."""
        with self._lock:
            return list(self._queue)

    def drain(self) -> list[ActivatedJob]:
        with self._lock:
            taken = list(self._queue)
            self._queue.clear()
            return taken
