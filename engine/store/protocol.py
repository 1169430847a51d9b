"""What the engine needs from storage, as protocols: the seam between the facade and a database.

A ``Store`` hands out transactions. A ``StoreTx`` is one unit of work, made
of one part per group of rows it owns (definitions, instances and their
journal, jobs, user tasks, incidents, timers, subscriptions and messages,
agents' conversations), and is the step's source of keys. Everything done
through one ``transaction()`` is kept together or not at all.

Two implementations: ``engine.store.sql.SqlStore`` (SQLite or PostgreSQL)
and ``engine.store.memory.MemoryStore`` (plain Python structures, for tests
and embedding). Rows come back as the types of ``engine.store.rows``.

Errors (``engine.store.exceptions``) are typed: a missing row is a
``RowMissing``, a row in the wrong state a ``StateConflict``; callers tell
them apart by type, never by message text.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from engine.runtime import InstanceState
from engine.runtime import messages as m
from engine.store.event_log import LogFilter, LoggedInstanceRow
from engine.store.instance_search import ElementTally, InstanceFilter, ProcessCount
from engine.store.rows import (
    DecisionRow,
    DefinitionRow,
    DefinitionSource,
    DeploymentRow,
    FormRow,
    IncidentRow,
    InstanceRow,
    JobRow,
    JournalRow,
    MessageRow,
    SubscriptionRow,
    TimerRow,
    UserTaskRow,
)
from engine.store.task_order import TaskOrder

__all__ = [
    "ConversationRows",
    "DecisionRows",
    "DefinitionRows",
    "FormRows",
    "IncidentRows",
    "InstanceRows",
    "JobRows",
    "MessageRows",
    "Store",
    "StoreTx",
    "TimerRows",
    "UserTaskRows",
]


class DefinitionRows(Protocol):
    """Deployments, the files deployed with them, and the process definitions (versions) they created."""

    def insert_deployment(self, key: int, name: str, at: int) -> None: ...
    def insert_resource(self, deployment_key: int, name: str, checksum: str, content: str, at: int) -> None: ...
    def resource(self, deployment_key: int, name: str) -> str | None: ...
    def deployment_of(self, definition_key: int) -> int | None: ...
    def deployments(self, limit: int, after: int | None) -> Sequence[DeploymentRow]: ...
    def insert(self, row: DefinitionRow, xml: str) -> None: ...
    def expose(self, key: int) -> None: ...
    def latest(self, process_id: str) -> DefinitionRow | None: ...

    def find(self, process_id: str, version: int | None = None) -> DefinitionRow | None:
        """The definition of a process at ``version``, or its latest; None when there is none."""
        ...

    def version_of(self, key: int) -> int: ...
    def source(self, key: int) -> DefinitionSource | None: ...

    def versions(self, process_id: str | None = None) -> Sequence[DefinitionRow]:
        """Every deployed version (of one process), ordered by process id and version."""
        ...


class DecisionRows(Protocol):
    """Deployed DMN decision versions; the DMN text is the resource ``resource_name`` of ``deployment_key``."""

    def insert(self, row: DecisionRow) -> None: ...

    def find(self, decision_id: str, version: int | None = None, *,
             version_tag: str | None = None) -> DecisionRow | None:
        """The newest version of a decision (at ``version``, or with ``version_tag``); None when there is none."""
        ...

    def in_deployment(self, decision_id: str, deployment_key: int) -> DecisionRow | None:
        """The version whose DMN text the deployment ``deployment_key`` carries (deployed there or earlier)."""
        ...

    def versions(self, decision_id: str | None = None) -> Sequence[DecisionRow]:
        """Every deployed version (of one decision), ordered by decision id and version."""
        ...


class FormRows(Protocol):
    """Deployed Camunda Form versions; the form's JSON is the resource ``resource_name`` of ``deployment_key``."""

    def insert(self, row: FormRow) -> None: ...

    def find(self, form_id: str, *, version_tag: str | None = None) -> FormRow | None:
        """The newest version of a form (with ``version_tag``); None when there is none."""
        ...

    def in_deployment(self, form_id: str, deployment_key: int) -> FormRow | None:
        """The version whose text the deployment ``deployment_key`` carries (deployed there or earlier)."""
        ...


class InstanceRows(Protocol):
    """Process instances (state and revision) and their journal."""

    def load(self, key: int, *, lock: bool = True) -> tuple[InstanceState, int] | None:
        """The state and revision; ``lock=False`` only to look, never to save (a database may lock the row)."""
        ...

    def save(self, state: InstanceState, rev: int | None, now: int) -> None:
        """Insert (``rev`` None) or update at ``rev``; ``ConcurrentUpdate`` when another transaction got there."""
        ...

    def append_journal(self, instance_key: int, events: Iterable[m.JournalEvent], at: int) -> None: ...

    def rows(
        self,
        *,
        status: str | None = None,
        process_id: str | None = None,
        incidents_only: bool = False,
        limit: int = 100,
        after: int | None = None,
    ) -> Sequence[InstanceRow]: ...

    def journal(self, instance_key: int, *, after: int = 0, limit: int = 1000) -> Sequence[JournalRow]: ...
    def has_active_started_by(self, process_id: str, start_key: str) -> bool: ...

    def holding(self, element_instance: int) -> Sequence[int]:
        """The active instances, newest first, whose state's text names ``element_instance`` (the caller loads
        each to be sure: the text is a filter, not an index)."""
        ...

    def search(self, where: InstanceFilter, *, limit: int, before: int | None = None) -> Sequence[InstanceRow]:
        """Instances matching ``where``, newest first, with keys below ``before`` (``engine.store.instance_search``)."""
        ...

    def scanned_to(self, where: InstanceFilter, *, before: int | None = None) -> int | None:
        """Where a variable search below ``before`` stopped (the key of its last candidate), None if it saw all."""
        ...

    def count(self, where: InstanceFilter) -> int:
        """How many instances match ``where`` (no variable filter)."""
        ...

    def counts(self) -> Sequence[ProcessCount]:
        """How many instances each process version has, by status (and ``incident``)."""
        ...

    def element_tally(self, process_id: str, version: int, *, after: int = 0) -> ElementTally:
        """One process version's element events in the journal past position ``after``, and open incidents."""
        ...

    def log_instances(self, where: LogFilter, *, after: int | None, limit: int) -> Sequence[LoggedInstanceRow]:
        """The instances an event log holds, oldest first, with keys above ``after`` (``engine.store.event_log``)."""
        ...

    def journal_of(self, keys: Sequence[int], *, after: tuple[int, int] | None, limit: int) -> Sequence[JournalRow]:
        """The journal rows of the instances ``keys`` in (instance, position) order, past the pair ``after``."""
        ...

    def journal_heads(self, keys: Sequence[int]) -> dict[int, int]:
        """The last journal position of each of the instances ``keys`` that has one (one indexed query)."""
        ...


class JobRows(Protocol):
    """Jobs for workers, with leases (``lock_owner``, ``lock_version``, ``lock_expires_at``)."""

    def insert(
        self, effect: m.CreateJob, instance_key: int, process_id: str, now: int, lock: tuple[str, int] | None = None
    ) -> None: ...
    def release(self, key: int, owner: str, lock_version: int) -> None: ...
    def complete(self, key: int) -> None: ...
    def delete(self, key: int) -> None: ...
    def delete_of_instance(self, instance_key: int) -> None: ...
    def retry(self, key: int, retries: int, now: int) -> None: ...

    def locked(self, key: int, owner: str | None, lock_version: int | None) -> JobRow:
        """The open job, checked against the caller's lease: ``JobNotFound`` or ``JobLockLost`` otherwise."""
        ...

    def fail(self, key: int, retries: int, due_at: int, message: str) -> None: ...
    def wait(self, key: int, due_at: int, reason: str) -> None:
        """The job waits on remote work (``WaitRemote``): ready again at ``due_at``, no lease, stalls reset."""
        ...

    def wake(self, key: int, now: int) -> bool:
        """A waiting job due at ``now`` at the latest; False when the job is not waiting."""
        ...


    def claim(
        self, types: Sequence[str] | None, owner: str, now: int, lease_ms: int, limit: int, *, alone_after: int = 1
    ) -> Sequence[JobRow]:
        """Lock up to ``limit`` due jobs (ready, or locked under a lease that ran out) for ``owner``."""
        ...

    def extend_lease(self, key: int, owner: str, lock_version: int, expires_at: int) -> bool: ...
    def get(self, key: int) -> JobRow | None: ...
    def of_instance(self, instance_key: int) -> Sequence[JobRow]: ...
    def ready(self, instance_keys: Sequence[int]) -> Sequence[JobRow]: ...
    def next_due(self, types: Sequence[str] | None) -> int | None: ...
    def count(self, types: Sequence[str] | None = None, *, state: str | None = None) -> int: ...


class UserTaskRows(Protocol):
    def insert(self, effect: m.CreateUserTask, instance_key: int, process_id: str, now: int) -> None: ...

    def open(self, key: int) -> UserTaskRow:
        """The task while it is open: ``TaskMissing`` when there is none, ``TaskNotOpen`` when it has ended."""
        ...

    def end(self, key: int, state: str, now: int, variables: dict[str, Any] | None = None) -> None: ...
    def assign(self, key: int, assignee: str | None) -> None: ...

    def update_details(self, key: int, details: dict[str, Any]) -> None:
        """Merge ``details`` into an open task's details (an approval's approvers so far)."""
        ...

    def schedule(self, key: int, due_date: str, due_at: int) -> None:
        """Give an open task a due date (an approval whose policy has a ``dueDate``)."""
        ...

    def revise(self, key: int, fields: dict[str, Any]) -> None:
        """Set an open task's attributes (``messages.ReviseUserTask``: columns, candidate lists as lists)."""
        ...

    def escalate(self, key: int, priority: int, now: int) -> None:
        """Raise an open task's priority and mark it escalated at ``now``."""
        ...

    def rows(
        self,
        *,
        state: str | None = "created",
        instance_key: int | None = None,
        candidate_group: str | None = None,
        limit: int = 100,
        after: int | None = None,
        order: TaskOrder | None = None,
    ) -> Sequence[UserTaskRow]:
        """A page of tasks in ``order`` (``engine.store.task_order``; None: creation order) after the task
        ``after``."""
        ...

    def get(self, key: int) -> UserTaskRow | None: ...


class IncidentRows(Protocol):
    def insert(self, effect: m.CreateIncident, instance_key: int, process_id: str, now: int) -> None: ...
    def resolve(self, key: int, now: int) -> None: ...
    def get(self, key: int) -> IncidentRow | None: ...

    def rows(
        self, *, state: str | None = "open", instance_key: int | None = None, limit: int = 100, after: int | None = None
    ) -> Sequence[IncidentRow]: ...


class TimerRows(Protocol):
    def insert(self, row: TimerRow) -> None: ...
    def delete(self, key: int) -> None: ...
    def rearm(self, key: int, due_at: int, remaining: int | None) -> None: ...
    def due(self, now: int, limit: int) -> Sequence[TimerRow]: ...
    def next_due(self) -> int | None: ...
    def rows(self, instance_key: int | None = None) -> Sequence[TimerRow]: ...
    def delete_starts(self, process_id: str) -> None:
        """Drop the start timers of every deployed version of a process."""
        ...


class MessageRows(Protocol):
    """Message and signal subscriptions, buffered messages and which instances they reached."""

    def subscribe(self, row: SubscriptionRow) -> None: ...
    def unsubscribe(self, key: int) -> None: ...
    def delete_starts(self, process_id: str) -> None:
        """Drop the start subscriptions of every deployed version of a process."""
        ...

    def matching(self, kind: str, name: str, correlation_key: str | None) -> Sequence[SubscriptionRow]: ...
    def subscriptions(self, instance_key: int | None = None) -> Sequence[SubscriptionRow]: ...
    def note(self, key: int, note: str | None, failures: int, next_check_at: int | None) -> bool:
        """Say why a waiting subscription's outside check fails (None: it no longer does); False: it is gone."""
        ...

    def with_id(self, name: str, correlation_key: str, message_id: str, now: int) -> MessageRow | None: ...
    def buffer(self, row: MessageRow) -> None: ...

    def buffered_for(
        self, name: str, correlation_key: str | None, instance_key: int, process_id: str, now: int
    ) -> MessageRow | None:
        """The oldest live buffered message with this name and key not yet correlated to this process."""
        ...

    def record_correlation(self, message_key: int, instance_key: int) -> None: ...
    def delete_expired(self, now: int, limit: int = 1000) -> int: ...


class ConversationRows(Protocol):
    """Agents' conversations: each message stored once (a payload kept apart from the instance's state)."""

    def append(self, owner: int, instance_key: int, first: int, items: Sequence[Any], at: int) -> None: ...
    def read(self, owner: int, *, after: int = -1, limit: int | None = None) -> list[Any]: ...


class StoreTx(Protocol):
    """One unit of work; also the step's source of keys."""

    def next_key(self) -> int: ...
    def savepoint(self) -> AbstractContextManager[None]:
        """A part of the transaction that an exception rolls back alone, the rest of the transaction kept."""
        ...

    @property
    def definitions(self) -> DefinitionRows: ...
    @property
    def decisions(self) -> DecisionRows: ...
    @property
    def forms(self) -> FormRows: ...
    @property
    def instances(self) -> InstanceRows: ...
    @property
    def jobs(self) -> JobRows: ...
    @property
    def user_tasks(self) -> UserTaskRows: ...
    @property
    def incidents(self) -> IncidentRows: ...
    @property
    def timers(self) -> TimerRows: ...
    @property
    def messages(self) -> MessageRows: ...
    @property
    def conversations(self) -> ConversationRows: ...


class Store(Protocol):
    """Hands out transactions: ``transaction()`` to change things, ``reader()`` to look (nothing is kept)."""

    def transaction(self) -> AbstractContextManager[StoreTx]: ...
    def reader(self) -> AbstractContextManager[StoreTx]: ...
    def close(self) -> None: ...
