"""Camunda's AI Agent Task (job type ``io.camunda.agenticai:aiagent:1``): one model turn per activation.

Unlike the sub-process flavour (``camunda``, run on our agent loop), the task
flavour leaves the loop to the process: each time the service task runs, the
agent takes one turn, and the process's own gateway sends ``agent.toolCalls``
to a multi-instance ad-hoc subprocess (``activeElementsCollection =
[toolCall._meta.name]``) whose ``toolCallResults`` come back on the next
activation. Its inputs are the element template's:

    provider.*                           the model (``protocols.llm.camunda_providers``)
    data.systemPrompt.prompt             the system message, renewed every turn
    data.userPrompt.prompt / .documents  the user message of a fresh or follow-up turn
    data.context                         the previous turn's ``agent.context``, or null at first
    data.tools.containerElementId        the ad-hoc subprocess whose inner elements are the tools
    data.tools.toolCallResults           ``[{id, name, content}]``, the results of the last turn's calls
    data.memory                          the window the model sees (``camunda_memory``)
    data.limits.maxModelCalls            counted over the whole context
    data.response.*                      as for the sub-process flavour (``camunda.respond``)

The result is Camunda's ``agent``: ``{context, toolCalls, responseText,
responseJson, responseMessage}``, every field present (null where it does not
apply, ``toolCalls`` an empty list on the final turn). A tool call is
``{_meta: {id, name}, <its arguments>}``, as the tools' ``fromAi(toolCall.x)``
read it.

Gateway tools (``engine.agent.gateway``): MCP and A2A client elements in the
container (``io.camunda.agenticai.gateway.type``) are offered as in the
sub-process flavour, with the round-trip modelled by the process: the first
activation (no ``data.context``) asks the model nothing and answers with the
discovery calls as ``toolCalls`` (context state ``TOOL_DISCOVERY``); the next
one reads their listings from ``toolCallResults`` into
``context.toolDefinitions`` (``MCP_<element>___<tool>``, ``A2A_<element>``) and
takes the first model turn. A call of a gateway tool is sent as the element's
``toolCall`` (``{_meta: {id, name: <element>}, method: "tools/call", params}`` or
``{..., operation: "sendMessage", params}``), and its result goes back to the
model under the tool's own name, an MCP result read as in the sub-process flavour.

Owns: turning the task's variables into a model turn (``task_turn``) and the
model's answer into ``agent`` (``task_result``), pure, as data. Does not know:
how the model is called or how errors become incidents or BPMN errors (the
job handler, ``protocols.llm.camunda_task``, under Camunda's task headers).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any, Final

from engine.agent import gateway, gateway_a2a
from engine.agent.camunda import (
    LIMIT_ERROR,
    MODEL_PREFIX,
    PARSE_ERROR,
    PROVIDER_TYPES,
    ResponseNotJson,
    from_camunda,
    nested,
    respond,
    to_camunda,
)
from engine.agent.camunda_documents import checked_documents
from engine.agent.camunda_memory import MemoryConfigError, window, window_size
from engine.agent.tools import ToolProblem, check_arguments
from engine.agent.turn import ToolDefinition
from engine.model import AdHocSubProcess, Process
from engine.runtime.expressions import ExpressionFailure

__all__ = ["EMPTY_CONTEXT_ERROR", "NO_USER_MESSAGE_ERROR", "TASK_TYPE", "AgentTaskError", "TaskTurn",
           "discovery_result", "task_result", "task_turn"]

TASK_TYPE: Final = "io.camunda.agenticai:aiagent:1"
NO_USER_MESSAGE_ERROR: Final = "NO_USER_MESSAGE_CONTENT"
EMPTY_CONTEXT_ERROR: Final = "TOOL_CALL_RESULTS_ON_EMPTY_CONTEXT"
_DEFAULT_MAX_MODEL_CALLS = 10


class AgentTaskError(Exception):
    """The turn cannot be taken. ``code`` is Camunda's error code (an errorExpression sees it), or None when the
    task's own inputs are wrong; ``retry``: whether another attempt may go differently (a new model answer)."""

    def __init__(self, message: str, *, code: str | None = None, retry: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.retry = retry


@dataclass(frozen=True, slots=True)
class TaskTurn:
    """One turn of the task: what the model is asked, and the context that its answer is added to."""

    model: str  # "camunda:<provider.type>"; the handler calls the provider that ``provider`` configures
    provider: dict[str, Any]
    messages: list[dict[str, Any]]  # the window the model sees, in our message shape (engine.agent.turn)
    tools: list[ToolDefinition]
    context: dict[str, Any]  # Camunda's agent context with this turn's new messages
    model_calls: int  # made over the whole context before this turn
    gateways: frozenset[str] = frozenset()  # the container's gateway elements (MCP and A2A clients)
    discovery: tuple[dict[str, Any], ...] | None = None  # the gateways' discovery calls: no model turn this time


def _limit(data: Any) -> int:
    value = nested(data, "limits", "maxModelCalls")
    if value is None:
        return _DEFAULT_MAX_MODEL_CALLS
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0 or int(value) != value:
        raise AgentTaskError(f"data.limits.maxModelCalls must be a whole number of at least 0, not {value!r}")
    return int(value)


def _container(process: Process, data: Any) -> AdHocSubProcess | None:
    container = nested(data, "tools", "containerElementId")
    if container is None or container == "":
        return None  # an agent without tools
    node = process.nodes.get(container) if isinstance(container, str) else None
    if not isinstance(node, AdHocSubProcess):
        found = sorted(n.id for n in process.nodes.values() if isinstance(n, AdHocSubProcess))
        raise AgentTaskError(f"data.tools.containerElementId {container!r} is not an ad-hoc subprocess of process "
                             f"'{process.id}' (its ad-hoc subprocesses: {', '.join(found) or 'none'})")
    return node


def _tools(process: Process, node: AdHocSubProcess | None, context: Any) -> list[ToolDefinition]:
    """The plain tools of the container, then those its gateways listed (kept in the context)."""
    if node is None:
        return []
    try:
        return gateway.agent_tools(process, node, context)
    except ToolProblem as exc:
        raise AgentTaskError(f"the tools of '{node.id}' are declared wrongly: {exc}") from None


def _discovery(nodes: list[Any]) -> tuple[dict[str, Any], ...]:
    """The discovery calls of the gateways, as the ``toolCall`` each element is activated with."""
    calls = []
    for node in nodes:
        is_a2a = gateway.gateway_type(node) == gateway_a2a.A2A_CLIENT
        _, variables = (gateway_a2a.discovery_variables(node.id) if is_a2a
                        else gateway.discovery_variables(node.id))
        calls.append(variables["toolCall"])
    return tuple(calls)


def _discovered(context: dict[str, Any], calls: tuple[dict[str, Any], ...], raw: Any) -> None:
    """The gateways' listings (or cards) from ``toolCallResults`` into ``context.toolDefinitions``; READY."""
    results = {r.get("id"): r for r in raw if isinstance(r, dict)} if isinstance(raw, list) else {}
    missing = [c["_meta"]["id"] for c in calls if c["_meta"]["id"] not in results]
    if missing:
        raise AgentTaskError(f"data.tools.toolCallResults has no result for the tool discovery call(s) {missing}: "
                             "map the ad-hoc subprocess's outputCollection into it")
    kept = list(context.get("toolDefinitions") or [])
    for call in calls:
        element, content = call["_meta"]["name"], results[call["_meta"]["id"]].get("content")
        found = (gateway_a2a.card_tools(element, content) if call.get("operation") == "fetchAgentCard"
                 else gateway.listed_tools(element, content))
        kept.extend({"name": t.name, "description": t.description, "inputSchema": t.input_schema} for t in found)
    context["toolDefinitions"] = kept
    context["state"] = "READY"


def _results(calls: list[dict[str, Any]], raw: Any, gateways: frozenset[str]) -> list[dict[str, Any]]:
    """The last turn's calls answered from ``toolCallResults``, in call order, as our tool messages."""
    results = {r.get("id"): r for r in raw if isinstance(r, dict)} if isinstance(raw, list) else {}
    missing = [c.get("id") for c in calls if c.get("id") not in results]
    if missing:
        raise AgentTaskError(f"data.tools.toolCallResults has no result for the tool call(s) {missing} of the last "
                             "turn: map the ad-hoc subprocess's outputCollection into it")
    messages = []
    for call in calls:
        content = results[call.get("id")].get("content")
        parts = gateway.split(str(call.get("name")))
        if parts is not None and parts[0] in gateways and parts[1] != gateway_a2a.SEND:
            content = gateway.model_content(content)  # an MCP result, read as the sub-process flavour reads it
        messages.append({"role": "tool", "toolCallId": call.get("id"), "name": call.get("name"), "content": content})
    return messages


def _user(data: Any) -> dict[str, Any]:
    prompt = nested(data, "userPrompt", "prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise AgentTaskError(f"data.userPrompt.prompt must be a text that is not blank, but it was {prompt!r}",
                             code=NO_USER_MESSAGE_ERROR)
    try:  # as the sub-process flavour: the documents become content parts at the model call
        documents = checked_documents(nested(data, "userPrompt", "documents"), "the AI Agent Task")
    except ExpressionFailure as exc:
        raise AgentTaskError(str(exc)) from None
    return {"role": "user", "content": prompt, **({"documents": documents} if documents else {})}


def task_turn(process: Process, variables: dict[str, Any], *, instance: int, definition: int | None,
              conversation_id: str) -> TaskTurn:
    """The turn the task's variables ask for; AgentTaskError says why none can be taken."""
    provider, data = variables.get("provider"), variables.get("data")
    kind = nested(provider, "type")
    if not isinstance(provider, dict) or kind not in PROVIDER_TYPES:
        raise AgentTaskError(f"provider.type must be one of {', '.join(PROVIDER_TYPES)}, not {kind!r}")
    previous = nested(data, "context")
    if previous is not None and not isinstance(previous, dict):
        raise AgentTaskError(f"data.context must be a context (a previous agent.context) or null, not "
                             f"{type(previous).__name__}")
    try:
        size = window_size(data)
    except MemoryConfigError as exc:
        raise AgentTaskError(str(exc)) from None
    node = _container(process, data)
    nodes = gateway.gateway_nodes(process, node) if node is not None else []
    gateways = frozenset(n.id for n in nodes)
    conversation_id = nested(previous, "conversation", "conversationId") or conversation_id
    if nodes and not previous:  # Camunda's TOOL_DISCOVERY: the gateways list their tools before any model turn
        return _discovery_turn(process, node, nodes, kind, provider, instance, definition, conversation_id)
    context = copy.deepcopy(previous) if previous else {}
    raw_results = nested(data, "tools", "toolCallResults")
    if nodes and context.get("state") == "TOOL_DISCOVERY":
        _discovered(context, _discovery(nodes), raw_results)
        raw_results = None  # the listings were these results: this is the first model turn
    tools = _tools(process, node, context)
    kept = [m for m in nested(context, "conversation", "messages") or [] if isinstance(m, dict)]
    conversation = from_camunda(kept)  # ours, without the system message, which is renewed below
    last = conversation[-1] if conversation else None
    if last is not None and last.get("role") == "assistant" and last.get("toolCalls"):
        added = _results(last["toolCalls"], raw_results, gateways)
    elif not conversation and raw_results:
        raise AgentTaskError("data.tools.toolCallResults holds results but data.context has no conversation they "
                             "answer", code=EMPTY_CONTEXT_ERROR)
    else:  # a fresh turn, or a follow-up after an answer: the results of earlier turns are in the context already
        added = [_user(data)]
    system = nested(data, "systemPrompt", "prompt")
    if node is not None and gateway_a2a.has_clients(process, node):  # Camunda's contributor for A2A tools
        system = "\n\n".join(p for p in (system if isinstance(system, str) else "", gateway_a2a.INSTRUCTIONS)
                               if p.strip())
    lead = [{"role": "system", "content": system}] if isinstance(system, str) and system.strip() else []
    camunda_messages: list[dict[str, Any]] = []  # the kept messages stay as they were; the system message is renewed
    for message in lead:
        to_camunda(message, camunda_messages)
    camunda_messages.extend(m for m in kept if m.get("role") != "system")
    for message in added:
        to_camunda(message, camunda_messages)
    metrics = nested(context, "metrics") if isinstance(nested(context, "metrics"), dict) else {}
    used = metrics.get("modelCalls")
    used = used if isinstance(used, int) and not isinstance(used, bool) and used >= 0 else 0
    limit = _limit(data)
    if used >= limit:
        raise AgentTaskError(f"Maximum number of model calls reached (modelCalls: {used}, limit: {limit})",
                             code=LIMIT_ERROR)
    context.update({
        "schemaVersion": 1, "state": "READY",
        "metadata": {"processDefinitionKey": definition, "processInstanceKey": instance},
        "metrics": {"modelCalls": used, "tokenUsage": metrics.get("tokenUsage") or
                    {"inputTokenCount": 0, "outputTokenCount": 0}, "toolCalls": metrics.get("toolCalls") or 0},
        "toolDefinitions": [{"name": t.name, "description": t.description, "inputSchema": t.input_schema}
                            for t in tools],
        "conversation": {"type": "in-process", "conversationId": conversation_id, "messages": camunda_messages},
    })
    return TaskTurn(model=f"{MODEL_PREFIX}{kind}", provider=provider,
                    messages=window([*lead, *conversation, *added], size), tools=tools, context=context,
                    model_calls=used, gateways=gateways)


def _discovery_turn(process: Process, node: AdHocSubProcess | None, nodes: list[Any], kind: str,
                    provider: dict[str, Any], instance: int, definition: int | None,
                    conversation_id: str) -> TaskTurn:
    """The first activation of an agent with gateways: its context in ``TOOL_DISCOVERY`` and the discovery calls."""
    tools = _tools(process, node, None)
    properties = {key: [n.id for n in nodes if gateway.gateway_type(n) == gateway_kind]
                  for gateway_kind, key in ((gateway.MCP_CLIENT, "mcpClients"), (gateway_a2a.A2A_CLIENT, "a2aClients"))}
    context = {
        "schemaVersion": 1, "state": "TOOL_DISCOVERY",
        "metadata": {"processDefinitionKey": definition, "processInstanceKey": instance},
        "metrics": {"modelCalls": 0, "tokenUsage": {"inputTokenCount": 0, "outputTokenCount": 0}, "toolCalls": 0},
        "toolDefinitions": [{"name": t.name, "description": t.description, "inputSchema": t.input_schema}
                            for t in tools],
        "conversation": {"type": "in-process", "conversationId": conversation_id, "messages": []},
        "properties": {k: v for k, v in properties.items() if v},
    }
    return TaskTurn(model=f"{MODEL_PREFIX}{kind}", provider=provider, messages=[], tools=tools, context=context,
                    model_calls=0, gateways=frozenset(n.id for n in nodes), discovery=_discovery(nodes))


def discovery_result(turn: TaskTurn) -> dict[str, Any] | None:
    """Camunda's ``agent`` for a discovery turn (no model call: the gateways' discovery calls as ``toolCalls``),
    None for a model turn."""
    if turn.discovery is None:
        return None
    return {"context": copy.deepcopy(turn.context), "toolCalls": [copy.deepcopy(c) for c in turn.discovery],
            "responseText": None, "responseJson": None, "responseMessage": None}


def _calls(turn: TaskTurn, raw: list[Any]) -> list[dict[str, Any]]:
    """The model's tool calls with ids and checked arguments; a call no tool takes may be answered anew on retry."""
    tools = {t.name: t for t in turn.tools}
    calls = []
    for index, call in enumerate(raw):
        name = call.get("name") if isinstance(call, dict) else None
        if name not in tools:
            raise AgentTaskError(f"the model called tool {name!r}, which is not one of the agent's tools "
                                 f"({', '.join(tools) or 'none'})", code="FAILED_MODEL_CALL", retry=True)
        arguments = call.get("arguments")
        if isinstance(arguments, str):
            try:
                arguments = json.loads(arguments or "{}")
            except ValueError:
                arguments = None
        try:
            checked = check_arguments(tools[name], arguments if arguments is not None else {})
        except ToolProblem as exc:
            raise AgentTaskError(str(exc), code="FAILED_MODEL_CALL", retry=True) from None
        call_id = call.get("id") or f"call_{turn.model_calls + 1}_{index + 1}"
        calls.append({"id": str(call_id), "name": name, "arguments": checked})
    return calls


def _tool_call(turn: TaskTurn, call: dict[str, Any]) -> dict[str, Any]:
    """The ``toolCall`` the container's element is activated with: a gateway's call, or the tool's own."""
    parts = gateway.split(call["name"])
    if parts is not None and parts[0] in turn.gateways:
        found: dict[str, Any] = gateway.call_variables(call["id"], parts[0], parts[1], call["arguments"])["toolCall"]
        return found
    return {"_meta": {"id": call["id"], "name": call["name"]}, **call["arguments"]}


def task_result(turn: TaskTurn, answer: dict[str, Any], usage: dict[str, Any], data: Any) -> dict[str, Any]:
    """Camunda's ``agent`` for the model's ``answer`` (``engine.agent.turn``'s shape) to ``turn``."""
    context = copy.deepcopy(turn.context)
    messages = context["conversation"]["messages"]
    calls = _calls(turn, answer.get("toolCalls") or []) if "final" not in answer else []
    content = answer.get("content") if isinstance(answer.get("content"), str) else None
    if calls:
        to_camunda({"role": "assistant", "content": content, "toolCalls": calls}, messages)
    else:
        to_camunda({"role": "assistant", "content": content, "final": answer.get("final")}, messages)
    metrics = context["metrics"]
    metrics["modelCalls"] = turn.model_calls + 1
    metrics["toolCalls"] = int(metrics.get("toolCalls") or 0) + len(calls)
    tokens = metrics["tokenUsage"]
    for ours, theirs in (("inputTokens", "inputTokenCount"), ("outputTokens", "outputTokenCount")):
        count = usage.get(ours)
        tokens[theirs] = int(tokens.get(theirs) or 0) + (count if isinstance(count, int) else 0)
    agent: dict[str, Any] = {"context": context, "toolCalls": [_tool_call(turn, c) for c in calls],
        "responseText": None, "responseJson": None, "responseMessage": None}
    if calls:
        return agent
    try:
        found = respond(nested(data, "response"), answer.get("final"), context)
    except ResponseNotJson as exc:
        raise AgentTaskError(str(exc), code=PARSE_ERROR, retry=True) from None
    found.pop("context", None)  # the task's agent always carries its context
    agent.update(found)
    return agent
