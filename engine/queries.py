"""Read-only queries over the store: deployed processes, instances, tasks, incidents, timers, the journal."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from engine.core import EngineCore
from engine.exceptions import InvalidInput, NotFound
from engine.exposure import ToolSpec, tool_spec
from engine.model import Process
from engine.runtime import InstanceState, InstanceStatus
from engine.scheduler.timers import from_millis
from engine.store.protocol import StoreTx
from engine.store.rows import IncidentRow, InstanceRow, JobRow, SubscriptionRow, UserTaskRow
from engine.store.task_order import TaskOrder
from engine.views import IncidentView, InstanceView, TaskView


class Queries:
    """The read-only queries of ``engine.Engine``: each one runs in a reader, which never waits for writers."""

    def __init__(self, kernel: EngineCore) -> None:
        self._k = kernel
        self.store = kernel.store

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
                    "exposed": bool(r.exposed),
                }
                for r in tx.definitions.versions(process_id)
            ]

    def deployments(self, *, limit: int = 100, after: int | None = None) -> list[dict[str, Any]]:
        """Deployments in the order they were made, each with the process versions it created."""
        with self.store.reader() as tx:
            rows = tx.definitions.deployments(limit, after)
            created: dict[int, list[dict[str, Any]]] = {}
            for d in tx.definitions.versions():
                created.setdefault(int(d.deployment_key), []).append(
                    {"processId": d.process_id, "version": d.version, "key": d.key, "resourceName": d.resource_name}
                )
            return [
                {"key": r.key, "name": r.name, "deployedAt": r.created_at, "processes": created.get(int(r.key), [])}
                for r in rows
            ]

    def definition_xml(self, process_id: str, version: int | None = None) -> str:
        with self.store.reader() as tx:
            found = tx.definitions.find(process_id, version)
            if found is None:
                raise NotFound(
                    f"process '{process_id}'" + (f" version {version}" if version else "") + " is not deployed"
                )
            row = tx.definitions.source(int(found.key))
            assert row is not None
            return str(row.xml)

    def process(self, process_id: str, version: int | None = None) -> Process:
        with self.store.reader() as tx:
            found = tx.definitions.find(process_id, version)
            if found is None:
                raise NotFound(f"process '{process_id}' is not deployed")
            return self._k.process(tx, int(found.key))

    def tools(self) -> list[ToolSpec]:
        """The processes offered as tools and agent skills: each one's latest version, where it is exposed."""
        with self.store.reader() as tx:
            latest: dict[str, Any] = {}
            for row in tx.definitions.versions():
                latest[row.process_id] = row  # ordered by version
            specs = []
            for row in latest.values():
                if row.exposed:
                    spec = tool_spec(self._k.process(tx, int(row.key)), exposed=True)
                    if spec is not None:
                        specs.append(spec)
            return specs

    def tool(self, process_id: str) -> ToolSpec:
        """The tool a process offers, or ``NotFound`` when it is not deployed or not exposed."""
        with self.store.reader() as tx:
            row = tx.definitions.find(process_id)
            exposed = row is not None and row.exposed
            spec = tool_spec(self._k.process(tx, int(row.key)), exposed=True) if row is not None and exposed else None
        if spec is None:
            raise NotFound(f"process '{process_id}' is not deployed as a tool (deploy it with --expose)")
        return spec

    def next_timer_due(self) -> int | None:
        with self.store.reader() as tx:
            return tx.timers.next_due()

    def timers(self, instance: int | None = None) -> list[dict[str, Any]]:
        with self.store.reader() as tx:
            return [
                {
                    "key": r.key,
                    "instance": r.instance_key,
                    "element": r.element_id,
                    "process": r.process_id,
                    "dueAt": from_millis(int(r.due_at)).isoformat(),
                    "remaining": r.remaining,
                }
                for r in tx.timers.rows(instance)
            ]

    def subscriptions(self, instance: int | None = None) -> list[dict[str, Any]]:
        with self.store.reader() as tx:
            return [
                {
                    "key": r.key,
                    "kind": r.kind,
                    "name": r.name,
                    "correlationKey": r.correlation_key,
                    "instance": r.instance_key,
                    "elementInstance": r.element_instance,
                    "element": r.element_id,
                    "process": r.process_id,
                    **({"waitNote": r.wait_note} if r.wait_note else {}),
                    "waitFailures": int(r.wait_failures or 0),
                }
                for r in tx.messages.subscriptions(instance)
            ]

    def jobs(self, instance: int) -> list[dict[str, Any]]:
        """The instance's open jobs: what its service tasks wait on."""
        with self.store.reader() as tx:
            return [
                {
                    "key": r.key,
                    "type": r.type,
                    "element": r.element_id,
                    "state": r.state,
                    "retries": r.retries,
                    "dueAt": from_millis(int(r.due_at)).isoformat(),
                    **({"error": r.error_message} if r.error_message else {}),
                    **({"remoteWait": remote_wait(r)} if r.state == "ready" and r.wait_reason else {}),
                    **_listener_of(r),
                }
                for r in tx.jobs.of_instance(instance)
            ]

    def next_job_due(self, types: Sequence[str] | None) -> int | None:
        with self.store.reader() as tx:
            return tx.jobs.next_due(types)

    # --- queries ----------------------------------------------------------------------------------

    def instance(self, key: int) -> InstanceView:
        with self.store.reader() as tx:
            loaded = tx.instances.load(key, lock=False)
            if loaded is None:
                raise NotFound(f"process instance {key} does not exist")
            return instance_view(tx, loaded[0])

    def element_owner(self, key: int) -> tuple[int, int | None]:
        """The instance that element instance ``key`` belongs to, and the scope that names it (None: ``key`` is
        the instance's own key, its process scope, as Camunda's APIs take it). NotFound unless it is active."""
        with self.store.reader() as tx:
            if tx.instances.load(key, lock=False) is not None:
                return key, None
            for candidate in tx.instances.holding(key):  # newest first: an element is most often a recent one's
                loaded = tx.instances.load(candidate, lock=False)
                if loaded is not None and key in loaded[0].elements:
                    return candidate, key
        raise NotFound(f"element instance {key} is not active in any process instance")

    def instances(
        self, *, state: str | None = None, process_id: str | None = None, limit: int = 100, after: int | None = None
    ) -> list[InstanceView]:
        status = None if state in (None, "incident") else state
        if state not in (None, "active", "completed", "terminated", "incident"):
            raise InvalidInput(f"unknown instance state '{state}': use active, completed, terminated or incident")
        with self.store.reader() as tx:
            rows = tx.instances.rows(
                status=status, process_id=process_id, incidents_only=state == "incident", limit=limit, after=after
            )
            # one query for the open jobs of the whole page, not one per instance
            ready = _by_key(tx.jobs.ready([int(r.key) for r in rows if r.status == InstanceStatus.ACTIVE.value]))
            return [instance_view(tx, InstanceState.from_dict(json.loads(r.state)), r, ready) for r in rows]

    def user_tasks(
        self,
        *,
        state: str | None = "created",
        instance: int | None = None,
        candidate_group: str | None = None,
        limit: int = 100,
        after: int | None = None,
        sort: str | None = None,
    ) -> list[TaskView]:
        """A page of tasks; ``sort`` is ``created`` (the default), ``dueDate``, ``followUpDate`` or ``priority``,
        with a leading ``-`` for descending (tasks without the date last either way)."""
        try:
            order = TaskOrder.parse(sort)
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None
        with self.store.reader() as tx:
            return [
                _with_reasoning(tx, _task(r))
                for r in tx.user_tasks.rows(
                    state=state, instance_key=instance, candidate_group=candidate_group, limit=limit, after=after,
                    order=order,
                )
            ]

    def user_task(self, key: int) -> TaskView:
        with self.store.reader() as tx:
            row = tx.user_tasks.get(key)
            if row is None:
                raise NotFound(f"user task {key} does not exist")
            return _with_reasoning(tx, _task(row))

    def incidents(
        self, *, state: str | None = "open", instance: int | None = None, limit: int = 100, after: int | None = None
    ) -> list[IncidentView]:
        with self.store.reader() as tx:
            rows = tx.incidents.rows(state=state, instance_key=instance, limit=limit, after=after)
            return [_incident(r) for r in rows]

    def journal_heads(self, instances: Sequence[int]) -> dict[int, int]:
        with self.store.reader() as tx:
            return tx.instances.journal_heads(instances)

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
                for r in tx.instances.journal(instance, after=after, limit=limit)
            ]


def instance_view(
    tx: StoreTx, state: InstanceState, row: InstanceRow | None = None, ready: dict[int, JobRow] | None = None
) -> InstanceView:
    """An instance as the API shows it. ``row``: its row, where the caller read it (for the times);
    ``ready``: the jobs no worker holds, by key (read here when not given)."""
    status = state.status.value
    if state.status == InstanceStatus.ACTIVE and state.incidents:
        status = "incident"
    if ready is None:
        ready = _by_key(tx.jobs.ready([state.key])) if state.status == InstanceStatus.ACTIVE else {}
    noted = _noted_waits(tx, state)
    elements = [
        {
            "elementId": e.element_id,
            "elementInstance": e.key,
            "state": e.state.value,
            **({"incident": e.incident} if e.incident else {}),
            **({"calledInstance": e.child_instance} if e.child_instance is not None else {}),
            **({"waitingFor": waiting_for_worker(ready[e.job])} if e.job in ready else {}),
            **({"waitingFor": noted[e.key]} if e.key in noted else {}),
        }
        for e in state.elements.values()
        if e.key != state.root and not e.inner  # an ad-hoc activation's scope is not an element of the model
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
        started_by=state.started_by,
    )


def _noted_waits(tx: StoreTx, state: InstanceState) -> dict[int, dict[str, Any]]:
    """The ``waitingFor`` of elements whose message wait something outside keeps going and noted a problem on (a
    poll that failed), by element instance; read only when an active element waits on a message at all."""
    if state.status != InstanceStatus.ACTIVE or not any(
        "message" in e.waits.values() for e in state.elements.values()
    ):
        return {}
    return {int(r.element_instance): waiting_for_message(r) for r in tx.messages.subscriptions(state.key)
            if r.wait_note and r.element_instance is not None}


def waiting_for_message(row: SubscriptionRow) -> dict[str, Any]:
    """An active element's ``waitingFor`` when it waits on a message that something outside brings and that
    noted a problem: the message, what the last check said, how many failed in a row and when it checks next."""
    waiting: dict[str, Any] = {
        "message": row.name,
        "correlationKey": row.correlation_key,
        "subscription": int(row.key),
        "lastError": str(row.wait_note)[:500],
        "failures": int(row.wait_failures or 0),
    }
    if row.next_check_at is not None:
        waiting["nextCheck"] = iso_utc(int(row.next_check_at))
    return waiting


def _by_key(rows: Sequence[JobRow]) -> dict[int, JobRow]:
    return {int(r.key): r for r in rows}


def waiting_for_worker(job: JobRow) -> dict[str, Any]:
    """An active element's ``waitingFor``: its job, which no worker holds.

    ``claims`` counts how often a worker took the job before (0: none of its type has yet); ``since`` is when
    it became ready for one (created, or due again after a failed attempt's backoff).
    """
    waiting: dict[str, Any] = {
        "jobType": job.type,
        "since": iso_utc(int(job.due_at)),
        "job": int(job.key),
        "retries": int(job.retries),
        "claims": int(job.lock_version),
    }
    if job.error_message:
        waiting["lastError"] = str(job.error_message)[:500]
    if job.wait_reason:
        waiting["remoteWait"] = remote_wait(job)
    return waiting


def remote_wait(job: JobRow) -> dict[str, str]:
    """A job that waits on remote work without a worker (``WaitRemote``): on what, and when it is checked next."""
    return {"reason": str(job.wait_reason), "nextCheck": iso_utc(int(job.due_at))}


def iso_utc(millis: int) -> str:
    """``2026-12-06T10:00:00Z``: a time in the store as ISO 8601 in UTC, to the second."""
    return from_millis(millis).strftime("%Y-%m-%dT%H:%M:%SZ")


def _with_reasoning(tx: StoreTx, view: TaskView) -> TaskView:
    """An approval task shows the agent's reasoning so far: what the model said with its calls, in order."""
    owner = view.details.get("agentElementInstance")
    if view.details.get("kind") != "approval" or not isinstance(owner, int):
        return view
    said = [m.get("content") for m in tx.conversations.read(owner) if m.get("role") == "assistant"]
    view.details["reasoning"] = [text for text in said if isinstance(text, str) and text]
    return view


def _task(row: UserTaskRow) -> TaskView:
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
        escalated=row.escalated_at is not None,
        form_key=row.form_key,
        priority=int(row.priority),
        created_at=int(row.created_at),
        details=json.loads(row.details) if row.details else {},
        element_instance=int(row.element_instance),
        ended_at=int(row.ended_at) if row.ended_at is not None else None,
    )


def _incident(row: IncidentRow) -> IncidentView:
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


def _listener_of(row: JobRow) -> dict[str, Any]:
    """A listener job's kind and event (``engine.runtime.behaviors.listeners`` puts them in its headers)."""
    headers = json.loads(row.headers) if row.headers else {}
    kind = headers.get("agenthub:jobKind")
    return {"kind": kind, "listenerEventType": headers.get("agenthub:listenerEventType")} if kind else {}
