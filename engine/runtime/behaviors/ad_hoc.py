"""Ad-hoc subprocesses as Camunda 8 runs them, and the inner instances that agents' tool calls run in.

On entry the ``activeElementsCollection`` (a FEEL list of inner element ids)
is activated; more can be activated from outside while the subprocess is
active. Each activation runs in an inner instance of its own: a scope for its
local variables, holding the activated element and whatever follows it by
sequence flow. When an inner instance ends, its ``outputElement`` is added to
the ``outputCollection`` and the ``completionCondition`` is checked: true
ends the subprocess (cancelling the rest when ``cancelRemainingInstances``);
without a condition the subprocess ends when nothing inside is left. An
ad-hoc subprocess with an agent plugs in as a subclass of ``AdHocSubProcessBehavior``
(``engine.agent.behavior``): the agent's tool calls run in inner instances
that hold the call (``ElementInstance.call``), and their results go to the agent.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from engine.model import AdHocSubProcess, FlowNode
from engine.runtime.behaviors.activation import activated
from engine.runtime.behaviors.events import open_scope_waits
from engine.runtime.expressions import ExpressionFailure, evaluate, evaluate_condition, evaluate_list
from engine.runtime.journal import EventType
from engine.runtime.kernel import CommandRejected, ElementBehavior, Kernel
from engine.runtime.records import TOOL_CALL_LOCALS, ToolCall
from engine.runtime.state import ElementInstance, ElementState, IncidentAction, Phase

__all__ = ["AdHocSubProcessBehavior", "activate_from_outside", "activate_inner"]


def _check_ids(step: Kernel, node: AdHocSubProcess, ids: Sequence[Any]) -> list[str]:
    allowed = {n.id for n in step.process.activatable(node)}
    for item in ids:
        if not isinstance(item, str) or item not in allowed:
            raise ExpressionFailure(
                f"ad-hoc subprocess '{node.id}' cannot activate {item!r}: the elements it can activate are "
                f"{', '.join(sorted(allowed)) or 'none'}"
            )
    return list(ids)


class AdHocSubProcessBehavior(ElementBehavior):
    """A plain ad-hoc subprocess; ``engine.agent.behavior`` extends it for one that an agent runs."""

    def activate(self, kernel: Kernel, element: ElementInstance, node: FlowNode) -> None:
        assert isinstance(node, AdHocSubProcess)
        ids: list[str] = []
        if node.active_elements:
            found = evaluate_list(node.active_elements, kernel.scope(element.key), kernel.now,
                                  what="active elements collection")
            ids = _check_ids(kernel, node, found)
        open_scope_waits(kernel, element, node.id)
        activated(kernel, element, waits=True)
        if node.output_collection:
            kernel.set_variables(element.key, {node.output_collection: []}, local=True)
        for element_id in ids:
            activate_inner(kernel, element, node, element_id, {})

    def settle(self, kernel: Kernel, scope: ElementInstance) -> None:
        """Something left ``scope`` (an inner instance or the ad-hoc subprocess itself)."""
        if kernel.state.children_of(scope.key):
            return
        if scope.inner:
            self._inner_done(kernel, scope)
            return
        if scope.agent is not None:
            return  # the agent's loop decides when it is done
        node = kernel.node(scope)
        assert isinstance(node, AdHocSubProcess)
        try:
            done = node.completion_condition is None or evaluate_condition(
                node.completion_condition, kernel.scope(scope.key), kernel.now, what="completion condition")
        except ExpressionFailure as exc:
            kernel.incident(scope, IncidentAction.SETTLE, "expression", str(exc))
            return
        if done:
            _complete(kernel, scope, node)

    def call_finished(self, kernel: Kernel, element: ElementInstance, call: ToolCall, result: Any) -> None:
        """The inner instance running an agent's tool call ended with ``result``; only agents hold calls."""
        raise AssertionError(f"'{element.element_id}' holds tool call {call.id} but no agent runs it")

    def _inner_done(self, kernel: Kernel, inner: ElementInstance) -> None:
        assert inner.parent is not None
        element = kernel.state.elements[inner.parent]
        node = kernel.node(element)
        assert isinstance(node, AdHocSubProcess)
        try:
            if node.output_collection and node.output_element:
                value = evaluate(node.output_element, kernel.scope(inner.key), kernel.now, what="output element")
                collection = list(kernel.state.variables.get(element.key, {}).get(node.output_collection) or [])
                collection.append(value)
                kernel.set_variables(element.key, {node.output_collection: collection}, local=True)
        except ExpressionFailure as exc:
            kernel.incident(inner, IncidentAction.SETTLE, "expression", str(exc))
            return
        local = dict(kernel.state.variables.get(inner.key, {}))
        kernel.remove(inner)
        if inner.call is not None and element.agent is not None:
            result = local.get("toolCallResult")
            if result is None:  # what the tool wrote: into its inner instance (isolated) or up (propagating)
                result = {**{k: v for k, v in local.items() if k not in TOOL_CALL_LOCALS}, **(inner.call.written or {})}
            self.call_finished(kernel, element, inner.call, result)
            return
        if node.completion_condition is not None:
            try:
                held = evaluate_condition(node.completion_condition, kernel.scope(element.key), kernel.now,
                                          what="completion condition")
            except ExpressionFailure as exc:
                kernel.incident(element, IncidentAction.SETTLE, "expression", str(exc))
                return
            if held:
                if node.cancel_remaining_instances:
                    for child in kernel.state.children_of(element.key):
                        kernel.terminate(child)
                if not kernel.state.children_of(element.key):
                    _complete(kernel, element, node)
                return
        self.settle(kernel, element)


def activate_inner(step: Kernel, element: ElementInstance, node: AdHocSubProcess, element_id: str,
                   variables: dict[str, Any], *, call: ToolCall | None = None) -> ElementInstance:
    """Activate ``element_id`` inside ``element`` in a new inner instance holding ``variables``."""
    inner = step.create_element(node.id, element.key, state=ElementState.ACTIVE, inner=True, call=call)
    if variables:
        step.set_variables(inner.key, variables, local=True)
    step.record(EventType.AD_HOC_ELEMENT_ACTIVATED, inner, activated=element_id)
    step.enter(element_id, inner.key)
    return inner


def activate_from_outside(step: Kernel, element: ElementInstance, ids: Sequence[str],
                          variables: dict[str, Any]) -> None:
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


def _complete(step: Kernel, element: ElementInstance, node: AdHocSubProcess) -> None:
    if node.output_collection and not node.outputs:  # as a multi-instance body does: the collection goes up
        collection = step.state.variables.get(element.key, {}).get(node.output_collection, [])
        step.set_variables(element.parent, {node.output_collection: collection}, local=False)
    step.schedule(Phase.COMPLETE, element, {})
