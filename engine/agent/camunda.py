"""Camunda's AI Agent (the job-worker flavour of its ad-hoc subprocess), run on our agent loop.

A ``bpmn:adHocSubProcess`` whose ``zeebe:taskDefinition`` type is Camunda's AI
Agent job worker (``io.camunda.agenticai:aiagent-job-worker:1``) is an agent
here, as ``<agenthub:agent>`` makes one: no external worker runs it. Its
configuration is what Camunda's element template maps into the subprocess's
input variables, read when the agent starts:

    provider.type (and provider.<type>.*)   which model: ``protocols.llm.camunda_providers`` maps it
                                           to litellm, with credentials from secrets, at each model step
    data.systemPrompt.prompt               the system message
    data.userPrompt.prompt / .documents    the user message (documents: ``camunda_documents``)
    data.limits.maxModelCalls              counted over the whole context, follow-up turns included
    data.response.format.type              text (``parseJson``) or json: how ``responseJson`` is made
    data.response.includeAssistantMessage  ``responseMessage`` in the result
    data.response.includeAgentContext      ``context`` in the result
    agentContext                           a previous run's ``agent.context``: its conversation goes on

While it runs, the subprocess's local ``agentContext`` holds Camunda's context
(``conversation.messages`` in Camunda's message shape, ``metrics``,
``toolDefinitions``), updated with every message of the conversation, and
``toolCallResults`` is emptied at each model turn as Camunda's worker does. The
result is Camunda's ``agent`` variable: ``{responseText, responseJson?,
responseMessage?, context?}``, absent fields left out.

Owns: recognising the element, turning its variables into the loop's start,
and keeping Camunda's context and result. Does not know: model providers or
secrets (``protocols.llm``); governance, budgets and tools are the loop's, so
``<agenthub:policy>`` beside Camunda's extension elements governs its tool calls.

``data.memory`` (``camunda_memory``): the model sees the last ``contextWindowSize``
messages, ``agentContext`` keeps them all; only ``in-process`` storage.

``data.events`` (event subprocesses inside the agent): ``camunda_events``. Gateway tools (MCP
and A2A clients): ``engine.agent.gateway``. Not done (yet): token counts in ``metrics``.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any, Final

from engine.agent import gateway_a2a
from engine.agent.camunda_documents import checked_documents, document_blocks, documents_of
from engine.agent.camunda_memory import MemoryConfigError, window_size
from engine.agent.turn import ToolDefinition
from engine.model import AdHocSubProcess, FlowNode
from engine.runtime.expressions import ExpressionFailure
from engine.runtime.kernel import Kernel
from engine.runtime.state import ElementInstance

__all__ = [
    "CONTEXT_VARIABLE",
    "JOB_WORKER_TYPE",
    "LIMIT_ERROR",
    "MODEL_PREFIX",
    "PARSE_ERROR",
    "PROVIDER_TYPES",
    "RESULT_VARIABLE",
    "CamundaStart",
    "ResponseNotJson",
    "begin",
    "from_camunda",
    "is_camunda_agent",
    "limit_message",
    "mirror",
    "nested",
    "respond",
    "response_text",
    "result",
    "start",
    "to_camunda",
]

JOB_WORKER_TYPE: Final = "io.camunda.agenticai:aiagent-job-worker:"
MODEL_PREFIX: Final = "camunda:"  # the agent's model is "camunda:<provider.type>"; protocols.llm resolves it
LIMIT_ERROR: Final = "MAXIMUM_NUMBER_OF_MODEL_CALLS_REACHED"
PARSE_ERROR: Final = "FAILED_TO_PARSE_RESPONSE_CONTENT"
RESULT_VARIABLE: Final = "agent"
CONTEXT_VARIABLE: Final = "agentContext"
RESULTS_VARIABLE: Final = "toolCallResults"
PROVIDER_TYPES: Final = ("openai", "anthropic", "bedrock", "azureOpenAi", "googleVertexAi", "google-vertex-ai",
                         "openaiCompatible")
_DEFAULT_MAX_MODEL_CALLS = 10


def is_camunda_agent(node: FlowNode) -> bool:
    """Whether ``node`` is Camunda's AI Agent sub-process, run by our loop (``<agenthub:agent>`` wins over it)."""
    if not isinstance(node, AdHocSubProcess) or node.job is None or node.has_agent:
        return False
    job_type = node.job.type
    return not job_type.is_expression and job_type.text.strip().startswith(JOB_WORKER_TYPE)


def nested(value: Any, *names: str) -> Any:
    """``value[names[0]][names[1]]...`` of Camunda's nested inputs; None where a level is missing or no object."""
    for name in names:
        if not isinstance(value, dict):
            return None
        value = value.get(name)
    return value


# --- Camunda's message shape and ours (engine.agent.turn) ----------------------------------------------------


def _text_block(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


def _content(value: Any) -> list[dict[str, Any]]:
    """A tool result's content as Camunda keeps it: text for a string, an object for anything else."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return [_text_block("Tool execution succeeded, but returned no result.")]
    return [_text_block(value)] if isinstance(value, str) else [{"type": "object", "content": value}]


def response_text(final: Any, content: Any = None) -> str | None:
    """The text of a final answer: the answer when it is text, else its JSON."""
    if isinstance(final, str):
        return final
    if final is None:
        return content if isinstance(content, str) else None
    return json.dumps(final, sort_keys=True)


def to_camunda(message: dict[str, Any], messages: list[dict[str, Any]]) -> None:
    """Append our ``message`` to Camunda's ``messages``; tool results of one turn share one message."""
    role = message.get("role")
    if role in ("system", "user"):
        text = message.get("content")
        messages.append({"role": role, "content": [_text_block(text if isinstance(text, str) else json.dumps(text)),
                                                   *document_blocks(message)]})
    elif role == "assistant":
        text = response_text(message["final"], message.get("content")) if "final" in message \
            else message.get("content")
        out: dict[str, Any] = {"role": "assistant", "content": [_text_block(text)] if text else []}
        if message.get("toolCalls"):
            out["toolCalls"] = [{"id": c["id"], "name": c["name"], "arguments": c["arguments"]}
                                for c in message["toolCalls"]]
        messages.append(out)
    elif role == "tool":
        entry = {"id": message.get("toolCallId"), "name": message.get("name"), "content": _content(
            message.get("content"))}
        if messages and messages[-1].get("role") == "tool_call_result":
            messages[-1]["results"].append(entry)
        else:
            messages.append({"role": "tool_call_result", "results": [entry]})


def _plain(blocks: Any) -> Any:
    """Camunda's content blocks as one value: their text joined, or the one object."""
    if not isinstance(blocks, list):
        return blocks
    texts = [b.get("text") for b in blocks if isinstance(b, dict) and b.get("type") == "text"]
    objects = [b.get("content") for b in blocks if isinstance(b, dict) and b.get("type") == "object"]
    if objects and not texts:
        return objects[0] if len(objects) == 1 else objects
    return "\n".join(t for t in texts if isinstance(t, str))


def from_camunda(messages: Any) -> list[dict[str, Any]]:
    """Camunda's conversation in our message shape; its system messages are left out (the new one leads)."""
    out: list[dict[str, Any]] = []
    for message in messages if isinstance(messages, list) else []:
        role = message.get("role") if isinstance(message, dict) else None
        if role == "user":
            documents = documents_of(message.get("content"))
            out.append({"role": "user", "content": _plain(message.get("content")),
                        **({"documents": documents} if documents else {})})
        elif role == "assistant":
            text = _plain(message.get("content")) or None
            calls = message.get("toolCalls")
            if calls:
                out.append({"role": "assistant", "content": text, "toolCalls": [
                    {"id": c.get("id"), "name": c.get("name"), "arguments": c.get("arguments") or {}}
                    for c in calls if isinstance(c, dict)]})
            else:
                out.append({"role": "assistant", "content": None, "final": text or ""})
        elif role == "tool_call_result":
            out.extend({"role": "tool", "toolCallId": r.get("id"), "name": r.get("name"),
                        "content": _plain(r.get("content"))}
                       for r in message.get("results") or [] if isinstance(r, dict))
    return out


# --- starting ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CamundaStart:
    """A Camunda agent's start: its model, first messages, model-call budget, and the context to begin with."""

    model: str
    messages: list[dict[str, Any]]
    max_model_calls: int  # left for this run: the limit counts the calls of earlier turns of the context
    context: dict[str, Any]


def _whole(value: Any, what: str) -> int:
    if value is None:
        return _DEFAULT_MAX_MODEL_CALLS
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0 or int(value) != value:
        raise ExpressionFailure(f"expected {what} to be a whole number of at least 0, but it was {value!r}")
    return int(value)


def start(step: Kernel, element: ElementInstance, node: AdHocSubProcess, tools: list[ToolDefinition]) -> CamundaStart:
    """Read the agent's input variables; raises ExpressionFailure (an incident) when they do not make an agent."""
    scope = step.scope(element.key)
    provider, data, previous = scope.get("provider"), scope.get("data"), scope.get(CONTEXT_VARIABLE)
    kind = nested(provider, "type")
    if kind not in PROVIDER_TYPES:
        raise ExpressionFailure(f"Camunda agent '{node.id}': provider.type must be one of "
                                f"{', '.join(PROVIDER_TYPES)}, not {kind!r}")
    system = nested(data, "systemPrompt", "prompt")
    if gateway_a2a.has_clients(step.process, node):  # Camunda's system prompt contributor for A2A tools
        system = "\n\n".join(p for p in (system if isinstance(system, str) else "", gateway_a2a.INSTRUCTIONS)
                               if p.strip())
    prompt = nested(data, "userPrompt", "prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise ExpressionFailure(f"Camunda agent '{node.id}': data.userPrompt.prompt must be a text that is not "
                                f"blank, but it was {prompt!r}")
    documents = checked_documents(nested(data, "userPrompt", "documents"), f"Camunda agent '{node.id}'")
    if previous is not None and not isinstance(previous, dict):
        raise ExpressionFailure(f"Camunda agent '{node.id}': agentContext must be a context (a previous "
                                f"agent.context) or null, not {type(previous).__name__}")
    earlier = nested(previous, "conversation", "messages") or []
    metrics = dict(nested(previous, "metrics") or {})
    used = metrics.get("modelCalls")
    used = used if isinstance(used, int) and not isinstance(used, bool) and used >= 0 else 0
    limit = _whole(nested(data, "limits", "maxModelCalls"), "data.limits.maxModelCalls")
    try:
        window_size(data)  # the window is applied at each model step (engine.agent.facade); checked here, at start
    except MemoryConfigError as exc:
        raise ExpressionFailure(f"Camunda agent '{node.id}': {exc}") from None
    messages: list[dict[str, Any]] = []
    if isinstance(system, str) and system.strip():
        messages.append({"role": "system", "content": system})
    messages.extend(from_camunda(earlier))
    messages.append({"role": "user", "content": prompt, **({"documents": documents} if documents else {})})
    camunda_messages: list[dict[str, Any]] = []
    for message in messages:
        to_camunda(message, camunda_messages)
    context = {
        **(copy.deepcopy(previous) if previous else {}),
        "schemaVersion": 1,
        "state": "READY",
        "metadata": {"processDefinitionKey": step.state.definition_key, "processInstanceKey": step.state.key},
        "metrics": {"modelCalls": used, "tokenUsage": metrics.get("tokenUsage") or
                    {"inputTokenCount": 0, "outputTokenCount": 0}, "toolCalls": metrics.get("toolCalls") or 0},
        "toolDefinitions": [{"name": t.name, "description": t.description, "inputSchema": t.input_schema}
                            for t in tools],
        "conversation": {"type": "in-process",
                         "conversationId": nested(previous, "conversation", "conversationId") or
                         f"{step.state.key}-{element.key}",
                         "messages": camunda_messages},
    }
    return CamundaStart(model=f"{MODEL_PREFIX}{kind}", messages=messages, max_model_calls=max(0, limit - used),
                        context=context)


def begin(step: Kernel, element: ElementInstance, context: dict[str, Any]) -> None:
    """Camunda's local variables of a started agent: its context, and no tool results yet."""
    step.set_variables(element.key, {CONTEXT_VARIABLE: context, RESULTS_VARIABLE: []}, local=True)


# --- while it runs ---------------------------------------------------------------------------------------


def mirror(step: Kernel, element: ElementInstance, messages: list[dict[str, Any]]) -> None:
    """Messages the loop adds to the conversation, added to ``agentContext`` in Camunda's shape too."""
    context = copy.deepcopy(step.state.variables.get(element.key, {}).get(CONTEXT_VARIABLE))
    if not isinstance(context, dict):
        return
    conversation = context.setdefault("conversation", {})
    kept = conversation.setdefault("messages", [])
    metrics = context.setdefault("metrics", {})
    values: dict[str, Any] = {}
    for message in messages:
        to_camunda(message, kept)
        if message.get("role") == "assistant":  # one per model call
            metrics["modelCalls"] = int(metrics.get("modelCalls") or 0) + 1
            calls = message.get("toolCalls") or []
            metrics["toolCalls"] = int(metrics.get("toolCalls") or 0) + len(calls)
            if calls:  # as Camunda's worker: the results of this turn's calls start a new list
                values[RESULTS_VARIABLE] = []
    values[CONTEXT_VARIABLE] = context
    step.set_variables(element.key, values, local=True)


def limit_message(step: Kernel, element: ElementInstance) -> str:
    """Camunda's message for ``LIMIT_ERROR``: the model calls over the whole context, and the limit."""
    context = step.state.variables.get(element.key, {}).get(CONTEXT_VARIABLE)
    limit = nested(step.scope(element.key).get("data"), "limits", "maxModelCalls")
    return (f"Maximum number of model calls reached (modelCalls: {nested(context, 'metrics', 'modelCalls') or 0}, "
            f"limit: {limit if limit is not None else _DEFAULT_MAX_MODEL_CALLS})")


# --- the result ------------------------------------------------------------------------------------------


class ResponseNotJson(Exception):
    """A final answer that data.response.format json asked for is not JSON (``PARSE_ERROR``)."""


def _parse_json(text: str) -> Any:
    stripped = text.strip()
    if stripped.startswith("```"):
        stripped = stripped.split("\n", 1)[1] if "\n" in stripped else ""
        stripped = stripped.rsplit("```", 1)[0]
    return json.loads(stripped)


def result(step: Kernel, element: ElementInstance, final: Any) -> dict[str, Any]:
    """Camunda's ``agent`` variable for a final answer; raises ResponseNotJson when format json is not met."""
    response = nested(step.scope(element.key).get("data"), "response")
    return respond(response, final, step.state.variables.get(element.key, {}).get(CONTEXT_VARIABLE))


def respond(response: Any, final: Any, context: Any) -> dict[str, Any]:
    """The answer's fields of ``agent`` under ``data.response`` (the task flavour, ``camunda_task``, shares it)."""
    kind = nested(response, "format", "type") or "text"
    agent: dict[str, Any] = {}
    text = response_text(final)
    if text:
        agent["responseText"] = text
    if final is not None and not isinstance(final, str):
        agent["responseJson"] = final
    elif text and (kind == "json" or nested(response, "format", "parseJson") is True):
        try:
            agent["responseJson"] = _parse_json(text)
        except (ValueError, IndexError):
            if kind == "json":
                raise ResponseNotJson(f"the model's final answer is not JSON, which data.response.format "
                                      f"json asks for: {text[:200]!r}") from None
    messages = nested(context, "conversation", "messages") or []
    if nested(response, "includeAssistantMessage") is True and messages and messages[-1].get("role") == "assistant":
        agent["responseMessage"] = messages[-1]
    if nested(response, "includeAgentContext") is True and context is not None:
        agent["context"] = context
    return agent
