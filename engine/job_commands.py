"""What workers do with jobs: claim them under leases, complete, fail, throw a BPMN error, ask a person, wait.

Every report on a job carries the lease it was activated with (``worker``,
``lock_version``): a worker whose lease expired and whose job went to
another worker gets ``JobLost`` instead of overwriting that worker's result
(RELIABILITY I6).

``report_jobs`` applies many reports in one transaction, each in a savepoint
of its own (``EngineCore.atomic_each``): the worker loop reports every
handler that finished in a turn with one commit, and a stale report among
them (``JobLost``) is refused alone.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from engine.core import EngineCore, Settled
from engine.crash import crashpoint
from engine.exceptions import AskPerson, Conflict, InvalidInput, JobLost, NotFound, WaitRemote
from engine.job_reports import CompleteReport, ErrorReport, FailReport, JobReport, ParkReport, WaitReport
from engine.runtime import InstanceStatus, ScopeView
from engine.runtime import messages as m
from engine.store.exceptions import JobLockLost, JobNotFound
from engine.store.protocol import StoreTx
from engine.store.rows import JobRow
from engine.validation import check_variables
from engine.views import ActivatedJob

__all__ = ["CompleteReport", "ErrorReport", "FailReport", "JobCommands", "JobReport", "ParkReport", "WaitReport"]

MAX_WAIT_REASON = 500


class JobCommands:
    """The job commands of ``engine.Engine``."""

    def __init__(self, kernel: EngineCore) -> None:
        self._k = kernel

    def report_jobs(self, reports: Sequence[JobReport]) -> list[Settled[Any]]:
        """Apply ``reports`` in one transaction, each alone in a savepoint; one result or exception per report."""
        works: list[Callable[[StoreTx], Any]] = []
        for report in reports:
            try:
                works.append(self._work(report))
            except Exception as exc:  # refused before any transaction (its variables, its question)
                works.append(_raising(exc))
        return self._k.atomic_each(works) if works else []

    def _work(self, report: JobReport) -> Callable[[StoreTx], Any]:
        if isinstance(report, CompleteReport):
            return self._complete(report.key, report.variables, report.worker, report.lock_version, report.result)
        if isinstance(report, FailReport):
            return self._fail(report.key, report.message, report.retries, report.backoff_ms, report.worker,
                              report.lock_version)
        if isinstance(report, ErrorReport):
            return self._throw(report.key, report.code, report.message, report.variables, report.worker,
                               report.lock_version)
        if isinstance(report, WaitReport):
            return self._wait(report.key, report.wait, report.worker, report.lock_version)
        return self._park(report.key, report.ask, report.worker, report.lock_version)

    def complete_job(
        self, key: int, variables: dict[str, Any] | None = None, *, worker: str, lock_version: int,
        result: dict[str, Any] | None = None,
    ) -> None:
        self._k.grouped(self._complete(key, variables, worker, lock_version, result))

    def _complete(
        self, key: int, variables: dict[str, Any] | None, worker: str, lock_version: int,
        result: dict[str, Any] | None = None,
    ) -> Callable[[StoreTx], None]:
        values = check_variables(variables)

        def work(tx: StoreTx) -> None:
            row = _job(tx, key, worker, lock_version)
            instance = int(row.instance_key)
            touched = self._k.run(tx, instance, m.CompleteJob(key, int(row.element_instance), values, result))
            # the job's row is written once: a tombstone while its instance runs, gone with an instance that ended
            entry = touched.get(instance)
            if entry is None or entry.state.status == InstanceStatus.ACTIVE:
                tx.jobs.complete(key)

        return work

    def fail_job(
        self, key: int, message: str, *, retries: int | None = None, backoff_ms: int = 0, worker: str,
        lock_version: int,
    ) -> int:
        return self._k.grouped(self._fail(key, message, retries, backoff_ms, worker, lock_version))

    def _fail(
        self, key: int, message: str, retries: int | None, backoff_ms: int, worker: str, lock_version: int
    ) -> Callable[[StoreTx], int]:
        def work(tx: StoreTx) -> int:
            row = _job(tx, key, worker, lock_version)
            left = int(row.retries) - 1 if retries is None else retries
            at = self._k.millis()
            tx.jobs.fail(key, max(left, 0), at + backoff_ms, message)
            if left > 0:
                data = {"job": key, "retries": left, "message": message[:2000]}
                event = m.JournalEvent("job_failed", row.element_id, int(row.element_instance), data)
                tx.instances.append_journal(int(row.instance_key), [event], at)
            else:
                self._k.run(tx, int(row.instance_key), m.FailJob(key, int(row.element_instance), message))
            return max(left, 0)

        return work

    def throw_error(
        self, key: int, code: str, message: str = "", variables: dict[str, Any] | None = None, *, worker: str,
        lock_version: int,
    ) -> None:
        self._k.grouped(self._throw(key, code, message, variables, worker, lock_version))

    def _throw(
        self, key: int, code: str, message: str, variables: dict[str, Any] | None, worker: str, lock_version: int
    ) -> Callable[[StoreTx], None]:
        values = check_variables(variables)

        def work(tx: StoreTx) -> None:
            row = _job(tx, key, worker, lock_version)
            tx.jobs.fail(key, 0, self._k.millis(), f"BPMN error {code}: {message}")
            command = m.ThrowError(key, int(row.element_instance), code, message, values)
            self._k.run(tx, int(row.instance_key), command)

        return work

    def park_job(self, key: int, ask: AskPerson, *, worker: str, lock_version: int) -> None:
        self._k.grouped(self._park(key, ask, worker, lock_version))

    def _park(self, key: int, ask: AskPerson, worker: str, lock_version: int) -> Callable[[StoreTx], None]:
        if not ask.name or not ask.answer_variable.isidentifier():
            raise InvalidInput("a job that asks a person needs a task name and an answer variable name")
        details = check_variables(ask.details)

        def work(tx: StoreTx) -> None:
            row = _job(tx, key, worker, lock_version)
            tx.jobs.complete(key)
            headers = json.loads(row.headers) if row.headers else {}
            self._k.run(tx, int(row.instance_key), m.ParkJob(
                key, int(row.element_instance), str(row.type), int(row.retries), headers, ask.name[:255], details,
                ask.assignee, list(ask.candidate_groups), ask.answer_variable, ask.round))

        return work

    def wait_job(self, key: int, wait: WaitRemote, *, worker: str, lock_version: int) -> None:
        self._k.atomic(self._wait(key, wait, worker, lock_version))

    def _wait(self, key: int, wait: WaitRemote, worker: str, lock_version: int) -> Callable[[StoreTx], None]:
        reason = (wait.reason or "waiting on remote work")[:MAX_WAIT_REASON]
        values = check_variables(wait.variables)

        def work(tx: StoreTx) -> None:
            row = _job(tx, key, worker, lock_version)
            if values:  # what the next attempt reads, committed with the wait itself
                self._k.run(tx, int(row.instance_key), m.SetVariables(int(row.element_instance), values, True))
            # no journal event per round: a wait checked every 30 s for days would fill the journal; the job's
            # row shows it (reason, next check) while it lasts
            tx.jobs.wait(key, self._k.millis() + int(wait.seconds * 1000), reason)

        return work

    def wake_job(self, key: int) -> bool:
        """Make a waiting job (``WaitRemote``) due now; False when it is not waiting (done, running, gone)."""
        woken = self._k.atomic(lambda tx: tx.jobs.wake(key, self._k.millis()))
        local = self._k.local_jobs
        if woken and local is not None:
            local.wake()  # a worker loop of this process looks at once instead of at its next poll
        return bool(woken)

    def activate_jobs(
        self, types: Sequence[str] | None, worker: str, *, max_jobs: int = 10, lease_ms: int = 10_000,
        max_stalls: int = 3,
    ) -> list[ActivatedJob]:
        def work(tx: StoreTx) -> list[ActivatedJob]:
            now = self._k.millis()
            rows = tx.jobs.claim(types, worker, now, lease_ms, max_jobs, alone_after=max(max_stalls - 1, 1))
            crashpoint("after_job_claim")
            claimed: list[ActivatedJob] = []
            for row in rows:
                if row.stalls >= max_stalls:
                    message = (
                        f"job {row.key} was claimed {row.stalls} times by workers that died or hung "
                        "before finishing it; fix the cause, then retry"
                    )
                    tx.jobs.fail(int(row.key), 0, now, message)
                    self._k.run(tx, int(row.instance_key), m.FailJob(int(row.key), int(row.element_instance), message))
                    continue
                claimed.append(_activated(tx, row, worker))
            return claimed

        return self._k.atomic(work)

    def job_lease(self, key: int) -> tuple[str, int]:
        """The lease the open job ``key`` is held under now (worker, lock version), for a surface whose workers
        report without one (Camunda's /v2 API): ``NotFound`` when the job is not open, ``Conflict`` when no
        worker holds it."""
        with self._k.store.reader() as tx:
            row = _job(tx, key, None, None)
        if row.state != "locked" or row.lock_owner is None:
            raise Conflict(f"job {key} is not activated: activate it before reporting on it")
        return row.lock_owner, int(row.lock_version)

    def set_job_timeout(self, key: int, timeout_ms: int) -> None:
        """The lease of the activated job ``key`` runs out ``timeout_ms`` from now, whoever holds it."""

        def work(tx: StoreTx) -> None:
            row = _job(tx, key, None, None)
            if row.state != "locked" or row.lock_owner is None:
                raise Conflict(f"job {key} is not activated: only an activated job has a timeout to change")
            tx.jobs.extend_lease(key, row.lock_owner, int(row.lock_version), self._k.millis() + timeout_ms)

        self._k.atomic(work)

    def release_jobs(self, jobs: Sequence[ActivatedJob]) -> None:
        if jobs:
            with self._k.store.transaction() as tx:
                for job in jobs:
                    tx.jobs.release(job.key, job.worker, job.lock_version)

    def extend_leases(self, jobs: Sequence[ActivatedJob], lease_ms: int) -> set[int]:
        if not jobs:
            return set()
        expires = self._k.millis() + lease_ms
        with self._k.store.transaction() as tx:
            return {job.key for job in jobs if not tx.jobs.extend_lease(job.key, job.worker, job.lock_version, expires)}


def _raising(exc: Exception) -> Callable[[StoreTx], Any]:
    def work(_tx: StoreTx) -> Any:
        raise exc

    return work


def _job(tx: StoreTx, key: int, worker: str | None, lock_version: int | None) -> JobRow:
    try:
        return tx.jobs.locked(key, worker, lock_version)
    except JobNotFound as exc:
        raise NotFound(str(exc)) from None
    except JobLockLost as exc:
        raise JobLost(str(exc)) from None


def _activated(tx: StoreTx, row: JobRow, worker: str) -> ActivatedJob:
    loaded = tx.instances.load(int(row.instance_key), lock=False)  # only to read variables
    variables = ScopeView(loaded[0], int(row.element_instance)).flatten() if loaded else {}
    return ActivatedJob(
        key=int(row.key),
        type=row.type,
        instance=int(row.instance_key),
        element_id=row.element_id,
        element_instance=int(row.element_instance),
        process_id=row.process_id,
        retries=int(row.retries),
        headers=json.loads(row.headers),
        variables=variables,
        worker=worker,
        lock_version=int(row.lock_version),
        lease_expires_at=int(row.lock_expires_at or 0),
        stalls=int(row.stalls),
        failures=int(row.failures),
        trace=loaded[0].trace if loaded else None,
    )
