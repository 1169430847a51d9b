"""BPMN DI: where each element is drawn, kept for rendering and never needed to run.

Read leniently: a shape or edge that cannot be drawn (no ``bpmnElement``, no
bounds, a coordinate that is not a number) is left out rather than reported,
because drawing is not running, and reference models such as the MIWG suite
carry DI edges for things that are not BPMN elements. Rejecting a runnable
process for a picture's flaw was the alternative, and it helps no one.
"""

from __future__ import annotations

import math

from engine.model import Bounds, Diagram, Edge, Shape
from engine.parser._names import BPMNDI, DC, DI
from engine.parser._tree import Element, elements

_PLANE = f"{{{BPMNDI}}}BPMNPlane"
_SHAPE = f"{{{BPMNDI}}}BPMNShape"
_EDGE = f"{{{BPMNDI}}}BPMNEdge"
_LABEL = f"{{{BPMNDI}}}BPMNLabel"
_BOUNDS = f"{{{DC}}}Bounds"
_WAYPOINT = f"{{{DI}}}waypoint"


def diagram(element: Element, index: int) -> Diagram:
    shapes: dict[str, Shape] = {}
    edges: dict[str, Edge] = {}
    for plane_tag, plane in elements(element):
        if plane_tag != _PLANE:
            continue
        for tag, child in elements(plane):
            if tag == _SHAPE:
                shape = _shape(child)
                if shape is not None:
                    shapes[shape.element_id] = shape
            elif tag == _EDGE:
                edge = _edge(child)
                if edge is not None:
                    edges[edge.element_id] = edge
    return Diagram(id=element.get("id") or f"diagram-{index}", shapes=shapes, edges=edges)


def _number(element: Element, attribute: str) -> float | None:
    raw = element.get(attribute)
    try:
        value = float(raw) if raw is not None else math.nan
    except ValueError:
        value = math.nan
    return value if math.isfinite(value) else None


def _bounds(owner: Element) -> Bounds | None:
    element = next((child for tag, child in elements(owner) if tag == _BOUNDS), None)
    if element is None:
        return None
    x, y, width, height = (_number(element, name) for name in ("x", "y", "width", "height"))
    if x is None or y is None or width is None or height is None:
        return None
    return Bounds(x=x, y=y, width=width, height=height)


def _label(owner: Element) -> Bounds | None:
    label = next((child for tag, child in elements(owner) if tag == _LABEL), None)
    return _bounds(label) if label is not None else None


def _shape(element: Element) -> Shape | None:
    element_id = element.get("bpmnElement")
    bounds = _bounds(element)
    if not element_id or bounds is None:
        return None
    expanded = element.get("isExpanded")
    return Shape(
        element_id=element_id,
        bounds=bounds,
        is_expanded=None if expanded is None else expanded.strip() in ("true", "1"),
        label=_label(element),
    )


def _edge(element: Element) -> Edge | None:
    element_id = element.get("bpmnElement")
    if not element_id:
        return None
    points: list[tuple[float, float]] = []
    for tag, child in elements(element):
        if tag == _WAYPOINT:
            x, y = _number(child, "x"), _number(child, "y")
            if x is not None and y is not None:
                points.append((x, y))
    return Edge(element_id=element_id, waypoints=tuple(points), label=_label(element))
