"""Assigning a user task through its ``assigning`` listeners, as in Camunda 8.8.

An assignment (a claim, an assignment to someone, an unassignment, and the
assignee a task is created with) of a task with ``zeebe:taskListener
eventType="assigning"`` is held: the task keeps its old assignee and shows
``"listener": {"state": "assigning", "assignee": NEW}`` while the listeners'
jobs run one at a time (each job names the assignee being given in the
``agenthub:assignee`` header); the assignment takes effect when the last one
has completed. A listener's result may deny it (the old assignee stays, the
task says why) or correct it: ``corrections.assignee`` changes the assignee
being given, the other corrections apply at once, as a completing listener's
do. At creation, the task's creating listeners run first, then its assigning
listeners, the task unassigned until they have.

While an assignment is held, the task can be neither assigned again nor
completed (refused, saying why). The held assignment lives in
``ElementInstance.pending`` as ``{"assign": NEW, "by": WHO}``. A task without
assigning listeners is assigned at once, as before.
"""

from __future__ import annotations

from typing import Any

from engine.model import FlowNode, ListenerEvent
from engine.runtime import messages as m
from engine.runtime.behaviors.listeners import held, held_change_settled, open_listener, still_creating
from engine.runtime.expressions import ExpressionFailure
from engine.runtime.journal import EventType
from engine.runtime.kernel import CommandRejected, Kernel
from engine.runtime.state import ElementInstance, ElementState, InstanceStatus

__all__ = ["assign", "assign_created", "assigning", "assigning_done"]

_ASSIGNING = ListenerEvent.ASSIGNING


def assigning(element: ElementInstance) -> bool:
    """Whether an assignment of the element's task waits for its assigning listeners."""
    return element.pending is not None and "assign" in element.pending and not still_creating(element)


def assign(command: m.AssignTask, step: Kernel) -> None:
    """Someone assigns the task: at once, or held for its assigning listeners."""
    by = {"by": command.by.to_json()} if command.by is not None else {}
    element = step.state.elements.get(command.element_instance)
    node = step.node(element) if element is not None else None
    if element is None or node is None or element.user_task != command.task or not node.listeners_of(_ASSIGNING):
        step.effect(m.AssignUserTask(command.task, command.assignee))
        step.record(EventType.USER_TASK_CLAIMED, element, task=command.task, assignee=command.assignee, **by)
        return
    if step.state.status != InstanceStatus.ACTIVE or element.state != ElementState.ACTIVE:
        raise CommandRejected(f"user task {command.task} is no longer open")
    if (reason := held(element)) is not None:
        raise CommandRejected(f"user task {command.task} is {reason}")
    element.pending = {"assign": command.assignee, **by}
    try:
        _hold(step, element, node, command.task)
    except ExpressionFailure as exc:
        raise CommandRejected(f"user task {command.task} cannot be assigned: {exc}") from None


def assign_created(step: Kernel, element: ElementInstance, node: FlowNode) -> None:
    """A task created with an assignee and assigning listeners, its creating listeners done: they run now."""
    task = element.user_task
    if task is None or not assigning(element):
        return
    try:
        _hold(step, element, node, task)
    except ExpressionFailure as exc:  # the task is there, unassigned: it stays usable, and says what did not run
        element.pending = None
        step.effect(m.UpdateUserTask(task, {"listener": {"state": "created", "failed": str(exc)}}))


def _hold(step: Kernel, element: ElementInstance, node: FlowNode, task: int) -> None:
    assert element.pending is not None
    element.listener = None  # a new round: every assigning listener runs again
    open_listener(step, element, node, _ASSIGNING)
    assignee = element.pending.get("assign")
    by = {"by": element.pending["by"]} if element.pending.get("by") else {}
    step.record(EventType.USER_TASK_ASSIGNING, element, task=task, assignee=assignee, **by)
    step.effect(m.UpdateUserTask(task, {"listener": {"state": "assigning", "assignee": assignee}}))


def assigning_done(step: Kernel, element: ElementInstance, task: int, result: dict[str, Any] | None) -> None:
    """An assigning listener's job completed: the next one runs, else the assignment is made or denied."""
    pending = held_change_settled(step, element, task, result, _ASSIGNING, "assign")
    if pending is None:
        return
    assignee = pending.get("assign")
    by = {"by": pending["by"]} if pending.get("by") else {}
    step.effect(m.AssignUserTask(task, assignee))
    step.record(EventType.USER_TASK_CLAIMED, element, task=task, assignee=assignee, **by)
    corrected = {"corrections": pending["corrections"]} if pending.get("corrections") else {}
    step.effect(m.UpdateUserTask(task, {"listener": {"state": "assigned", "assignee": assignee, **corrected}}))
