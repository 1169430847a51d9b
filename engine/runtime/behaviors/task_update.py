"""Updating a user task's attributes through its ``updating`` listeners, as in Camunda 8.8.

An update (Camunda's changeset: ``candidateGroups``, ``candidateUsers``,
``dueDate``, ``followUpDate``, ``priority``; ``engine.runtime.task_changes``
checks it) of a task with ``zeebe:taskListener eventType="updating"`` is held:
the task keeps its attributes and shows ``"listener": {"state": "updating",
"changes": [names]}`` while the listeners' jobs run one at a time; the update
applies when the last one has completed. A listener's result may deny it
(nothing changes, the task says why) or correct the task: a corrected
attribute wins over the update's value for it. Without updating listeners the
update applies at once. Setting variables in the task's own scope (local, at its element instance:
``Engine.set_user_task_variables``, ``PUT /api/v1/user-tasks/{key}/variables``) is an update too, as in
Camunda 8.8: held the same way (``"changes": ["variables"]``), the variables written when the last listener
has completed, nothing written when one denies. Variables set with propagation (not local) do not run them.

The held update lives in ``ElementInstance.pending`` as ``{"update": CHANGES, "variables"?: VALUES, "by": WHO}``.
"""

from __future__ import annotations

from typing import Any

from engine.model import FlowNode, ListenerEvent
from engine.runtime import messages as m
from engine.runtime.behaviors.listeners import held, held_change_settled, open_listener
from engine.runtime.expressions import ExpressionFailure
from engine.runtime.journal import EventType
from engine.runtime.kernel import CommandRejected, Kernel
from engine.runtime.state import ElementInstance, ElementState, InstanceStatus
from engine.runtime.task_changes import task_fields

__all__ = ["update", "update_variables", "updating_done"]

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
    _hold(step, element, node, command.task, {"update": dict(command.changes), **by}, sorted(command.changes),
          f"user task {command.task} cannot be updated", **by)


def update_variables(command: m.SetVariables, step: Kernel, element: ElementInstance) -> bool:
    """Variables set in a user task's own scope: held for its updating listeners (True), or False when it has
    none (the caller sets them at once)."""
    task = element.user_task
    if task is None or not command.local:
        return False
    node = step.node(element)
    if node is None or not node.listeners_of(_UPDATING):
        return False
    by = {"by": command.by.to_json()} if command.by is not None else {}
    _hold(step, element, node, task, {"update": {}, "variables": dict(command.variables), **by}, ["variables"],
          f"the variables of user task {task} cannot be set", variables=sorted(command.variables), **by)
    return True


def _hold(step: Kernel, element: ElementInstance, node: FlowNode, task: int, pending: dict[str, Any],
          changes: list[str], refused: str, **journaled: Any) -> None:
    """Hold a change of the open task (``pending``, named by ``changes``) for its updating listeners: the first
    one's job opens and the task says so; ``refused`` begins the rejection when that job cannot open."""
    if step.state.status != InstanceStatus.ACTIVE or element.state != ElementState.ACTIVE:
        raise CommandRejected(f"user task {task} is no longer open")
    if (reason := held(element)) is not None:
        raise CommandRejected(f"user task {task} is {reason}")
    element.pending = pending
    element.listener = None  # a new round: every updating listener runs again
    try:
        open_listener(step, element, node, _UPDATING)
    except ExpressionFailure as exc:
        raise CommandRejected(f"{refused}: {exc}") from None
    step.record(EventType.USER_TASK_UPDATING, element, task=task, changes=changes, **journaled)
    step.effect(m.UpdateUserTask(task, {"listener": {"state": "updating", "changes": changes}}))


def _changed(pending: dict[str, Any]) -> list[str]:
    return sorted(pending["update"]) + (["variables"] if "variables" in pending else [])


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
    if "variables" in pending:  # let through: written now, in the task's scope, and journaled as any set
        step.record(EventType.VARIABLES_SET, element, variables=sorted(pending["variables"]), local=True, **by)
        step.set_variables(element.key, dict(pending["variables"]), local=True)
    step.record(EventType.USER_TASK_UPDATED, element, task=task, changes=_changed(pending), **by)
    corrected = {"corrections": corrections} if corrections else {}
    step.effect(m.UpdateUserTask(task, {"listener": {"state": "updated", "changes": _changed(pending),
                                                     **corrected}}))
