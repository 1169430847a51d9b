"""Where each node of a BPMN model goes: the layered placement behind ``engine.parser.layout`` (see its docstring).

It works on the parsed XML and fills a ``Drawing``: a box per flow node, relative to its container until
``place`` makes them absolute, and per container the flows it holds and which of them are loops. It knows
nothing of edges' shapes or of DI's XML; ``engine.parser.layout`` routes and writes them.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

from lxml import etree

__all__ = [
    "BPMN",
    "BPMNDI",
    "CONTAINERS",
    "DC",
    "DI",
    "FLOW_NODES",
    "Box",
    "Container",
    "Drawing",
    "draw_container",
    "local",
    "place",
    "q",
]

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"

_EVENTS = {"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"}
_GATEWAYS = {"exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway", "complexGateway"}
CONTAINERS = {"subProcess", "adHocSubProcess", "transaction"}
_ACTIVITIES = {
    "task", "userTask", "serviceTask", "scriptTask", "sendTask", "receiveTask", "manualTask", "businessRuleTask",
    "callActivity",
}  # fmt: skip
FLOW_NODES = _EVENTS | _GATEWAYS | CONTAINERS | _ACTIVITIES

H_GAP = 80.0  # between ranks (room for the vertical parts of edges)
V_GAP = 40.0  # between nodes of one rank
PAD = 30.0  # inside a container
PAD_TOP = 40.0  # inside a container, above its content (its label)
BOUNDARY = 36.0
BOUNDARY_STEP = 46.0
ORIGIN = (160.0, 80.0)
POOL_BAND = 30.0  # a pool's name band on its left


def q(ns: str, tag: str) -> str:
    return f"{{{ns}}}{tag}"


def local(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


@dataclass(slots=True)
class Box:
    x: float
    y: float
    w: float
    h: float

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2


@dataclass(slots=True)
class Container:
    """One process or subprocess: its direct nodes, flows and where loops run back."""

    element: etree._Element
    nodes: list[str] = field(default_factory=list)
    flows: list[etree._Element] = field(default_factory=list)
    back: set[str] = field(default_factory=set)  # ids of the flows drawn as loops
    out_degree: dict[str, int] = field(default_factory=dict)
    loop_y: float = 0.0  # relative to the container, where loops run back


@dataclass(slots=True)
class Drawing:
    boxes: dict[str, Box] = field(default_factory=dict)  # relative to the parent container until placed
    parent: dict[str, str] = field(default_factory=dict)
    kind: dict[str, str] = field(default_factory=dict)
    containers: dict[str, Container] = field(default_factory=dict)
    host: dict[str, str] = field(default_factory=dict)  # boundary event -> the activity it is attached to
    expanded: set[str] = field(default_factory=set)
    slack: dict[str, float] = field(default_factory=dict)  # between a node's side and its rank's column edge


def _size(kind: str) -> tuple[float, float]:
    if kind in _EVENTS:
        return 36.0, 36.0
    if kind in _GATEWAYS:
        return 50.0, 50.0
    return 100.0, 80.0


def _flow_nodes(container: etree._Element) -> list[etree._Element]:
    return [c for c in container if local(c) in FLOW_NODES and c.get("id")]


def draw_container(element: etree._Element, drawing: Drawing) -> tuple[float, float]:
    """Lay out ``element``'s nodes relative to its own top-left corner; returns its content's size with padding."""
    container_id = str(element.get("id"))
    container = Container(element)
    drawing.containers[container_id] = container
    children = _flow_nodes(element)
    nested_padding = (PAD, PAD_TOP) if local(element) in CONTAINERS else (0.0, 0.0)
    attached: dict[str, list[str]] = defaultdict(list)
    main: list[str] = []
    beneath: list[str] = []
    for child in children:
        child_id = str(child.get("id"))
        kind = local(child)
        drawing.kind[child_id] = kind
        drawing.parent[child_id] = container_id
        if kind in CONTAINERS:
            w, h = draw_container(child, drawing)
            drawing.expanded.add(child_id)
        else:
            w, h = _size(kind)
        drawing.boxes[child_id] = Box(0.0, 0.0, w, h)
        if kind == "boundaryEvent" and child.get("attachedToRef"):
            attached[str(child.get("attachedToRef"))].append(child_id)
            drawing.host[child_id] = str(child.get("attachedToRef"))
        elif kind in CONTAINERS and child.get("triggeredByEvent") == "true":
            beneath.append(child_id)
        else:
            main.append(child_id)
    container.nodes = main + beneath + [b for bs in attached.values() for b in bs]
    container.flows = [f for f in element.findall(q(BPMN, "sequenceFlow")) if f.get("id")]
    footprint = {n: _footprint(drawing.boxes[n], len(attached.get(n, ()))) for n in main + beneath}

    if local(element) == "adHocSubProcess" and not container.flows:
        width, height = _grid(main, drawing, footprint)
    else:
        width, height = _layers(main, container, drawing, footprint)
    if beneath:
        x, top = 0.0, height + (V_GAP if main else 0.0)
        for node in beneath:
            drawing.boxes[node].x, drawing.boxes[node].y = x, top
            x += footprint[node][0] + V_GAP
            height = max(height, top + footprint[node][1])
        width = max(width, x - V_GAP)
    if container.back:
        container.loop_y = height + V_GAP / 2
        height += V_GAP
    left, top = nested_padding
    for node in main + beneath:
        drawing.boxes[node].x += left
        drawing.boxes[node].y += top
    container.loop_y += top
    for host, events in attached.items():
        host_box = drawing.boxes.get(host)
        if host_box is None or drawing.parent.get(host) != container_id:
            continue
        for index, event in enumerate(events):
            box = drawing.boxes[event]
            box.x = host_box.x + 10.0 + index * BOUNDARY_STEP
            box.y = host_box.y + host_box.h - BOUNDARY / 2
    if local(element) in CONTAINERS:
        return max(width + 2 * PAD, 100.0), max(height + PAD_TOP + PAD, 80.0)
    return width, height


def _footprint(box: Box, boundary_events: int) -> tuple[float, float]:
    if not boundary_events:
        return box.w, box.h
    return max(box.w, 10.0 + boundary_events * BOUNDARY_STEP), box.h + 2 * (BOUNDARY / 2 + 24.0)


def _grid(nodes: list[str], drawing: Drawing, footprint: dict[str, tuple[float, float]]) -> tuple[float, float]:
    if not nodes:
        return 0.0, 0.0
    columns = math.ceil(math.sqrt(len(nodes)))
    cell_w = max(footprint[n][0] for n in nodes)
    cell_h = max(footprint[n][1] for n in nodes)
    for index, node in enumerate(nodes):
        row, column = divmod(index, columns)
        box = drawing.boxes[node]
        box.x = column * (cell_w + V_GAP) + (cell_w - box.w) / 2
        box.y = row * (cell_h + V_GAP)
    rows = math.ceil(len(nodes) / columns)
    return columns * (cell_w + V_GAP) - V_GAP, rows * (cell_h + V_GAP) - V_GAP


def _layers(
    nodes: list[str], container: Container, drawing: Drawing, footprint: dict[str, tuple[float, float]]
) -> tuple[float, float]:
    if not nodes:
        return 0.0, 0.0
    known = set(nodes)
    successors: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for flow in container.flows:
        source = drawing.host.get(str(flow.get("sourceRef")), str(flow.get("sourceRef")))
        target = str(flow.get("targetRef"))
        raw_source = str(flow.get("sourceRef"))
        container.out_degree[raw_source] = container.out_degree.get(raw_source, 0) + 1
        if source in known and target in known:
            successors[source].append((target, str(flow.get("id"))))
    container.back = _back_edges(nodes, successors)
    rank = _ranks(nodes, successors, container.back)

    by_rank: dict[int, list[str]] = defaultdict(list)
    for node in nodes:  # document order first
        by_rank[rank[node]].append(node)
    predecessors: dict[str, list[str]] = defaultdict(list)
    for source, targets in successors.items():
        for target, flow_id in targets:
            if flow_id not in container.back:
                predecessors[target].append(source)
    position: dict[str, float] = {}
    columns = [by_rank[r] for r in sorted(by_rank)]
    for column in columns:
        order = {n: i for i, n in enumerate(column)}

        def barycentre(node: str, order: dict[str, int] = order) -> tuple[float, int]:
            placed = [position[p] for p in predecessors[node] if p in position]
            return (sum(placed) / len(placed) if placed else math.inf, order[node])

        column.sort(key=barycentre)
        for index, node in enumerate(column):
            position[node] = index

    heights = [sum(footprint[n][1] for n in c) + V_GAP * (len(c) - 1) for c in columns]
    total_h = max(heights)
    x = 0.0
    for column, column_h in zip(columns, heights, strict=True):
        column_w = max(footprint[n][0] for n in column)
        y = (total_h - column_h) / 2
        for node in column:
            box = drawing.boxes[node]
            box.x = x + (column_w - box.w) / 2
            drawing.slack[node] = (column_w - box.w) / 2
            box.y = y + (footprint[node][1] - box.h) / 2  # a host's reserve for its events lies above and below
            y += footprint[node][1] + V_GAP
        x += column_w + H_GAP
    return x - H_GAP, total_h


def _back_edges(nodes: list[str], successors: dict[str, list[tuple[str, str]]]) -> set[str]:
    """The flows closing a cycle in an iterative depth-first walk from the nodes without incoming flows."""
    incoming = {t for targets in successors.values() for t, _ in targets}
    roots = [n for n in nodes if n not in incoming] + nodes
    state: dict[str, int] = {}  # 1: on the stack, 2: done
    back: set[str] = set()
    for root in roots:
        if root in state:
            continue
        state[root] = 1
        stack = [(root, iter(successors.get(root, ())))]
        while stack:
            node, pending = stack[-1]
            step = next(pending, None)
            if step is None:
                state[node] = 2
                stack.pop()
                continue
            target, flow_id = step
            seen = state.get(target)
            if seen == 1:
                back.add(flow_id)
            elif seen is None:
                state[target] = 1
                stack.append((target, iter(successors.get(target, ()))))
    return back


def _ranks(nodes: list[str], successors: dict[str, list[tuple[str, str]]], back: set[str]) -> dict[str, int]:
    """Longest path from the sources over the flows that are not loops (Kahn's order)."""
    indegree = dict.fromkeys(nodes, 0)
    for targets in successors.values():
        for target, flow_id in targets:
            if flow_id not in back:
                indegree[target] += 1
    rank = dict.fromkeys(nodes, 0)
    ready = [n for n in nodes if indegree[n] == 0]
    while ready:
        node = ready.pop()
        for target, flow_id in successors.get(node, ()):
            if flow_id in back:
                continue
            rank[target] = max(rank[target], rank[node] + 1)
            indegree[target] -= 1
            if indegree[target] == 0:
                ready.append(target)
    return rank


def place(drawing: Drawing, container_id: str, x: float, y: float) -> None:
    """Turn the relative boxes of ``container_id``'s nodes (and theirs, recursively) into absolute ones."""
    container = drawing.containers[container_id]
    container.loop_y += y
    pending = [(container_id, x, y)]
    while pending:
        current, dx, dy = pending.pop()
        for node in drawing.containers[current].nodes:
            box = drawing.boxes[node]
            box.x += dx
            box.y += dy
            if node in drawing.containers:
                drawing.containers[node].loop_y += box.y
                pending.append((node, box.x, box.y))
