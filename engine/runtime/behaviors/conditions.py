"""Conditional events: a catch, boundary or event-subprocess start event that triggers when a FEEL condition does.

Camunda 8.8's semantics: a conditional event is armed with the scope it
belongs to (the catch event itself, the activity it is attached to, the
scope that holds the event subprocess, the event-based gateway before it)
and its condition is evaluated at
once, then again whenever a step changed a variable that scope sees and
that passes the event's ``zeebe:conditionalFilter`` (variable names, and
``create``/``update``). It triggers when the condition is true and was not
at the evaluation before, so a non-interrupting event fires once per change
from false to true, not on every unrelated write while it stays true.

There are no rows and no effects: ``ElementInstance.conditions`` is the
whole subscription, because only a step changes variables and every step
ends with a pass here (``Step.drain``). A condition that cannot be evaluated
raises an incident on the element that armed it; resolving the incident
evaluates it again. What it does not do: root-level conditional start events
(Camunda starts those instances through an API call), refused at deployment
(``engine.runtime.support``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from engine.model import BoundaryEvent, ElementKind, Event, EventDefinition, EventDefinitionKind, FlowNode, StartEvent
from engine.runtime.behaviors.events import catch_at_boundary, gateway_caught, spawn, start_event_subprocess
from engine.runtime.expressions import ExpressionFailure, evaluate_condition
from engine.runtime.kernel import Kernel
from engine.runtime.state import ElementInstance, IncidentAction, Phase

__all__ = ["VariableChange", "conditional", "evaluate_conditions"]


@dataclass(frozen=True, slots=True)
class VariableChange:
    """A variable a step wrote: in which scope, and whether it was new there (``create``) or not (``update``)."""

    scope: int
    name: str
    created: bool


def conditional(node: FlowNode) -> EventDefinition | None:
    definition = node.definition if isinstance(node, Event) else None
    return definition if definition is not None and definition.kind == EventDefinitionKind.CONDITIONAL else None


def evaluate_conditions(step: Kernel, changes: Sequence[VariableChange]) -> bool:
    """One pass over the instance's armed conditional events; True when one triggered (the agenda has work)."""
    triggered = False
    for owner in [e for e in step.state.elements.values() if e.conditions]:
        if owner.key not in step.state.elements or _failed(step, owner):
            continue  # terminated by an event triggered before it in this pass, or its condition is an incident
        seen = _visible_scopes(step, owner)
        relevant = [change for change in changes if change.scope in seen]
        for event_id, before in list(owner.conditions.items()):
            if owner.key not in step.state.elements or event_id not in owner.conditions:
                break
            event = step.process.nodes[event_id]
            definition = conditional(event)
            assert definition is not None
            if before is not None and not _passes(definition, relevant):
                continue
            try:
                met = evaluate_condition(definition.condition or "false", step.scope(owner.key), step.now,
                                         what=f"condition of '{event_id}'")
            except ExpressionFailure as exc:
                owner.conditions[event_id] = None
                step.incident(owner, IncidentAction.CONDITION, "expression", str(exc))
                break
            owner.conditions[event_id] = met
            if met and before is not True:
                _trigger(step, owner, event)
                triggered = True
    return triggered


def _failed(step: Kernel, owner: ElementInstance) -> bool:
    return owner.incident is not None and step.state.incidents.get(owner.incident) == IncidentAction.CONDITION


def _visible_scopes(step: Kernel, owner: ElementInstance) -> set[int]:
    """The owner and the scopes above it: a variable written in one of them is one its conditions can read."""
    keys: set[int] = set()
    key: int | None = owner.key
    while key is not None:
        keys.add(key)
        element = step.state.elements.get(key)
        key = element.parent if element is not None else None
    return keys


def _passes(definition: EventDefinition, changes: Sequence[VariableChange]) -> bool:
    """Whether one of ``changes`` is one the event's ``zeebe:conditionalFilter`` listens to (any, without one)."""
    for change in changes:
        if definition.variable_names and change.name not in definition.variable_names:
            continue
        if definition.variable_events and ("create" if change.created else "update") not in definition.variable_events:
            continue
        return True
    return False


def _trigger(step: Kernel, owner: ElementInstance, event: FlowNode) -> None:
    if event.id == owner.element_id:  # an intermediate catch event: it completes
        owner.conditions.clear()
        step.schedule(Phase.COMPLETE, owner, {})
    elif isinstance(event, BoundaryEvent):
        if event.cancel_activity:
            catch_at_boundary(step, owner, event, {})
        else:
            spawn(step, event.id, owner.parent, {})
    elif isinstance(event, StartEvent):
        start_event_subprocess(step, owner, event, {})  # an interrupting one disarms the scope's conditions
    elif step.node(owner).kind == ElementKind.EVENT_BASED_GATEWAY:
        owner.conditions.clear()
        gateway_caught(step, owner, event, {})
