"""What the facade's parts share: the store, the clock, the settings, the parsed processes, transactions.

``engine.Engine`` is composed of parts (deployment, queries, event commands,
job commands, agent commands); each holds this one ``EngineCore``. It owns
the retry-on-conflict transaction (``atomic``), the cache of parsed process
definitions and the run of one command with everything it sets off
(``run``). It knows the store only as ``engine.store.protocol.Store``.

Group commit: ``atomic_each`` runs several commands in one transaction,
each in a savepoint of its own, so one that fails rolls back alone and the
others commit together (one fsync on SQLite instead of one each).
``grouped`` is ``atomic`` for callers on many threads at once (REST, MCP):
each queues its command; the one that finds no leader leads, takes every
command queued by then and runs them with ``atomic_each``; the others wait
for their own result. Nothing waits for company: a caller alone runs its
command at once, with ``atomic``, as before. Rejected: a committer thread
with a short timer to collect a batch, which adds its delay to every
command of a quiet engine.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

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
from engine.views import ActivatedJob

T = TypeVar("T")
_RETRIES = 8


@dataclass(frozen=True, slots=True)
class Settled(Generic[T]):
    """One command's end in a group: its result, or the exception it raised (its savepoint rolled back)."""

    value: T | None = None
    error: Exception | None = None

    def unwrap(self) -> T:
        if self.error is not None:
            raise self.error
        return self.value  # type: ignore[return-value]  # None is a result too (commands returning None)


@dataclass(slots=True)
class _Queued:
    """A command waiting in ``grouped``: its result once the group committed, or the call to lead the next group."""

    work: Callable[[StoreTx], Any]
    done: threading.Event = field(default_factory=threading.Event)
    settled: Settled[Any] | None = None


class _Retry(Exception):
    """A command of a group lost a race (or PostgreSQL a serialization): the whole group runs again."""


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
        # Called after a commit of this process that armed timers, with the earliest one's due time (epoch ms):
        # a worker loop looks for due timers then, instead of after every job it ran.
        self.timer_listeners: set[Callable[[int], None]] = set()
        self._processes: dict[int, Process] = {}
        self._lock = threading.Lock()
        self._queue: list[_Queued] = []  # commands waiting for the leader of ``grouped``
        self._leading = False
        self._thread = threading.local()  # per thread: jobs staged for the worker loop, leading a group

    def millis(self) -> int:
        return int(self.clock.now().timestamp() * 1000)

    def atomic(self, work: Callable[[StoreTx], T]) -> T:
        """Run ``work`` in one transaction, again from the start if a concurrent one got there first."""
        for attempt in range(_RETRIES):
            self._discard_staged()
            try:
                with self.store.transaction() as tx:
                    result = work(tx)
                    crashpoint("before_commit")
                self._publish_staged()  # jobs locked for this process's worker loop, now committed
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

    def atomic_each(self, works: Sequence[Callable[[StoreTx], Any]]) -> list[Settled[Any]]:
        """Run ``works`` in one transaction, each in a savepoint: one per item, its result or its exception.

        A command that raises rolls back its own savepoint; the others commit together, and nothing is
        settled before that commit. A lost race (``ConcurrentUpdate``, a PostgreSQL deadlock or serialization
        failure) in any of them runs them all again from the start, as ``atomic`` does for one; an error of
        the transaction itself (the commit, a busy database) is raised for all. A command alone runs just as
        ``atomic`` runs it, and whatever it raises is its result.
        """
        if len(works) == 1:  # alone: no savepoint needed, the transaction is the command's own
            try:
                return [Settled(self.atomic(works[0]))]
            except Exception as exc:
                return [Settled(error=exc)]
        for attempt in range(_RETRIES):
            self._discard_staged()
            try:
                settled: list[Settled[Any]] = []
                with self.store.transaction() as tx:
                    for work in works:
                        settled.append(self._in_savepoint(tx, work))
                    crashpoint("before_commit")
                self._publish_staged()
                for listener in tuple(self.commit_listeners):
                    listener()
                crashpoint("after_commit")
                return settled
            except _Retry as exc:
                if attempt == _RETRIES - 1:
                    raise exc.__cause__ or exc from None
            except ConcurrentUpdate:
                if attempt == _RETRIES - 1:
                    raise
            except OperationalError as exc:
                if attempt == _RETRIES - 1 or not _retryable(exc):
                    raise
        raise AssertionError("unreachable")

    def _in_savepoint(self, tx: StoreTx, work: Callable[[StoreTx], Any]) -> Settled[Any]:
        staged = self._staged()
        mark = len(staged)
        try:
            with tx.savepoint():
                return Settled(work(tx))
        except ConcurrentUpdate as exc:
            raise _Retry() from exc
        except OperationalError as exc:
            if _retryable(exc):
                raise _Retry() from exc
            raise
        except Exception as exc:
            if len(staged) > mark:  # its jobs rolled back: the loop must not run them
                del staged[mark:]
                for queue in self._stagers():
                    queue.discard_staged()
                for job, queue in staged:
                    queue.stage(job)
            return Settled(error=exc)

    def grouped(self, work: Callable[[StoreTx], T]) -> T:
        """``atomic`` for callers arriving together: their commands commit in one transaction (see the module)."""
        if getattr(self._thread, "leading", False):  # called back from a group's commit: no one else would run it
            return self.atomic(work)
        mine = _Queued(work)
        with self._lock:
            self._queue.append(mine)
            lead = not self._leading
            self._leading = True
        if not lead:
            mine.done.wait()
            if mine.settled is None:  # the last leader handed the lead over: this command is still queued
                self._lead()
        else:
            self._lead()
        assert mine.settled is not None
        return mine.settled.unwrap()  # type: ignore[no-any-return]

    def _lead(self) -> None:
        """Run every queued command as one group, then hand the lead to a command queued meanwhile, if any."""
        with self._lock:
            group, self._queue = self._queue, []
        self._thread.leading = True
        try:
            if len(group) == 1:  # alone: exactly what ``atomic`` does
                try:
                    group[0].settled = Settled(self.atomic(group[0].work))
                except Exception as exc:
                    group[0].settled = Settled(error=exc)
            else:
                try:
                    for queued, settled in zip(group, self.atomic_each([q.work for q in group]), strict=True):
                        queued.settled = settled
                except Exception as exc:
                    for queued in group:
                        queued.settled = Settled(error=exc)
        finally:
            self._thread.leading = False
            for queued in group:
                if queued.settled is None:  # the leader was interrupted (KeyboardInterrupt): no result to give
                    queued.settled = Settled(error=RuntimeError("the transaction of this command was interrupted"))
            with self._lock:
                if self._queue:  # woken with nothing settled, it leads
                    self._queue[0].done.set()
                else:
                    self._leading = False
            for queued in group:
                queued.done.set()

    def waiting(self) -> int:
        """How many commands of ``grouped`` wait for a leader now (tests watch a group form)."""
        with self._lock:
            return len(self._queue)

    def stage(self, job: ActivatedJob, local: LocalJobs) -> None:
        """Hand a job locked in this transaction for ``local``'s worker loop to it once the transaction commits."""
        self._staged().append((job, local))
        local.stage(job)
        self._stagers().add(local)

    def arm_timer(self, due_at: int) -> None:
        """A timer due at ``due_at`` is written in this thread's transaction: its listeners hear of it at the commit."""
        armed: int | None = getattr(self._thread, "armed", None)
        if armed is None or due_at < armed:
            self._thread.armed = due_at

    def _stagers(self) -> set[LocalJobs]:
        """The queues this thread's transaction staged jobs for: the ones to publish to at its commit, whatever
        ``local_jobs`` says by then (a worker loop starts or stops on another thread meanwhile)."""
        found: set[LocalJobs] | None = getattr(self._thread, "stagers", None)
        if found is None:
            found = self._thread.stagers = set()
        return found

    def _discard_staged(self) -> None:
        """Before an attempt: nothing staged by an earlier one (or a transaction that raised) stays, in any queue
        (every job is staged through ``stage``, which records its queue)."""
        self._staged().clear()
        stagers = self._stagers()
        for queue in stagers:
            queue.discard_staged()
        stagers.clear()
        self._thread.armed = None

    def _publish_staged(self) -> None:
        """After a commit: the jobs it locked for a worker loop of this process go to that loop's queue."""
        stagers = self._stagers()
        for queue in tuple(stagers):
            queue.publish_staged()
        stagers.clear()
        armed: int | None = getattr(self._thread, "armed", None)
        if armed is not None:  # a timer in a savepoint that rolled back is heard of too: a look for nothing
            self._thread.armed = None
            for listener in tuple(self.timer_listeners):
                listener(armed)

    def _staged(self) -> list[tuple[ActivatedJob, LocalJobs]]:
        """The jobs this thread's transaction staged so far, each with the queue it is for (in order)."""
        staged: list[tuple[ActivatedJob, LocalJobs]] | None = getattr(self._thread, "staged", None)
        if staged is None:
            staged = self._thread.staged = []
        return staged

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
