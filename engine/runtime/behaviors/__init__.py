"""Element behaviours: what activating and completing each kind of element does.

Activation applies input mappings and then the element's own work (create a
job, evaluate a script, enter a subprocess...); completion applies output
mappings (or propagates the variables that came with the completion) and
leaves along the outgoing flows. Failures in expressions become incidents
that a person can resolve, after which the failed part runs again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.model import Activity
from engine.runtime.behaviors import activities, multi_instance
from engine.runtime.expressions import ExpressionFailure, apply_mappings
from engine.runtime.limits import LimitReached
from engine.runtime.state import ElementInstance, ElementState

if TYPE_CHECKING:
    from engine.runtime.step import Step

__all__ = ["activate_element", "complete_element"]


def _is_inner(step: Step, element: ElementInstance) -> bool:
    parent = step.state.elements.get(element.parent) if element.parent is not None else None
    return parent is not None and parent.is_body and parent.element_id == element.element_id


def activate_element(step: Step, element: ElementInstance) -> None:
    if element.state != ElementState.ACTIVATING:
        return
    node = step.node(element)
    try:
        if isinstance(node, Activity) and node.loop is not None and not _is_inner(step, element):
            element.is_body = True
            multi_instance.activate_body(step, element, node)
            return
        if node.inputs:
            values = apply_mappings(node.inputs, step.scope(element.key), step.now, what="input mapping")
            step.set_variables(element.key, values, local=True)
        activities.activate(step, element, node)
    except ExpressionFailure as exc:
        step.incident(element, "activate", "expression", str(exc))
    except LimitReached as exc:
        step.incident(element, "activate", "limit", str(exc))


def complete_element(step: Step, element: ElementInstance, variables: dict[str, Any] | None) -> None:
    node = step.node(element)
    if element.is_body:
        multi_instance.complete_body(step, element, node)
        return
    element.state = ElementState.COMPLETING
    values = variables or {}
    parent = step.state.elements.get(element.parent) if element.parent is not None else None
    # an agent's tool call writes only into its own inner instance: the model's calls never set process variables
    isolated = parent is not None and parent.inner and parent.call is not None
    if node.outputs:
        step.set_variables(element.key, values, local=True)
        try:
            results = apply_mappings(node.outputs, step.scope(element.key), step.now, what="output mapping")
        except ExpressionFailure as exc:
            step.incident(element, "complete", "expression", str(exc))
            return
        step.set_variables(element.parent, results, local=isolated)
    elif values:
        step.set_variables(element.parent if isolated else element.key, values, local=isolated)
    step.leave(element)
