"""The facade: deploy, start, complete, cancel, query. It wires model, runtime and store.

Every public method that changes something is one transaction: the step's
journal events, the instance's new state and the rows its effects ask for
(jobs, user tasks, incidents, child instances) commit together or not at all.
A conflict with a concurrent transaction (two branches of a parallel join
completing at once in two processes) is retried from the start.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy.exc import OperationalError

from engine.crash import crashpoint
from engine.exceptions import Conflict, DeploymentError, InvalidInput, JobLost, NotFound
from engine.model import Definitions, Process
from engine.parser import BpmnParseError, parse_bpmn
from engine.ports import Clock, SystemClock
from engine.runtime import InstanceState, InstanceStatus, ScopeView
from engine.runtime import messages as m
from engine.runtime.support import unsupported_problems
from engine.scheduler.local import LocalJobs
from engine.scheduler.timers import TimerSchedule, from_millis, next_after, to_millis
from engine.store import ConcurrentUpdate, JobLockLost, JobNotFound, SqlStore, TaskNotOpen, Tx
from engine.unit import Touched, UnitOfWork
from engine.views import ActivatedJob, DeployedProcess, IncidentView, InstanceView, TaskView

T = TypeVar("T")
_RETRIES = 8


def _millis(clock: Clock) -> int:
    return int(clock.now().timestamp() * 1000)


class Engine:
    """The BPMN engine over one store."""

    def __init__(self, store: SqlStore, clock: Clock | None = None) -> None:
        self.store = store
        self.clock = clock or SystemClock()
        self._processes: dict[int, Process] = {}
        self.local_jobs: LocalJobs | None = None  # set while a worker loop runs in this process
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

    def _run(self, tx: Tx, first: int, command: m.Command, new: Touched | None = None) -> dict[int, Touched]:
        """Apply a command and everything it sets off in other instances, in the caller's transaction."""
        unit = UnitOfWork(self, tx, self.clock.now())
        if new is not None:
            unit.touched[new.state.key] = new
        unit.send(first, command)
        return unit.run()

    # --- deployment -------------------------------------------------------------------

    def deploy(self, resources: Sequence[tuple[str, bytes | str]], *, name: str | None = None) -> list[DeployedProcess]:
        """Parse and validate every resource, then store each process as a new version (or reuse an identical one)."""
        if not resources:
            raise InvalidInput("nothing to deploy: give at least one BPMN resource")
        with self.store.reader() as tx:
            known = {row.process_id for row in tx.list_definitions()}
        parsed: list[tuple[str, str, Definitions]] = []
        problems: list[Any] = []
        in_batch: set[str] = set()
        for _, data in resources:
            with contextlib.suppress(BpmnParseError):  # a first pass: which process ids this deployment brings
                in_batch.update(parse_bpmn(data).processes)
        for resource_name, data in resources:
            text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
            try:
                definitions = parse_bpmn(data, source_name=resource_name, known_process_ids=known | in_batch)
            except BpmnParseError as exc:
                problems.extend(exc.problems)
                continue
            problems.extend(unsupported_problems(definitions, resource_name))
            parsed.append((resource_name, text, definitions))
        if problems:
            raise DeploymentError(problems)
        return self._atomic(lambda tx: self._store_deployment(tx, parsed, name))

    def _store_deployment(
        self, tx: Tx, parsed: list[tuple[str, str, Definitions]], name: str | None
    ) -> list[DeployedProcess]:
        at = _millis(self.clock)
        deployment = tx.next_key()
        tx.insert_deployment(deployment, name or ", ".join(r for r, _, _ in parsed), at)
        deployed: list[DeployedProcess] = []
        for resource_name, text, definitions in parsed:
            checksum = hashlib.sha256(text.encode()).hexdigest()
            for process in definitions.processes.values():
                if not process.executable:
                    continue
                latest = tx.latest_definition(process.id)
                if latest is not None and latest.checksum == checksum:
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
                )
                with self._lock:
                    self._processes[key] = process
                UnitOfWork(self, tx, self.clock.now()).register_start_events(process, key)
                deployed.append(DeployedProcess(process.id, version, key, resource_name, is_new=True))
        return deployed

    def definitions(self, process_id: str | None = None) -> list[dict[str, Any]]:
        with self.store.reader() as tx:
            return [
                {
                    "key": r.key,
                    "processId": r.process_id,
                    "version": r.version,
                    "name": r.name,
                    "resourceName": r.resource_name,
                    "deployment": r.deployment_key,
                    "deployedAt": r.created_at,
                }
                for r in tx.list_definitions(process_id)
            ]

    def definition_xml(self, process_id: str, version: int | None = None) -> str:
        with self.store.reader() as tx:
            rows = [r for r in tx.list_definitions(process_id) if version is None or r.version == version]
            if not rows:
                raise NotFound(
                    f"process '{process_id}'" + (f" version {version}" if version else "") + " is not deployed"
                )
            row = tx.definition_xml(int(rows[-1].key))
            assert row is not None
            return str(row.xml)

    def process(self, process_id: str, version: int | None = None) -> Process:
        with self.store.reader() as tx:
            rows = [r for r in tx.list_definitions(process_id) if version is None or r.version == version]
            if not rows:
                raise NotFound(f"process '{process_id}' is not deployed")
            return self._process(tx, int(rows[-1].key))

    # --- commands ------------------------------------------------------------------------------

    def start(
        self,
        process_id: str,
        variables: dict[str, Any] | None = None,
        *,
        version: int | None = None,
        start_element: str | None = None,
    ) -> InstanceView:
        """Start an instance of the latest (or the given) version and run it until it waits or ends."""
        values = _check_variables(variables)

        def work(tx: Tx) -> InstanceView:
            if version is None:
                row = tx.latest_definition(process_id)
            else:
                row = next((r for r in tx.list_definitions(process_id) if r.version == version), None)
            if row is None:
                raise NotFound(
                    f"process '{process_id}' is not deployed" + (f" in version {version}" if version else "")
                )
            process = self._process(tx, int(row.key))
            state = InstanceState(
                key=tx.next_key(), process_id=process_id, definition_key=int(row.key), version=int(row.version)
            )
            state.root = tx.next_key()
            new = Touched(state, None, process)
            self._run(tx, state.key, m.StartInstance(variables=values, start_element=start_element), new)
            return self._view(tx, state)

        return self._atomic(work)

    def complete_job(
        self,
        key: int,
        variables: dict[str, Any] | None = None,
        *,
        worker: str | None = None,
        lock_version: int | None = None,
    ) -> None:
        values = _check_variables(variables)

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
        worker: str | None = None,
        lock_version: int | None = None,
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
        worker: str | None = None,
        lock_version: int | None = None,
    ) -> None:
        values = _check_variables(variables)

        def work(tx: Tx) -> None:
            row = self._job(tx, key, worker, lock_version)
            tx.fail_job(key, 0, _millis(self.clock), f"BPMN error {code}: {message}")
            self._run(tx, int(row.instance_key), m.ThrowError(key, int(row.element_instance), code, message, values))

        self._atomic(work)

    def _job(self, tx: Tx, key: int, worker: str | None, lock_version: int | None) -> Any:
        try:
            return tx.locked_job(key, worker, lock_version)
        except JobNotFound as exc:
            raise NotFound(str(exc)) from None
        except JobLockLost as exc:
            raise JobLost(str(exc)) from None

    def complete_user_task(self, key: int, variables: dict[str, Any] | None = None) -> None:
        values = _check_variables(variables)

        def work(tx: Tx) -> None:
            row = self._open_task(tx, key)
            tx.end_user_task(key, "completed", _millis(self.clock), values)
            self._run(tx, int(row.instance_key), m.CompleteUserTask(key, int(row.element_instance), values))

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
        values = _check_variables(variables)
        self._atomic(lambda tx: self._run(tx, instance, m.SetVariables(scope, values, local)) and None)

    # --- messages, signals, timers ----------------------------------------------------------------

    def publish_message(self, name: str, correlation_key: str = "", variables: dict[str, Any] | None = None, *,
                        ttl_ms: int = 0, message_id: str | None = None) -> dict[str, Any]:
        """Publish a message: it reaches one waiting element per instance with that name and correlation key
        (and starts instances at message start events); with a time to live it is buffered for subscriptions
        that open later. Publishing again with a message id that is still buffered is refused."""
        values = _check_variables(variables)
        if not name:
            raise InvalidInput("a message needs a name")
        if ttl_ms < 0:
            raise InvalidInput("the time to live must not be negative")

        def work(tx: Tx) -> dict[str, Any]:
            unit = UnitOfWork(self, tx, self.clock.now())
            if message_id and tx.buffered_message_with_id(name, correlation_key, message_id, unit.at) is not None:
                raise Conflict(f"a message named '{name}' with correlation key '{correlation_key}' and id "
                               f"'{message_id}' was already published and is still buffered")
            key = tx.next_key()
            if ttl_ms > 0:
                tx.insert_message(key, name, correlation_key, message_id, values, unit.at + ttl_ms, unit.at)
            reached = unit.correlate(key, name, correlation_key, values)
            unit.run()
            return {"key": key, "correlatedInstances": reached, "buffered": ttl_ms > 0}

        return self._atomic(work)

    def broadcast_signal(self, name: str, variables: dict[str, Any] | None = None) -> int:
        """Broadcast a signal to every waiting catch event, signal start event and event subprocess."""
        values = _check_variables(variables)
        if not name:
            raise InvalidInput("a signal needs a name")

        def work(tx: Tx) -> int:
            unit = UnitOfWork(self, tx, self.clock.now())
            count = unit.broadcast(name, values)
            unit.run()
            return count

        return self._atomic(work)

    def fire_due_timers(self, *, limit: int = 100) -> int:
        """Fire every timer that is due now (at most ``limit``); returns how many fired."""

        def work(tx: Tx) -> int:
            now = self.clock.now()
            unit = UnitOfWork(self, tx, now)
            rows = tx.due_timers(unit.at, limit)
            for row in rows:
                plan = TimerSchedule(due=from_millis(int(row.due_at)), remaining=row.remaining,
                                     interval=row.interval, cron=row.cron)
                following = next_after(plan, now)
                if following is None:
                    tx.delete_timer(int(row.key))
                else:
                    tx.rearm_timer(int(row.key), to_millis(following.due), following.remaining)
                if row.instance_key is None:
                    unit.new_instance(int(row.definition_key), {}, start_element=row.element_id)
                else:
                    unit.send(int(row.instance_key), m.Trigger(int(row.key), int(row.element_instance),
                                                               row.element_id, repeats=following is not None),
                              tolerant=True)
            tx.delete_expired_messages(unit.at)
            unit.run()
            return len(rows)

        return self._atomic(work)

    def next_timer_due(self) -> int | None:
        with self.store.reader() as tx:
            return tx.next_timer_due()

    def timers(self, instance: int | None = None) -> list[dict[str, Any]]:
        with self.store.reader() as tx:
            return [{"key": r.key, "instance": r.instance_key, "element": r.element_id, "process": r.process_id,
                     "dueAt": from_millis(int(r.due_at)).isoformat(), "remaining": r.remaining}
                    for r in tx.timer_rows(instance)]

    def subscriptions(self, instance: int | None = None) -> list[dict[str, Any]]:
        with self.store.reader() as tx:
            return [{"key": r.key, "kind": r.kind, "name": r.name, "correlationKey": r.correlation_key,
                     "instance": r.instance_key, "element": r.element_id, "process": r.process_id}
                    for r in tx.subscription_rows(instance)]

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
            rows = tx.claim_jobs(types, worker, now, lease_ms, max_jobs)
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
        with self.store.transaction() as tx:
            return tx.extend_lease(job.key, job.worker, job.lock_version, _millis(self.clock) + lease_ms)

    def next_job_due(self, types: Sequence[str] | None) -> int | None:
        with self.store.reader() as tx:
            return tx.next_job_due(types)

    # --- queries ----------------------------------------------------------------------------------

    def instance(self, key: int) -> InstanceView:
        with self.store.reader() as tx:
            loaded = tx.load_instance(key, lock=False)
            if loaded is None:
                raise NotFound(f"process instance {key} does not exist")
            return self._view(tx, loaded[0])

    def instances(
        self, *, state: str | None = None, process_id: str | None = None, limit: int = 100, after: int | None = None
    ) -> list[InstanceView]:
        status = None if state in (None, "incident") else state
        if state not in (None, "active", "completed", "terminated", "incident"):
            raise InvalidInput(f"unknown instance state '{state}': use active, completed, terminated or incident")
        with self.store.reader() as tx:
            rows = tx.instance_rows(
                status=status, process_id=process_id, incidents_only=state == "incident", limit=limit, after=after
            )
            return [self._view(tx, InstanceState.from_dict(json.loads(r.state)), r) for r in rows]

    def _view(self, tx: Tx, state: InstanceState, row: Any = None) -> InstanceView:
        status = state.status.value
        if state.status == InstanceStatus.ACTIVE and state.incidents:
            status = "incident"
        elements = [
            {
                "elementId": e.element_id,
                "elementInstance": e.key,
                "state": e.state.value,
                **({"incident": e.incident} if e.incident else {}),
            }
            for e in state.elements.values()
            if e.key != state.root
        ]
        return InstanceView(
            key=state.key,
            process_id=state.process_id,
            version=state.version,
            state=status,
            variables=dict(state.variables.get(state.root, {})),
            active_elements=elements,
            parent_instance=state.parent.instance if state.parent else None,
            created_at=int(row.created_at) if row is not None else None,
            ended_at=int(row.ended_at) if row is not None and row.ended_at is not None else None,
        )

    def user_tasks(
        self,
        *,
        state: str | None = "created",
        instance: int | None = None,
        candidate_group: str | None = None,
        limit: int = 100,
        after: int | None = None,
    ) -> list[TaskView]:
        with self.store.reader() as tx:
            return [
                _task(r)
                for r in tx.user_task_rows(
                    state=state, instance_key=instance, candidate_group=candidate_group, limit=limit, after=after
                )
            ]

    def user_task(self, key: int) -> TaskView:
        with self.store.reader() as tx:
            row = tx.user_task(key)
            if row is None:
                raise NotFound(f"user task {key} does not exist")
            return _task(row)

    def incidents(self, *, state: str | None = "open", instance: int | None = None) -> list[IncidentView]:
        with self.store.reader() as tx:
            return [_incident(r) for r in tx.incident_rows(state=state, instance_key=instance)]

    def journal(self, instance: int, *, after: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
        with self.store.reader() as tx:
            return [
                {
                    "position": r.id,
                    "type": r.type,
                    "elementId": r.element_id,
                    "elementInstance": r.element_instance,
                    "data": json.loads(r.data) if r.data else None,
                    "at": r.at,
                }
                for r in tx.journal_rows(instance, after=after, limit=limit)
            ]


def _check_variables(variables: dict[str, Any] | None) -> dict[str, Any]:
    if variables is None:
        return {}
    if not isinstance(variables, dict):
        raise InvalidInput(f"variables must be a JSON object, not {type(variables).__name__}")
    try:
        return dict(json.loads(json.dumps(variables)))
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"variables must be JSON values: {exc}") from None


def _retryable(exc: OperationalError) -> bool:
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    return code in ("40001", "40P01")


def _task(row: Any) -> TaskView:
    return TaskView(
        key=int(row.key),
        instance=int(row.instance_key),
        element_id=row.element_id,
        name=row.name,
        process_id=row.process_id,
        state=row.state,
        assignee=row.assignee,
        candidate_groups=json.loads(row.candidate_groups),
        candidate_users=json.loads(row.candidate_users),
        due_date=row.due_date,
        follow_up_date=row.follow_up_date,
        form_key=row.form_key,
        priority=int(row.priority),
        created_at=int(row.created_at),
        details=json.loads(row.details) if row.details else {},
    )


def _incident(row: Any) -> IncidentView:
    return IncidentView(
        key=int(row.key),
        instance=int(row.instance_key),
        element_id=row.element_id,
        element_instance=int(row.element_instance),
        process_id=row.process_id,
        type=row.type,
        message=row.message,
        state=row.state,
        job=int(row.job_key) if row.job_key is not None else None,
        created_at=int(row.created_at),
    )
