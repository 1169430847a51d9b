"""Reading extension elements: Camunda 8 (``zeebe:``) and agenthub's own namespace.

Other vendors' extensions (``camunda:``, ``spiff:`` ...) are ignored: they mean
nothing to this engine and a model may carry them harmlessly. An unknown
``zeebe:`` element is reported, because Camunda 8 would act on it and
silently not doing so would change what the model means.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from engine.model import ExtensionElement, JobDefinition, Listener, ListenerEvent, Mapping, Value
from engine.parser._context import ProcessContext
from engine.parser._names import AGENTHUB, ZEEBE, bpmn, prefixed, split, zeebe
from engine.parser._problems import ProblemSink
from engine.parser._tree import Element, elements, line_of, text_of

# zeebe: elements this parser reads (on the elements where they mean something).
_UNDERSTOOD: Final = frozenset(
    {
        "taskDefinition",
        "taskHeaders",
        "ioMapping",
        "properties",
        "script",
        "calledElement",
        "loopCharacteristics",
        "userTask",
        "assignmentDefinition",
        "taskSchedule",
        "formDefinition",
        "priorityDefinition",
        "adHoc",
        "subscription",
        "calledDecision",  # a business rule task evaluating a DMN decision (read by its builder)
        "versionTag",  # a deployment label; nothing to execute
        "userTaskForm",  # embedded form JSON for a "camunda-forms:bpmn:" formKey (engine.parser._forms)
        "executionListeners",  # read by ``listeners`` (engine.runtime.listeners runs them)
        "taskListeners",
        "conditionalFilter",  # a conditional event's filter, read with its definition (engine.parser._events)
    }
)


def extensions(element: Element) -> Iterator[tuple[str, Element]]:
    """The elements inside ``element``'s ``extensionElements``."""
    for tag, child in elements(element):
        if tag == bpmn("extensionElements"):
            yield from elements(child)


def zeebe_child(element: Element, local: str) -> Element | None:
    wanted = zeebe(local)
    return next((child for tag, child in extensions(element) if tag == wanted), None)


def check_zeebe(element: Element, sink: ProblemSink) -> None:
    """Report ``zeebe:`` extension elements this engine does not implement."""
    for tag, child in extensions(element):
        uri, local = split(tag)
        if uri == ZEEBE and local not in _UNDERSTOOD:
            sink.at(child, f"unsupported Camunda 8 extension {prefixed(tag)}", element_id=element.get("id"))


def documentation(element: Element) -> str | None:
    texts = [text_of(child) for tag, child in elements(element) if tag == bpmn("documentation")]
    joined = "\n".join(t for t in texts if t)
    return joined or None


def properties(element: Element) -> tuple[tuple[str, str], ...]:
    container = zeebe_child(element, "properties")
    if container is None:
        return ()
    return tuple(
        (child.get("name", ""), child.get("value", ""))
        for tag, child in elements(container)
        if tag == zeebe("property")
    )


def headers(element: Element) -> tuple[tuple[str, str], ...]:
    container = zeebe_child(element, "taskHeaders")
    if container is None:
        return ()
    return tuple(
        (child.get("key", ""), child.get("value", "")) for tag, child in elements(container) if tag == zeebe("header")
    )


def io_mappings(element: Element, ctx: ProcessContext) -> tuple[tuple[Mapping, ...], tuple[Mapping, ...]]:
    container = zeebe_child(element, "ioMapping")
    if container is None:
        return (), ()
    inputs: list[Mapping] = []
    outputs: list[Mapping] = []
    for tag, child in elements(container):
        if tag not in (zeebe("input"), zeebe("output")):
            continue
        direction = split(tag)[1]
        target = (child.get("target") or "").strip()
        if not target:
            ctx.sink.at(child, f"zeebe:{direction} has no target", element_id=element.get("id"))
        # An empty source maps null, as in Camunda 8.
        source = Value.of(child.get("source") or "=null")
        if source.is_expression:
            ctx.expression(source.text, child, f"{direction} mapping '{target}'")
        mapping = Mapping(source=source.text, target=target, is_expression=source.is_expression)
        (inputs if direction == "input" else outputs).append(mapping)
    return tuple(inputs), tuple(outputs)


def job_definition(element: Element, ctx: ProcessContext, *, required: bool) -> JobDefinition | None:
    """``zeebe:taskDefinition``; a missing or empty type is reported when ``required``."""
    definition = zeebe_child(element, "taskDefinition")
    raw_type = (definition.get("type") or "").strip() if definition is not None else ""
    if definition is None or not raw_type:
        if required:
            ctx.sink.at(element, "has no zeebe:taskDefinition type (Camunda 8 requires one to create the job)")
        return None
    job_type = ctx.value(raw_type, definition, "zeebe:taskDefinition type")
    raw_retries = (definition.get("retries") or "").strip()
    if not raw_retries:
        return JobDefinition(type=job_type)
    return JobDefinition(type=job_type, retries=ctx.value(raw_retries, definition, "zeebe:taskDefinition retries"))


# Camunda 8.6 and 8.7 named three task listener events differently; 8.8's names are kept.
_OLDER_TASK_EVENTS: Final = {"create": "creating", "assignment": "assigning", "update": "updating",
                             "complete": "completing", "cancel": "canceling"}
_LISTENERS: Final = (
    ("executionListeners", "executionListener", frozenset({ListenerEvent.START, ListenerEvent.END})),
    ("taskListeners", "taskListener", frozenset(ListenerEvent) - {ListenerEvent.START, ListenerEvent.END}),
)


def listeners(element: Element, ctx: ProcessContext) -> tuple[Listener, ...]:
    """``zeebe:executionListeners`` and (on user tasks) ``zeebe:taskListeners``, each in document order."""
    found: list[Listener] = []
    for container_name, child_name, allowed in _LISTENERS:
        container = zeebe_child(element, container_name)
        if container is None:
            continue
        if child_name == "taskListener" and element.tag != bpmn("userTask"):
            ctx.sink.at(container, "zeebe:taskListeners belong on a user task", element_id=element.get("id"))
            continue
        for tag, child in elements(container):
            if tag != zeebe(child_name):
                continue
            raw_event = (child.get("eventType") or "").strip()
            raw_event = _OLDER_TASK_EVENTS.get(raw_event, raw_event) if child_name == "taskListener" else raw_event
            raw_type = (child.get("type") or "").strip()
            if raw_event not in {event.value for event in allowed}:
                names = ", ".join(sorted(event.value for event in allowed))
                ctx.sink.at(child, f"zeebe:{child_name} eventType {raw_event!r} is not one of {names}",
                            element_id=element.get("id"))
                continue
            if not raw_type:
                ctx.sink.at(child, f"zeebe:{child_name} has no type (the job type a worker runs)",
                            element_id=element.get("id"))
                continue
            job_type = ctx.value(raw_type, child, f"zeebe:{child_name} type")
            raw_retries = (child.get("retries") or "").strip()
            job = JobDefinition(type=job_type) if not raw_retries else JobDefinition(
                type=job_type, retries=ctx.value(raw_retries, child, f"zeebe:{child_name} retries"))
            found.append(Listener(event=ListenerEvent(raw_event), job=job))
    return tuple(found)


def agenthub_elements(element: Element) -> tuple[ExtensionElement, ...]:
    return tuple(_generic(child) for tag, child in extensions(element) if split(tag)[0] == AGENTHUB)


def agenthub_attributes(element: Element) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, value in element.attrib.items():
        uri, local = split(str(name))
        if uri == AGENTHUB:
            found[local] = str(value)
    return found


def _generic(element: Element) -> ExtensionElement:
    uri, local = split(str(element.tag))
    attributes = tuple((_attribute_name(str(k)), str(v)) for k, v in element.attrib.items())
    text = (element.text or "").strip() or None
    children = tuple(_generic(child) for _, child in elements(element))
    return ExtensionElement(
        name=local if uri == AGENTHUB else str(element.tag),
        attributes=attributes,
        line=line_of(element),
        text=text,
        children=children,
    )


def _attribute_name(name: str) -> str:
    uri, local = split(name)
    return local if uri in ("", AGENTHUB) else name
