"""Compensation: undoing completed work, in reverse order of completion, each handler exactly once.

When an activity with a compensation boundary event completes, its flow
scope records it (with the activity's local variables, so a handler of a
multi-instance activity sees the item it undoes). A subprocess that completes
hands its records up to its own scope, nested, so compensating the
subprocess compensates what ran inside it. A compensation throw event runs
the handlers of the records in its scope (all, or one named activity), one
after the other, newest first; a record is dropped the moment its handler
starts, so a crash and retry never runs a handler twice.
"""

from __future__ import annotations

from engine.model import Activity, BoundaryEvent, EventDefinitionKind, FlowNode
from engine.runtime.journal import EventType as _E
from engine.runtime.kernel import Kernel
from engine.runtime.records import CompensationRecord as Record
from engine.runtime.state import ElementInstance, Phase

__all__ = ["CompensationRules", "handler_done", "handler_of", "next_handler", "record_completion", "start"]


def handler_of(step: Kernel, activity_id: str) -> str | None:
    for boundary in step.process.boundary_events(activity_id):
        definition = boundary.definition if isinstance(boundary, BoundaryEvent) else None
        if definition is not None and definition.kind == EventDefinitionKind.COMPENSATE:
            return getattr(boundary, "compensation_handler", None)
    return None


def record_completion(step: Kernel, element: ElementInstance, node: FlowNode, scope: ElementInstance) -> None:
    """Remember a completed activity in its scope if it, or something inside it, can be compensated."""
    nested = element.compensable
    if not isinstance(node, Activity) or element.is_body:
        if nested:  # a multi-instance body stands for its inner instances
            scope.compensable.append(Record(node.id, element.key, {}, nested, container=True))
        return
    handler = handler_of(step, node.id)
    if handler is None and not nested:
        return
    local = dict(step.state.variables.get(element.key, {})) if handler else {}
    scope.compensable.append(Record(node.id, element.key, local, nested, container=handler is None))


def start(step: Kernel, thrower: ElementInstance, activity: str | None) -> bool:
    """Begin compensating in the thrower's scope; returns False when there is nothing to compensate."""
    assert thrower.parent is not None
    scope = step.state.elements[thrower.parent]
    chosen: list[Record] = []
    kept: list[Record] = []
    for record in scope.compensable:
        (chosen if activity is None or record.element_id == activity else kept).append(record)
    if not chosen:
        return False
    scope.compensable = kept
    thrower.compensating = _flatten(step, chosen)
    step.record(_E.COMPENSATION_STARTED, thrower, activities=[r.element_id for r in thrower.compensating])
    return next_handler(step, thrower)


def _flatten(step: Kernel, records: list[Record]) -> list[Record]:
    """Newest first; a record without its own handler stands for the records nested in it."""
    ordered: list[Record] = []
    for record in reversed(records):
        if record.container:
            ordered.extend(_flatten(step, record.nested))
        else:
            ordered.append(record)
    return ordered


def next_handler(step: Kernel, thrower: ElementInstance) -> bool:
    """Start the next handler; returns False when none is left."""
    pending = thrower.compensating or []
    if not pending:
        thrower.compensating = None
        return False
    record = pending.pop(0)
    handler = handler_of(step, record.element_id)
    assert handler is not None and thrower.parent is not None
    instance = step.create_element(handler, thrower.parent, compensates=thrower.key)
    if record.locals:
        step.set_variables(instance.key, record.locals, local=True)
    step.record(_E.COMPENSATION_HANDLER_STARTED, instance, activity=record.element_id, activityInstance=record.key)
    step.schedule(Phase.ACTIVATE, instance)
    return True


def handler_done(step: Kernel, handler: ElementInstance) -> None:
    thrower = step.state.elements.get(handler.compensates) if handler.compensates is not None else None
    if thrower is None:
        return
    if not next_handler(step, thrower):
        step.record(_E.COMPENSATION_COMPLETED, thrower)
        step.schedule(Phase.COMPLETE, thrower)


class CompensationRules:
    """``engine.runtime.kernel.Compensation`` for the step's table."""

    def record_completion(self, kernel: Kernel, element: ElementInstance, node: FlowNode,
                          scope: ElementInstance) -> None:
        record_completion(kernel, element, node, scope)

    def handler_done(self, kernel: Kernel, handler: ElementInstance) -> None:
        handler_done(kernel, handler)
