"""Catching events: timers, messages and signals an element waits for, and what happens when one arrives.

An element instance that waits for an event owns a *wait* (a timer or a
subscription, by key). A catch event or receive task waits for its own
event; an activity waits for the events of its boundary events; a scope
(the process or a subprocess) for the start events of its event
subprocesses; an event-based gateway for the events after it. Waits close
when their owner leaves or is terminated.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.model import (
    Activity,
    BoundaryEvent,
    ElementKind,
    Event,
    EventDefinition,
    EventDefinitionKind,
    FlowNode,
    StartEvent,
    SubProcess,
    Value,
)
from engine.runtime import messages as m
from engine.runtime.expressions import ExpressionFailure, evaluate_value
from engine.runtime.state import ElementInstance, ElementState
from engine.scheduler.timers import TimerDefinitionError, schedule

if TYPE_CHECKING:
    from engine.runtime.step import Step

WAITABLE = frozenset({EventDefinitionKind.TIMER, EventDefinitionKind.MESSAGE, EventDefinitionKind.SIGNAL})


def waitable(node: FlowNode) -> EventDefinition | None:
    definition = node.definition if isinstance(node, Event) else None
    return definition if definition is not None and definition.kind in WAITABLE else None


def open_wait(step: Step, owner: ElementInstance, event: FlowNode, definition: EventDefinition) -> None:
    """Arm a timer or open a subscription for ``event`` on behalf of ``owner``."""
    key = step.ids.next_key()
    scope = step.scope(owner.key)
    if definition.kind == EventDefinitionKind.TIMER:
        if definition.timer is None or definition.timer_type is None:
            raise ExpressionFailure(f"timer event '{event.id}' has no timer definition")
        text = evaluate_value(definition.timer, scope, step.now, what=f"timer of '{event.id}'")
        if not isinstance(text, str):
            raise ExpressionFailure(f"expected the timer of '{event.id}' to be a duration, date or cycle, got {text!r}")
        try:
            plan = schedule(definition.timer_type, text, step.now)
        except TimerDefinitionError as exc:
            raise ExpressionFailure(f"invalid timer on '{event.id}': {exc}") from None
        step.effect(m.CreateTimer(key=key, owner=owner.key, element_id=event.id, due=plan.due.isoformat(),
                                  remaining=plan.remaining, interval=plan.interval, cron=plan.cron))
        owner.waits[key] = "timer"
        return
    name = resolve_name(step, owner, definition.ref)
    correlation: str | None = None
    if definition.kind == EventDefinitionKind.MESSAGE and definition.correlation_key is not None:
        value = evaluate_value(definition.correlation_key, scope, step.now, what=f"correlation key of '{event.id}'")
        if value is None or isinstance(value, dict | list | bool):
            raise ExpressionFailure(
                f"expected the correlation key of '{event.id}' to be a string or number, but it was {value!r}"
            )
        correlation = str(value)
    step.effect(m.OpenSubscription(key=key, owner=owner.key, element_id=event.id, kind=definition.kind.value,
                                   name=name, correlation_key=correlation))
    owner.waits[key] = definition.kind.value


def resolve_name(step: Step, element: ElementInstance, ref: str | None) -> str:
    """A message or signal name, or an error or escalation code: static, or FEEL when it starts with '='."""
    if not ref:
        return ""
    value = evaluate_value(Value.of(ref), step.scope(element.key), step.now, what=f"name '{ref}'")
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise ExpressionFailure(f"expected '{ref}' to give a name, but it gave {value!r}")
    return str(value)


def close_waits(step: Step, owner: ElementInstance, *, keep: int | None = None) -> None:
    for key, kind in list(owner.waits.items()):
        if key == keep:
            continue
        step.effect(m.CancelTimer(key) if kind == "timer" else m.CloseSubscription(key))
        del owner.waits[key]


def open_boundary_waits(step: Step, element: ElementInstance, node: FlowNode) -> None:
    if not isinstance(node, Activity) or not node.boundary_events:
        return
    for boundary in step.process.boundary_events(node.id):
        definition = waitable(boundary)
        if definition is not None:
            open_wait(step, element, boundary, definition)


def open_scope_waits(step: Step, scope: ElementInstance, scope_id: str) -> None:
    """Open the waits for the start events of the event subprocesses directly inside a scope."""
    for sub in step.process.event_subprocesses(scope_id):
        for start in step.process.start_events(sub.id):
            definition = waitable(start)
            if definition is not None:
                open_wait(step, scope, start, definition)


def open_gateway_waits(step: Step, gateway: ElementInstance, node: FlowNode) -> None:
    for flow in step.process.outgoing(node):
        target = step.process.nodes[flow.target]
        definition = waitable(target) if target.kind != ElementKind.RECEIVE_TASK else _receive(target)
        if definition is None:
            raise ExpressionFailure(f"event-based gateway '{node.id}' leads to '{target.id}', which catches no event")
        open_wait(step, gateway, target, definition)


def _receive(node: FlowNode) -> EventDefinition | None:
    return getattr(node, "message", None)


def trigger(step: Step, command: m.Trigger) -> None:
    owner = step.state.elements.get(command.owner)
    if owner is None or command.wait not in owner.waits:
        from engine.runtime.step import CommandRejected

        raise CommandRejected(f"nothing waits for event {command.wait} any more")
    target = step.process.nodes[command.element_id]
    variables = dict(command.variables)
    if owner.waits[command.wait] == "timer" and not command.repeats:
        del owner.waits[command.wait]  # the timer row is gone: it fired for the last time
    if target.id == owner.element_id:  # a catch event or receive task
        close_waits(step, owner)
        step.schedule("complete", owner, variables)
    elif isinstance(target, BoundaryEvent) and target.attached_to == owner.element_id:
        if target.cancel_activity:
            catch_at_boundary(step, owner, target, variables)
        else:  # non-interrupting: the activity goes on, and so does a message or signal subscription
            _spawn(step, target.id, owner.parent, variables)
    elif isinstance(target, StartEvent):
        start_event_subprocess(step, owner, target, variables)
    elif step.node(owner).kind == ElementKind.EVENT_BASED_GATEWAY:
        close_waits(step, owner)
        step.remove(owner)
        step.record("element_completed", owner)
        flow = next(f for f in step.process.outgoing(step.node(owner)) if f.target == target.id)
        step.record("flow_taken", None, flow=flow.id)
        assert owner.parent is not None
        caught = step.create_element(target.id, owner.parent, state=ElementState.ACTIVE)
        step.record("element_activated", caught)
        step.schedule("complete", caught, variables)
    else:  # pragma: no cover - waits are only opened for the cases above
        raise ExpressionFailure(f"'{target.id}' cannot react to an event for '{owner.element_id}'")


def _spawn(step: Step, element_id: str, parent: int | None, variables: dict[str, Any]) -> ElementInstance:
    """Activate an event (a boundary or start event) that completes at once with the event's variables."""
    assert parent is not None
    event = step.create_element(element_id, parent, state=ElementState.ACTIVE)
    step.record("element_activated", event)
    step.schedule("complete", event, variables)
    return event


def catch_at_boundary(step: Step, owner: ElementInstance, boundary: BoundaryEvent, variables: dict[str, Any]) -> None:
    """An interrupting boundary event: the activity ends and the token leaves through the boundary event."""
    parent = owner.parent
    step.terminate(owner)
    _spawn(step, boundary.id, parent, variables)


def start_event_subprocess(step: Step, scope: ElementInstance, start: StartEvent, variables: dict[str, Any]) -> None:
    sub = step.process.nodes[start.parent]
    assert isinstance(sub, SubProcess)
    if start.interrupting:
        close_waits(step, scope)
        for child in step.state.children_of(scope.key):
            step.terminate(child)
        scope.joins.clear()
    esp = step.create_element(sub.id, scope.key, state=ElementState.ACTIVE)
    step.record("element_activated", esp, triggeredBy=start.id)
    _spawn(step, start.id, esp.key, variables)


def open_own_wait(step: Step, element: ElementInstance, node: FlowNode) -> bool:
    """Intermediate catch events and receive tasks wait for their own event; returns whether one was opened."""
    definition = waitable(node) if node.kind != ElementKind.RECEIVE_TASK else _receive(node)
    if definition is None:
        return False
    open_wait(step, element, node, definition)
    return True

