"""The facade: deploy, start, complete, cancel, query. It wires model, runtime and store.

Every public method that changes something is one transaction: the step's
journal events, the instance's new state and the rows its effects ask for
(jobs, user tasks, incidents, child instances) commit together or not at all.
A conflict with a concurrent transaction (two branches of a parallel join
completing at once in two processes) is retried from the start.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy.exc import OperationalError

from engine.agent.config import Policy, agent_problems
from engine.agent.facade import AgentCommands
from engine.correlation import EventCommands
from engine.crash import crashpoint
from engine.exceptions import AskPerson, Conflict, DeploymentError, InvalidInput, JobLost, NotFound
from engine.exposure import declaration, tool_problems
from engine.model import Definitions, Process
from engine.parser import BpmnParseError, Problem, parse_bpmn
from engine.ports import Clock, SystemClock
from engine.queries import Queries
from engine.resources import DeploymentFiles, split_resources
from engine.runtime import ScopeView
from engine.runtime import messages as m
from engine.runtime.limits import RuntimeLimits
from engine.runtime.support import process_warnings, unsupported_problems
from engine.scheduler.local import LocalJobs
from engine.store import ConcurrentUpdate, JobLockLost, JobNotFound, SqlStore, TaskNotOpen, Tx
from engine.unit import Touched, UnitOfWork
from engine.validation import check_variables
from engine.views import ActivatedJob, DeployedProcess, InstanceView

T = TypeVar("T")
_RETRIES = 8


def _millis(clock: Clock) -> int:
    return int(clock.now().timestamp() * 1000)


class Engine(Queries, EventCommands, AgentCommands):
    """The BPMN engine over one store."""

    def __init__(self, store: SqlStore, clock: Clock | None = None) -> None:
        self.store = store
        self.clock = clock or SystemClock()
        self._processes: dict[int, Process] = {}
        self.local_jobs: LocalJobs | None = None  # set while a worker loop runs in this process
        # Called after every commit of this process (from the committing thread): lets a caller that waits
        # for an instance re-read it at once instead of polling. Commits of other processes are not seen.
        self.commit_listeners: set[Callable[[], None]] = set()
        # Policies over every agent's tool calls, checked before each model's own (the hub sets them)
        self.agent_policies: tuple[Policy, ...] = ()
        # Bounds on one command's work (a loop with no wait state, endless calls, huge multi-instance): incidents
        self.limits = RuntimeLimits()
        self._conversations: OrderedDict[int, list[Any]] = OrderedDict()
        self._conversations_lock = threading.Lock()
        self._lock = threading.Lock()

    @classmethod
    def open(cls, url: str, *, clock: Clock | None = None, synchronous: str = "FULL") -> Engine:
        return cls(SqlStore(url, synchronous=synchronous), clock)

    def close(self) -> None:
        self.store.close()

    # --- transactions ---------------------------------------------------------------

    def _atomic(self, work: Callable[[Tx], T]) -> T:
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

    def _process(self, tx: Tx, definition_key: int) -> Process:
        process = self._processes.get(definition_key)
        if process is None:
            row = tx.definition_xml(definition_key)
            if row is None:
                raise NotFound(f"process definition {definition_key} does not exist")
            definitions = parse_bpmn(row.xml, source_name=row.resource_name)
            process = definitions.processes[row.process_id]
            with self._lock:
                self._processes[definition_key] = process
        return process

    def _run(self, tx: Tx, first: int, command: m.Command) -> dict[int, Touched]:
        """Apply a command and everything it sets off in other instances, in the caller's transaction."""
        unit = UnitOfWork(self, tx, self.clock.now())
        unit.send(first, command)
        return unit.run()

    # --- deployment -------------------------------------------------------------------

    def deploy(
        self,
        resources: Sequence[tuple[str, bytes | str]],
        *,
        name: str | None = None,
        expose: bool = False,
        progress: Callable[[int, int, str], None] | None = None,
    ) -> list[DeployedProcess]:
        """Parse and validate every resource, then store each process as a new version (or reuse an identical one).

        ``expose`` offers every process deployed here as a tool and agent skill
        (as ``<agenthub:tool>`` in the model does), from this version on.
        ``progress(number, total, resource)`` is called as the check of each BPMN
        resource begins. Each deployed process carries the warnings of what it
        uses that this engine accepts but will not act on.
        """
        if not resources:
            raise InvalidInput("nothing to deploy: give at least one BPMN resource")
        resources, files = split_resources(resources)
        if not resources:
            raise InvalidInput(
                "nothing to deploy: give at least one BPMN resource (files such as model files go with the BPMN)"
            )
        with self.store.reader() as tx:
            known = {row.process_id for row in tx.list_definitions()}
        parsed: list[tuple[str, str, Definitions]] = []
        problems: list[Any] = []
        in_batch: set[str] = set()
        for _, data in resources:
            with contextlib.suppress(BpmnParseError):  # a first pass: which process ids this deployment brings
                in_batch.update(parse_bpmn(data).processes)
        warnings: dict[tuple[str, str], tuple[Problem, ...]] = {}
        for done, (resource_name, data) in enumerate(resources, start=1):
            if progress is not None:
                progress(done, len(resources), resource_name)
            text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
            try:
                definitions = parse_bpmn(data, source_name=resource_name, known_process_ids=known | in_batch)
            except BpmnParseError as exc:
                problems.extend(exc.problems)
                continue
            problems.extend(unsupported_problems(definitions, resource_name))
            for process in definitions.processes.values():
                problems.extend(tool_problems(process, resource_name))
                problems.extend(agent_problems(process, resource_name))
                warnings[(resource_name, process.id)] = tuple(process_warnings(process, resource_name))
            parsed.append((resource_name, text, definitions))
        problems.extend(files.problems)
        if problems:
            raise DeploymentError(problems)
        stored = self._atomic(lambda tx: self._store_deployment(tx, parsed, files, name, expose))
        return [dataclasses.replace(d, warnings=warnings.get((d.resource_name, d.process_id), ())) for d in stored]

    def _store_deployment(
        self,
        tx: Tx,
        parsed: list[tuple[str, str, Definitions]],
        files: DeploymentFiles,
        name: str | None,
        expose: bool,
    ) -> list[DeployedProcess]:
        at = _millis(self.clock)
        deployment = tx.next_key()
        tx.insert_deployment(deployment, name or ", ".join(r for r, _, _ in parsed), at)
        for file_name, content in sorted(files.files.items()):
            digest = hashlib.sha256(content.encode()).hexdigest()
            tx.insert_deployment_resource(deployment, file_name, digest, content, at)
        # A process deployed with files is the same version only when its files are the same too.
        with_files = files.checksum()
        deployed: list[DeployedProcess] = []
        for resource_name, text, definitions in parsed:
            checksum = hashlib.sha256((text + with_files).encode()).hexdigest()
            for process in definitions.processes.values():
                if not process.executable:
                    continue
                latest = tx.latest_definition(process.id)
                exposed = expose or declaration(process) is not None
                if latest is not None and latest.checksum == checksum:
                    if exposed and not latest.exposed:
                        tx.expose_definition(int(latest.key))
                    deployed.append(
                        DeployedProcess(process.id, int(latest.version), int(latest.key), resource_name, is_new=False)
                    )
                    continue
                version = int(latest.version) + 1 if latest is not None else 1
                key = tx.next_key()
                tx.insert_definition(
                    key=key,
                    process_id=process.id,
                    version=version,
                    name=process.name,
                    deployment_key=deployment,
                    resource_name=resource_name,
                    checksum=checksum,
                    xml=text,
                    created_at=at,
                    exposed=exposed,
                )
                with self._lock:
                    self._processes[key] = process
                UnitOfWork(self, tx, self.clock.now()).register_start_events(process, key)
                deployed.append(DeployedProcess(process.id, version, key, resource_name, is_new=True))
        return deployed

    # --- commands ------------------------------------------------------------------------------

    def start(
        self,
        process_id: str,
        variables: dict[str, Any] | None = None,
        *,
        version: int | None = None,
        start_element: str | None = None,
        owner: str | None = None,
    ) -> InstanceView:
        """Start an instance of the latest (or the given) version and run it until it waits or ends.

        ``owner`` is the principal whose request this is, kept as the instance's ``started_by``: the surfaces
        decide whose task an instance is from it, never from a variable the process or a client can set.
        """
        values = check_variables(variables)

        def work(tx: Tx) -> InstanceView:
            row = tx.definition_row(process_id, version)
            if row is None:
                raise NotFound(
                    f"process '{process_id}' is not deployed" + (f" in version {version}" if version else "")
                )
            unit = UnitOfWork(self, tx, self.clock.now())
            state = unit.new_instance(int(row.key), values, start_element=start_element, version=int(row.version))
            state.started_by = owner  # before the first save: the row is written with it
            unit.run()
            return self._view(tx, state)

        return self._atomic(work)

    def complete_job(
        self,
        key: int,
        variables: dict[str, Any] | None = None,
        *,
        worker: str,
        lock_version: int,
    ) -> None:
        """Complete a job with its result. Every report on a job (complete, fail, throw an error, park) carries the
        lease it was activated with, ``worker`` and ``lock_version``: a worker whose lease expired and whose job went
        to another worker gets ``JobLost`` instead of overwriting that worker's result (RELIABILITY I6)."""
        values = check_variables(variables)

        def work(tx: Tx) -> None:
            row = self._job(tx, key, worker, lock_version)
            tx.complete_job_row(key)
            self._run(tx, int(row.instance_key), m.CompleteJob(key, int(row.element_instance), values))

        self._atomic(work)

    def fail_job(
        self,
        key: int,
        message: str,
        *,
        retries: int | None = None,
        backoff_ms: int = 0,
        worker: str,
        lock_version: int,
    ) -> int:
        """Record a failed attempt; returns the retries left. At zero the job raises an incident."""

        def work(tx: Tx) -> int:
            row = self._job(tx, key, worker, lock_version)
            left = int(row.retries) - 1 if retries is None else retries
            at = _millis(self.clock)
            tx.fail_job(key, max(left, 0), at + backoff_ms, message)
            if left > 0:
                tx.append_journal(
                    int(row.instance_key),
                    [
                        m.JournalEvent(
                            "job_failed",
                            row.element_id,
                            int(row.element_instance),
                            {"job": key, "retries": left, "message": message[:2000]},
                        )
                    ],
                    at,
                )
            else:
                self._run(tx, int(row.instance_key), m.FailJob(key, int(row.element_instance), message))
            return max(left, 0)

        return self._atomic(work)

    def throw_error(
        self,
        key: int,
        code: str,
        message: str = "",
        variables: dict[str, Any] | None = None,
        *,
        worker: str,
        lock_version: int,
    ) -> None:
        values = check_variables(variables)

        def work(tx: Tx) -> None:
            row = self._job(tx, key, worker, lock_version)
            tx.fail_job(key, 0, _millis(self.clock), f"BPMN error {code}: {message}")
            self._run(tx, int(row.instance_key), m.ThrowError(key, int(row.element_instance), code, message, values))

        self._atomic(work)

    def park_job(self, key: int, ask: AskPerson, *, worker: str, lock_version: int) -> None:
        """The job's handler asked a person: a user task stands in for the job until it is completed (AskPerson)."""
        if not ask.name or not ask.answer_variable.isidentifier():
            raise InvalidInput("a job that asks a person needs a task name and an answer variable name")
        details = check_variables(ask.details)

        def work(tx: Tx) -> None:
            row = self._job(tx, key, worker, lock_version)
            tx.complete_job_row(key)
            headers = json.loads(row.headers) if row.headers else {}
            self._run(tx, int(row.instance_key), m.ParkJob(
                key, int(row.element_instance), str(row.type), int(row.retries), headers, ask.name[:255], details,
                ask.assignee, list(ask.candidate_groups), ask.answer_variable, ask.round))

        self._atomic(work)

    def _job(self, tx: Tx, key: int, worker: str, lock_version: int) -> Any:
        try:
            return tx.locked_job(key, worker, lock_version)
        except JobNotFound as exc:
            raise NotFound(str(exc)) from None
        except JobLockLost as exc:
            raise JobLost(str(exc)) from None

    def complete_user_task(self, key: int, variables: dict[str, Any] | None = None, *,
                           completed_by: str | None = None) -> None:
        """Complete an open user task. ``completed_by`` names the person, recorded with an approval's decision."""
        values = check_variables(variables)

        def work(tx: Tx) -> None:
            row = self._open_task(tx, key)
            tx.end_user_task(key, "completed", _millis(self.clock), values)
            self._run(tx, int(row.instance_key),
                      m.CompleteUserTask(key, int(row.element_instance), values, completed_by))

        self._atomic(work)

    def claim_user_task(self, key: int, assignee: str | None) -> None:
        def work(tx: Tx) -> None:
            row = self._open_task(tx, key)
            tx.assign_user_task(key, assignee)
            tx.append_journal(
                int(row.instance_key),
                [
                    m.JournalEvent(
                        "user_task_claimed",
                        row.element_id,
                        int(row.element_instance),
                        {"task": key, "assignee": assignee},
                    )
                ],
                _millis(self.clock),
            )

        self._atomic(work)

    def _open_task(self, tx: Tx, key: int) -> Any:
        try:
            return tx.open_user_task(key)
        except TaskNotOpen as exc:
            if "does not exist" in str(exc):
                raise NotFound(str(exc)) from None
            raise Conflict(str(exc)) from None

    def cancel(self, instance: int) -> InstanceView:
        def work(tx: Tx) -> InstanceView:
            loaded = tx.load_instance(instance)
            if loaded is None:
                raise NotFound(f"process instance {instance} does not exist")
            if loaded[0].parent is not None:
                raise Conflict(
                    f"process instance {instance} was started by call activity in instance "
                    f"{loaded[0].parent.instance}: cancel that instance instead"
                )
            touched = self._run(tx, instance, m.CancelInstance())
            return self._view(tx, touched[instance].state)

        return self._atomic(work)

    def resolve_incident(self, key: int) -> None:
        """Retry what failed: the job (with one more retry) or the expression that could not be evaluated."""

        def work(tx: Tx) -> None:
            row = tx.incident(key)
            if row is None:
                raise NotFound(f"incident {key} does not exist")
            if row.state != "open":
                raise Conflict(f"incident {key} is already {row.state}")
            self._run(tx, int(row.instance_key), m.ResolveIncident(key))

        self._atomic(work)

    def set_variables(
        self, instance: int, variables: dict[str, Any], *, scope: int | None = None, local: bool = True
    ) -> None:
        values = check_variables(variables)
        self._atomic(lambda tx: self._run(tx, instance, m.SetVariables(scope, values, local)) and None)

    # --- jobs for workers -----------------------------------------------------------------------------

    def activate_jobs(
        self,
        types: Sequence[str] | None,
        worker: str,
        *,
        max_jobs: int = 10,
        lease_ms: int = 10_000,
        max_stalls: int = 3,
    ) -> list[ActivatedJob]:
        """Claim due jobs for a worker. A job whose worker died ``max_stalls`` times becomes an incident."""

        def work(tx: Tx) -> list[ActivatedJob]:
            now = _millis(self.clock)
            rows = tx.claim_jobs(types, worker, now, lease_ms, max_jobs, alone_after=max(max_stalls - 1, 1))
            crashpoint("after_job_claim")
            claimed: list[ActivatedJob] = []
            for row in rows:
                if row.stalls >= max_stalls:
                    message = (
                        f"job {row.key} was claimed {row.stalls} times by workers that died or hung "
                        "before finishing it; fix the cause, then retry"
                    )
                    tx.fail_job(int(row.key), 0, now, message)
                    self._run(tx, int(row.instance_key), m.FailJob(int(row.key), int(row.element_instance), message))
                    continue
                loaded = tx.load_instance(int(row.instance_key), lock=False)  # only to read variables
                variables = ScopeView(loaded[0], int(row.element_instance)).flatten() if loaded else {}
                claimed.append(
                    ActivatedJob(
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
                        lease_expires_at=int(row.lock_expires_at),
                        stalls=int(row.stalls),
                    )
                )
            return claimed

        return self._atomic(work)

    def release_jobs(self, jobs: Sequence[ActivatedJob]) -> None:
        """Give back jobs a worker claimed but will not run (it is stopping), without counting a stall."""
        if jobs:
            with self.store.transaction() as tx:
                for job in jobs:
                    tx.release_job(job.key, job.worker, job.lock_version)

    def extend_lease(self, job: ActivatedJob, lease_ms: int) -> bool:
        return job.key not in self.extend_leases([job], lease_ms)

    def extend_leases(self, jobs: Sequence[ActivatedJob], lease_ms: int) -> set[int]:
        """Extend the leases of a worker's jobs in one transaction; returns the keys of the jobs it no longer holds.

        One transaction for all of them: a loop holding many queued jobs renews them without a commit per job.
        """
        if not jobs:
            return set()
        expires = _millis(self.clock) + lease_ms
        with self.store.transaction() as tx:
            return {job.key for job in jobs if not tx.extend_lease(job.key, job.worker, job.lock_version, expires)}


def _retryable(exc: OperationalError) -> bool:
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    return code in ("40001", "40P01")
