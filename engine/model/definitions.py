"""Processes and definitions: the parsed BPMN file, with indexes built once."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from engine.model.elements import (
    Activity,
    BoundaryEvent,
    ExtensionElement,
    FlowNode,
    Listener,
    ListenerEvent,
    SequenceFlow,
    StartEvent,
    SubProcess,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Bounds:
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Shape:
    element_id: str
    bounds: Bounds
    is_expanded: bool | None = None
    label: Bounds | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Edge:
    element_id: str
    waypoints: tuple[tuple[float, float], ...]
    label: Bounds | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Diagram:
    """BPMN DI for drawing: shapes and edges by the id of the element they show."""

    id: str
    shapes: Mapping[str, Shape] = field(default_factory=dict)
    edges: Mapping[str, Edge] = field(default_factory=dict)


def _freeze(items: Iterable[tuple[str, tuple[str, ...]]]) -> Mapping[str, tuple[str, ...]]:
    return MappingProxyType(dict(items))


@dataclass(frozen=True, slots=True, kw_only=True)
class Process:
    """One executable process: its flow nodes and sequence flows, indexed.

    ``nodes`` holds every flow node at any depth (ids are unique per file);
    ``scopes`` maps the id of the process and of each subprocess to the ids of
    the nodes directly inside it.
    """

    id: str
    name: str | None = None
    executable: bool = True
    documentation: str | None = None
    nodes: Mapping[str, FlowNode]
    flows: Mapping[str, SequenceFlow]
    properties: tuple[tuple[str, str], ...] = ()
    extensions: Mapping[str, str] = field(default_factory=dict)  # agenthub:* attributes on the process
    line: int | None = None
    extension_elements: tuple[ExtensionElement, ...] = ()  # agenthub:* elements in extensionElements
    forms: Mapping[str, str] = field(default_factory=dict)  # zeebe:userTaskForm id -> its form-js JSON
    listeners: tuple[Listener, ...] = ()  # the process's zeebe:executionListeners (start, end)
    scopes: Mapping[str, tuple[str, ...]] = field(init=False)
    _reach: dict[str, frozenset[str]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        scopes: dict[str, list[str]] = {self.id: []}
        for node in self.nodes.values():
            scopes.setdefault(node.parent, []).append(node.id)
            if isinstance(node, SubProcess):
                scopes.setdefault(node.id, [])
        object.__setattr__(self, "scopes", _freeze((k, tuple(v)) for k, v in scopes.items()))
        object.__setattr__(self, "_reach", {})

    @property
    def label(self) -> str:
        return self.name or self.id

    def node(self, element_id: str) -> FlowNode:
        return self.nodes[element_id]

    def listeners_of(self, event: ListenerEvent) -> tuple[Listener, ...]:
        return tuple(listener for listener in self.listeners if listener.event == event)

    def children(self, scope_id: str) -> tuple[FlowNode, ...]:
        return tuple(self.nodes[i] for i in self.scopes.get(scope_id, ()))

    def none_start_event(self, scope_id: str) -> StartEvent | None:
        """The start event without event definition of a scope (the process or an embedded subprocess)."""
        for node in self.children(scope_id):
            if isinstance(node, StartEvent) and not node.definitions:
                return node
        return None

    def start_events(self, scope_id: str) -> tuple[StartEvent, ...]:
        return tuple(n for n in self.children(scope_id) if isinstance(n, StartEvent))

    def event_subprocesses(self, scope_id: str) -> tuple[SubProcess, ...]:
        return tuple(n for n in self.children(scope_id) if isinstance(n, SubProcess) and n.triggered_by_event)

    def boundary_events(self, activity_id: str) -> tuple[BoundaryEvent, ...]:
        node = self.nodes[activity_id]
        if not isinstance(node, Activity):
            return ()
        return tuple(self.nodes[b] for b in node.boundary_events)  # type: ignore[misc]

    def activatable(self, ad_hoc: SubProcess) -> tuple[Activity, ...]:
        """What an ad-hoc subprocess can activate (an agent's tools): its inner activities without incoming
        flows that are not compensation handlers, in document order."""
        found = (self.nodes[child] for child in ad_hoc.children)
        return tuple(n for n in found if isinstance(n, Activity) and not n.incoming and not n.is_for_compensation)

    def outgoing(self, node: FlowNode) -> tuple[SequenceFlow, ...]:
        return tuple(self.flows[f] for f in node.outgoing)

    def reachable_from(self, element_id: str) -> frozenset[str]:
        """Ids of the nodes reachable from ``element_id`` along sequence flows (itself excluded unless in a loop).

        Boundary events count as reachable from their activity, so a token
        inside an activity can still arrive wherever its boundary leads.
        """
        cached = self._reach.get(element_id)
        if cached is not None:
            return cached
        seen: set[str] = set()
        stack = list(self._successors(element_id))
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            stack.extend(self._successors(current))
        result = frozenset(seen)
        self._reach[element_id] = result
        return result

    def _successors(self, element_id: str) -> Iterable[str]:
        node = self.nodes[element_id]
        for flow_id in node.outgoing:
            yield self.flows[flow_id].target
        if isinstance(node, Activity):
            yield from node.boundary_events


@dataclass(frozen=True, slots=True, kw_only=True)
class Definitions:
    """Everything one BPMN file defines."""

    id: str | None = None
    target_namespace: str | None = None
    processes: Mapping[str, Process]
    messages: Mapping[str, str] = field(default_factory=dict)  # message id -> name
    signals: Mapping[str, str] = field(default_factory=dict)  # signal id -> name
    errors: Mapping[str, str] = field(default_factory=dict)  # error id -> errorCode
    escalations: Mapping[str, str] = field(default_factory=dict)  # escalation id -> escalationCode
    diagrams: tuple[Diagram, ...] = ()
    exporter: str | None = None
    exporter_version: str | None = None

    def shapes(self) -> Mapping[str, Shape]:
        merged: dict[str, Shape] = {}
        for diagram in self.diagrams:
            merged.update(diagram.shapes)
        return merged

    def edges(self) -> Mapping[str, Edge]:
        merged: dict[str, Edge] = {}
        for diagram in self.diagrams:
            merged.update(diagram.edges)
        return merged
