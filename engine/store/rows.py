"""The rows a store hands back, one frozen dataclass per table.

Both stores answer with the same fields: the in-memory store with these
classes, the SQL store with the database's own rows (named tuples), which
carry the same column names. Values keep the form they have in the tables:
JSON columns (``state``, ``headers``, ``candidate_groups``, ``variables``,
``details``, ``data``) are JSON text, times are epoch milliseconds. So the
engine reads a row the same way whichever store it came from, and the
in-memory store stores copies by construction.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DeploymentRow:
    key: int
    name: str
    created_at: int


@dataclass(frozen=True, slots=True)
class FormRow:
    """A deployed Camunda Form version; its form-js JSON is the resource ``resource_name`` of its deployment."""

    key: int
    form_id: str
    version: int
    version_tag: str | None
    deployment_key: int
    resource_name: str
    checksum: str  # of the form's text, as the deployment's resource row has it
    created_at: int


@dataclass(frozen=True, slots=True)
class DecisionRow:
    """A deployed DMN decision version; its DMN text is the resource ``resource_name`` of its deployment."""

    key: int
    decision_id: str
    version: int
    name: str | None
    version_tag: str | None
    deployment_key: int
    resource_name: str
    checksum: str  # of the DMN text, as the deployment's resource row has it
    created_at: int


@dataclass(frozen=True, slots=True)
class DefinitionRow:
    """A deployed process version, without its BPMN text (see ``DefinitionSource``)."""

    key: int
    process_id: str
    version: int
    name: str | None
    deployment_key: int
    resource_name: str
    checksum: str
    created_at: int
    exposed: bool


@dataclass(frozen=True, slots=True)
class DefinitionSource:
    key: int
    process_id: str
    version: int
    xml: str
    resource_name: str
    deployment_key: int


@dataclass(frozen=True, slots=True)
class InstanceRow:
    key: int
    process_id: str
    definition_key: int
    version: int
    status: str
    incidents: int
    parent_instance: int | None
    created_at: int
    ended_at: int | None
    rev: int
    start_key: str | None
    state: str
    started_by: str | None = None


@dataclass(frozen=True, slots=True)
class JournalRow:
    id: int
    instance_key: int
    type: str
    element_id: str | None
    element_instance: int | None
    data: str | None
    at: int


@dataclass(frozen=True, slots=True)
class JobRow:
    key: int
    instance_key: int
    element_instance: int
    element_id: str
    process_id: str
    type: str
    state: str  # ready | locked | failed | completed (a tombstone until the instance ends)
    retries: int
    due_at: int
    lock_owner: str | None
    lock_expires_at: int | None
    lock_version: int
    stalls: int
    headers: str
    error_message: str | None
    created_at: int
    wait_reason: str | None = None  # set while it waits on remote work (``WaitRemote``)
    failures: int = 0  # failed attempts since it was created or retried: a worker's backoff grows with them


@dataclass(frozen=True, slots=True)
class UserTaskRow:
    key: int
    instance_key: int
    element_instance: int
    element_id: str
    process_id: str
    name: str
    state: str  # created | completed | canceled
    assignee: str | None
    candidate_groups: str
    candidate_users: str
    due_date: str | None
    follow_up_date: str | None
    form_key: str | None
    priority: int
    details: str | None
    variables: str | None
    created_at: int
    ended_at: int | None
    due_at: int | None = None  # due_date's instant (epoch ms), what a list sorts by
    follow_up_at: int | None = None
    escalated_at: int | None = None  # set when an approval past its due date was escalated


@dataclass(frozen=True, slots=True)
class IncidentRow:
    key: int
    instance_key: int
    element_instance: int
    element_id: str
    process_id: str
    type: str
    message: str
    job_key: int | None
    state: str  # open | resolved
    created_at: int
    resolved_at: int | None


@dataclass(frozen=True, slots=True)
class TimerRow:
    """A timer; ``instance_key`` None: a timer start event of a process definition."""

    key: int
    instance_key: int | None
    element_instance: int | None
    definition_key: int | None
    process_id: str
    element_id: str
    due_at: int
    remaining: int | None  # repetitions after the next one; None: forever
    interval: str | None
    cron: str | None
    created_at: int


@dataclass(frozen=True, slots=True)
class SubscriptionRow:
    """A message or signal subscription; ``instance_key`` None: a start event of a process definition."""

    key: int
    kind: str  # message | signal
    name: str
    correlation_key: str | None
    instance_key: int | None
    element_instance: int | None
    definition_key: int | None
    process_id: str
    element_id: str
    created_at: int
    wait_note: str | None = None  # what keeps the wait going from outside says (a failed poll), for waitingFor
    wait_failures: int | None = None  # failures in a row behind the note
    next_check_at: int | None = None  # when the wait is checked next (millis)


@dataclass(frozen=True, slots=True)
class MessageRow:
    """A published message buffered for subscriptions that open later."""

    key: int
    name: str
    correlation_key: str
    message_id: str | None
    variables: str
    expires_at: int
    created_at: int
