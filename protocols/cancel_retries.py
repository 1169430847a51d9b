"""How long the sweeps keep trying to cancel, at an unreachable peer, the remote task of a withdrawn job.

A job that waits on remote work without a worker (an A2A task, an upstream MCP task) is simply gone when its
instance is cancelled or a boundary event fires; the hub's sweeps (``protocols.a2a.call_sweep``,
``protocols.mcp.call_sweep``) cancel such a task at its peer. A cancel that could not reach the peer keeps its
entry for the next sweep, for up to ``GIVE_UP_S`` after the first failure (counted here, in memory: a restarted
hub starts counting again), then the entry is given up with a warning naming the task.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["GIVE_UP_S", "CancelRetries"]

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
