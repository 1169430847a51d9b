"""Multi-instance activities: a body element instance holding one inner instance per item.

The inner instances see ``loopCounter`` and the input element as local
variables; the output collection is a local variable of the body, filled as
inner instances complete and propagated when the body completes. The
completion condition is checked after each inner completion and may end the
body early, terminating the inner instances still running.
"""

from __future__ import annotations

from typing import Any

from engine.model import Activity, FlowNode
from engine.runtime.behaviors.compensation import record_completion
from engine.runtime.behaviors.events import open_boundary_waits
from engine.runtime.expressions import ExpressionFailure, evaluate, evaluate_condition, evaluate_list
from engine.runtime.journal import EventType as _E
from engine.runtime.kernel import Kernel
from engine.runtime.limits import LimitReached
from engine.runtime.state import ElementInstance, ElementState, IncidentAction, LoopState, Phase

__all__ = ["MultiInstanceBody", "activate_body", "complete_body", "inner_left"]



def activate_body(step: Kernel, body: ElementInstance, node: FlowNode) -> None:
    assert isinstance(node, Activity)
    loop = node.loop
    assert loop is not None
    scope = step.scope(body.key)
    items: list[Any] | None
    if loop.input_collection:
        items = evaluate_list(loop.input_collection, scope, step.now, what="input collection")
        total = len(items)
    elif loop.cardinality:
        count = evaluate(loop.cardinality, scope, step.now, what="loop cardinality")
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise ExpressionFailure(f"expected the loop cardinality of '{node.id}' to be a whole number, got {count!r}")
        items, total = None, count
    else:
        raise ExpressionFailure(f"multi-instance activity '{node.id}' has neither input collection nor cardinality")
    if total > step.limits.max_cardinality:
        raise LimitReached(
            f"multi-instance activity '{node.id}' would run {total} instances, more than the limit of "
            f"{step.limits.max_cardinality} (AGENTHUB_MAX_CARDINALITY); split the work, or raise the limit and "
            "resolve the incident"
        )
    body.loop = LoopState(items=items, total=total)
    body.state = ElementState.ACTIVE
    step.record(_E.ELEMENT_ACTIVATED, body, multiInstance=True, instances=total)
    open_boundary_waits(step, body, node)
    if loop.output_collection:
        step.set_variables(body.key, {loop.output_collection: [None] * total}, local=True)
    _counters(step, body)
    if total == 0:
        step.schedule(Phase.COMPLETE, body)
        return
    for _ in range(1 if loop.sequential else total):
        _next_inner(step, body, node)


def _next_inner(step: Kernel, body: ElementInstance, node: Activity) -> None:
    state = body.loop
    assert state is not None and node.loop is not None
    index = state.next_index
    state.next_index += 1
    inner = step.create_element(node.id, body.key, loop_counter=index + 1)
    local: dict[str, Any] = {"loopCounter": index + 1}
    if node.loop.input_element and state.items is not None:
        local[node.loop.input_element] = state.items[index]
    step.set_variables(inner.key, local, local=True)
    step.schedule(Phase.ACTIVATE, inner)


def _counters(step: Kernel, body: ElementInstance) -> None:
    state = body.loop
    assert state is not None
    active = state.next_index - state.completed - state.terminated  # created and not finished yet
    step.state.variables.setdefault(body.key, {}).update(
        numberOfInstances=state.total,
        numberOfActiveInstances=active,
        numberOfCompletedInstances=state.completed,
        numberOfTerminatedInstances=state.terminated,
    )


def inner_left(step: Kernel, body: ElementInstance, inner: ElementInstance, *, completed: bool = True) -> None:
    node = step.node(body)
    assert isinstance(node, Activity) and node.loop is not None and body.loop is not None
    loop = node.loop
    try:
        if loop.output_collection and loop.output_element and inner.loop_counter is not None:
            value = evaluate(loop.output_element, step.scope(inner.key), step.now, what="output element")
            collection = list(step.state.variables.get(body.key, {}).get(loop.output_collection) or [])
            if inner.loop_counter - 1 < len(collection):
                collection[inner.loop_counter - 1] = value
            step.set_variables(body.key, {loop.output_collection: collection}, local=True)
    except ExpressionFailure as exc:
        step.incident(inner, IncidentAction.LEAVE, "expression", str(exc))
        return
    if completed:
        record_completion(step, inner, node, body)
    step.remove(inner)
    step.record(_E.ELEMENT_COMPLETED, inner)
    body.loop.completed += 1
    _counters(step, body)
    try:
        done = bool(loop.completion_condition) and evaluate_condition(
            loop.completion_condition or "", step.scope(body.key), step.now, what="completion condition"
        )
    except ExpressionFailure as exc:
        step.incident(body, IncidentAction.COMPLETE, "expression", str(exc))
        return
    if done:
        for other in step.state.children_of(body.key):
            step.terminate(other)
            body.loop.terminated += 1
        step.schedule(Phase.COMPLETE, body)
    elif body.loop.next_index < body.loop.total and loop.sequential:
        _next_inner(step, body, node)
    elif body.loop.completed + body.loop.terminated >= body.loop.total:
        step.schedule(Phase.COMPLETE, body)


def complete_body(step: Kernel, body: ElementInstance, node: FlowNode) -> None:
    assert isinstance(node, Activity) and node.loop is not None
    body.state = ElementState.COMPLETING
    output = node.loop.output_collection
    if output:
        value = step.state.variables.get(body.key, {}).get(output)
        step.set_variables(body.parent, {output: value}, local=False)
    step.leave(body)


class MultiInstanceBody:
    """``engine.runtime.kernel.MultiInstance`` for the step's table."""

    def activate_body(self, kernel: Kernel, body: ElementInstance, node: FlowNode) -> None:
        activate_body(kernel, body, node)

    def complete_body(self, kernel: Kernel, body: ElementInstance, node: FlowNode) -> None:
        complete_body(kernel, body, node)

    def inner_left(self, kernel: Kernel, body: ElementInstance, inner: ElementInstance) -> None:
        inner_left(kernel, body, inner)
