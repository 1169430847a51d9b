"""Camunda's A2A gateway tools: an A2A client element inside a Camunda agent stands for one remote agent.

An inner element with ``zeebe:property io.camunda.agenticai.gateway.type =
a2aClient`` (Camunda's A2A client template in its ``aiAgentTool`` mode) is one
tool, ``A2A_<elementId>``, whose description is the remote agent's card.
Camunda's round-trip, kept here (``engine.agent.gateway`` dispatches to it):

1. Discovery, when the agent starts: the element is activated with
   ``toolCall = {_meta: {id: "A2A_fetchAgentCard_<elementId>", name: <elementId>}, operation: "fetchAgentCard"}``;
   its ``toolCallResult`` is the card ``{kind: "agentCard", name, description, skills}``
   (or the whole client response ``{result: <card>}``). The tool's
   description is that card as JSON, its parameters a fixed schema (``text``,
   ``taskId``, ``contextId``, ``referenceTaskIds``); the element ids go to
   ``agentContext.properties.a2aClients``.
2. A call of ``A2A_<elementId>`` activates the element with
   ``toolCall = {_meta: {id, name: <elementId>}, operation: "sendMessage", params: <the model's arguments>}``.
3. Its result (a ``message`` or a ``task``, with its state) goes to the model as it is.

An agent with A2A clients gets ``INSTRUCTIONS`` (our own words) after its system prompt, as Camunda adds its
own A2A instructions.

Owns the names and shapes. Does not know how an element fetches or sends
(``protocols.a2a.camunda_client``, which calls only registered agents with
approved cards), nor governance (the loop's).
"""

from __future__ import annotations

import json
from typing import Any, Final

from engine.agent.turn import ToolDefinition
from engine.model import AdHocSubProcess, Process

__all__ = ["A2A_CLIENT", "DISCOVERY_PREFIX", "GATEWAY_PROPERTY", "INSTRUCTIONS", "SEND", "TOOL_PREFIX",
           "call_variables", "card_tools", "discovery_variables", "has_clients", "split"]

GATEWAY_PROPERTY: Final = "io.camunda.agenticai.gateway.type"  # MCP's gateways carry it too (engine.agent.gateway)
A2A_CLIENT: Final = "a2aClient"
DISCOVERY_PREFIX: Final = "A2A_fetchAgentCard_"
TOOL_PREFIX: Final = "A2A_"
SEND: Final = "<a2a sendMessage>"  # the "upstream tool" of an A2A gateway: with a space, never an MCP tool's name
_MAX_DESCRIPTION: Final = 4000
INPUT_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "properties": {
        "text": {"type": "string", "description": "The message to the remote agent: a request, or an answer to "
                 "its question"},
        "taskId": {"type": "string", "description": "The id of the agent's task this message continues (a task "
                   "that is input-required); leave out to start a new task"},
        "contextId": {"type": "string", "description": "The contextId of an earlier answer, to stay in that "
                      "conversation"},
        "referenceTaskIds": {"type": "array", "items": {"type": "string"},
                             "description": "Ids of earlier tasks this message refers to"},
    },
    "required": ["text"],
}


INSTRUCTIONS: Final = """\
Some of your tools are remote agents (their names start with A2A_; each tool's description is the agent's card).
Such a tool answers with a message (kind "message": the agent's reply) or a task (kind "task", its state in
status.state, its results in artifacts). A task that is "completed" is done; "input-required" asks you a question
(status.message): answer it by calling the same tool with your text and that task's taskId and contextId;
"failed", "rejected" or "canceled" did not succeed: do not expect results from it. To go on with a conversation
with an agent, pass the contextId of its earlier answer; to start something new, leave taskId out."""


def has_clients(process: Process, ad_hoc: AdHocSubProcess) -> bool:
    """Whether the agent has an A2A client among its tools (Camunda then adds ``INSTRUCTIONS`` to its system prompt)."""
    return any(name == GATEWAY_PROPERTY and value.strip() == A2A_CLIENT
               for node in process.activatable(ad_hoc) for name, value in node.properties)


def split(name: str) -> str | None:
    """The element id of the tool ``A2A_<elementId>``, else None."""
    if name.startswith(TOOL_PREFIX) and len(name) > len(TOOL_PREFIX) and not name.startswith(DISCOVERY_PREFIX):
        return name[len(TOOL_PREFIX):]
    return None


def discovery_variables(element_id: str) -> tuple[str, dict[str, Any]]:
    """The call id and the inner instance's variables that ask ``element_id`` for its agent's card."""
    call_id = f"{DISCOVERY_PREFIX}{element_id}"
    return call_id, {"toolCall": {"_meta": {"id": call_id, "name": element_id}, "operation": "fetchAgentCard"},
                     "toolCallResult": None}


def call_variables(call_id: str, element_id: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """The inner instance's variables that have ``element_id`` send the model's message."""
    return {"toolCall": {"_meta": {"id": call_id, "name": element_id}, "operation": "sendMessage",
                         "params": arguments},
            "toolCallResult": None}


def card_tools(element_id: str, result: Any) -> list[ToolDefinition]:
    """The model's one tool for the agent whose card came back; none when it is not a card."""
    card = result.get("result") if isinstance(result, dict) and "kind" not in result else result
    if not isinstance(card, dict) or card.get("kind", "agentCard") != "agentCard" or not card.get("name"):
        return []
    description = json.dumps({k: card.get(k) for k in ("name", "description", "skills")}, ensure_ascii=False)
    return [ToolDefinition(name=f"{TOOL_PREFIX}{element_id}", description=description[:_MAX_DESCRIPTION],
                           input_schema=INPUT_SCHEMA)]
