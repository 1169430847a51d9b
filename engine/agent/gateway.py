"""Camunda's gateway tools: an MCP client element inside a Camunda agent stands for its server's tools.

(An A2A client element, ``gateway.type = a2aClient``, stands for one remote agent: its names and shapes are
``engine.agent.gateway_a2a``'s; discovery, calls and results go through the functions below for both kinds.)

An inner element of Camunda's AI Agent sub-process that carries
``zeebe:property io.camunda.agenticai.gateway.type = mcpClient`` (as
Camunda's MCP client templates set it in their ``aiAgentTool`` mode) is not
one tool but a gateway to several. Camunda's round-trip, kept here:

1. Discovery, when the agent starts: each gateway element is activated with
   ``toolCall = {_meta: {id: "MCP_toolsList_<elementId>", name: <elementId>}, method: "tools/list"}``;
   its ``toolCallResult`` is ``{toolDefinitions: [{name, description, inputSchema}]}``.
   Each listed tool becomes the model's tool ``MCP_<elementId>___<toolName>``, kept with the
   others in ``agentContext.toolDefinitions``; the element ids go to
   ``agentContext.properties.mcpClients``. The model is asked once every listing is in.
2. A call: the model's ``MCP_<elementId>___<toolName>`` passes the loop's
   choke point and policies under that name, then activates ``<elementId>`` with
   ``toolCall = {_meta: {id, name: <elementId>}, method: "tools/call", params: {name, arguments}}``.
3. Its result ``{name, content: [...], isError}`` goes to the model as the
   text of its one text block, else the content blocks.

Owns: recognising gateway elements, the names, the ``toolCall`` shapes and
reading listings back. Does not know: how an element lists or calls (the MCP
client job types, ``protocols.mcp.camunda_client``, which list only pinned and
approved tools and check the pin again at each call), nor governance (the loop's).
A tool definition in ``agentContext`` counts only when its element is a gateway
of this agent: what a tool writes there can at most ask a gateway for a tool
by name, which the gateway's own checks then refuse or allow.
"""

from __future__ import annotations

import copy
import re
from typing import Any, Final

from engine.agent import gateway_a2a as a2a
from engine.agent.camunda import nested
from engine.agent.tools import arguments_hash, tool_definitions
from engine.agent.turn import ToolDefinition
from engine.model import AdHocSubProcess, FlowNode, Process
from engine.runtime.behaviors.ad_hoc import activate_inner
from engine.runtime.journal import EventType
from engine.runtime.kernel import Kernel
from engine.runtime.records import ToolCall
from engine.runtime.state import ElementInstance

__all__ = [
    "DISCOVERY_PREFIX", "GATEWAY_PROPERTY", "agent_tools", "call_variables", "discover", "discovered",
    "discovery_variables", "gateway_nodes", "is_discovery", "listed_tools", "model_content", "split", "target",
]

GATEWAY_PROPERTY: Final = a2a.GATEWAY_PROPERTY
MCP_CLIENT: Final = "mcpClient"
DISCOVERY_PREFIX: Final = "MCP_toolsList_"
_NAME: Final = re.compile(r"^MCP_(?P<element>\S+?)___(?P<tool>\S+)$")
_MAX_DESCRIPTION: Final = 4000


def gateway_type(node: FlowNode) -> str | None:
    """``mcpClient`` or ``a2aClient`` for a client element in its gateway (``aiAgentTool``) mode, else None."""
    found = next((value.strip() for name, value in node.properties if name == GATEWAY_PROPERTY), None)
    return found if found in (MCP_CLIENT, a2a.A2A_CLIENT) else None


def is_gateway(node: FlowNode) -> bool:
    """Whether ``node`` is an MCP or A2A client element in its gateway (``aiAgentTool``) mode."""
    return gateway_type(node) is not None


def gateway_nodes(process: Process, ad_hoc: AdHocSubProcess) -> list[FlowNode]:
    """The agent's gateway elements, in document order."""
    return [node for node in process.activatable(ad_hoc) if is_gateway(node)]


def split(name: str) -> tuple[str, str] | None:
    """``(elementId, toolName)`` of ``MCP_<elementId>___<toolName>``, ``(elementId, a2a.SEND)`` of
    ``A2A_<elementId>``, else None."""
    found = _NAME.match(name)
    if found:
        return found["element"], found["tool"]
    element = a2a.split(name)
    return (element, a2a.SEND) if element else None


def target(process: Process, ad_hoc: AdHocSubProcess, tool: str) -> tuple[str, str | None]:
    """The element a tool call activates, and the upstream tool's name when it goes through a gateway."""
    parts = split(tool)
    if parts is not None and parts[0] in {n.id for n in gateway_nodes(process, ad_hoc)}:
        return parts
    return tool, None


def is_discovery(call_id: str) -> bool:
    return call_id.startswith((DISCOVERY_PREFIX, a2a.DISCOVERY_PREFIX))


def discovery_variables(element_id: str) -> tuple[str, dict[str, Any]]:
    """The call id and the inner instance's variables that ask ``element_id`` for its tools."""
    call_id = f"{DISCOVERY_PREFIX}{element_id}"
    return call_id, {"toolCall": {"_meta": {"id": call_id, "name": element_id}, "method": "tools/list"},
                     "toolCallResult": None}


def call_variables(call_id: str, element_id: str, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """The inner instance's variables that have ``element_id`` call its upstream ``tool`` (or send, for A2A)."""
    if tool == a2a.SEND:
        return a2a.call_variables(call_id, element_id, arguments)
    return {"toolCall": {"_meta": {"id": call_id, "name": element_id}, "method": "tools/call",
                         "params": {"name": tool, "arguments": arguments}},
            "toolCallResult": None}


def listed_tools(element_id: str, result: Any) -> list[ToolDefinition]:
    """The model's tools from a gateway's listing; what is not a tool definition is left out."""
    listed = result.get("toolDefinitions") if isinstance(result, dict) else None
    tools: list[ToolDefinition] = []
    for item in listed if isinstance(listed, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"].strip():
            continue
        schema = item.get("inputSchema")
        schema = schema if isinstance(schema, dict) and schema.get("type") == "object" else {
            "type": "object", "properties": {}}
        description = item.get("description")
        description = description[:_MAX_DESCRIPTION] if isinstance(description, str) else item["name"]
        tools.append(ToolDefinition(name=f"MCP_{element_id}___{item['name']}", description=description,
                                    input_schema=schema))
    return tools


def agent_tools(process: Process, ad_hoc: AdHocSubProcess, context: Any) -> list[ToolDefinition]:
    """A Camunda agent's tools: its plain tools, then those its gateways listed (kept in ``agentContext``)."""
    gateways = {n.id for n in gateway_nodes(process, ad_hoc)}
    tools = [t for t in tool_definitions(process, ad_hoc) if t.name not in gateways]
    kept = context.get("toolDefinitions") if isinstance(context, dict) else None
    for item in kept if isinstance(kept, list) else []:
        if not isinstance(item, dict) or _gateway_of(item) not in gateways or not isinstance(
                item.get("inputSchema"), dict):
            continue
        name, description = str(item["name"]), item.get("description")
        tools.append(ToolDefinition(name=name, description=description if isinstance(description, str) else name,
                                    input_schema=item["inputSchema"]))
    return tools


def model_content(result: Any) -> Any:
    """What the model reads of a gateway call's ``{name, content, isError}``: one text as it is, else the blocks."""
    if not isinstance(result, dict) or not isinstance(result.get("content"), list):
        return result
    content = result["content"]
    if len(content) == 1 and isinstance(content[0], dict) and content[0].get("type") == "text":
        text = content[0].get("text")
        return {"error": text} if result.get("isError") is True else text
    return {"error": content} if result.get("isError") is True else content


# --- in the step --------------------------------------------------------------------------------------------

_CONTEXT = "agentContext"


def _gateway_of(definition: Any) -> str | None:
    parts = split(str(definition.get("name"))) if isinstance(definition, dict) else None
    return parts[0] if parts else None


def _context(step: Kernel, element: ElementInstance) -> dict[str, Any] | None:
    context = step.state.variables.get(element.key, {}).get(_CONTEXT)
    return copy.deepcopy(context) if isinstance(context, dict) else None


def discover(step: Kernel, element: ElementInstance, node: AdHocSubProcess) -> list[str]:
    """Activate each gateway element with Camunda's discovery call; the ids of the calls (none: no gateways)."""
    nodes = gateway_nodes(step.process, node)
    gateways = [n.id for n in nodes]
    context = _context(step, element)
    if not gateways or context is None:
        return []
    context["state"] = "TOOL_DISCOVERY"
    properties = context.setdefault("properties", {})
    for kind, key in ((MCP_CLIENT, "mcpClients"), (a2a.A2A_CLIENT, "a2aClients")):
        if any(gateway_type(n) == kind for n in nodes):
            properties[key] = [n.id for n in nodes if gateway_type(n) == kind]
    step.set_variables(element.key, {_CONTEXT: context}, local=True)
    calls = []
    for gateway_node in nodes:
        element_id = gateway_node.id
        is_a2a = gateway_type(gateway_node) == a2a.A2A_CLIENT
        call_id, variables = a2a.discovery_variables(element_id) if is_a2a else discovery_variables(element_id)
        record = ToolCall(id=call_id, tool=element_id, arguments_hash=arguments_hash(element_id, {
            "operation": "fetchAgentCard"} if is_a2a else {"method": "tools/list"}))
        activate_inner(step, element, node, element_id, variables, call=record)
        calls.append(call_id)
    return calls


def discovered(step: Kernel, element: ElementInstance, call: ToolCall, result: Any, *, last: bool) -> None:
    """A gateway's listing (or card) came back: its tools join ``agentContext.toolDefinitions`` (READY with the
    ``last``)."""
    is_a2a = call.id.startswith(a2a.DISCOVERY_PREFIX)
    tools = a2a.card_tools(call.tool, result) if is_a2a else listed_tools(call.tool, result)
    context = _context(step, element)
    if context is None:
        return
    kept = [t for t in context.get("toolDefinitions") or [] if _gateway_of(t) != call.tool]
    kept.extend({"name": t.name, "description": t.description, "inputSchema": t.input_schema} for t in tools)
    properties = nested(context, "properties")
    listed = [*(nested(properties, "mcpClients") or []), *(nested(properties, "a2aClients") or [])]
    order = {g: i for i, g in enumerate(listed)}
    kept.sort(key=lambda t: order.get(_gateway_of(t), -1))  # plain tools first, then the gateways' in model order
    context["toolDefinitions"] = kept
    if last:
        context["state"] = "READY"
    step.set_variables(element.key, {_CONTEXT: context}, local=True)
    step.record(EventType.AGENT_TOOL_RESULT, element, callId=call.id, tool=call.tool,
                discovered=[t.name for t in tools])
