"""A model call as a span with OpenTelemetry's GenAI conventions, and the model tokens and cost as metrics.

    reply = complete(model, turn)   # instead of model.complete(turn)

The span (``chat {model}``, kind client) carries ``gen_ai.operation.name``,
``gen_ai.provider.name`` (and the older ``gen_ai.system``),
``gen_ai.request.model``, ``gen_ai.response.model``,
``gen_ai.usage.input_tokens``, ``gen_ai.usage.output_tokens`` and
``agenthub.model.cost_usd``; the counters ``agenthub.model.tokens`` (by
``gen_ai.token.type``) and ``agenthub.model.cost`` are kept by model. Neither
prompt nor answer text goes into telemetry: the journal keeps those, under the
hub's access rules.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from opentelemetry.trace import SpanKind

from engine import telemetry
from engine.agent.turn import AgentTurn
from protocols.llm.reply import ChatModel, ModelReply

__all__ = ["complete", "provider_of"]


def provider_of(model: str) -> str:
    """The GenAI provider name of a model string: ``openai/gpt-4o`` -> openai, ``scripted:turns.json`` -> scripted."""
    for separator in (":", "/"):
        if separator in model:
            return model.split(separator, 1)[0] or "unknown"
    return model if model in ("offline", "rules", "scripted") else "litellm"


def complete(model: ChatModel, turn: AgentTurn) -> ModelReply:
    """``model.complete(turn)`` in a GenAI span, counting its tokens and cost."""
    name = turn.model or "unknown"
    provider = provider_of(name)
    attributes: dict[str, Any] = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": provider,
        "gen_ai.system": provider,
        "gen_ai.request.model": name,
        "agenthub.instance.key": turn.instance,
        "agenthub.element.id": turn.element_id,
        "agenthub.model.call": turn.model_calls + 1,
    }
    with telemetry.span(f"chat {name}", kind=SpanKind.CLIENT, attributes=attributes) as span:
        reply = model.complete(turn)
        usage = reply.usage
        tokens_in, tokens_out = _count(usage.get("inputTokens")), _count(usage.get("outputTokens"))
        cost = _cost(usage.get("costUsd"))
        answered = usage.get("model") if isinstance(usage.get("model"), str) and usage.get("model") else name
        span.set_attributes(
            {
                "gen_ai.response.model": answered,
                "gen_ai.usage.input_tokens": tokens_in,
                "gen_ai.usage.output_tokens": tokens_out,
                "agenthub.model.cost_usd": cost,
            }
        )
    meters = telemetry.instruments()
    by_model = {"gen_ai.request.model": name, "gen_ai.provider.name": provider}
    meters.model_tokens.add(tokens_in, {**by_model, "gen_ai.token.type": "input"})
    meters.model_tokens.add(tokens_out, {**by_model, "gen_ai.token.type": "output"})
    if cost:
        meters.model_cost.add(cost, by_model)
    return reply


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _cost(value: Any) -> float:
    try:
        cost = float(Decimal(str(value or 0)))
    except (InvalidOperation, ValueError):
        return 0.0
    return cost if cost > 0 else 0.0
