"""BPMN errors and escalations: finding the catch event, from the thrower outwards.

The search looks, from the throwing element up through its scopes: at the
boundary events of each enclosing activity, then at the event subprocesses of
each enclosing scope; a specific code wins over a catch-all at the same level.
At the top of a called instance the search continues at the call activity in
the parent instance. An error nobody catches raises an incident at the
thrower (Camunda 8); an escalation nobody catches is ignored and the thrower
carries on.
"""

from __future__ import annotations

from typing import Any

from engine.model import BoundaryEvent, EventDefinitionKind, FlowNode, StartEvent, SubProcess
from engine.runtime import messages as m
from engine.runtime.behaviors.events import catch_at_boundary, spawn, start_event_subprocess
from engine.runtime.journal import EventType as _E
from engine.runtime.kernel import Kernel
from engine.runtime.state import ElementInstance, IncidentAction

__all__ = ["child_error", "find_catch", "raise_uncaught", "throw_error", "throw_escalation"]



def _code_of(node: FlowNode, kind: EventDefinitionKind) -> tuple[bool, str | None]:
    definition = getattr(node, "definition", None)
    if definition is None or definition.kind != kind:
        return False, None
    return True, definition.ref


def _pick(candidates: list[FlowNode], kind: EventDefinitionKind, code: str) -> FlowNode | None:
    catch_all = None
    for node in candidates:
        matches, wanted = _code_of(node, kind)
        if not matches:
            continue
        if wanted == code:
            return node
        if wanted is None and catch_all is None:
            catch_all = node
    return catch_all


def find_catch(step: Kernel, thrower: ElementInstance, kind: EventDefinitionKind,
               code: str) -> tuple[ElementInstance, FlowNode] | None:
    """The element instance whose boundary event, or the scope whose event subprocess, catches the throw."""
    current: ElementInstance | None = thrower
    while current is not None:
        node = step.process.nodes.get(current.element_id)  # None: the process itself
        parent = step.state.elements.get(current.parent) if current.parent is not None else None
        inner = parent is not None and parent.is_body and parent.element_id == current.element_id
        if node is not None and not inner:  # an inner instance's boundary events belong to its body
            boundary = _pick(list(step.process.boundary_events(node.id)), kind, code)
            if boundary is not None:
                return current, boundary
        if current is not thrower and (node is None or isinstance(node, SubProcess)):
            starts = [s for sub in step.process.event_subprocesses(current.element_id)
                      for s in step.process.start_events(sub.id)]
            start = _pick(list(starts), kind, code)
            if start is not None and not _inside(step, thrower, start.parent):
                return current, start
        current = parent
    return None


def _inside(step: Kernel, element: ElementInstance, sub_id: str) -> bool:
    """Whether ``element`` runs inside an instance of event subprocess ``sub_id`` (it must not catch its own throw)."""
    current: ElementInstance | None = element
    while current is not None:
        if current.element_id == sub_id:
            return True
        current = step.state.elements.get(current.parent) if current.parent is not None else None
    return False


def _catch(step: Kernel, holder: ElementInstance, catcher: FlowNode, variables: dict[str, Any]) -> None:
    if isinstance(catcher, BoundaryEvent):
        if catcher.cancel_activity:
            catch_at_boundary(step, holder, catcher, variables)
        else:
            spawn(step, catcher.id, holder.parent, variables)
    elif isinstance(catcher, StartEvent):
        start_event_subprocess(step, holder, catcher, variables)


def throw_error(step: Kernel, element: ElementInstance, code: str, message: str, variables: dict[str, Any]) -> None:
    step.record(_E.ERROR_THROWN, element, code=code, message=message)
    found = find_catch(step, element, EventDefinitionKind.ERROR, code)
    if found is not None:
        holder, catcher = found
        step.record(_E.ERROR_CAUGHT, element, code=code, by=catcher.id)
        _catch(step, holder, catcher, variables)
        return
    if step.state.parent is not None:
        step.effect(m.NotifyParent(step.state.parent.instance, m.ChildError(
            step.state.parent.element_instance, code, message, variables, child=step.state.key,
            thrower=element.key)))
        return
    raise_uncaught(step, element, code, message)


def raise_uncaught(step: Kernel, element: ElementInstance, code: str, message: str) -> None:
    text = f"an error with code '{code}' was thrown and not caught"
    if message:
        text += f": {message}"
    if element.agent is not None:  # an agent's limit: resolving the incident allows one more model call
        step.incident(element, IncidentAction.MODEL, "unhandled-error", text)
        return
    action = IncidentAction.JOB if element.job is not None else IncidentAction.ACTIVATE
    step.incident(element, action, "unhandled-error", text, job=element.job)


def throw_escalation(step: Kernel, element: ElementInstance, code: str, variables: dict[str, Any]) -> bool:
    """Throw an escalation; returns whether the thrower was terminated by an interrupting catch."""
    step.record(_E.ESCALATION_THROWN, element, code=code)
    found = find_catch(step, element, EventDefinitionKind.ESCALATION, code)
    if found is None:
        if step.state.parent is not None:
            step.effect(m.NotifyParent(step.state.parent.instance, m.ChildError(
                step.state.parent.element_instance, code, "", variables, escalation=True, child=step.state.key,
                thrower=element.key)))
        return False
    holder, catcher = found
    step.record(_E.ESCALATION_CAUGHT, element, code=code, by=catcher.id)
    _catch(step, holder, catcher, variables)
    return element.key not in step.state.elements


def child_error(step: Kernel, command: m.ChildError) -> None:
    """The search goes on at the call activity whose child threw."""
    call = step.state.elements.get(command.element_instance)
    if call is None:
        return
    kind = EventDefinitionKind.ESCALATION if command.escalation else EventDefinitionKind.ERROR
    found = find_catch(step, call, kind, command.code)
    if found is not None:
        holder, catcher = found
        step.record(_E.ERROR_CAUGHT if not command.escalation else _E.ESCALATION_CAUGHT, call, code=command.code,
                    by=catcher.id)
        _catch(step, holder, catcher, dict(command.variables))
        return
    if step.state.parent is not None:
        step.effect(m.NotifyParent(step.state.parent.instance, m.ChildError(
            step.state.parent.element_instance, command.code, command.message, command.variables,
            escalation=command.escalation, child=command.child, thrower=command.thrower)))
    elif not command.escalation:
        step.effect(m.NotifyChild(command.child, m.ErrorUncaught(command.thrower, command.code, command.message)))
