"""Which outgoing sequence flows a completing element takes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.model import ElementKind, FlowNode, SequenceFlow
from engine.runtime.expressions import ExpressionFailure, evaluate_condition
from engine.runtime.state import ElementInstance

if TYPE_CHECKING:
    from engine.runtime.step import Step


def select_flows(step: Step, element: ElementInstance, node: FlowNode) -> list[SequenceFlow]:
    flows = step.process.outgoing(node)
    if not flows:
        return []
    if node.kind == ElementKind.PARALLEL_GATEWAY:
        return list(flows)
    default = getattr(node, "default_flow", None)
    exclusive = node.kind == ElementKind.EXCLUSIVE_GATEWAY
    if exclusive and len(flows) == 1 and flows[0].condition is None:
        return [flows[0]]
    scope = step.scope(element.parent)
    chosen: list[SequenceFlow] = []
    for flow in flows:
        if flow.id == default:
            continue
        if flow.condition is None:
            if exclusive:
                continue
            chosen.append(flow)
        elif evaluate_condition(flow.condition, scope, step.now, what=f"condition of sequence flow '{flow.id}'"):
            chosen.append(flow)
            if exclusive:
                break
    if chosen:
        return chosen
    if default is not None:
        return [step.process.flows[default]]
    if node.kind in (ElementKind.EXCLUSIVE_GATEWAY, ElementKind.INCLUSIVE_GATEWAY):
        raise ExpressionFailure(
            f"no outgoing sequence flow of gateway '{node.id}' can be taken: no condition is true "
            "and there is no default flow"
        )
    return []
