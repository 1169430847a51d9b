"""Updating a user task's attributes through its ``updating`` listeners, as in Camunda 8.8.

An update (Camunda's changeset: ``candidateGroups``, ``candidateUsers``,
``dueDate``, ``followUpDate``, ``priority``; ``engine.runtime.task_changes``
checks it) of a task with ``zeebe:taskListener eventType="updating"`` is held:
the task keeps its attributes and shows ``"listener": {"state": "updating",
"changes": [names]}`` while the listeners' jobs run one at a time; the update
applies when the last one has completed. A listener's result may deny it
(nothing changes, the task says why) or correct the task: a corrected
attribute wins over the update's value for it. Without updating listeners the
update applies at once. Updates of a task's variables do not run updating
listeners here (Camunda's do): only attribute updates.

The held update lives in ``ElementInstance.pending`` as ``{"update": CHANGES, "by": WHO}``.
"""

from __future__ import annotations

from typing import Any

from engine.model import ListenerEvent
from engine.runtime import messages as m
from engine.runtime.behaviors.listeners import held, held_change_settled, open_listener
from engine.runtime.expressions import ExpressionFailure
from engine.runtime.journal import EventType
from engine.runtime.kernel import CommandRejected, Kernel
from engine.runtime.state import ElementInstance, ElementState, InstanceStatus
from engine.runtime.task_changes import task_fields

__all__ = ["update", "updating_done"]

_UPDATING = ListenerEvent.UPDATING


def update(command: m.UpdateTask, step: Kernel) -> None:
    """Someone updates the task: at once, or held for its updating listeners."""
    what = f"the update of user task {command.task}"
    try:
        fields = task_fields(command.changes, what)
    except ExpressionFailure as exc:
        raise CommandRejected(str(exc)) from None
    by = {"by": command.by.to_json()} if command.by is not None else {}
    element = step.state.elements.get(command.element_instance)
    node = step.node(element) if element is not None else None
    if element is None or node is None or element.user_task != command.task or not node.listeners_of(_UPDATING):
        step.effect(m.ReviseUserTask(command.task, fields))
        step.record(EventType.USER_TASK_UPDATED, element, task=command.task, changes=sorted(command.changes), **by)
        return
    if step.state.status != InstanceStatus.ACTIVE or element.state != ElementState.ACTIVE:
        raise CommandRejected(f"user task {command.task} is no longer open")
    if (reason := held(element)) is not None:
        raise CommandRejected(f"user task {command.task} is {reason}")
    element.pending = {"update": dict(command.changes), **by}
    element.listener = None  # a new round: every updating listener runs again
    try:
        open_listener(step, element, node, _UPDATING)
    except ExpressionFailure as exc:
        raise CommandRejected(f"user task {command.task} cannot be updated: {exc}") from None
    step.record(EventType.USER_TASK_UPDATING, element, task=command.task, changes=sorted(command.changes), **by)
    step.effect(m.UpdateUserTask(command.task, {"listener": {"state": "updating",
                                                             "changes": sorted(command.changes)}}))


def updating_done(step: Kernel, element: ElementInstance, task: int, result: dict[str, Any] | None) -> None:
    """An updating listener's job completed: the next one runs, else the update applies or is denied."""
    pending = held_change_settled(step, element, task, result, _UPDATING, "update")
    if pending is None:
        return
    corrections: dict[str, Any] = pending.get("corrections") or {}
    changes = {name: value for name, value in pending["update"].items() if name not in corrections}
    if changes:  # checked when the update was made
        step.effect(m.ReviseUserTask(task, task_fields(changes, f"the update of user task {task}")))
    by = {"by": pending["by"]} if pending.get("by") else {}
    step.record(EventType.USER_TASK_UPDATED, element, task=task, changes=sorted(pending["update"]), **by)
    corrected = {"corrections": corrections} if corrections else {}
    step.effect(m.UpdateUserTask(task, {"listener": {"state": "updated", "changes": sorted(pending["update"]),
                                                     **corrected}}))
