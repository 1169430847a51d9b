"""What builders share while one process is parsed: references, problems, and the nodes so far."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypedDict

from engine.model import ElementKind, ExtensionElement, FlowNode, Listener, LoopCharacteristics, Mapping, Value
from engine.parser._feel import feel_problem
from engine.parser._problems import ProblemSink
from engine.parser._tree import Element


@dataclass(frozen=True, slots=True)
class MessageRef:
    name: str | None
    correlation_key: Value | None


@dataclass(slots=True)
class RootIndex:
    """Root elements that flow nodes refer to by id (``messageRef``, ``errorRef`` ...)."""

    messages: dict[str, MessageRef] = field(default_factory=dict)
    signals: dict[str, str | None] = field(default_factory=dict)  # id -> name
    errors: dict[str, str | None] = field(default_factory=dict)  # id -> errorCode
    escalations: dict[str, str | None] = field(default_factory=dict)  # id -> escalationCode
    executable_processes: set[str] = field(default_factory=set)
    other_processes: set[str] = field(default_factory=set)


@dataclass(slots=True)
class ProcessContext:
    """State of one process being built; ``sink`` is muted when the process is not executable."""

    sink: ProblemSink
    roots: RootIndex
    process_id: str
    executable: bool
    known_process_ids: frozenset[str] | None
    nodes: dict[str, FlowNode] = field(default_factory=dict)
    elements: dict[str, Element] = field(default_factory=dict)  # node or flow id -> its XML element
    # Ids of elements already reported and not built: references to them are not reported again.
    skipped: set[str] = field(default_factory=set)
    # (sourceRef, targetRef) of bpmn:association elements: how a compensation boundary names its handler.
    associations: list[tuple[str, str]] = field(default_factory=list)

    def expression(self, raw: str, element: Element, what: str) -> str:
        """FEEL text with an optional leading ``=`` removed, checked for syntax."""
        return checked_expression(raw, element, what, self.sink)

    def flag(self, element: Element, attribute: str, default: bool) -> bool:
        """An ``xsd:boolean`` attribute; a value that is not one is reported and the default used."""
        raw = element.get(attribute)
        if raw is None:
            return default
        text = raw.strip()
        if text in ("true", "1"):
            return True
        if text in ("false", "0"):
            return False
        self.sink.at(element, f"attribute {attribute}={raw!r} is not a boolean (true or false)")
        return default

    def value(self, raw: str, element: Element, what: str) -> Value:
        """A static value, or FEEL (checked) when it starts with ``=``."""
        return checked_value(raw, element, what, self.sink)


def checked_expression(raw: str, element: Element, what: str, sink: ProblemSink) -> str:
    """FEEL text with an optional leading ``=`` removed; a syntax error is reported at ``element``."""
    text = raw.strip()
    if text.startswith("="):
        text = text[1:]
    problem = feel_problem(text)
    if problem is not None:
        sink.at(element, f"invalid FEEL in {what}: {problem}")
    return text


def checked_value(raw: str, element: Element, what: str, sink: ProblemSink) -> Value:
    """A static value, or FEEL (checked) when it starts with ``=``."""
    value = Value.of(raw)
    if value.is_expression:
        checked_expression(value.text, element, what, sink)
    return value


class NodeFields(TypedDict):
    """The fields every flow node has, read the same way for all of them."""

    id: str
    kind: ElementKind
    name: str | None
    parent: str
    documentation: str | None
    inputs: tuple[Mapping, ...]
    outputs: tuple[Mapping, ...]
    properties: tuple[tuple[str, str], ...]
    line: int | None
    extensions: tuple[ExtensionElement, ...]
    listeners: tuple[Listener, ...]


class ActivityFields(NodeFields):
    loop: LoopCharacteristics | None
    default_flow: str | None
    is_for_compensation: bool


# A builder turns one BPMN element into a flow node; it reports what is wrong
# through the context and returns None when nothing sensible can be built.
Builder = Callable[[Element, NodeFields, ProcessContext], FlowNode | None]
