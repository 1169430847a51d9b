"""The worker loop: claim due jobs, run their handlers, report the outcome.

A claimed job has a short lease (10 s by default) that a heartbeat extends
while its handler runs, so a long handler keeps its job and the jobs of a
process that died are claimed again within seconds. A handler's outcome is
reported with the lease it was claimed under: if the lease expired and the
job went to another worker, the late report is refused (fencing).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
import time
import traceback
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.crash import crashpoint
from engine.exceptions import AskPerson, BpmnError, Conflict, JobLost, NotFound
from engine.scheduler.local import LocalJobs
from engine.scheduler.registry import Job, WorkerRegistry, default_registry
from engine.views import ActivatedJob

if TYPE_CHECKING:
    from engine.engine import Engine

log = logging.getLogger("agenthub.worker")


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    lease_ms: int = 10_000
    concurrency: int = 4
    poll_interval_s: float = 0.5
    backoff_base_ms: int = 1_000
    backoff_max_ms: int = 60_000
    max_stalls: int = 3


def backoff_ms(settings: WorkerSettings, retries_left: int, configured: int) -> int:
    """Exponential backoff by attempt: base, 2x base, 4x base, ... capped."""
    attempt = max(configured - retries_left, 1)
    return int(min(settings.backoff_base_ms * 2 ** (attempt - 1), settings.backoff_max_ms))


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
        self.fired = 0
        self._next_timer_check = 0
        self._poll_ms = int(self.settings.poll_interval_s * 1000)
        self._wake: threading.Event | None = None

    def stop(self) -> None:
        self._stop.set()
        if self._wake is not None:
            self._wake.set()

    def run(self, *, until_idle: bool = False) -> None:
        """Fire due timers and run due jobs until stopped.

        With ``until_idle`` it returns once no timer is due and no job of a
        registered type is ready, waiting out a retry backoff, or locked by
        a worker (which may have died: its job is claimed again when the
        lease runs out); timers that are not due yet are not waited for.
        """
        types = self.registry.types()
        local = LocalJobs(self.name, frozenset(types), self.settings.lease_ms, capacity=self.settings.concurrency * 4)
        previous, self.engine.local_jobs = self.engine.local_jobs, local if types else None
        self._wake = local.ready
        try:
            self._loop(types, local, until_idle)
        finally:
            self.engine.local_jobs = previous
            self.engine.release_jobs(local.drain())

    def _loop(self, types: list[str], local: LocalJobs, until_idle: bool) -> None:
        """Keep every slot busy: a job that takes long (a remote agent's task, a person) holds one slot, not the loop.

        Finished jobs are reported as they finish, free slots are filled at once, and the leases of running and
        queued jobs are extended every third of a lease.
        """
        running: dict[Future[Any], ActivatedJob] = {}
        heartbeat_s = self.settings.lease_ms / 3000
        next_beat = time.monotonic() + heartbeat_s
        with ThreadPoolExecutor(max_workers=self.settings.concurrency, thread_name_prefix="job") as pool:
            try:
                while not self._stop.is_set():
                    self._reap(running)
                    if time.monotonic() >= next_beat:
                        self._heartbeat(running, local)
                        next_beat = time.monotonic() + heartbeat_s
                    fired = self._fire_timers()
                    # a job whose worker died before runs alone: if it kills this process too, no innocent job
                    # running beside it is counted as stalled with it
                    suspect = any(job.stalls >= max(self.settings.max_stalls - 1, 1) for job in running.values())
                    free = 0 if suspect else self.settings.concurrency - len(running)
                    jobs: list[ActivatedJob] = []
                    if free > 0:
                        jobs = local.take(free)
                        if jobs:
                            crashpoint("after_job_claim")
                        elif types:
                            jobs = self.engine.activate_jobs(types, self.name, max_jobs=free,
                                                             lease_ms=self.settings.lease_ms,
                                                             max_stalls=self.settings.max_stalls)
                    if jobs:
                        for job in jobs:
                            future = pool.submit(self._call, job)
                            running[future] = job
                            future.add_done_callback(lambda _: local.ready.set())
                        self._next_timer_check = 0  # the steps just run may have armed timers that are due now
                        continue
                    if fired or any(f.done() for f in running):
                        continue
                    now = self._now()
                    job_due = self.engine.next_job_due(types) if types and free > 0 else None
                    timer_due = self.engine.next_timer_due()
                    if timer_due is not None and timer_due <= now:
                        self._next_timer_check = 0
                        continue
                    if until_idle and job_due is None and not running:
                        return
                    waits = [d for d in (job_due, timer_due) if d is not None]
                    delay = max(0.0, (min(waits) - now) / 1000) if waits else self.settings.poll_interval_s
                    delay = min(delay, self.settings.poll_interval_s, max(0.0, next_beat - time.monotonic()))
                    local.ready.wait(delay)  # new jobs from other threads, and finished handlers, wake it
                    local.ready.clear()
            finally:
                self._finish(running, local, heartbeat_s)

    def _reap(self, running: dict[Future[Any], ActivatedJob]) -> None:
        for future in [f for f in running if f.done()]:
            self._report(running.pop(future), future)

    def _heartbeat(self, running: dict[Future[Any], ActivatedJob], local: LocalJobs) -> None:
        """Extend the leases of every running and queued job, in one transaction."""
        self.engine.extend_leases([*running.values(), *local.queued()], self.settings.lease_ms)

    def _finish(self, running: dict[Future[Any], ActivatedJob], local: LocalJobs, heartbeat_s: float) -> None:
        """On stop: let the running handlers end and report them (a stopped loop leaves no job half done)."""
        while running:
            done, _ = wait(list(running), timeout=heartbeat_s)
            for future in done:
                self._report(running.pop(future), future)
            self._heartbeat(running, local)

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

    def _call(self, job: ActivatedJob) -> Any:
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
        result = handler(arg)
        if asyncio.iscoroutine(result):
            result = asyncio.run(result)
        return result

    def _report(self, job: ActivatedJob, future: Future[Any]) -> None:
        crashpoint("after_handler")
        try:
            try:
                result = future.result()
            except AskPerson as ask:
                self.engine.park_job(job.key, ask, worker=job.worker, lock_version=job.lock_version)
                return
            except BpmnError as error:
                self.engine.throw_error(
                    job.key,
                    error.code,
                    error.message,
                    error.variables,
                    worker=job.worker,
                    lock_version=job.lock_version,
                )
                return
            except Exception as exc:
                message = f"{type(exc).__name__}: {exc}"
                log.warning("job %s (%s) failed: %s", job.key, job.type, message)
                detail = "".join(traceback.format_exception_only(exc)).strip()
                self.engine.fail_job(
                    job.key,
                    detail or message,
                    worker=job.worker,
                    lock_version=job.lock_version,
                    backoff_ms=backoff_ms(self.settings, job.retries - 1, job.retries),
                )
                self.failed += 1
                return
            if result is not None and not isinstance(result, dict):
                self.engine.fail_job(
                    job.key,
                    f"the handler of '{job.type}' returned {type(result).__name__}, "
                    "expected a dict of variables or None",
                    worker=job.worker,
                    lock_version=job.lock_version,
                )
                self.failed += 1
                return
            self.engine.complete_job(job.key, result or {}, worker=job.worker, lock_version=job.lock_version)
            self.completed += 1
        except JobLost as exc:
            log.warning("%s", exc)
        except (NotFound, Conflict) as exc:  # canceled meanwhile
            log.info("job %s: %s", job.key, exc)


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
