"""What the engine's queries return: plain, JSON-friendly snapshots."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from engine.parser import Problem

# Keys of a task's details that are bookkeeping, not something the person acts on.
_NOT_INPUTS: Final = frozenset({
    "kind", "inputs", "agentElementInstance", "argumentsHash", "callId", "reasoning",
    # an approval's rule (engine.agent.approvals)
    "approvers", "approvedBy", "allowMachines", "excludedApprovers", "candidatesUnresolved",
    "listener",  # where the task's completing listeners are (engine.runtime.behaviors.listeners)
    "draft",  # a person's saved draft of the task's values (Engine.save_user_task_draft)
})


@dataclass(frozen=True, slots=True)
class DeployedProcess:
    process_id: str
    version: int
    key: int
    resource_name: str
    is_new: bool  # False when the same resource was deployed before and the version was reused
    # What the engine accepts in this process but will not act on (an ad-hoc subprocess's job worker, a Camunda
    # connector type nothing here handles ...): each with file, line and element, as deployment problems are.
    warnings: tuple[Problem, ...] = ()


@dataclass(frozen=True, slots=True)
class InstanceView:
    key: int
    process_id: str
    version: int
    state: str  # completed | active | incident | terminated
    variables: dict[str, Any]
    active_elements: list[dict[str, Any]] = field(default_factory=list)
    parent_instance: int | None = None
    created_at: int | None = None
    ended_at: int | None = None
    started_by: str | None = None  # the principal that started it (None: the engine did, or unrecorded)

    def to_json(self) -> dict[str, Any]:
        """The shape the CLI's ``--json`` prints."""
        return {
            "instance": self.key,
            "process": self.process_id,
            "state": self.state,
            "variables": self.variables,
            "startedBy": self.started_by,
        }


@dataclass(frozen=True, slots=True)
class TaskView:
    key: int
    instance: int
    element_id: str
    name: str
    process_id: str
    state: str
    assignee: str | None
    candidate_groups: list[str]
    candidate_users: list[str]
    due_date: str | None = None
    follow_up_date: str | None = None
    form_key: str | None = None
    priority: int = 50
    created_at: int | None = None
    details: dict[str, Any] = field(default_factory=dict)
    escalated: bool = False  # an approval past its due date whose policy escalates (engine.agent.deadlines)
    element_instance: int = 0  # the user task element's instance (0: not known to the one who built the view)
    ended_at: int | None = None

    @property
    def inputs(self) -> dict[str, Any]:
        """What the person needs to act: the task's input-mapped variables (with an agent's tool call arguments)
        as they were when it was created; for a task the engine created on someone's behalf (an approval, a job
        that asks a person) the question and what comes with it."""
        stored = self.details.get("inputs")
        if isinstance(stored, dict):
            return stored
        return {k: v for k, v in self.details.items() if k not in _NOT_INPUTS}

    def held(self, transition: str) -> bool:
        """Whether the task's listeners hold ``transition`` (assigning, updating, completing) until their jobs run."""
        listener = self.details.get("listener")
        return self.state == "created" and isinstance(listener, dict) and listener.get("state") == transition

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.key,
            "instance": self.instance,
            "element": self.element_id,
            "name": self.name,
            "assignee": self.assignee,
            "candidateGroups": self.candidate_groups,
            "candidateUsers": self.candidate_users,
            "process": self.process_id,
            "state": self.state,
            "dueDate": self.due_date,
            "followUpDate": self.follow_up_date,
            "formKey": self.form_key,
            "priority": self.priority,
            "escalated": self.escalated,
            "createdAt": self.created_at,
            **self.details,
            "inputs": self.inputs,
        }


@dataclass(frozen=True, slots=True)
class IncidentView:
    key: int
    instance: int
    element_id: str
    element_instance: int
    process_id: str
    type: str
    message: str
    state: str
    job: int | None = None
    created_at: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.key,
            "instance": self.instance,
            "element": self.element_id,
            "process": self.process_id,
            "type": self.type,
            "message": self.message,
            "state": self.state,
            "job": self.job,
            "createdAt": self.created_at,
        }


@dataclass(frozen=True, slots=True)
class ActivatedJob:
    """A job claimed by a worker: what its handler sees."""

    key: int
    type: str
    instance: int
    element_id: str
    element_instance: int
    process_id: str
    retries: int
    headers: dict[str, str]
    variables: dict[str, Any]
    worker: str
    lock_version: int
    lease_expires_at: int
    stalls: int = 0  # how often a worker died holding it: the worker loop runs such a job alone
    failures: int = 0  # its failed attempts so far (since it was created or retried): the backoff doubles with each
    trace: dict[str, str] | None = None  # its instance's W3C trace context: the worker's span for it joins that trace

    @property
    def kind(self) -> str:
        """Camunda's ``job.kind``: ``BPMN_ELEMENT``, ``EXECUTION_LISTENER`` or ``TASK_LISTENER`` (from the job's
        reserved header ``agenthub:jobKind``, set by ``engine.runtime.behaviors.listeners``)."""
        return self.headers.get("agenthub:jobKind", "BPMN_ELEMENT")

    @property
    def listener_event(self) -> str | None:
        """A listener job's event (``START``, ``END``, ``COMPLETING``), else None."""
        return self.headers.get("agenthub:listenerEventType")
