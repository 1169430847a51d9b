"""Which outgoing sequence flows a completing element takes, by their conditions and default flow.

One rule for every element, with the two gateway variants as switches: an
exclusive choice takes the first flow whose condition holds (unconditioned
flows do not count, unless a single one is all there is); a required choice
(a gateway's) is an error when no flow can be taken.
"""

from __future__ import annotations

from datetime import datetime

from engine.model import FlowNode, Process, SequenceFlow
from engine.runtime.expressions import ExpressionFailure, evaluate_condition
from engine.runtime.variables import ScopeView

__all__ = ["conditional_flows"]


def conditional_flows(process: Process, scope: ScopeView, now: datetime, node: FlowNode, *,
                      exclusive: bool = False, required: bool = False) -> list[SequenceFlow]:
    flows = process.outgoing(node)
    if not flows:
        return []
    default = getattr(node, "default_flow", None)
    if exclusive and len(flows) == 1 and flows[0].condition is None:
        return [flows[0]]
    chosen: list[SequenceFlow] = []
    for flow in flows:
        if flow.id == default:
            continue
        if flow.condition is None:
            if exclusive:
                continue
            chosen.append(flow)
        elif evaluate_condition(flow.condition, scope, now, what=f"condition of sequence flow '{flow.id}'"):
            chosen.append(flow)
            if exclusive:
                break
    if chosen:
        return chosen
    if default is not None:
        return [process.flows[default]]
    if required:
        raise ExpressionFailure(
            f"no outgoing sequence flow of gateway '{node.id}' can be taken: no condition is true "
            "and there is no default flow"
        )
    return []
