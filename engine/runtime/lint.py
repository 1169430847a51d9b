"""Deploy-time lint: loops that can run with no wait state, and processes that call themselves.

A cycle of sequence flows whose every element completes at once (gateways,
script tasks, plain tasks, throw events with no job) runs inside a single
command. It may end (a counter and a condition), so it is a warning, not an
error; if it does not, the step budget of ``RuntimeLimits`` turns it into an
incident. The warning says which elements loop, so the modeller can add a
wait state or check the exit condition before anything runs.
"""

from __future__ import annotations

from collections.abc import Iterator

from engine.model import CallActivity, ElementKind, FlowNode, JobTask, Process, ScriptTask
from engine.parser import Problem

__all__ = ["loop_warnings", "recursion_warnings"]

_INSTANT_KINDS = frozenset({
    ElementKind.EXCLUSIVE_GATEWAY,
    ElementKind.PARALLEL_GATEWAY,
    ElementKind.INCLUSIVE_GATEWAY,
    ElementKind.TASK,
    ElementKind.MANUAL_TASK,
})


def _instant(node: FlowNode) -> bool:
    """Whether ``node`` completes in the step that activates it (no job, person, message, timer or child)."""
    if isinstance(node, ScriptTask):
        return True
    if isinstance(node, JobTask):
        return False
    if node.kind == ElementKind.INTERMEDIATE_THROW_EVENT:
        return getattr(node, "job", None) is None
    return node.kind in _INSTANT_KINDS


def _successors(process: Process, node: FlowNode) -> Iterator[str]:
    for flow_id in node.outgoing:
        flow = process.flows.get(flow_id)
        if flow is not None:
            yield flow.target


def _cycles(process: Process, members: set[str]) -> list[list[str]]:
    """Strongly connected components of the flow graph restricted to ``members`` that contain a cycle.

    Tarjan's algorithm, iteratively, so a model with thousands of flows cannot exhaust the stack.
    """
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in sorted(members):
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, _successors(process, process.nodes[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node_id, children = work[-1]
            advanced = False
            for child in children:
                if child not in members:
                    continue
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, _successors(process, process.nodes[child])))
                    advanced = True
                    break
                if child in on_stack:
                    low[node_id] = min(low[node_id], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node_id])
            if low[node_id] == index[node_id]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node_id:
                        break
                node = process.nodes[node_id]
                loops_to_itself = node_id in set(_successors(process, node))
                if len(component) > 1 or loops_to_itself:
                    found.append(sorted(component))
    return found


def loop_warnings(process: Process, resource: str) -> list[Problem]:
    """One warning per cycle of sequence flows that has no wait state, on its first element in document order."""
    if not process.executable:
        return []
    instant = {node_id for node_id, node in process.nodes.items() if _instant(node)}
    warnings: list[Problem] = []
    for cycle in _cycles(process, instant):
        nodes = sorted((process.nodes[node_id] for node_id in cycle), key=lambda n: (n.line or 0, n.id))
        names = ", ".join(f"'{n.id}'" for n in nodes[:6]) + (", ..." if len(nodes) > 6 else "")
        warnings.append(
            Problem(
                source_name=resource,
                line=nodes[0].line,
                element_id=nodes[0].id,
                message=(
                    f"the flows through {names} form a loop with no wait state (no task, event or timer that waits): "
                    "it runs within one command, and if its exit condition never holds it stops in an incident "
                    "once the step limit (AGENTHUB_MAX_STEPS) is reached"
                ),
            )
        )
    return warnings


def recursion_warnings(process: Process, resource: str) -> list[Problem]:
    """A call activity that names its own process: each call starts another, until the call depth limit."""
    if not process.executable:
        return []
    return [
        Problem(
            source_name=resource,
            line=node.line,
            element_id=node.id,
            message=(
                f"call activity calls its own process '{process.id}': unless a condition ends the recursion, it "
                "calls itself until the call depth limit (AGENTHUB_MAX_CALL_DEPTH) stops it in an incident"
            ),
        )
        for node in process.nodes.values()
        if isinstance(node, CallActivity) and not node.called_process.is_expression
        and node.called_process.text == process.id
    ]
