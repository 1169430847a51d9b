"""Deploy-time lint: loops that can run with no wait state, processes that call themselves or one not deployed.

A cycle of sequence flows whose every element completes at once (gateways,
script tasks, plain tasks, throw events with no job) runs inside a single
command. It may end (a counter and a condition), so it is a warning, not an
error; if it does not, the step budget of ``RuntimeLimits`` turns it into an
incident. The warning says which elements loop, so the modeller can add a
wait state or check the exit condition before anything runs.

A call activity may name a process that is not deployed yet: as in Camunda,
the call resolves when an instance reaches it, and raises an incident if the
process is still missing then. Deploying says so, per call activity.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator

from engine.graphs import strongly_connected
from engine.model import CallActivity, ElementKind, FlowNode, JobTask, Process, ScriptTask
from engine.parser import Problem

__all__ = ["call_warnings", "loop_warnings", "recursion_warnings"]

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
    """Strongly connected components of the flow graph restricted to ``members`` that contain a cycle."""

    def successors(node_id: str) -> Iterator[str]:
        return _successors(process, process.nodes[node_id])

    return [
        component for component in strongly_connected(members, successors)
        if len(component) > 1 or component[0] in set(successors(component[0]))
    ]


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


def _static_calls(process: Process) -> list[tuple[CallActivity, str]]:
    """The call activities of an executable process with a static target, and the process each one names."""
    if not process.executable:
        return []
    return [(node, node.called_process.text) for node in process.nodes.values()
            if isinstance(node, CallActivity) and not node.called_process.is_expression and node.called_process.text]


def recursion_warnings(process: Process, resource: str) -> list[Problem]:
    """A call activity that names its own process: each call starts another, until the call depth limit."""
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
        for node, target in _static_calls(process)
        if target == process.id
    ]


def call_warnings(process: Process, resource: str, deployed: Collection[str]) -> list[Problem]:
    """Call activities whose static target is neither in ``deployed`` (with this deployment) nor this process."""
    return [
        Problem(
            source_name=resource,
            line=node.line,
            element_id=node.id,
            message=(
                f"call activity calls process '{target}', which is not deployed yet: deploy it "
                "before an instance reaches this call activity, or the call stops there in an incident"
            ),
        )
        for node, target in _static_calls(process)
        if target not in deployed and target != process.id
    ]
