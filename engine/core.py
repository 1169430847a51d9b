"""What the facade's parts share: the store, the clock, the settings, the parsed processes, transactions.

``engine.Engine`` is composed of parts (deployment, queries, event commands,
job commands, agent commands); each holds this one ``EngineCore``. It owns
the retry-on-conflict transaction (``atomic``), the cache of parsed process
definitions and the run of one command with everything it sets off
(``run``). It knows the store only as ``engine.store.protocol.Store``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from sqlalchemy.exc import OperationalError

from engine.agent.config import Policy
from engine.crash import crashpoint
from engine.exceptions import NotFound
from engine.model import Process
from engine.parser import parse_bpmn
from engine.ports import Clock
from engine.runtime import messages as m
from engine.runtime.limits import RuntimeLimits
from engine.scheduler.local import LocalJobs
from engine.store.exceptions import ConcurrentUpdate
from engine.store.protocol import Store, StoreTx
from engine.unit import Touched, UnitOfWork

T = TypeVar("T")
_RETRIES = 8


class EngineCore:
    """The shared state of one engine; its settings may be changed while it runs (the hub sets policies)."""

    def __init__(
        self, store: Store, clock: Clock, *, limits: RuntimeLimits, agent_policies: tuple[Policy, ...]
    ) -> None:
        self.store = store
        self.clock = clock
        # Bounds on one command's work (a loop with no wait state, endless calls, huge multi-instance): incidents
        self.limits = limits
        # Policies over every agent's tool calls, checked before each model's own (the hub sets them)
        self.agent_policies = agent_policies
        self.local_jobs: LocalJobs | None = None  # set while a worker loop runs in this process
        # Called after every commit of this process (from the committing thread): lets a caller that waits
        # for an instance re-read it at once instead of polling. Commits of other processes are not seen.
        self.commit_listeners: set[Callable[[], None]] = set()
        self._processes: dict[int, Process] = {}
        self._lock = threading.Lock()

    def millis(self) -> int:
        return int(self.clock.now().timestamp() * 1000)

    def atomic(self, work: Callable[[StoreTx], T]) -> T:
        """Run ``work`` in one transaction, again from the start if a concurrent one got there first."""
        local = self.local_jobs
        for attempt in range(_RETRIES):
            if local is not None:
                local.discard_staged()
            try:
                with self.store.transaction() as tx:
                    result = work(tx)
                    crashpoint("before_commit")
                if local is not None:
                    local.publish_staged()  # jobs locked for this process's worker loop, now committed
                for listener in tuple(self.commit_listeners):
                    listener()
                crashpoint("after_commit")
                return result
            except ConcurrentUpdate:
                if attempt == _RETRIES - 1:
                    raise
            except OperationalError as exc:  # PostgreSQL deadlock / serialization failure
                if attempt == _RETRIES - 1 or not _retryable(exc):
                    raise
        raise AssertionError("unreachable")

    def process(self, tx: StoreTx, definition_key: int) -> Process:
        """The parsed process of a deployed definition (parsed once per engine)."""
        process = self._processes.get(definition_key)
        if process is None:
            row = tx.definitions.source(definition_key)
            if row is None:
                raise NotFound(f"process definition {definition_key} does not exist")
            definitions = parse_bpmn(row.xml, source_name=row.resource_name)
            process = definitions.processes[row.process_id]
            self.remember(definition_key, process)
        return process

    def remember(self, definition_key: int, process: Process) -> None:
        with self._lock:
            self._processes[definition_key] = process

    def unit(self, tx: StoreTx, now: datetime | None = None) -> UnitOfWork:
        return UnitOfWork(self, tx, now or self.clock.now())

    def run(self, tx: StoreTx, first: int, command: m.Command) -> dict[int, Touched]:
        """Apply a command and everything it sets off in other instances, in the caller's transaction."""
        unit = self.unit(tx)
        unit.send(first, command)
        return unit.run()


def _retryable(exc: OperationalError) -> bool:
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    return code in ("40001", "40P01")
