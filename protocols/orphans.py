"""The sweep shared by A2A and MCP: cancelling the remote tasks of jobs withdrawn while they waited without a worker.

A job that waits on remote work without a worker (an A2A task, an upstream MCP task) is simply gone when its
instance is cancelled or a boundary event fires; the hub keeps a durable list of such waits per protocol
(``registry.a2a_calls``, ``registry.mcp_calls``) and its sweeps (``protocols.a2a.call_sweep``,
``protocols.mcp.call_sweep``) go through it a page at a time (``sweep_withdrawn``), cancelling the task of every
entry whose job no longer exists at its peer and forgetting the entry. A job parked on a person's task (an
``mcp`` job whose upstream task asks for input) still waits while that task is open, when the task names it
(``PARKED_JOB``). A cancel that could not reach the peer
keeps its entry for the next sweep, for up to ``GIVE_UP_S`` after the first failure (``CancelRetries``, in memory:
a restarted hub starts counting again), then the entry is given up with a warning naming the task.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from engine import TaskView

__all__ = ["GIVE_UP_S", "PARKED_JOB", "CancelRetries", "JobLister", "Waiting", "sweep_withdrawn"]

PAGE = 500
PARKED_JOB = "parkedJob"
"""The detail of a person's task that names the job it stands in for, whose remote task is still waited on."""

GIVE_UP_S = 24 * 3600.0
"""How long a sweep keeps trying to cancel the task of a withdrawn job at a peer it cannot reach."""


@dataclass
class CancelRetries:
    """When each withdrawn job's cancel first failed to reach its peer (monotonic seconds), by job key."""

    first_failure: dict[int, float] = field(default_factory=dict)
    clock: Callable[[], float] = time.monotonic

    def unreachable(self, job: int, what: str, exc: BaseException, log: logging.Logger) -> bool:
        """The cancel of ``what`` (the task, named for the log) for withdrawn ``job`` could not reach its peer:
        False (keep the entry, try at the next sweep) until ``GIVE_UP_S`` after the first failure, then True."""
        now = self.clock()
        first = self.first_failure.setdefault(job, now)
        if now - first < GIVE_UP_S:
            if first == now:
                log.warning("job %s was withdrawn, but %s could not be canceled (%s: %s); the sweep tries again "
                            "for %g h", job, what, type(exc).__name__, exc, GIVE_UP_S / 3600)
            return False
        log.warning("job %s was withdrawn; %s could not be canceled for %g h (%s: %s): given up, the task may still "
                    "run there", job, what, GIVE_UP_S / 3600, type(exc).__name__, exc)
        return True

    def settled(self, job: int) -> None:
        """The entry of ``job`` is settled: forget its failures."""
        self.first_failure.pop(job, None)


class JobLister(Protocol):
    """An instance's open jobs and user tasks (``engine.Engine`` is one)."""

    def jobs(self, instance: int) -> list[dict[str, Any]]: ...

    def user_tasks(self, *, instance: int | None = None) -> list[TaskView]: ...


class Waiting(Protocol):
    """An entry of a list of waits: the job that waits, and its instance."""

    @property
    def job(self) -> int: ...

    @property
    def instance(self) -> int: ...


_W = TypeVar("_W", bound=Waiting)


async def sweep_withdrawn(page: Callable[..., list[_W]], remove: Callable[[int], None], records: JobLister,
                          cancel: Callable[[_W], Awaitable[bool]], retries: CancelRetries) -> int:
    """Go through the list of waits (``page(after=, limit=)``, by job key) and, for every entry whose job no longer
    exists, ``cancel`` its task (False: the peer could not be reached, keep the entry) and ``remove`` the entry;
    how many were settled. The list's calls run on a thread (SQL)."""
    settled = 0
    after: int | None = None
    while True:
        entries = await asyncio.to_thread(page, after=after, limit=PAGE)
        if not entries:
            return settled
        after = entries[-1].job
        for entry in entries:
            if await asyncio.to_thread(_job_open, records, entry):
                continue
            if not await cancel(entry):
                continue  # kept: tried again at the next sweep
            retries.settled(entry.job)
            await asyncio.to_thread(remove, entry.job)
            settled += 1


def _job_open(records: JobLister, entry: Waiting) -> bool:
    """Whether the entry's job still waits: its row is there, or a person's task stands in for it (the job asked a
    person, ``engine.AskPerson``, and named itself in the task's details as ``parkedJob``)."""
    if any(found.get("key") == entry.job for found in records.jobs(entry.instance)):
        return True
    return any(task.details.get(PARKED_JOB) == entry.job for task in records.user_tasks(instance=entry.instance))
