"""Walking a process and its subprocesses into one ``Process``.

The walk builds each node from the table with what the element itself says;
``assemble`` then fills in what only the whole scope knows (incoming and
outgoing flows, boundary events of an activity, children of a subprocess),
reporting flows and attachments that do not hold together.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from engine.model import (
    Activity,
    BoundaryEvent,
    ElementKind,
    EventDefinitionKind,
    Process,
    SequenceFlow,
    SubProcess,
)
from engine.parser._context import NodeFields, ProcessContext
from engine.parser._extensions import (
    agenthub_attributes,
    agenthub_elements,
    check_zeebe,
    documentation,
    io_mappings,
    listeners,
    properties,
)
from engine.parser._forms import embedded_forms
from engine.parser._names import BPMN, bpmn, prefixed, split
from engine.parser._table import FLOW_NODES, IGNORED_IN_SCOPE, SEQUENCE_FLOW
from engine.parser._tree import Element, elements, line_of, text_of

_ASSOCIATION = bpmn("association")


@dataclass(frozen=True, slots=True)
class PlacedFlow:
    """A sequence flow with the scope (process or subprocess id) it is declared in."""

    flow: SequenceFlow
    scope: str


def walk(container: Element, scope: str, ctx: ProcessContext, flows: list[PlacedFlow]) -> None:
    """Build the flow nodes and sequence flows directly inside ``container``, and inside its subprocesses."""
    for tag, child in elements(container):
        if tag == SEQUENCE_FLOW:
            flow = _sequence_flow(child, ctx)
            if flow is not None:
                flows.append(PlacedFlow(flow, scope))
            continue
        if tag == _ASSOCIATION:
            ctx.associations.append(((child.get("sourceRef") or "").strip(), (child.get("targetRef") or "").strip()))
            continue
        entry = FLOW_NODES.get(tag)
        if entry is None:
            if split(tag)[0] == BPMN and tag not in IGNORED_IN_SCOPE:
                ctx.sink.at(child, f"unsupported element {prefixed(tag)}")
                ctx.skipped.add(child.get("id") or "")
            continue  # other vendors' elements mean nothing here
        kind, build = entry
        element_id = _new_id(child, ctx)
        if element_id is None:
            continue
        node = build(child, _node_fields(child, element_id, kind, scope, ctx), ctx)
        if node is None:
            ctx.skipped.add(element_id)
            continue
        ctx.nodes[element_id] = node
        ctx.elements[element_id] = child
        if isinstance(node, SubProcess):
            walk(child, element_id, ctx, flows)


def _new_id(element: Element, ctx: ProcessContext) -> str | None:
    element_id = (element.get("id") or "").strip()
    if not element_id:
        ctx.sink.add(f"{prefixed(str(element.tag))} has no id", line=line_of(element))
        return None
    if element_id in ctx.elements:
        return None  # duplicate ids are reported once for the whole document
    return element_id


def _node_fields(element: Element, element_id: str, kind: ElementKind, scope: str, ctx: ProcessContext) -> NodeFields:
    check_zeebe(element, ctx.sink)
    inputs, outputs = io_mappings(element, ctx)
    return NodeFields(
        id=element_id,
        kind=kind,
        name=element.get("name"),
        parent=scope,
        documentation=documentation(element),
        inputs=inputs,
        outputs=outputs,
        properties=properties(element),
        line=line_of(element),
        extensions=agenthub_elements(element),
        listeners=listeners(element, ctx),
    )


def _sequence_flow(element: Element, ctx: ProcessContext) -> SequenceFlow | None:
    flow_id = _new_id(element, ctx)
    if flow_id is None:
        return None
    ctx.elements[flow_id] = element
    source = (element.get("sourceRef") or "").strip()
    target = (element.get("targetRef") or "").strip()
    if not source:
        ctx.sink.at(element, "sequence flow has no sourceRef")
    if not target:
        ctx.sink.at(element, "sequence flow has no targetRef")
    condition_element = next((c for t, c in elements(element) if t == bpmn("conditionExpression")), None)
    condition = None
    if condition_element is not None and text_of(condition_element):
        condition = ctx.expression(text_of(condition_element), condition_element, "condition")
    return SequenceFlow(
        id=flow_id, source=source, target=target, name=element.get("name"), condition=condition, line=line_of(element)
    )


def assemble(ctx: ProcessContext, flows: list[PlacedFlow]) -> dict[str, SequenceFlow]:
    """Connect the walked nodes: keep the flows that hold together and fill in what each node links to."""
    kept: dict[str, SequenceFlow] = {}
    incoming: dict[str, list[str]] = {}
    outgoing: dict[str, list[str]] = {}
    for placed in flows:
        flow = placed.flow
        if _flow_holds(placed, ctx):
            kept[flow.id] = flow
            outgoing.setdefault(flow.source, []).append(flow.id)
            incoming.setdefault(flow.target, []).append(flow.id)
    boundaries: dict[str, list[str]] = {}
    children: dict[str, list[str]] = {}
    for node in ctx.nodes.values():
        children.setdefault(node.parent, []).append(node.id)
        if isinstance(node, BoundaryEvent) and _attachment_holds(node, ctx):
            boundaries.setdefault(node.attached_to, []).append(node.id)
    for node_id, node in list(ctx.nodes.items()):
        linked = dataclasses.replace(
            node, incoming=tuple(incoming.get(node_id, ())), outgoing=tuple(outgoing.get(node_id, ()))
        )
        if isinstance(linked, Activity):
            linked = dataclasses.replace(linked, boundary_events=tuple(boundaries.get(node_id, ())))
        if isinstance(linked, SubProcess):
            linked = dataclasses.replace(linked, children=tuple(children.get(node_id, ())))
        if isinstance(linked, BoundaryEvent) and _compensates(linked):
            linked = dataclasses.replace(linked, compensation_handler=_handler(linked, ctx))
        ctx.nodes[node_id] = linked
    return kept


def _compensates(event: BoundaryEvent) -> bool:
    return any(d.kind is EventDefinitionKind.COMPENSATE for d in event.definitions)


def _handler(event: BoundaryEvent, ctx: ProcessContext) -> str | None:
    """The activity a compensation boundary event is associated with (modelers draw it from the event)."""
    for source, target in ctx.associations:
        if source == event.id and target in ctx.nodes:
            return target
    for source, target in ctx.associations:
        if target == event.id and source in ctx.nodes:
            return source
    return None


def _flow_holds(placed: PlacedFlow, ctx: ProcessContext) -> bool:
    flow, element = placed.flow, ctx.elements[placed.flow.id]
    holds = True
    for role, ref in (("sourceRef", flow.source), ("targetRef", flow.target)):
        if not ref or ref in ctx.skipped:
            holds = False  # reported while walking
        elif ref not in ctx.nodes:
            ctx.sink.at(element, f"{role} '{ref}' is not a flow node of process '{ctx.process_id}'")
            holds = False
        elif ctx.nodes[ref].parent != placed.scope:
            ctx.sink.at(
                element,
                f"sequence flow crosses a scope boundary: its {role} '{ref}' is inside "
                f"'{ctx.nodes[ref].parent}' but the flow is declared in '{placed.scope}'",
            )
            holds = False
    return holds


def _attachment_holds(event: BoundaryEvent, ctx: ProcessContext) -> bool:
    target = ctx.nodes.get(event.attached_to)
    if event.attached_to in ctx.skipped:
        return False

    def report(message: str) -> None:
        ctx.sink.add(message, line=event.line, element_id=event.id)

    if target is None:
        report(f"attachedToRef '{event.attached_to}' is not a flow node of process '{ctx.process_id}'")
        return False
    if not isinstance(target, Activity):
        report(f"boundary event is attached to '{target.id}', a {target.kind}, but only activities can have one")
        return False
    if target.parent != event.parent:
        report(f"boundary event must be declared in the same scope as its activity '{target.id}'")
        return False
    return True


def new_process(element: Element, ctx: ProcessContext, flows: dict[str, SequenceFlow]) -> Process:
    return Process(
        id=ctx.process_id,
        name=element.get("name"),
        executable=ctx.executable,
        documentation=documentation(element),
        nodes=dict(ctx.nodes),
        flows=flows,
        properties=properties(element),
        extensions=agenthub_attributes(element),
        line=line_of(element),
        extension_elements=agenthub_elements(element),
        forms=embedded_forms(element, ctx),
        listeners=listeners(element, ctx),
    )
