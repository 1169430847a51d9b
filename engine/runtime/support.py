"""Which parsed elements the runtime can execute today.

The parser understands more of BPMN than the runtime runs yet; deploying a
model that uses the rest is refused with a problem naming each element,
rather than accepted and stuck later.
"""

from __future__ import annotations

from engine.model import (
    BoundaryEvent,
    Definitions,
    ElementKind,
    Event,
    EventDefinitionKind,
    FlowNode,
    SubProcess,
)
from engine.parser import Problem

_EVENT_KINDS = {
    ElementKind.START_EVENT: {EventDefinitionKind.NONE},
    ElementKind.END_EVENT: {EventDefinitionKind.NONE, EventDefinitionKind.TERMINATE, EventDefinitionKind.ERROR},
    ElementKind.INTERMEDIATE_THROW_EVENT: {EventDefinitionKind.NONE},
    ElementKind.INTERMEDIATE_CATCH_EVENT: set(),
}
_NOT_YET = {
    ElementKind.EVENT_BASED_GATEWAY: "event-based gateways",
    ElementKind.RECEIVE_TASK: "receive tasks",
    ElementKind.AD_HOC_SUB_PROCESS: "ad-hoc subprocesses",
}


def _problem(node: FlowNode, resource: str) -> str | None:
    if node.kind in _NOT_YET:
        return f"{_NOT_YET[node.kind]} are not supported yet"
    if isinstance(node, BoundaryEvent):
        return "boundary events are not supported yet"
    if isinstance(node, SubProcess) and node.triggered_by_event:
        return "event subprocesses are not supported yet"
    if isinstance(node, Event) and node.kind in _EVENT_KINDS:
        allowed = _EVENT_KINDS[node.kind]
        for definition in node.definitions or ():
            if definition.kind not in allowed:
                return f"{definition.kind} {node.kind} events are not supported yet"
        if not node.definitions and EventDefinitionKind.NONE not in allowed:
            return f"{node.kind} without event definition is not supported"
    return None


def unsupported_problems(definitions: Definitions, resource: str) -> list[Problem]:
    problems: list[Problem] = []
    for process in definitions.processes.values():
        if not process.executable:
            continue
        for node in process.nodes.values():
            message = _problem(node, resource)
            if message is not None:
                problems.append(Problem(source_name=resource, line=node.line, element_id=node.id, message=message))
    return problems
