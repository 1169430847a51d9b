"""A picture for every process: BPMN diagram interchange (DI) for models deployed without it.

``layout(xml)`` returns the model unchanged when every flow node already has
a ``BPMNShape`` and every sequence flow a ``BPMNEdge``; otherwise it drops the
model's diagrams and draws new ones. A partial DI is redrawn whole: merging
hand-placed shapes with generated ones gives overlaps no reader wants.

The drawing is a layered layout, left to right. Ranks come from the longest
path over the sequence flows with the back edges of a depth-first walk (the
loops) left out; within a rank nodes are stacked and ordered once by the
mean position of their predecessors. Expanded subprocesses are drawn
recursively as containers; an ad-hoc subprocess whose activities have no
flows (an agent's tools) holds them in a grid; event subprocesses sit in a
row beneath the flow. Boundary events hang on their host's bottom edge.
Edges are orthogonal polylines; loops return beneath the flow. Everything is
linear or ``n log n`` in the model's size, with no crossing minimisation
beyond that one sweep (rejected: a full Sugiyama pass, far slower on large
models for a picture that is only a fallback).

It knows BPMN's XML and nothing about the engine; it never fetches anything
(entities and network are off in the parser).
"""

from __future__ import annotations

from lxml import etree

from engine.parser._placement import (
    BPMN,
    BPMNDI,
    DC,
    DI,
    FLOW_NODES,
    H_GAP,
    ORIGIN,
    PAD,
    POOL_BAND,
    V_GAP,
    Box,
    Drawing,
    draw_container,
    local,
    place,
    q,
)
from engine.parser._xml import PARSER_OPTIONS

__all__ = ["BPMN", "BPMNDI", "DC", "DI", "layout", "needs_layout"]

_PARSER = etree.XMLParser(**PARSER_OPTIONS)


def needs_layout(root: etree._Element) -> bool:
    """Whether the model has no diagram, or some flow node lacks a shape, or some flow between two an edge."""
    if root.find(q(BPMNDI, "BPMNDiagram")) is None and any(p.get("id") for p in root.iter(q(BPMN, "process"))):
        return True  # even a process with nothing in it gets an (empty) picture rather than "no diagram"
    drawn = {str(di.get("bpmnElement")) for tag in ("BPMNShape", "BPMNEdge") for di in root.iter(q(BPMNDI, tag))}
    nodes = {str(e.get("id")) for e in root.iter(q(BPMN, "*")) if local(e) in FLOW_NODES and e.get("id")}
    if not nodes <= drawn:
        return True
    return any(
        flow.get("id") and str(flow.get("id")) not in drawn
        for flow in root.iter(q(BPMN, "sequenceFlow"))
        if flow.get("sourceRef") in nodes and flow.get("targetRef") in nodes
    )


def layout(xml: bytes) -> bytes:
    """The model with a complete diagram: ``xml`` itself when its DI is complete, else a laid-out copy."""
    root = etree.fromstring(xml, _PARSER)
    if not needs_layout(root):
        return xml
    for diagram in root.findall(q(BPMNDI, "BPMNDiagram")):
        root.remove(diagram)
    ids = {str(e.get("id")) for e in root.iter() if e.get("id") is not None}
    diagrams = _diagrams(root, ids)
    anchor = root.find(q(BPMN, "relationship"))
    for diagram in diagrams:
        if anchor is not None:
            anchor.addprevious(diagram)
        else:
            root.append(diagram)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def _diagrams(root: etree._Element, ids: set[str]) -> list[etree._Element]:
    processes = {p.get("id"): p for p in root.findall(q(BPMN, "process")) if p.get("id")}
    result: list[etree._Element] = []
    pooled: set[str] = set()
    collaboration = root.find(q(BPMN, "collaboration"))
    if collaboration is not None and collaboration.get("id"):
        participants = collaboration.findall(q(BPMN, "participant"))
        pooled = {str(p.get("processRef")) for p in participants if p.get("processRef") in processes}
        drawing, edges = _draw_collaboration(collaboration, participants, processes)
        result.append(_emit(collaboration, drawing, edges, ids))
    for process_id, process in processes.items():
        if process_id in pooled:
            continue
        drawing = Drawing()
        draw_container(process, drawing)
        place(drawing, str(process_id), ORIGIN[0], ORIGIN[1])
        result.append(_emit(process, drawing, _route(drawing), ids))
    return result


def _draw_collaboration(
    collaboration: etree._Element, participants: list[etree._Element], processes: dict[str | None, etree._Element]
) -> tuple[Drawing, list[tuple[str, list[tuple[float, float]]]]]:
    drawing = Drawing()
    y = ORIGIN[1]
    pools: list[str] = []
    for participant in participants:
        pool = participant.get("id")
        if not pool:
            continue
        process = processes.get(participant.get("processRef"))
        drawing.kind[pool] = "participant"
        if process is None:  # a black-box pool
            drawing.boxes[pool] = Box(ORIGIN[0], y, 600.0, 100.0)
        else:
            w, h = draw_container(process, drawing)
            drawing.boxes[pool] = Box(ORIGIN[0], y, POOL_BAND + w + 2 * PAD, h + 2 * PAD)
            place(drawing, str(process.get("id")), ORIGIN[0] + POOL_BAND + PAD, y + PAD)
        pools.append(pool)
        y += drawing.boxes[pool].h + V_GAP
    widest = max((drawing.boxes[p].w for p in pools), default=600.0)
    for pool in pools:
        drawing.boxes[pool].w = widest
    edges = _route(drawing)
    for message in collaboration.findall(q(BPMN, "messageFlow")):
        source = drawing.boxes.get(str(message.get("sourceRef")))
        target = drawing.boxes.get(str(message.get("targetRef")))
        if message.get("id") and source is not None and target is not None:
            edges.append((str(message.get("id")), _vertical(source, target)))
    return drawing, edges


def _vertical(source: Box, target: Box) -> list[tuple[float, float]]:
    if target.y >= source.y + source.h:
        start, end = (source.cx, source.y + source.h), (target.cx, target.y)
    elif source.y >= target.y + target.h:
        start, end = (source.cx, source.y), (target.cx, target.y + target.h)
    else:
        return [(source.x + source.w, source.cy), (target.x, target.cy)]
    middle = (start[1] + end[1]) / 2
    return [start, (start[0], middle), (end[0], middle), end]


def _route(drawing: Drawing) -> list[tuple[str, list[tuple[float, float]]]]:
    edges: list[tuple[str, list[tuple[float, float]]]] = []
    for container in drawing.containers.values():
        for flow in container.flows:
            source_id, target_id = str(flow.get("sourceRef")), str(flow.get("targetRef"))
            source, target = drawing.boxes.get(source_id), drawing.boxes.get(target_id)
            if source is None or target is None:
                continue
            flow_id = str(flow.get("id"))
            if flow_id in container.back:
                # Out to the right and in from the left through the gaps between ranks, beneath everything
                # between: a vertical through the middle of a rank would cross the nodes stacked in it.
                out_x = source.x + source.w + drawing.slack.get(source_id, 0.0) + H_GAP / 4
                in_x = target.x - drawing.slack.get(target_id, 0.0) - H_GAP / 4
                low = container.loop_y
                points = [
                    (source.x + source.w, source.cy),
                    (out_x, source.cy),
                    (out_x, low),
                    (in_x, low),
                    (in_x, target.cy),
                    (target.x, target.cy),
                ]
            elif source_id in drawing.host and target.x > source.cx:
                points = _from_boundary(source, target)
            else:
                points = _orthogonal(source, target, container.out_degree.get(source_id, 0) > 1)
            edges.append((flow_id, points))
    return edges


def _from_boundary(source: Box, target: Box) -> list[tuple[float, float]]:
    """Down out of the event, then right: beneath its host when the target lies higher than the event."""
    bottom = source.y + source.h
    if target.cy >= bottom:
        return [(source.cx, bottom), (source.cx, target.cy), (target.x, target.cy)]
    below, across = bottom + 20.0, max(target.x - H_GAP / 2, source.cx)
    return [(source.cx, bottom), (source.cx, below), (across, below), (across, target.cy), (target.x, target.cy)]


def _orthogonal(source: Box, target: Box, split: bool) -> list[tuple[float, float]]:
    start, end = (source.x + source.w, source.cy), (target.x, target.cy)
    if abs(start[1] - end[1]) < 1.0:
        return [start, end]
    if end[0] <= start[0]:  # not to the right (a node beneath in the same rank): go round
        return [start, (start[0] + H_GAP / 4, start[1]), (start[0] + H_GAP / 4, end[1]), (target.x + target.w, end[1])]
    middle = start[0] + H_GAP / 2 if split else end[0] - H_GAP / 2
    middle = min(max(middle, start[0]), end[0])
    return [start, (middle, start[1]), (middle, end[1]), end]


def _unique(base: str, ids: set[str]) -> str:
    candidate, n = base, 1
    while candidate in ids:
        n += 1
        candidate = f"{base}_{n}"
    ids.add(candidate)
    return candidate


def _emit(
    root_element: etree._Element, drawing: Drawing, edges: list[tuple[str, list[tuple[float, float]]]], ids: set[str]
) -> etree._Element:
    root_id = str(root_element.get("id"))
    nsmap = {"bpmndi": BPMNDI, "dc": DC, "di": DI}
    diagram = etree.Element(q(BPMNDI, "BPMNDiagram"), nsmap=nsmap, id=_unique(f"BPMNDiagram_{root_id}", ids))
    plane = etree.SubElement(diagram, q(BPMNDI, "BPMNPlane"), id=_unique(f"BPMNPlane_{root_id}", ids))
    plane.set("bpmnElement", root_id)
    # Containers before their contents and hosts before their boundary events, so the viewer stacks them right.
    order = sorted(drawing.boxes, key=lambda n: (drawing.kind.get(n) == "boundaryEvent", _depth(drawing, n)))
    for node in order:
        box = drawing.boxes[node]
        shape = etree.SubElement(plane, q(BPMNDI, "BPMNShape"), id=_unique(f"{node}_di", ids))
        shape.set("bpmnElement", node)
        if node in drawing.expanded:
            shape.set("isExpanded", "true")
        elif drawing.kind.get(node) == "participant":
            shape.set("isHorizontal", "true")
        bounds = etree.SubElement(shape, q(DC, "Bounds"))
        for name, value in (("x", box.x), ("y", box.y), ("width", box.w), ("height", box.h)):
            bounds.set(name, _number(value))
    for flow_id, points in edges:
        edge = etree.SubElement(plane, q(BPMNDI, "BPMNEdge"), id=_unique(f"{flow_id}_di", ids))
        edge.set("bpmnElement", flow_id)
        for x, y in points:
            etree.SubElement(edge, q(DI, "waypoint"), x=_number(x), y=_number(y))
    return diagram


def _depth(drawing: Drawing, node: str) -> int:
    depth = 0
    while node in drawing.parent:
        node = drawing.parent[node]
        depth += 1
    return depth


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:.1f}"
