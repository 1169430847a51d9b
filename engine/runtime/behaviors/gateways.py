"""Gateways: which outgoing flows a gateway takes, and when a joining gateway fires.

A parallel join fires once a token waits on every incoming flow; an inclusive
join once tokens wait and no other token of its scope can still reach it
(checked again whenever something leaves the scope). Tokens waiting at a join
are counted on the scope (``ElementInstance.joins``).
"""

from __future__ import annotations

from engine.model import FlowNode, SequenceFlow
from engine.runtime.behaviors.activation import PassThrough
from engine.runtime.flows import conditional_flows
from engine.runtime.kernel import Kernel
from engine.runtime.state import ElementInstance

__all__ = ["ExclusiveGateway", "InclusiveGateway", "ParallelGateway"]


class ExclusiveGateway(PassThrough):
    def outgoing(self, kernel: Kernel, element: ElementInstance, node: FlowNode) -> list[SequenceFlow]:
        return conditional_flows(kernel.process, kernel.scope(element.parent), kernel.now, node, exclusive=True,
                                 required=True)


class _Join(PassThrough):
    """A gateway that joins when it has several incoming flows."""

    def arrive(self, kernel: Kernel, scope: ElementInstance, node: FlowNode, flow: SequenceFlow) -> None:
        if len(node.incoming) <= 1:
            kernel.enter(node.id, scope.key)
            return
        arrivals = scope.joins.setdefault(node.id, {})
        arrivals[flow.id] = arrivals.get(flow.id, 0) + 1
        self._try_join(kernel, scope, node)

    def _consumed(self, kernel: Kernel, scope: ElementInstance, node: FlowNode) -> list[str]:
        """The incoming flows whose tokens the join consumes when it fires now; empty: it does not fire."""
        raise NotImplementedError

    def _try_join(self, kernel: Kernel, scope: ElementInstance, node: FlowNode) -> None:
        consumed = self._consumed(kernel, scope, node)
        if not consumed:
            return
        arrivals = scope.joins.get(node.id, {})
        for flow_id in consumed:
            arrivals[flow_id] -= 1
            if not arrivals[flow_id]:
                del arrivals[flow_id]
        if not arrivals:
            del scope.joins[node.id]
        kernel.enter(node.id, scope.key)


class ParallelGateway(_Join):
    def outgoing(self, kernel: Kernel, element: ElementInstance, node: FlowNode) -> list[SequenceFlow]:
        return list(kernel.process.outgoing(node))

    def _consumed(self, kernel: Kernel, scope: ElementInstance, node: FlowNode) -> list[str]:
        arrivals = scope.joins.get(node.id, {})
        return list(node.incoming) if all(arrivals.get(f, 0) > 0 for f in node.incoming) else []


class InclusiveGateway(_Join):
    def outgoing(self, kernel: Kernel, element: ElementInstance, node: FlowNode) -> list[SequenceFlow]:
        return conditional_flows(kernel.process, kernel.scope(element.parent), kernel.now, node, required=True)

    def token_left(self, kernel: Kernel, scope: ElementInstance, node: FlowNode) -> None:
        self._try_join(kernel, scope, node)

    def _consumed(self, kernel: Kernel, scope: ElementInstance, node: FlowNode) -> list[str]:
        arrivals = scope.joins.get(node.id, {})
        consumed = [f for f in node.incoming if arrivals.get(f, 0) > 0]
        return [] if not consumed or _token_can_reach(kernel, scope, node.id) else consumed


def _token_can_reach(kernel: Kernel, scope: ElementInstance, gateway_id: str) -> bool:
    """Whether a token still inside ``scope`` could arrive at the inclusive join ``gateway_id``."""
    for child in kernel.state.elements.values():
        if child.parent == scope.key and gateway_id in kernel.process.reachable_from(child.element_id):
            return True
    for other, arrivals in scope.joins.items():
        if other != gateway_id and arrivals and gateway_id in kernel.process.reachable_from(other):
            return True
    return False
