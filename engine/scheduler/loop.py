"""The worker loop: claim due jobs, run their handlers, report the outcome.

A claimed job has a short lease (10 s by default) that a heartbeat extends
while its handler runs, so a long handler keeps its job and the jobs of a
process that died are claimed again within seconds. A handler's outcome is
reported with the lease it was claimed under: if the lease expired and the
job went to another worker, the late report is refused (fencing).

One event loop runs the cycle (claim, heartbeat, report, fire timers) and
every ``async def`` handler as a task of its own, up to ``concurrency`` jobs
at once: a job that waits on the network (a remote agent's task, an MCP
call, a model) holds a task, not a thread. A plain ``def`` handler runs on
one of ``threads`` threads. The engine's calls are synchronous SQL: they run
one at a time on a thread of their own, so the loop never blocks on the
database and the order of claims and reports is the one a single thread
gives.

The loop is uvloop's (libuv) where it is installed (every platform but
Windows), as the hub's server loop is; the standard loop otherwise. For the
worker loop the gain is small: 0 to 5% more instances a second in
``bench/engine.py``'s loop driver, within the noise of this machine.

Rejected: a thread per job (what this loop did before), which made each
async handler start its own event loop (``asyncio.run``) and forced anything
kept open between jobs, such as the MCP session pool, onto a private loop of
its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import inspect
import logging
import os
import socket
import threading
import time
import traceback
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from engine.crash import crashpoint
from engine.exceptions import AskPerson, BpmnError, Conflict, JobFailure, JobLost, NotFound, WaitRemote
from engine.job_reports import CompleteReport, ErrorReport, FailReport, JobReport, ParkReport, WaitReport
from engine.scheduler.job_traces import JobTraces
from engine.scheduler.local import LocalJobs
from engine.scheduler.registry import Job, WorkerRegistry, default_registry
from engine.views import ActivatedJob

try:
    import uvloop
except ImportError:  # Windows: no uvloop, the standard event loop
    uvloop = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from engine.engine import Engine

log = logging.getLogger("agenthub.worker")
T = TypeVar("T")

MAX_DEFAULT_THREADS = 32


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    """How a worker loop claims and runs jobs.

    ``concurrency`` bounds the jobs running at once, async and sync together;
    ``threads`` bounds the sync handlers among them (None: as many as
    ``concurrency``, at most 32). Sync jobs beyond ``threads`` wait for a
    thread, their leases extended like the running ones'.
    """

    lease_ms: int = 10_000
    concurrency: int = 4
    poll_interval_s: float = 0.5
    backoff_base_ms: int = 1_000
    backoff_max_ms: int = 60_000
    max_stalls: int = 3
    threads: int | None = None


def backoff_ms(settings: WorkerSettings, failures: int) -> int:
    """Exponential backoff by the job's failed attempts before this one: base, 2x base, 4x base, ... capped."""
    return int(min(settings.backoff_base_ms * 2 ** min(max(failures, 0), 32), settings.backoff_max_ms))


@dataclass(frozen=True, slots=True)
class _Outcome:
    """What a handler's task ended with, read on the event loop and reported on the engine's thread."""

    job: ActivatedJob
    result: Any
    error: BaseException | None


@dataclass(slots=True)
class _Run:
    """One run of a loop: its jobs queue, its wake-up, the running tasks and the threads work is handed to."""

    types: list[str]
    local: LocalJobs
    wake: asyncio.Event
    sql: ThreadPoolExecutor
    threads: ThreadPoolExecutor
    is_async: dict[str, bool]
    running: dict[asyncio.Task[Any], ActivatedJob] = field(default_factory=dict)


class WorkerLoop:
    """Runs registered handlers for due jobs until stopped (or, with ``until_idle``, until nothing is due)."""

    def __init__(
        self,
        engine: Engine,
        registry: WorkerRegistry | None = None,
        *,
        name: str | None = None,
        settings: WorkerSettings | None = None,
    ) -> None:
        self.engine = engine
        self.registry = registry or default_registry
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        self.settings = settings or WorkerSettings()
        self._stop = threading.Event()
        self.completed = 0
        self.failed = 0
        self.waited = 0  # jobs whose handler raised WaitRemote: each left its slot to wait without a worker
        self.fired = 0
        self._next_timer_check = 0
        self._poll_ms = int(self.settings.poll_interval_s * 1000)
        self._lock = threading.Lock()
        self._waker: Callable[[], None] | None = None
        self._running: dict[asyncio.Task[Any], ActivatedJob] = {}
        self._traces = JobTraces()

    @property
    def slots_held(self) -> int:
        """How many of the ``concurrency`` slots running jobs hold now (a job waiting on remote work holds none)."""
        return len(self._running)

    def stop(self) -> None:
        """Stop the loop (from any thread): it claims nothing more, and returns once its running jobs are reported."""
        self._stop.set()
        with self._lock:
            waker = self._waker
        if waker is not None:
            waker()

    def run(self, *, until_idle: bool = False) -> None:
        """Fire due timers and run due jobs until stopped.

        With ``until_idle`` it returns once no timer is due and no job of a
        registered type is ready, waiting out a retry backoff, or locked by
        a worker (which may have died: its job is claimed again when the
        lease runs out); timers that are not due yet are not waited for.

        It runs an event loop of its own (``serve`` runs on the caller's);
        called from a coroutine, that loop runs on a thread while the caller
        waits, as it would for any blocking call.
        """
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            _run(self.serve(until_idle=until_idle))
            return
        with ThreadPoolExecutor(1, thread_name_prefix="worker-loop") as thread:
            thread.submit(_run, self.serve(until_idle=until_idle)).result()

    async def serve(self, *, until_idle: bool = False) -> None:
        """``run``, on the running event loop."""
        types = self.registry.types()
        loop = asyncio.get_running_loop()
        wake = asyncio.Event()

        def waker() -> None:  # from any thread
            with contextlib.suppress(RuntimeError):  # the loop has finished: nothing to wake
                loop.call_soon_threadsafe(wake.set)

        capacity = self.settings.concurrency * 4
        local = LocalJobs(self.name, frozenset(types), self.settings.lease_ms, capacity=capacity, wake=waker)
        threads = self.settings.threads or min(self.settings.concurrency, MAX_DEFAULT_THREADS)
        run = _Run(
            types=types,
            local=local,
            wake=wake,
            sql=ThreadPoolExecutor(1, thread_name_prefix="worker-engine"),
            threads=ThreadPoolExecutor(threads, thread_name_prefix="job"),
            is_async={t: self.registry.is_async(t) for t in types},
        )

        def armed(due_at: int) -> None:  # from the committing thread: a timer written in this process
            if due_at < self._next_timer_check:
                self._next_timer_check = due_at
                if due_at < self._now() + self._poll_ms:
                    waker()

        with self._lock:
            self._waker = waker
            self._running = run.running
        previous, self.engine.local_jobs = self.engine.local_jobs, local if types else None
        self.engine.timer_listeners.add(armed)
        try:
            await self._cycle(run, until_idle)
        finally:
            self.engine.timer_listeners.discard(armed)
            with self._lock:
                self._waker = None
            self.engine.local_jobs = previous
            try:
                await self._sql(run, self.engine.release_jobs, local.drain())
            finally:
                run.threads.shutdown(wait=True)  # every sync job has been reported: its thread is idle
                run.sql.shutdown(wait=True)

    async def _sql(self, run: _Run, work: Callable[..., T], *args: Any) -> T:
        """Run ``work(*args)`` (the engine's calls) on the engine's thread, leaving the loop free meanwhile."""
        return await asyncio.get_running_loop().run_in_executor(run.sql, work, *args)

    async def _cycle(self, run: _Run, until_idle: bool) -> None:
        """Keep every slot busy: a job that takes long (a remote agent's task, a person) holds one slot, not the loop.

        Finished jobs are reported as they finish, free slots are filled at once, and the leases of running and
        queued jobs are extended every third of a lease.
        """
        types, local, running = run.types, run.local, run.running
        heartbeat_s = self.settings.lease_ms / 3000
        next_beat = time.monotonic() + heartbeat_s
        try:
            while not self._stop.is_set():
                outcomes = self._reaped(run)
                beat = time.monotonic() >= next_beat
                if beat:
                    next_beat = time.monotonic() + heartbeat_s
                timers = self._now() >= self._next_timer_check
                fired = 0
                if outcomes or beat or timers:  # one trip to the engine's thread for all three, in this order
                    fired = await self._sql(run, self._turn, outcomes, self._held(run) if beat else None, timers)
                # a job whose worker died before runs alone: if it kills this process too, no innocent job
                # running beside it is counted as stalled with it
                suspect = any(job.stalls >= max(self.settings.max_stalls - 1, 1) for job in running.values())
                free = 0 if suspect else self.settings.concurrency - len(running)
                jobs: list[ActivatedJob] = []
                if free > 0:
                    jobs = local.take(free)
                    if jobs:
                        crashpoint("after_job_claim")
                    elif types:  # a round ahead: the jobs beyond the free slots wait in the queue, leases extended
                        jobs = await self._sql(run, self._claim, types, free + self.settings.concurrency)
                        jobs, ahead = jobs[:free], jobs[free:]
                        local.hold(ahead)
                if jobs:
                    for job in jobs:
                        task = asyncio.create_task(self._call(run, job), name=f"job-{job.key}")
                        running[task] = job
                        task.add_done_callback(lambda _: run.wake.set())
                    await asyncio.sleep(0)  # the handlers start; one that returns at once is reported next turn
                    continue
                if fired or any(task.done() for task in running):
                    continue
                now = self._now()
                job_due, timer_due = await self._sql(run, self._next_due, types if free > 0 else [])
                if timer_due is not None and timer_due <= now:
                    self._next_timer_check = 0
                    continue
                if until_idle and job_due is None and not running:
                    return
                waits = [d for d in (job_due, timer_due) if d is not None]
                delay = max(0.0, (min(waits) - now) / 1000) if waits else self.settings.poll_interval_s
                delay = min(delay, self.settings.poll_interval_s, max(0.0, next_beat - time.monotonic()))
                # new jobs from other threads, finished handlers and ``stop`` wake it
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay):
                        await run.wake.wait()
                run.wake.clear()
        finally:
            await self._finish(run, heartbeat_s)

    def _claim(self, types: list[str], free: int) -> list[ActivatedJob]:
        return self.engine.activate_jobs(
            types, self.name, max_jobs=free, lease_ms=self.settings.lease_ms, max_stalls=self.settings.max_stalls
        )

    def _next_due(self, types: list[str]) -> tuple[int | None, int | None]:
        """When the next job of ``types`` (none: not asked) and the next timer are due."""
        return (self.engine.next_job_due(types) if types else None), self.engine.next_timer_due()

    def _reaped(self, run: _Run) -> list[_Outcome]:
        """The outcomes of the handlers that have finished, taken out of ``running``."""
        return [_outcome(run.running.pop(task), task) for task in [task for task in run.running if task.done()]]

    def _held(self, run: _Run) -> list[ActivatedJob]:
        """The jobs whose leases the heartbeat extends: running and queued."""
        return [*run.running.values(), *run.local.queued()]

    def _turn(self, outcomes: list[_Outcome], held: list[ActivatedJob] | None, timers: bool) -> int:
        """On the engine's thread: report ``outcomes``, extend the leases of ``held``, fire due timers (how many)."""
        self._reports(outcomes)
        if held is not None:
            self.engine.extend_leases(held, self.settings.lease_ms)  # one transaction for all of them
        return self._fire_timers() if timers else 0

    async def _finish(self, run: _Run, heartbeat_s: float) -> None:
        """On stop: let the running handlers end and report them (a stopped loop leaves no job half done)."""
        while run.running:
            await asyncio.wait(list(run.running), timeout=heartbeat_s)
            await self._sql(run, self._turn, self._reaped(run), self._held(run), False)

    def _now(self) -> int:
        return int(self.engine.clock.now().timestamp() * 1000)

    def _fire_timers(self) -> int:
        now = self._now()
        if now < self._next_timer_check:
            return 0
        due = self.engine.next_timer_due()
        # look again when the next timer is due, and at least every poll interval (other processes add timers)
        self._next_timer_check = min(due if due is not None else now + self._poll_ms, now + self._poll_ms)
        if due is None or due > now:
            return 0
        fired = self.engine.fire_due_timers()
        self.fired += fired
        return fired

    async def _call(self, run: _Run, job: ActivatedJob) -> Any:
        handler = self.registry.handlers[job.type]
        arg = Job(
            key=job.key,
            type=job.type,
            variables=dict(job.variables),
            headers=dict(job.headers),
            retries=job.retries,
            instance=job.instance,
            element_id=job.element_id,
            process_id=job.process_id,
            element_instance=job.element_instance,
        )
        with self._traces.running(job):
            if run.is_async[job.type]:
                result = handler(arg)
            else:  # the thread runs in this task's context: the job's span is current there too
                context = contextvars.copy_context()
                result = await asyncio.get_running_loop().run_in_executor(run.threads, context.run, handler, arg)
            if inspect.isawaitable(result):  # a plain callable that returned a coroutine runs on the loop as well
                result = await result
            return result

    def _reports(self, outcomes: list[_Outcome]) -> None:
        """Report every outcome of a turn in one transaction, each in a savepoint of its own (one commit for all)."""
        reports: list[JobReport] = []
        for outcome in outcomes:
            crashpoint("after_handler")
            reports.append(self._report_of(outcome))
        if not reports:
            return
        failure: Exception | None = None
        with self._traces.reporting(reports):
            settles = self.engine.report_jobs(reports)
        for outcome, report, settled in zip(outcomes, reports, settles, strict=True):
            error = settled.error
            self._traces.reported(report, outcome.error, error)
            if error is None:
                if isinstance(report, FailReport):
                    self.failed += 1
                elif isinstance(report, CompleteReport):
                    self.completed += 1
                elif isinstance(report, WaitReport):
                    self.waited += 1
            elif isinstance(error, JobLost):
                log.warning("%s", error)
            elif isinstance(error, (NotFound, Conflict)):  # canceled meanwhile
                log.info("job %s: %s", report.key, error)
            elif failure is None:
                failure = error
        if failure is not None:  # the others are committed; this one ends the loop, as it did alone
            raise failure

    def _report_of(self, outcome: _Outcome) -> JobReport:
        """What to tell the engine of a finished handler."""
        job, error = outcome.job, outcome.error
        if isinstance(error, AskPerson):
            return ParkReport(job.key, error, worker=job.worker, lock_version=job.lock_version)
        if isinstance(error, WaitRemote):  # the job leaves its slot; it is claimed again at its next check
            return WaitReport(job.key, error, worker=job.worker, lock_version=job.lock_version)
        if isinstance(error, BpmnError):
            return ErrorReport(job.key, error.code, message=error.message, variables=error.variables,
                               worker=job.worker, lock_version=job.lock_version)
        if isinstance(error, JobFailure):  # the handler says how many retries are left and when to retry
            log.warning("job %s (%s) failed: %s", job.key, job.type, error)
            wait = error.backoff_ms
            return FailReport(job.key, str(error) or type(error).__name__, worker=job.worker,
                              lock_version=job.lock_version, retries=error.retries,
                              backoff_ms=backoff_ms(self.settings, job.failures) if wait is None
                              else wait)
        if error is not None:
            message = f"{type(error).__name__}: {error}"
            log.warning("job %s (%s) failed: %s", job.key, job.type, message)
            detail = "".join(traceback.format_exception_only(error)).strip()
            return FailReport(job.key, detail or message, worker=job.worker, lock_version=job.lock_version,
                              backoff_ms=backoff_ms(self.settings, job.failures))
        result = outcome.result
        if result is not None and not isinstance(result, dict):
            return FailReport(
                job.key,
                f"the handler of '{job.type}' returned {type(result).__name__}, expected a dict of variables or None",
                worker=job.worker,
                lock_version=job.lock_version,
            )
        return CompleteReport(job.key, worker=job.worker, lock_version=job.lock_version, variables=result or {})


def _run(main: Coroutine[Any, Any, None]) -> None:
    """``asyncio.run``, on a uvloop loop where uvloop is installed."""
    with asyncio.Runner(loop_factory=uvloop.new_event_loop if uvloop is not None else None) as runner:
        runner.run(main)


def _outcome(job: ActivatedJob, task: asyncio.Task[Any]) -> _Outcome:
    """A finished task's result or error (a cancelled handler failed its attempt, as any other error does)."""
    if task.cancelled():
        return _Outcome(job, None, asyncio.CancelledError("the handler was cancelled"))
    error = task.exception()
    return _Outcome(job, None if error is not None else task.result(), error)


def run_until_idle(engine: Engine, registry: WorkerRegistry | None = None, *, timeout_s: float | None = None) -> None:
    loop = WorkerLoop(engine, registry)
    if timeout_s is not None:
        timer = threading.Timer(timeout_s, loop.stop)
        timer.start()
        try:
            loop.run(until_idle=True)
        finally:
            timer.cancel()
    else:
        loop.run(until_idle=True)
