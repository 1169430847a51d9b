"""Execution and task listeners: jobs an element waits for around its own work, one at a time, as in Camunda 8.8.

``zeebe:executionListeners`` on any flow node: ``start`` listeners run after
the element's input mappings and before its own work (the element is still
activating meanwhile), ``end`` listeners after its output mappings and
before it takes its outgoing flows (it is completing); a multi-instance
body's run before its input collection is read and after its output
collection is complete. ``zeebe:taskListeners`` on a user task:
``completing`` listeners run when someone completes the task and before it
completes; the last one's result may deny the completion (the task stays
open and says why) or correct the task (assignee, dates, candidates,
priority). ``assigning`` and ``updating`` listeners hold an assignment or an
update the same way (``task_assignment``, ``task_update``).
Several listeners of one event run in document order, each job created when
the one before completed. A listener job's variables are written as a job
completion's are (to the nearest scope that has each name, else the process).
A listener job that fails with no retries left is an incident on the element;
resolving it retries that job.

The element records where it is in ``ElementInstance.listener``
(``ListenerPosition``: the event, the listeners of that event done, the open
listener job or None). The job
carries its kind and event in reserved headers (``KIND_HEADER``,
``EVENT_HEADER``; a task listener's also the task's key, ``TASK_HEADER``), so
a worker tells a listener job from the element's own job.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Final

from engine.model import FlowNode, ListenerEvent, Process
from engine.runtime import messages as m
from engine.runtime.behaviors.activation import open_job
from engine.runtime.expressions import ExpressionFailure, evaluate_value
from engine.runtime.journal import EventType
from engine.runtime.kernel import Kernel
from engine.runtime.records import ListenerPosition
from engine.runtime.state import ElementInstance
from engine.runtime.task_changes import task_fields

__all__ = [
    "ASSIGNEE_HEADER", "EVENT_HEADER", "KIND_HEADER", "TASK_HEADER", "JobKind", "creating", "creating_done", "held",
    "listener_job", "listener_job_done", "listening", "next_or_ended", "open_listener", "still_creating",
    "task_listener_result",
]

KIND_HEADER: Final = "agenthub:jobKind"
EVENT_HEADER: Final = "agenthub:listenerEventType"
TASK_HEADER: Final = "agenthub:userTaskKey"
ASSIGNEE_HEADER: Final = "agenthub:assignee"  # an assigning listener's job: the assignee being given ("": none)


class JobKind(StrEnum):
    """What a job is for (Camunda's ``job.kind``): the element's own work or one of its listeners."""

    BPMN_ELEMENT = "BPMN_ELEMENT"
    EXECUTION_LISTENER = "EXECUTION_LISTENER"
    TASK_LISTENER = "TASK_LISTENER"


def listening(element: ElementInstance, event: ListenerEvent) -> bool:
    """Whether ``element`` has begun running its listeners of ``event``."""
    return element.listener is not None and element.listener.event == event.value


def open_listener(step: Kernel, element: ElementInstance, node: FlowNode | Process, event: ListenerEvent) -> bool:
    """Create the job of the next listener of ``event`` on ``element`` (on the process's root instance, ``node``
    is the process); False when all of them have run. True, creating nothing, while one's job is open."""
    todo = node.listeners_of(event)
    if listening(element, event) and element.listener is not None and element.listener.job is not None:
        return True
    done = element.listener.done if listening(element, event) and element.listener is not None else 0
    if done >= len(todo):
        return False
    listener = todo[done]
    scope = step.scope(element.key)
    what = f"the {event} listener {done + 1} of '{node.id}'"
    job_type = evaluate_value(listener.job.type, scope, step.now, what=f"job type of {what}")
    if not isinstance(job_type, str) or not job_type:
        raise ExpressionFailure(f"expected the job type of {what} to be a non-empty string, but it was {job_type!r}")
    retries = evaluate_value(listener.job.retries, scope, step.now, what=f"retries of {what}")
    try:
        retry_count = int(retries)
    except (TypeError, ValueError):
        raise ExpressionFailure(f"expected the retries of {what} to be a number, but it was {retries!r}") from None
    kind = JobKind.EXECUTION_LISTENER if listener.execution else JobKind.TASK_LISTENER
    headers = {KIND_HEADER: kind.value, EVENT_HEADER: event.value.upper()}
    if element.user_task is not None and not listener.execution:
        headers[TASK_HEADER] = str(element.user_task)
    if event == ListenerEvent.ASSIGNING and element.pending is not None:
        headers[ASSIGNEE_HEADER] = element.pending.get("assign") or ""
    key = open_job(step, element, job_type, retry_count, headers, listener=event.value)
    element.listener = ListenerPosition(event.value, done, key)
    return True


def listener_job_done(step: Kernel, element: ElementInstance, variables: dict[str, Any]) -> ListenerEvent:
    """The open listener job completed: count it, write its variables, and say which event's listener it was."""
    assert element.listener is not None
    event = ListenerEvent(element.listener.event)
    element.listener = ListenerPosition(event.value, element.listener.done + 1)
    element.job = None
    step.set_variables(element.key, variables, local=False)
    return event


def listener_job(element: ElementInstance | None, job: int) -> bool:
    """Whether ``job`` is the listener job ``element`` waits for."""
    return element is not None and element.listener is not None and element.listener.job == job


# --- task listeners: creating runs after the task is created, completing holds a completion ------------------


def creating(step: Kernel, element: ElementInstance, node: FlowNode) -> None:
    """A user task was just created: its creating listeners run, the task saying so (completing it waits)."""
    if element.user_task is None or not node.listeners_of(ListenerEvent.CREATING):
        return
    try:
        if open_listener(step, element, node, ListenerEvent.CREATING):
            step.effect(m.UpdateUserTask(element.user_task, {"listener": {"state": "creating"}}))
    except ExpressionFailure as exc:  # the task is there already: it stays usable, and says what did not run
        step.effect(m.UpdateUserTask(element.user_task, {"listener": {"state": "created", "failed": str(exc)}}))


def still_creating(element: ElementInstance) -> bool:
    """Whether a creating listener's job is still open on the task's element (completing it waits for it)."""
    return listening(element, ListenerEvent.CREATING) and element.listener is not None \
        and element.listener.job is not None


_HELD: Final = (("assign", "being assigned: its assigning"), ("update", "being updated: its updating"),
                ("variables", "already being completed: its completing"))


def held(element: ElementInstance) -> str | None:
    """Why the element's task cannot change now (its listeners hold a transition), as the end of a sentence."""
    if still_creating(element):
        return "still being created: its creating listeners are running"
    pending = element.pending or {}
    return next((f"{why} listeners are running" for key, why in _HELD if key in pending), None)


def next_or_ended(step: Kernel, element: ElementInstance, event: ListenerEvent, ended: str) -> dict[str, Any] | None:
    """Open the next listener of ``event`` (None), else the task's listener state once they have run: ``ended``,
    with ``failed`` when the next one's expression failed (it is skipped: the transition cannot wait on it)."""
    try:
        if open_listener(step, element, step.node(element), event):
            return None
        return {"state": ended}
    except ExpressionFailure as exc:
        return {"state": ended, "failed": str(exc)}


def creating_done(step: Kernel, element: ElementInstance, task: int, result: dict[str, Any] | None) -> None:
    """A creating listener's job completed: its corrections apply; the next one runs, else the task is created."""
    task_listener_result(step, element, task, result)  # a creating listener corrects; it has nothing to deny
    state = next_or_ended(step, element, ListenerEvent.CREATING, "created")
    if state is None:
        return
    corrections = element.pending.get("corrections") if element.pending else None
    held = element.pending.get("assign") if element.pending else None  # the assignee it was created with
    element.pending = {"assign": held} if held else None
    if corrections:
        state["corrections"] = corrections
    step.effect(m.UpdateUserTask(task, {"listener": state}))


# --- what a task listener's result does to the task -----------------------------------------------------------

_CORRECTABLE: Final = ("assignee", "dueDate", "followUpDate", "candidateUsers", "candidateGroups", "priority")


def task_listener_result(step: Kernel, element: ElementInstance, task: int, result: dict[str, Any] | None,
                         event: ListenerEvent = ListenerEvent.COMPLETING) -> str | None:
    """Apply a task listener's ``result`` to ``task``: its corrections; returns the reason when it denies."""
    result = result or {}
    corrections = result.get("corrections") or {}
    if not isinstance(corrections, dict):
        corrections = {}
    unknown = sorted(set(corrections) - set(_CORRECTABLE))
    kept = {name: value for name, value in corrections.items() if name in _CORRECTABLE}
    if kept:
        _correct(step, element, task, kept)
    if unknown:
        step.record(EventType.USER_TASK_CORRECTED, element, task=task, ignored=unknown)
    if result.get("denied") is True:
        reason = result.get("deniedReason")
        return str(reason) if reason else f"denied by {'an' if event == ListenerEvent.ASSIGNING else 'a'} {event} "\
            "listener"
    return None


def _correct(step: Kernel, element: ElementInstance, task: int, corrections: dict[str, Any]) -> None:
    if "assignee" in corrections:
        assignee = str(corrections["assignee"]) if corrections["assignee"] else None
        if element.pending is not None and "assign" in element.pending:  # an assignment is held: it changes
            element.pending["assign"] = assignee
        elif listening(element, ListenerEvent.CREATING) and step.node(element).listeners_of(ListenerEvent.ASSIGNING):
            element.pending = {**(element.pending or {}), "assign": assignee}  # assigned after its listeners ran
        else:
            step.effect(m.AssignUserTask(task, assignee))
    attributes = {name: value for name, value in corrections.items() if name != "assignee" and value is not None}
    if attributes:
        try:
            step.effect(m.ReviseUserTask(task, task_fields(attributes, "a task listener's corrections")))
        except ExpressionFailure as exc:  # the corrections are dropped, and the journal says why
            step.record(EventType.USER_TASK_CORRECTED, element, task=task, ignored=sorted(attributes),
                        reason=str(exc))
    step.record(EventType.USER_TASK_CORRECTED, element, task=task, corrections=sorted(corrections))
    if element.pending is None:  # kept for the task's record (a creating listener's, until the last one ran)
        element.pending = {"corrections": {}}
    element.pending["corrections"] = {**element.pending.get("corrections", {}), **corrections}
    step.effect(m.UpdateUserTask(task, {"listener": {"state": "corrected", "corrections": corrections}}))


def held_change_settled(step: Kernel, element: ElementInstance, task: int, result: dict[str, Any] | None,
                        event: ListenerEvent, change: str) -> dict[str, Any] | None:
    """An ``assigning`` or ``updating`` listener's job completed (``change``: the pending change it holds, "assign"
    or "update"): None while the next listener runs, or when one denied the change (journaled, shown on the task);
    else the pending change, now let through, for the caller to apply."""
    if element.pending is None or change not in element.pending:
        return None
    denied = task_listener_result(step, element, task, result, event)
    if denied is None:
        try:
            if open_listener(step, element, step.node(element), event):
                return None
        except ExpressionFailure as exc:
            denied = f"the next {event.value} listener could not run: {exc}"
    pending, element.pending, element.listener = element.pending, None, None
    if denied is not None:
        step.record(EventType.USER_TASK_DENIED, element, task=task, reason=denied, event=event.value)
        step.effect(m.UpdateUserTask(task, {"listener": {"state": "denied", "event": event.value,
                                                         "deniedReason": denied}}))
        return None
    return pending
