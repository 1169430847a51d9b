"""Camunda's ``data.events``: what an event subprocess inside Camunda's AI Agent gives reaches its model.

An event subprocess inside the agent's ad-hoc subprocess (a non-interrupting
message or timer start, as in Camunda's examples) ends with a
``toolCallResult``; as Camunda's job worker does, that is an event: the entry
``{id: null, name: null, content}`` joins ``toolCallResults`` and the model is
told as a user message (text as it is, anything else as JSON; nothing at all:
Camunda's sentence for the behaviour). ``data.events.behavior`` says when:

- ``WAIT_FOR_TOOL_CALL_RESULTS`` (the default): after the results of the tool
  calls in flight, when the model is asked next (once they are all in);
- ``INTERRUPT_TOOL_CALLS``: the tool calls in flight are canceled at once
  (their elements terminated, each result ``Tool execution was canceled.``)
  and the model is asked with the event.

An event that arrives while the model is being asked is told with the next
question, after that answer's tool calls (an ``INTERRUPT_TOOL_CALLS`` event
does not cancel calls the model makes after it arrived). Owns: reading the
event and the behaviour. Does not know: how the loop asks (``loop``).
"""

from __future__ import annotations

import json
from typing import Any, Final

from engine.agent import camunda, loop
from engine.runtime.expressions import ExpressionFailure
from engine.runtime.journal import EventType
from engine.runtime.kernel import Kernel
from engine.runtime.state import ElementInstance, ElementState, IncidentAction

__all__ = ["INTERRUPT", "WAIT", "event_done"]

WAIT: Final = "WAIT_FOR_TOOL_CALL_RESULTS"
INTERRUPT: Final = "INTERRUPT_TOOL_CALLS"
CANCELED: Final = "Tool execution was canceled."
_EMPTY: Final = {
    WAIT: "An event was triggered but no content was returned. Execution waited for all in-flight tool executions "
          "to complete before proceeding.",
    INTERRUPT: "An event was triggered but no content was returned. All in-flight tool executions were canceled.",
}


def _behavior(step: Kernel, element: ElementInstance) -> str:
    raw = camunda.nested(step.scope(element.key).get("data"), "events", "behavior")
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return WAIT
    if raw not in (WAIT, INTERRUPT):
        raise ExpressionFailure(f"Camunda agent '{element.element_id}': data.events.behavior must be {WAIT} or "
                                f"{INTERRUPT}, not {raw!r}")
    return str(raw)


def _text(content: Any, behavior: str) -> str:
    if content is None or (isinstance(content, str) and not content.strip()) or content in ({}, []):
        return _EMPTY[behavior]
    return content if isinstance(content, str) else json.dumps(content, sort_keys=True, default=str)


def event_done(step: Kernel, element: ElementInstance, event: ElementInstance) -> None:
    """The event subprocess ``event`` inside the Camunda agent ``element`` ended."""
    agent = element.agent
    if agent is None or element.state != ElementState.ACTIVE or not camunda.is_camunda_agent(step.node(element)):
        return
    try:
        behavior = _behavior(step, element)
    except ExpressionFailure as exc:
        step.incident(element, IncidentAction.SETTLE, "expression", str(exc))
        return
    content = step.scope(event.key).get("toolCallResult")
    results = list(step.state.variables.get(element.key, {}).get(camunda.RESULTS_VARIABLE) or [])
    results.append({"id": None, "name": None, "content": content})
    step.set_variables(element.key, {camunda.RESULTS_VARIABLE: results}, local=True)
    step.record(EventType.AGENT_TOOL_RESULT, element, callId=None, tool=event.element_id, event=True)
    agent.events.append(_text(content, behavior))
    if behavior == INTERRUPT and agent.pending:
        loop.cancel_pending(step, element, CANCELED)
    if not agent.pending and element.job is None:
        loop.ask_model(step, element)
