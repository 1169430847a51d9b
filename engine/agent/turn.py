"""What a model step sees and what it must answer: the contract between the engine and model providers.

The engine owns the agent loop; a model provider (``protocols.llm``) only
turns an :class:`AgentTurn` into an answer. The answer goes back as the
variables of the model job (``{"answer": ..., "usage": ...}``), and the engine
checks every part of it before anything acts on it.

Conversation messages are plain JSON, one of::

    {"role": "system", "content": str}
    {"role": "user", "content": str}
    {"role": "assistant", "content": str | None,
     "toolCalls": [{"id": str, "name": str, "arguments": {...}}]}   # toolCalls only when it called tools
    {"role": "assistant", "content": str | None, "final": <any JSON>}  # the final answer
    {"role": "tool", "toolCallId": str, "name": str, "content": <any JSON>}

An answer is ``{"toolCalls": [{"id": str | None, "name": str, "arguments": {...} | str,
"confidence": number | None}], "content": str | None}`` or ``{"final": <any JSON>,
"content": str | None}``. Usage is ``{"model": str, "inputTokens": int,
"outputTokens": int, "costUsd": number, "latencyMs": int}`` (missing numbers count as 0), plus
``"stopReason": str`` where the provider says why it stopped (kept in the journal).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["MODEL_JOB_TYPE", "AgentTurn", "ToolDefinition"]

MODEL_JOB_TYPE = "agenthub.model"  # the job type of model steps; the hub registers its handler


@dataclass(frozen=True, slots=True)
class ToolDefinition:
    """One tool the model may call: an inner activity of the agent's ad-hoc subprocess."""

    name: str  # the element id, matched exactly
    description: str
    input_schema: dict[str, Any]  # JSON Schema of the arguments (type object, additionalProperties false)


@dataclass(frozen=True, slots=True)
class AgentTurn:
    """Everything a model step needs: which model, the conversation so far and the tools."""

    job: int
    instance: int
    element_id: str
    element_instance: int
    model: str  # e.g. "openai/gpt-4o-mini", "ollama/llama3", "scripted:/path/turns.json", "offline"
    model_endpoint: str | None  # an OpenAI-compatible base URL, for litellm's api_base
    messages: list[dict[str, Any]]  # the whole conversation, oldest first (system and user prompt included)
    tools: list[ToolDefinition] = field(default_factory=list)
    model_calls: int = 0  # model calls already made by this agent run
    # the deployment of the agent's process: a "scripted:NAME"/"rules:NAME" model file deployed with it is found there
    deployment: int | None = None
    # a Camunda AI Agent's provider configuration (its ``provider`` variable, secrets as {{secrets.NAME}}):
    # protocols.llm.camunda_providers maps it to the model to call (engine.agent.camunda)
    provider: dict[str, Any] | None = None
    max_tokens: int | None = None  # what is left of the agent's token budget (maxTokens), None without one
