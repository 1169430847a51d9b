"""Catching events: timers, messages and signals an element waits for, and what happens when one arrives.

An element instance that waits for an event owns a *wait* (a timer or a
subscription, by key). A catch event or receive task waits for its own
event; an activity waits for the events of its boundary events; a scope
(the process or a subprocess) for the start events of its event
subprocesses; an event-based gateway for the events after it. Waits close
when their owner leaves or is terminated. Conditional events are armed here
too, but wait for no one outside: ``behaviors.conditions`` evaluates them.
"""

from __future__ import annotations

from typing import Any

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
from engine.runtime.journal import EventType as _E
from engine.runtime.kernel import CommandRejected, Kernel
from engine.runtime.state import ElementInstance, ElementState, Phase
from engine.runtime.waits import close_waits
from engine.scheduler.timers import TimerDefinitionError, schedule

__all__ = [
    "WAITABLE", "catch_at_boundary", "close_waits", "gateway_caught", "open_boundary_waits", "open_gateway_waits",
    "open_own_wait", "open_scope_waits", "open_wait", "resolve_name", "spawn", "start_event_subprocess", "trigger",
    "waitable",
]


WAITABLE = frozenset({EventDefinitionKind.TIMER, EventDefinitionKind.MESSAGE, EventDefinitionKind.SIGNAL})


def waitable(node: FlowNode) -> EventDefinition | None:
    definition = node.definition if isinstance(node, Event) else None
    return definition if definition is not None and definition.kind in WAITABLE else None


def open_wait(step: Kernel, owner: ElementInstance, event: FlowNode, definition: EventDefinition) -> None:
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


def resolve_name(step: Kernel, element: ElementInstance, ref: str | None) -> str:
    """A message or signal name, or an error or escalation code: static, or FEEL when it starts with '='."""
    if not ref:
        return ""
    value = evaluate_value(Value.of(ref), step.scope(element.key), step.now, what=f"name '{ref}'")
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise ExpressionFailure(f"expected '{ref}' to give a name, but it gave {value!r}")
    return str(value)


def _arm_condition(owner: ElementInstance, event: FlowNode) -> bool:
    """A conditional event: armed on ``owner``, evaluated at the end of the step (``behaviors.conditions``)."""
    definition = event.definition if isinstance(event, Event) else None
    if definition is None or definition.kind != EventDefinitionKind.CONDITIONAL:
        return False
    owner.conditions[event.id] = None
    return True


def open_boundary_waits(step: Kernel, element: ElementInstance, node: FlowNode) -> None:
    if not isinstance(node, Activity) or not node.boundary_events:
        return
    for boundary in step.process.boundary_events(node.id):
        definition = waitable(boundary)
        if definition is not None:
            open_wait(step, element, boundary, definition)
        else:
            _arm_condition(element, boundary)


def open_scope_waits(step: Kernel, scope: ElementInstance, scope_id: str) -> None:
    """Open the waits for the start events of the event subprocesses directly inside a scope."""
    for sub in step.process.event_subprocesses(scope_id):
        for start in step.process.start_events(sub.id):
            definition = waitable(start)
            if definition is not None:
                open_wait(step, scope, start, definition)
            else:
                _arm_condition(scope, start)


def open_gateway_waits(step: Kernel, gateway: ElementInstance, node: FlowNode) -> None:
    for flow in step.process.outgoing(node):
        target = step.process.nodes[flow.target]
        definition = waitable(target) if target.kind != ElementKind.RECEIVE_TASK else _receive(target)
        if definition is None:
            if _arm_condition(gateway, target):
                continue
            raise ExpressionFailure(f"event-based gateway '{node.id}' leads to '{target.id}', which catches no event")
        open_wait(step, gateway, target, definition)


def _receive(node: FlowNode) -> EventDefinition | None:
    return getattr(node, "message", None)


def trigger(step: Kernel, command: m.Trigger) -> None:
    owner = step.state.elements.get(command.owner)
    if owner is None or command.wait not in owner.waits:
        raise CommandRejected(f"nothing waits for event {command.wait} any more")
    target = step.process.nodes[command.element_id]
    variables = dict(command.variables)
    timer = owner.waits[command.wait] == "timer"
    if timer and not command.repeats:
        del owner.waits[command.wait]  # the timer row is gone: it fired for the last time
    if timer and target.id == owner.element_id and step.behaviors.of(target).timer_fired(step, owner, command.wait):
        return  # a timer of the element's own (an agent's time limit, an approval's due date), not a catch event's
    if target.id == owner.element_id:  # a catch event or receive task
        close_waits(step, owner)
        step.schedule(Phase.COMPLETE, owner, variables)
    elif isinstance(target, BoundaryEvent) and target.attached_to == owner.element_id:
        if target.cancel_activity:
            catch_at_boundary(step, owner, target, variables)
        else:  # non-interrupting: the activity goes on, and so does a message or signal subscription
            spawn(step, target.id, owner.parent, variables)
    elif isinstance(target, StartEvent):
        start_event_subprocess(step, owner, target, variables)
    elif step.node(owner).kind == ElementKind.EVENT_BASED_GATEWAY:
        gateway_caught(step, owner, target, variables)
    else:  # pragma: no cover - waits are only opened for the cases above
        raise ExpressionFailure(f"'{target.id}' cannot react to an event for '{owner.element_id}'")


def gateway_caught(step: Kernel, gateway: ElementInstance, target: FlowNode, variables: dict[str, Any]) -> None:
    """The event after an event-based gateway that came first: the gateway leaves through it; the others close."""
    close_waits(step, gateway)
    step.remove(gateway)
    step.record(_E.ELEMENT_COMPLETED, gateway)
    flow = next(f for f in step.process.outgoing(step.node(gateway)) if f.target == target.id)
    step.record(_E.FLOW_TAKEN, None, flow=flow.id)
    assert gateway.parent is not None
    caught = step.create_element(target.id, gateway.parent, state=ElementState.ACTIVE)
    step.record(_E.ELEMENT_ACTIVATED, caught)
    step.schedule(Phase.COMPLETE, caught, variables)


def spawn(step: Kernel, element_id: str, parent: int | None, variables: dict[str, Any]) -> ElementInstance:
    """Activate an event (a boundary or start event) that completes at once with the event's variables."""
    assert parent is not None
    event = step.create_element(element_id, parent, state=ElementState.ACTIVE)
    step.record(_E.ELEMENT_ACTIVATED, event)
    step.schedule(Phase.COMPLETE, event, variables)
    return event


def catch_at_boundary(step: Kernel, owner: ElementInstance, boundary: BoundaryEvent, variables: dict[str, Any]) -> None:
    """An interrupting boundary event: the activity ends and the token leaves through the boundary event."""
    parent = owner.parent
    if step.terminate(owner, listeners=True):
        spawn(step, boundary.id, parent, variables)
    else:  # a user task's canceling listeners run first: the token leaves once they have (``Kernel.terminated``)
        owner.pending = {"after": {"boundary": {"event": boundary.id, "variables": variables}}}


def start_event_subprocess(step: Kernel, scope: ElementInstance, start: StartEvent, variables: dict[str, Any]) -> None:
    sub = step.process.nodes[start.parent]
    assert isinstance(sub, SubProcess)
    if start.interrupting:
        close_waits(step, scope)
        scope.conditions.clear()
        for child in step.state.children_of(scope.key):  # a user task's canceling listeners run beside the
            step.terminate(child, listeners=True)         # event subprocess; the scope ends after both
        scope.joins.clear()
    esp = step.create_element(sub.id, scope.key, state=ElementState.ACTIVE)
    step.record(_E.ELEMENT_ACTIVATED, esp, triggeredBy=start.id)
    spawn(step, start.id, esp.key, variables)


def open_own_wait(step: Kernel, element: ElementInstance, node: FlowNode) -> bool:
    """Intermediate catch events and receive tasks wait for their own event; returns whether one was opened."""
    definition = waitable(node) if node.kind != ElementKind.RECEIVE_TASK else _receive(node)
    if definition is None:
        return _arm_condition(element, node)
    open_wait(step, element, node, definition)
    return True

