"""Rules over a whole built process: what each scope must contain and how nodes may connect.

Each rule is a small function over the frozen ``Process``; ``check_process``
runs them all so that every problem is reported, not just the first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from engine.model import (
    Activity,
    AdHocSubProcess,
    BoundaryEvent,
    CallActivity,
    ElementKind,
    Event,
    EventDefinitionKind,
    FlowNode,
    Gateway,
    Process,
    ReceiveTask,
    SequenceFlow,
    StartEvent,
    SubProcess,
)
from engine.parser._context import ProcessContext

K = EventDefinitionKind
_PROCESS_STARTS: Final = frozenset({K.MESSAGE, K.TIMER, K.SIGNAL})
_EVENT_SUBPROCESS_ONLY: Final = frozenset({K.ERROR, K.ESCALATION, K.COMPENSATE})
_AFTER_EVENT_GATEWAY: Final = frozenset({K.MESSAGE, K.TIMER, K.SIGNAL, K.CONDITIONAL})


class _Report:
    def __init__(self, ctx: ProcessContext) -> None:
        self.ctx = ctx

    def node(self, node: FlowNode, message: str) -> None:
        self.ctx.sink.add(message, line=node.line, element_id=node.id)

    def process(self, process: Process, message: str) -> None:
        self.ctx.sink.add(message, line=process.line, element_id=process.id)

    def flow(self, flow: SequenceFlow, message: str) -> None:
        self.ctx.sink.add(message, line=flow.line, element_id=flow.id)


def _kind(node: FlowNode) -> EventDefinitionKind:
    definition = node.definition if isinstance(node, Event) else None
    return definition.kind if definition is not None else K.NONE


def _process_scope(process: Process, report: _Report) -> None:
    starts = process.start_events(process.id)
    if not any(_kind(s) is K.NONE or _kind(s) in _PROCESS_STARTS for s in starts):
        conditional = any(_kind(s) is K.CONDITIONAL for s in starts)
        report.process(process, "process has no start event (a none, message, timer or signal start event)" + (
            "; a conditional start event at the process level (Camunda starts such an instance through its API) "
            "is not supported yet" if conditional else ""))
    if sum(1 for s in starts if _kind(s) is K.NONE) > 1:
        report.process(process, "process has more than one none start event")
    for start in starts:
        if _kind(start) in _EVENT_SUBPROCESS_ONLY:
            report.node(start, f"a {_kind(start)} start event is only allowed in an event subprocess")


def _sub_process_scope(sub: SubProcess, process: Process, report: _Report) -> None:
    starts = process.start_events(sub.id)
    if isinstance(sub, AdHocSubProcess):
        for start in starts:
            report.node(start, f"an ad-hoc subprocess ('{sub.id}') must not contain start events")
        return
    if sub.triggered_by_event:
        if sub.incoming or sub.outgoing:
            report.node(sub, "an event subprocess must not have incoming or outgoing sequence flows")
        if not starts:
            report.node(sub, "event subprocess has no start event")
        elif len(starts) > 1:
            report.node(sub, "event subprocess must have exactly one start event")
        for start in starts:
            if _kind(start) is K.NONE:
                report.node(start, "the start event of an event subprocess needs an event definition")
        return
    nones = [s for s in starts if _kind(s) is K.NONE]
    if not nones:
        report.node(sub, "subprocess has no none start event")
    elif len(nones) > 1:
        report.node(sub, "subprocess has more than one none start event")
    for start in starts:
        if _kind(start) is not K.NONE:
            report.node(start, "a start event of an embedded subprocess must not have an event definition")


def _scopes(process: Process, report: _Report) -> None:
    _process_scope(process, report)
    for node in process.nodes.values():
        if isinstance(node, SubProcess):
            _sub_process_scope(node, process, report)
        if isinstance(node, StartEvent) and not node.interrupting:
            parent = process.nodes.get(node.parent)
            if not (isinstance(parent, SubProcess) and parent.triggered_by_event):
                report.node(node, "only the start event of an event subprocess can be non-interrupting")


def _gateways(process: Process, report: _Report) -> None:
    for node in process.nodes.values():
        if not isinstance(node, Gateway):
            continue
        flows = process.outgoing(node)
        if not flows:
            report.node(node, f"{_words(node.kind)} has no outgoing sequence flow")
        if node.default_flow is not None and node.default_flow not in node.outgoing:
            report.node(node, f"default flow '{node.default_flow}' is not an outgoing sequence flow of this gateway")
        for flow in flows:
            if node.kind in (ElementKind.PARALLEL_GATEWAY, ElementKind.EVENT_BASED_GATEWAY) and flow.condition:
                report.flow(flow, f"a sequence flow out of {_words(node.kind)} '{node.id}' cannot have a condition")
            elif (
                node.kind in (ElementKind.EXCLUSIVE_GATEWAY, ElementKind.INCLUSIVE_GATEWAY)
                and len(flows) > 1
                and flow.condition is None
                and flow.id != node.default_flow
            ):
                report.flow(
                    flow,
                    f"sequence flow out of {_words(node.kind)} '{node.id}' needs a condition "
                    "or must be the gateway's default flow",
                )
        if node.kind is ElementKind.EVENT_BASED_GATEWAY:
            _event_based_targets(node, flows, process, report)


def _event_based_targets(gateway: Gateway, flows: tuple[SequenceFlow, ...], process: Process, report: _Report) -> None:
    if len(flows) == 1:
        report.node(gateway, "an event-based gateway needs at least two outgoing sequence flows")
    for flow in flows:
        target = process.nodes[flow.target]
        catches = target.kind is ElementKind.INTERMEDIATE_CATCH_EVENT and _kind(target) in _AFTER_EVENT_GATEWAY
        if not (catches or isinstance(target, ReceiveTask)):
            report.flow(
                flow,
                f"an event-based gateway may only lead to message, timer, signal or conditional catch events "
                f"or receive tasks, not to '{target.id}'",
            )


def _words(kind: ElementKind) -> str:
    return {
        ElementKind.EXCLUSIVE_GATEWAY: "exclusive gateway",
        ElementKind.PARALLEL_GATEWAY: "parallel gateway",
        ElementKind.INCLUSIVE_GATEWAY: "inclusive gateway",
        ElementKind.EVENT_BASED_GATEWAY: "event-based gateway",
    }.get(kind, str(kind))


def _connections(process: Process, report: _Report) -> None:
    for node in process.nodes.values():
        if isinstance(node, StartEvent | BoundaryEvent) and node.incoming:
            report.node(node, f"a {node.kind} cannot have incoming sequence flows")
        if node.kind is ElementKind.END_EVENT and node.outgoing:
            report.node(node, "an end event cannot have outgoing sequence flows")
        if isinstance(node, BoundaryEvent) and _kind(node) is K.COMPENSATE:
            _compensation_handler(node, process, report)
        default = getattr(node, "default_flow", None)
        if default is not None and not isinstance(node, Gateway) and default not in node.outgoing:
            report.node(node, f"default flow '{default}' is not an outgoing sequence flow of this activity")


def _compensation_handler(event: BoundaryEvent, process: Process, report: _Report) -> None:
    handler = process.nodes.get(event.compensation_handler or "")
    if handler is None:
        report.node(event, "compensation boundary event has no handler: associate it with an activity")
    elif not (isinstance(handler, Activity) and handler.is_for_compensation):
        report.node(handler, 'a compensation handler must be an activity with isForCompensation="true"')
    elif handler.incoming or handler.outgoing:
        report.node(handler, "a compensation handler cannot have sequence flows")


def _messages(process: Process, report: _Report) -> None:
    """Message catches other than process start events need a correlation key to find their instance."""
    for node in process.nodes.values():
        if isinstance(node, ReceiveTask):
            definition = node.message
        elif isinstance(node, Event) and node.kind is not ElementKind.INTERMEDIATE_THROW_EVENT:
            definition = node.definition
        else:
            continue
        if definition is None or definition.kind is not K.MESSAGE or node.kind is ElementKind.END_EVENT:
            continue
        if isinstance(node, StartEvent) and node.parent == process.id:
            continue
        if definition.ref is not None and definition.correlation_key is None:
            report.node(
                node,
                f"message '{definition.ref}' needs a correlation key here "
                "(zeebe:subscription correlationKey on the bpmn:message)",
            )


def _links(process: Process, report: _Report) -> None:
    for scope, ids in process.scopes.items():
        catches: dict[str, str] = {}
        throws: list[Event] = []
        for node_id in ids:
            node = process.nodes[node_id]
            if not isinstance(node, Event) or _kind(node) is not K.LINK or node.definition is None:
                continue
            name = node.definition.ref or ""
            if node.kind is ElementKind.INTERMEDIATE_THROW_EVENT:
                throws.append(node)
            elif name in catches:
                report.node(node, f"link name '{name}' is already caught by '{catches[name]}' in '{scope}'")
            else:
                catches[name] = node.id
        for throw in throws:
            wanted = throw.definition.ref if throw.definition else None
            if wanted and wanted not in catches:
                report.node(throw, f"no link catch event named '{wanted}' in '{scope}'")


def _references(process: Process, report: _Report) -> None:
    roots, known = report.ctx.roots, report.ctx.known_process_ids
    for node in process.nodes.values():
        if isinstance(node, Event):
            for definition in node.definitions:
                if definition.kind is K.COMPENSATE and definition.ref and definition.ref not in process.nodes:
                    report.node(node, f"compensation activityRef '{definition.ref}' is not an activity of this process")
        if not isinstance(node, CallActivity) or known is None or node.called_process.is_expression:
            continue
        called = node.called_process.text
        if not called or called in roots.executable_processes or called in known:
            continue
        # A process neither here nor deployed may be deployed later: as in Camunda, the call resolves when it
        # runs (an incident if it is still missing then), and deploying warns (``engine.runtime.lint``).
        if called in roots.other_processes:
            report.node(node, f"calls process '{called}', which is not executable in this file")


RULES: Final[tuple[Callable[[Process, _Report], None], ...]] = (
    _scopes,
    _gateways,
    _connections,
    _messages,
    _links,
    _references,
)


def check_process(process: Process, ctx: ProcessContext) -> None:
    report = _Report(ctx)
    for rule in RULES:
        rule(process, report)
