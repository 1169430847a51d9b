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
    Process,
    StartEvent,
    SubProcess,
)
from engine.parser import Problem

_NONE, _TIMER, _MESSAGE, _SIGNAL = (EventDefinitionKind.NONE, EventDefinitionKind.TIMER, EventDefinitionKind.MESSAGE,
                                    EventDefinitionKind.SIGNAL)
_ERROR, _ESCALATION, _COMPENSATE, _LINK = (EventDefinitionKind.ERROR, EventDefinitionKind.ESCALATION,
                                           EventDefinitionKind.COMPENSATE, EventDefinitionKind.LINK)
_TERMINATE = EventDefinitionKind.TERMINATE

_EVENT_KINDS = {
    ElementKind.END_EVENT: {_NONE, _TERMINATE, _ERROR, _ESCALATION, _SIGNAL, _COMPENSATE, _MESSAGE},
    ElementKind.INTERMEDIATE_THROW_EVENT: {_NONE, _SIGNAL, _ESCALATION, _COMPENSATE, _LINK, _MESSAGE},
    ElementKind.INTERMEDIATE_CATCH_EVENT: {_TIMER, _MESSAGE, _SIGNAL, _LINK},
    ElementKind.BOUNDARY_EVENT: {_TIMER, _MESSAGE, _SIGNAL, _ERROR, _ESCALATION, _COMPENSATE},
}
_START_KINDS = {
    "process": {_NONE, _TIMER, _MESSAGE, _SIGNAL},
    "event subprocess": {_TIMER, _MESSAGE, _SIGNAL, _ERROR, _ESCALATION},
    "subprocess": {_NONE},
}
_NOT_YET: dict[ElementKind, str] = {}


def _kinds(node: Event) -> set[EventDefinitionKind]:
    return {d.kind for d in node.definitions} or {_NONE}


def _problem(process: Process, node: FlowNode) -> str | None:
    if node.kind in _NOT_YET:
        return f"{_NOT_YET[node.kind]} are not supported yet"
    if not isinstance(node, Event):
        return None
    kinds = _kinds(node)
    if len(node.definitions) > 1:
        return "events with several event definitions (multiple events) are not supported yet"
    if isinstance(node, StartEvent):
        container = process.nodes.get(node.parent)
        where = "process" if container is None else (
            "event subprocess" if isinstance(container, SubProcess) and container.triggered_by_event else "subprocess")
        allowed = _START_KINDS[where]
    else:
        allowed = _EVENT_KINDS.get(node.kind, {_NONE})
    unsupported = kinds - allowed
    if unsupported:
        kind = sorted(unsupported)[0]
        return f"a {kind} {node.kind} is not supported" + (" yet" if kind == EventDefinitionKind.CONDITIONAL else "")
    if _COMPENSATE in kinds and isinstance(node, BoundaryEvent) and node.compensation_handler is None:
        return "a compensation boundary event needs an association to its compensation handler activity"
    return None


def unsupported_problems(definitions: Definitions, resource: str) -> list[Problem]:
    problems: list[Problem] = []
    for process in definitions.processes.values():
        if not process.executable:
            continue
        for node in process.nodes.values():
            message = _problem(process, node)
            if message is not None:
                problems.append(Problem(source_name=resource, line=node.line, element_id=node.id, message=message))
    return problems
