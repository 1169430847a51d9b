"""What goes into a step (commands) and what comes out (journal events and effects).

Commands name what happened outside: a job completed, a person completed a
task, a child instance finished. Events are the facts the step records in the
instance's journal. Effects are the work the step asks the store to do in the
same transaction: create or cancel jobs, user tasks and incidents, start or
cancel child instances, report to a parent instance.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.actor import Actor

# --- commands -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StartInstance:
    variables: dict[str, Any] = field(default_factory=dict)
    start_element: str | None = None  # a specific start event; default: the none start event
    by: Actor | None = None  # who started it (journal: instance_started's "by")


@dataclass(frozen=True, slots=True)
class CompleteJob:
    job: int
    element_instance: int
    variables: dict[str, Any] = field(default_factory=dict)
    # a task listener's result, as Camunda's: {"denied": bool, "deniedReason": str, "corrections": {...}}
    result: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class FailJob:
    """A job failed with no retries left (the job queue handles retries): raise an incident."""

    job: int
    element_instance: int
    message: str


@dataclass(frozen=True, slots=True)
class ThrowError:
    """A worker threw a BPMN error instead of completing its job."""

    job: int
    element_instance: int
    code: str
    message: str = ""
    variables: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CompleteUserTask:
    task: int
    element_instance: int
    variables: dict[str, Any] = field(default_factory=dict)
    by: Actor | None = None  # who completed it (journal: "by"; an approval counts its distinct approvers by it)


@dataclass(frozen=True, slots=True)
class AssignTask:
    """Someone assigns an open task (``assignee`` None: unassigns it); its assigning listeners may hold it."""

    task: int
    element_instance: int
    assignee: str | None
    by: Actor | None = None


@dataclass(frozen=True, slots=True)
class UpdateTask:
    """Someone updates an open task's attributes (Camunda's changeset: ``candidateGroups``, ``candidateUsers``,
    ``dueDate``, ``followUpDate``, ``priority``); its updating listeners may hold the update."""

    task: int
    element_instance: int
    changes: dict[str, Any]
    by: Actor | None = None


@dataclass(frozen=True, slots=True)
class ChildFinished:
    """A called instance completed (``variables`` are its root variables) or was terminated."""

    element_instance: int
    completed: bool
    variables: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CancelInstance:
    reason: str = "canceled"
    by: Actor | None = None


@dataclass(frozen=True, slots=True)
class ResolveIncident:
    incident: int
    by: Actor | None = None


@dataclass(frozen=True, slots=True)
class RaiseIncident:
    """Something outside that keeps an element's wait going gave up on it (a remote task that is gone): the element
    waits in an incident until a person resolves it, which lets the outside try again."""

    element_instance: int
    type: str
    message: str
    by: Actor | None = None


@dataclass(frozen=True, slots=True)
class SetVariables:
    scope: int | None  # element instance key; None = the process scope
    variables: dict[str, Any]
    local: bool = True
    by: Actor | None = None
    reason: str | None = None  # why, in the words of who set them (the console asks), kept in the journal


@dataclass(frozen=True, slots=True)
class Trigger:
    """A timer fired, or a message or signal arrived, for a wait opened by ``owner``.

    ``element_id`` is the event that reacts: the catch event or receive task
    itself, a boundary event of the owner, an event subprocess's start event
    in the owner's scope, or a catch event after an event-based gateway.
    ``repeats`` says the timer stays armed for another cycle.
    """

    wait: int
    owner: int
    element_id: str
    variables: dict[str, Any] = field(default_factory=dict)
    repeats: bool = False
    by: Actor | None = None  # who published the message or broadcast the signal (a timer has no one)


@dataclass(frozen=True, slots=True)
class ChildError:
    """A called instance threw an error (or escalation) it did not catch: the search goes on at the call activity."""

    element_instance: int
    code: str
    message: str = ""
    variables: dict[str, Any] = field(default_factory=dict)
    escalation: bool = False
    child: int = 0
    thrower: int = 0


@dataclass(frozen=True, slots=True)
class ErrorUncaught:
    """The parent did not catch a called instance's error either: raise an incident at the thrower."""

    element_instance: int
    code: str
    message: str = ""


@dataclass(frozen=True, slots=True)
class ParkJob:
    """A job's handler asked a person (``AskPerson``): a user task stands in for the job until it is answered."""

    job: int
    element_instance: int
    job_type: str
    retries: int
    headers: dict[str, str]
    name: str
    details: dict[str, Any]
    assignee: str | None
    candidate_groups: list[str]
    answer_variable: str
    round: int


@dataclass(frozen=True, slots=True)
class ActivateAdHocElements:
    """Activate inner elements of an active ad-hoc subprocess from outside (Camunda 8's ad-hoc activation API)."""

    element_instance: int
    elements: tuple[str, ...]
    variables: dict[str, Any] = field(default_factory=dict)  # local to each activation


Command = (
    StartInstance
    | ActivateAdHocElements
    | ParkJob
    | CompleteJob
    | FailJob
    | ThrowError
    | CompleteUserTask
    | AssignTask
    | UpdateTask
    | ChildFinished
    | CancelInstance
    | ResolveIncident
    | RaiseIncident
    | SetVariables
    | Trigger
    | ChildError
    | ErrorUncaught
)

# --- journal events ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class JournalEvent:
    type: str
    element_id: str | None = None
    element_instance: int | None = None
    data: dict[str, Any] | None = None


# --- effects --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CreateJob:
    key: int
    element_instance: int
    element_id: str
    type: str
    retries: int
    headers: dict[str, str]


@dataclass(frozen=True, slots=True)
class CancelJob:
    key: int


@dataclass(frozen=True, slots=True)
class CreateUserTask:
    key: int
    element_instance: int
    element_id: str
    name: str
    assignee: str | None
    candidate_groups: list[str]
    candidate_users: list[str]
    due_date: str | None
    follow_up_date: str | None
    form_key: str | None
    priority: int
    details: dict[str, Any] = field(default_factory=dict)
    due_at: int | None = None  # due_date's instant (epoch ms), for sorting; set with due_date
    follow_up_at: int | None = None  # follow_up_date's instant (epoch ms)


@dataclass(frozen=True, slots=True)
class CancelUserTask:
    key: int


@dataclass(frozen=True, slots=True)
class UpdateUserTask:
    """An open task's ``details`` change (keys given replace the stored ones): an approval's approvers so far."""

    key: int
    details: dict[str, Any]


@dataclass(frozen=True, slots=True)
class FinishUserTask:
    """An open task ends completed inside a step: its completing listeners let the completion through."""

    key: int
    variables: dict[str, Any]


@dataclass(frozen=True, slots=True)
class AssignUserTask:
    """An open task's assignee changes in the step (a task listener's correction); None unassigns it."""

    key: int
    assignee: str | None


@dataclass(frozen=True, slots=True)
class ScheduleUserTask:
    """An open task gets a due date after it was created (an approval whose policy has a ``dueDate``)."""

    key: int
    due_date: str
    due_at: int  # epoch ms


@dataclass(frozen=True, slots=True)
class ReviseUserTask:
    """An open task's attributes change (an update, a task listener's correction): store columns to values."""

    key: int
    fields: dict[str, Any]


@dataclass(frozen=True, slots=True)
class EscalateUserTask:
    """An open task passed its due date and is escalated: its priority goes up and it is flagged."""

    key: int
    priority: int


@dataclass(frozen=True, slots=True)
class CreateIncident:
    key: int
    element_instance: int
    element_id: str
    type: str  # "job" | "expression" | "decision" | "called-process" | "error" | ...
    message: str
    job: int | None = None


@dataclass(frozen=True, slots=True)
class ResolveIncidentRow:
    key: int


@dataclass(frozen=True, slots=True)
class RetryJob:
    """Make a job whose retries ran out runnable again."""

    key: int
    retries: int


@dataclass(frozen=True, slots=True)
class StartChild:
    key: int  # the child instance key, allocated by the parent step
    definition_key: int
    element_instance: int  # the call activity's element instance in the parent
    variables: dict[str, Any]
    depth: int = 1  # how deep the child is called: 1 for a call from an instance nobody called


@dataclass(frozen=True, slots=True)
class CancelChild:
    key: int


@dataclass(frozen=True, slots=True)
class NotifyParent:
    instance: int
    command: ChildFinished | ChildError


@dataclass(frozen=True, slots=True)
class NotifyChild:
    instance: int
    command: ErrorUncaught


@dataclass(frozen=True, slots=True)
class CreateTimer:
    key: int
    owner: int
    element_id: str
    due: str  # ISO 8601, UTC
    remaining: int | None = 0  # repetitions after this one; None: forever
    interval: str | None = None
    cron: str | None = None


@dataclass(frozen=True, slots=True)
class CancelTimer:
    key: int


@dataclass(frozen=True, slots=True)
class OpenSubscription:
    key: int
    owner: int
    element_id: str
    kind: str  # "message" | "signal"
    name: str
    correlation_key: str | None = None


@dataclass(frozen=True, slots=True)
class CloseSubscription:
    key: int


@dataclass(frozen=True, slots=True)
class PublishMessage:
    name: str
    correlation_key: str
    variables: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class BroadcastSignal:
    name: str
    variables: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AppendConversation:
    """Messages of an agent's conversation, stored once outside the instance's state and numbered from ``first``."""

    owner: int  # the agent's element instance
    first: int
    messages: list[dict[str, Any]]


Effect = (
    CreateJob
    | AppendConversation
    | CancelJob
    | CreateUserTask
    | CancelUserTask
    | UpdateUserTask
    | AssignUserTask
    | FinishUserTask
    | ScheduleUserTask
    | ReviseUserTask
    | EscalateUserTask
    | CreateIncident
    | ResolveIncidentRow
    | RetryJob
    | StartChild
    | CancelChild
    | NotifyParent
    | NotifyChild
    | CreateTimer
    | CancelTimer
    | OpenSubscription
    | CloseSubscription
    | BroadcastSignal
    | PublishMessage
)
