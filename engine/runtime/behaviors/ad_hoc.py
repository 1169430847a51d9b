"""Ad-hoc subprocesses as Camunda 8 runs them, and the inner instances that agents' tool calls run in.

On entry the ``activeElementsCollection`` (a FEEL list of inner element ids)
is activated; more can be activated from outside while the subprocess is
active. Each activation runs in an inner instance of its own: a scope for its
local variables, holding the activated element and whatever follows it by
sequence flow. When an inner instance ends, its ``outputElement`` is added to
the ``outputCollection`` and the ``completionCondition`` is checked: true
ends the subprocess (cancelling the rest when ``cancelRemainingInstances``);
without a condition the subprocess ends when nothing inside is left. An
ad-hoc subprocess with an agent is driven by ``engine.agent.loop`` instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from engine.agent import loop as agent_loop
from engine.agent.config import agent_config
from engine.agent.tools import tool_nodes
from engine.model import AdHocSubProcess
from engine.runtime.expressions import ExpressionFailure, evaluate, evaluate_condition, evaluate_list
from engine.runtime.state import ElementInstance, ElementState

if TYPE_CHECKING:
    from engine.runtime.step import Step

__all__ = ["activate", "activate_from_outside", "activate_inner", "settle"]


def _startable(step: Step, node: AdHocSubProcess) -> set[str]:
    return {n.id for n in tool_nodes(step.process, node)}


def _check_ids(step: Step, node: AdHocSubProcess, ids: Sequence[Any]) -> list[str]:
    allowed = _startable(step, node)
    for item in ids:
        if not isinstance(item, str) or item not in allowed:
            raise ExpressionFailure(
                f"ad-hoc subprocess '{node.id}' cannot activate {item!r}: the elements it can activate are "
                f"{', '.join(sorted(allowed)) or 'none'}"
            )
    return list(ids)


def activate(step: Step, element: ElementInstance, node: AdHocSubProcess) -> None:
    from engine.runtime.behaviors import activities, events

    if agent_config(node) is not None:
        prepared = agent_loop.prepare(step, element, node)
        events.open_scope_waits(step, element, node.id)
        activities._activated(step, element, waits=True)
        agent_loop.begin(step, element, prepared)
        return
    ids: list[str] = []
    if node.active_elements:
        found = evaluate_list(node.active_elements, step.scope(element.key), step.now,
                              what="active elements collection")
        ids = _check_ids(step, node, found)
    events.open_scope_waits(step, element, node.id)
    activities._activated(step, element, waits=True)
    if node.output_collection:
        step.set_variables(element.key, {node.output_collection: []}, local=True)
    for element_id in ids:
        activate_inner(step, element, node, element_id, {})


def activate_inner(step: Step, element: ElementInstance, node: AdHocSubProcess, element_id: str,
                   variables: dict[str, Any], *, call: dict[str, Any] | None = None) -> ElementInstance:
    """Activate ``element_id`` inside ``element`` in a new inner instance holding ``variables``."""
    inner = step.create_element(node.id, element.key, state=ElementState.ACTIVE, inner=True, call=call)
    if variables:
        step.set_variables(inner.key, variables, local=True)
    step.record("ad_hoc_element_activated", inner, activated=element_id)
    step.enter(element_id, inner.key)
    return inner


def activate_from_outside(step: Step, element: ElementInstance, ids: Sequence[str],
                          variables: dict[str, Any]) -> None:
    from engine.runtime.step import CommandRejected

    node = step.node(element)
    if not isinstance(node, AdHocSubProcess) or element.inner or element.is_body:
        raise CommandRejected(f"element instance {element.key} is not an ad-hoc subprocess")
    if element.agent is not None:
        raise CommandRejected(f"'{node.id}' is run by an agent: its tools are activated by the agent's calls only")
    try:
        checked = _check_ids(step, node, ids)
    except ExpressionFailure as exc:
        raise CommandRejected(str(exc)) from None
    if not checked:
        raise CommandRejected("name at least one element to activate")
    for element_id in checked:
        activate_inner(step, element, node, element_id, variables)


def settle(step: Step, scope: ElementInstance) -> None:
    """Something left ``scope`` (an inner instance or the ad-hoc subprocess itself)."""
    if step.state.children_of(scope.key):
        return
    if scope.inner:
        _inner_done(step, scope)
        return
    if scope.agent is not None:
        return  # the agent's loop decides when it is done
    node = step.node(scope)
    assert isinstance(node, AdHocSubProcess)
    try:
        done = node.completion_condition is None or evaluate_condition(
            node.completion_condition, step.scope(scope.key), step.now, what="completion condition")
    except ExpressionFailure as exc:
        step.incident(scope, "settle", "expression", str(exc))
        return
    if done:
        _complete(step, scope, node)


def _complete(step: Step, element: ElementInstance, node: AdHocSubProcess) -> None:
    if node.output_collection and not node.outputs:  # as a multi-instance body does: the collection goes up
        collection = step.state.variables.get(element.key, {}).get(node.output_collection, [])
        step.set_variables(element.parent, {node.output_collection: collection}, local=False)
    step.schedule("complete", element, {})


def _inner_done(step: Step, inner: ElementInstance) -> None:
    assert inner.parent is not None
    element = step.state.elements[inner.parent]
    node = step.node(element)
    assert isinstance(node, AdHocSubProcess)
    try:
        if node.output_collection and node.output_element:
            value = evaluate(node.output_element, step.scope(inner.key), step.now, what="output element")
            collection = list(step.state.variables.get(element.key, {}).get(node.output_collection) or [])
            collection.append(value)
            step.set_variables(element.key, {node.output_collection: collection}, local=True)
    except ExpressionFailure as exc:
        step.incident(inner, "settle", "expression", str(exc))
        return
    local = dict(step.state.variables.get(inner.key, {}))
    step.remove(inner)
    if inner.call is not None and element.agent is not None:
        result = local.get("toolCallResult")
        if result is None:
            result = {k: v for k, v in local.items() if k not in ("toolCall", "toolCallResult")}
        agent_loop.tool_done(step, element, inner.call, result)
        return
    if node.completion_condition is not None:
        try:
            held = evaluate_condition(node.completion_condition, step.scope(element.key), step.now,
                                      what="completion condition")
        except ExpressionFailure as exc:
            step.incident(element, "settle", "expression", str(exc))
            return
        if held:
            if node.cancel_remaining_instances:
                for child in step.state.children_of(element.key):
                    step.terminate(child)
            if not step.state.children_of(element.key):
                _complete(step, element, node)
            return
    settle(step, element)
