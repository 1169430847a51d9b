"""Builders for events and their event definitions.

Each event tag allows a set of event definition kinds; the readers of the
definitions themselves are a table too (definition tag -> reader). Rules that
need the surrounding scope (an error start event only in an event subprocess,
a correlation key on non-start message catches) live in ``_checks``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from engine.model import BoundaryEvent, EventDefinition, EventDefinitionKind, FlowNode, StartEvent
from engine.model import Event as EventNode
from engine.parser._context import Builder, NodeFields, ProcessContext
from engine.parser._extensions import headers, job_definition, zeebe_child
from engine.parser._forms import form_link
from engine.parser._names import BPMN, bpmn, prefixed, split
from engine.parser._tree import Element, elements, text_of

K = EventDefinitionKind
_TIMER_TYPES: Final = ("timeDuration", "timeDate", "timeCycle")

# Reads one event definition element; ``throwing`` tells whether the event throws it.
_Reader = Callable[[Element, Element, ProcessContext, bool], EventDefinition]


def _timer(definition: Element, event: Element, ctx: ProcessContext, throwing: bool) -> EventDefinition:
    found = [(split(tag)[1], child) for tag, child in elements(definition) if tag in {bpmn(t) for t in _TIMER_TYPES}]
    if len(found) != 1:
        ctx.sink.at(event, "timer event definition needs exactly one of timeDuration, timeDate or timeCycle")
        return EventDefinition(kind=K.TIMER)
    timer_type, child = found[0]
    text = text_of(child)
    if not text:
        ctx.sink.at(child, f"timer {timer_type} is empty", element_id=event.get("id"))
    return EventDefinition(kind=K.TIMER, timer_type=timer_type, timer=ctx.value(text, child, f"timer {timer_type}"))


def _message(definition: Element, event: Element, ctx: ProcessContext, throwing: bool) -> EventDefinition:
    ref = definition.get("messageRef")
    if ref is None:
        if not throwing:
            ctx.sink.at(event, "message event has no messageRef")
        return EventDefinition(kind=K.MESSAGE)
    return message_definition(ref, event, ctx, throwing=throwing)


def message_definition(ref: str, owner: Element, ctx: ProcessContext, *, throwing: bool = False) -> EventDefinition:
    """The message ``ref`` names, as an event definition (also used by receive tasks)."""
    message = ctx.roots.messages.get(ref)
    if message is None:
        ctx.sink.at(owner, f"unknown messageRef '{ref}'")
        return EventDefinition(kind=K.MESSAGE)
    if not message.name and not throwing:
        ctx.sink.at(owner, f"message '{ref}' has no name")
    if message.name and message.name.strip().startswith("="):
        ctx.value(message.name, owner, f"name of message '{ref}'")
    return EventDefinition(kind=K.MESSAGE, ref=message.name, correlation_key=message.correlation_key)


def _signal(definition: Element, event: Element, ctx: ProcessContext, throwing: bool) -> EventDefinition:
    ref = definition.get("signalRef")
    if ref is None:
        ctx.sink.at(event, "signal event has no signalRef")
        return EventDefinition(kind=K.SIGNAL)
    if ref not in ctx.roots.signals:
        ctx.sink.at(event, f"unknown signalRef '{ref}'")
        return EventDefinition(kind=K.SIGNAL)
    name = ctx.roots.signals[ref]
    if not name:
        ctx.sink.at(event, f"signal '{ref}' has no name")
    return EventDefinition(kind=K.SIGNAL, ref=name)


def _coded(kind: EventDefinitionKind, attribute: str, code: str) -> _Reader:
    """Error and escalation: a reference to a root element carrying a code; no reference catches all."""

    def read(definition: Element, event: Element, ctx: ProcessContext, throwing: bool) -> EventDefinition:
        index = ctx.roots.errors if kind is K.ERROR else ctx.roots.escalations
        ref = definition.get(attribute)
        if ref is None:
            if throwing:
                ctx.sink.at(event, f"{kind} event throws nothing: it has no {attribute}")
            return EventDefinition(kind=kind)
        if ref not in index:
            ctx.sink.at(event, f"unknown {attribute} '{ref}'")
            return EventDefinition(kind=kind)
        value = index[ref]
        if throwing and not value:
            ctx.sink.at(event, f"{kind} '{ref}' has no {code}")
        if value and value.strip().startswith("="):
            ctx.value(value, event, f"{code} of {kind} '{ref}'")
        return EventDefinition(kind=kind, ref=value or None)

    return read


def _compensate(definition: Element, event: Element, ctx: ProcessContext, throwing: bool) -> EventDefinition:
    wait = ctx.flag(definition, "waitForCompletion", True)
    return EventDefinition(kind=K.COMPENSATE, ref=definition.get("activityRef"), wait_for_completion=wait)


def _link(definition: Element, event: Element, ctx: ProcessContext, throwing: bool) -> EventDefinition:
    name = (definition.get("name") or "").strip()
    if not name:
        ctx.sink.at(event, "link event has no name")
    return EventDefinition(kind=K.LINK, ref=name or None)


def _conditional(definition: Element, event: Element, ctx: ProcessContext, throwing: bool) -> EventDefinition:
    condition = next((child for tag, child in elements(definition) if tag == bpmn("condition")), None)
    if condition is None or not text_of(condition):
        ctx.sink.at(event, "conditional event has no condition")
        return EventDefinition(kind=K.CONDITIONAL)
    names, events = _conditional_filter(definition, event, ctx)
    return EventDefinition(kind=K.CONDITIONAL, condition=ctx.expression(text_of(condition), condition, "condition"),
                           variable_names=names, variable_events=events)


def _conditional_filter(definition: Element, event: Element, ctx: ProcessContext) -> tuple[tuple[str, ...],
                                                                                        tuple[str, ...]]:
    """``zeebe:conditionalFilter variableNames="a,b" variableEvents="create,update"``, on the event definition's
    extension elements (where Camunda Modeler writes it) or the event's own."""
    found = zeebe_child(definition, "conditionalFilter")
    if found is None:
        found = zeebe_child(event, "conditionalFilter")
    if found is None:
        return (), ()
    names = tuple(n.strip() for n in (found.get("variableNames") or "").split(",") if n.strip())
    events = tuple(e.strip() for e in (found.get("variableEvents") or "").split(",") if e.strip())
    wrong = [e for e in events if e not in ("create", "update")]
    if wrong:
        ctx.sink.at(found, f"zeebe:conditionalFilter variableEvents {', '.join(wrong)!s} is not create or update",
                    element_id=event.get("id"))
    return names, tuple(e for e in events if e in ("create", "update"))


def _terminate(definition: Element, event: Element, ctx: ProcessContext, throwing: bool) -> EventDefinition:
    return EventDefinition(kind=K.TERMINATE)


EVENT_DEFINITIONS: Final[dict[str, tuple[EventDefinitionKind, _Reader]]] = {
    bpmn("timerEventDefinition"): (K.TIMER, _timer),
    bpmn("messageEventDefinition"): (K.MESSAGE, _message),
    bpmn("signalEventDefinition"): (K.SIGNAL, _signal),
    bpmn("errorEventDefinition"): (K.ERROR, _coded(K.ERROR, "errorRef", "errorCode")),
    bpmn("escalationEventDefinition"): (K.ESCALATION, _coded(K.ESCALATION, "escalationRef", "escalationCode")),
    bpmn("compensateEventDefinition"): (K.COMPENSATE, _compensate),
    bpmn("linkEventDefinition"): (K.LINK, _link),
    bpmn("conditionalEventDefinition"): (K.CONDITIONAL, _conditional),
    bpmn("terminateEventDefinition"): (K.TERMINATE, _terminate),
}
_UNSUPPORTED_DEFINITIONS: Final = frozenset({bpmn("cancelEventDefinition"), bpmn("eventDefinitionRef")})


def _definitions(
    event: Element, ctx: ProcessContext, allowed: frozenset[EventDefinitionKind], *, throwing: bool
) -> tuple[EventDefinition, ...]:
    found: list[EventDefinition] = []
    refused = False  # a definition was there but reported: "needs an event definition" would say it twice
    for tag, child in elements(event):
        entry = EVENT_DEFINITIONS.get(tag)
        if entry is None:
            if tag in _UNSUPPORTED_DEFINITIONS or (split(tag)[0] == BPMN and tag.endswith("EventDefinition")):
                ctx.sink.at(child, f"{prefixed(tag)} is not supported", element_id=event.get("id"))
                refused = True
            continue
        kind, read = entry
        if kind not in allowed:
            where = prefixed(str(event.tag))
            ctx.sink.at(child, f"a {kind} event definition is not allowed on {where}", element_id=event.get("id"))
            refused = True
            continue
        found.append(read(child, event, ctx, throwing))
    if len(found) > 1:
        ctx.sink.at(event, "several event definitions on one event (a BPMN 'multiple' event) are not supported")
    if not found and not refused and K.NONE not in allowed:
        ctx.sink.at(event, f"{prefixed(str(event.tag))} needs an event definition")
    return tuple(found)


def _start(element: Element, fields: NodeFields, ctx: ProcessContext) -> FlowNode:
    definitions = _definitions(element, ctx, _START, throwing=False)
    interrupting = ctx.flag(element, "isInterrupting", True)
    return StartEvent(**fields, definitions=definitions, interrupting=interrupting, form=form_link(element, ctx))


def _thrower(allowed: frozenset[EventDefinitionKind]) -> Builder:
    def build(element: Element, fields: NodeFields, ctx: ProcessContext) -> FlowNode:
        definitions = _definitions(element, ctx, allowed, throwing=True)
        job = None
        if definitions and definitions[0].kind is K.MESSAGE:
            # Camunda 8 runs message throw events as jobs; without one, the message itself is published.
            job = job_definition(element, ctx, required=definitions[0].ref is None)
        return EventNode(**fields, definitions=definitions, job=job, headers=headers(element) if job else ())

    return build


def _catcher(element: Element, fields: NodeFields, ctx: ProcessContext) -> FlowNode:
    return EventNode(**fields, definitions=_definitions(element, ctx, _CATCH, throwing=False))


def _boundary(element: Element, fields: NodeFields, ctx: ProcessContext) -> FlowNode | None:
    definitions = _definitions(element, ctx, _BOUNDARY, throwing=False)
    cancel = ctx.flag(element, "cancelActivity", True)
    attached_to = (element.get("attachedToRef") or "").strip()
    if not attached_to:
        ctx.sink.at(element, "boundary event has no attachedToRef")
        return None
    if definitions and definitions[0].kind is K.ERROR and not cancel:
        ctx.sink.at(element, "an error boundary event must interrupt its activity (cancelActivity cannot be false)")
    return BoundaryEvent(**fields, definitions=definitions, attached_to=attached_to, cancel_activity=cancel)


_START: Final = frozenset({K.NONE, K.TIMER, K.MESSAGE, K.SIGNAL, K.ERROR, K.ESCALATION, K.COMPENSATE, K.CONDITIONAL})
_END: Final = frozenset({K.NONE, K.TERMINATE, K.ERROR, K.ESCALATION, K.MESSAGE, K.SIGNAL, K.COMPENSATE})
_CATCH: Final = frozenset({K.TIMER, K.MESSAGE, K.SIGNAL, K.LINK, K.CONDITIONAL})
_THROW: Final = frozenset({K.NONE, K.MESSAGE, K.SIGNAL, K.ESCALATION, K.COMPENSATE, K.LINK})
_BOUNDARY: Final = frozenset({K.TIMER, K.MESSAGE, K.SIGNAL, K.ERROR, K.ESCALATION, K.COMPENSATE, K.CONDITIONAL})

start_event: Builder = _start
end_event: Builder = _thrower(_END)
intermediate_throw_event: Builder = _thrower(_THROW)
intermediate_catch_event: Builder = _catcher
boundary_event: Builder = _boundary
