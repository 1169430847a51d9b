"""What every model provider offers (``ChatModel``) and what it gives back (``ModelReply``)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Protocol

from engine.agent.turn import AgentTurn

__all__ = ["ChatModel", "ModelReply", "estimate_tokens", "final_answer", "make_usage", "tool_calls_answer"]


class ChatModel(Protocol):
    """Turns the conversation so far into the model's next step.

    ``complete`` may block (a provider call); it raises a ``ModelError`` when
    no answer can be had. It must not depend on earlier calls made on the same
    object: a retried step, possibly in another process, sees the same turn
    and should get the same kind of answer.
    """

    def complete(self, turn: AgentTurn) -> ModelReply: ...


@dataclass(frozen=True, slots=True)
class ModelReply:
    """One model step's outcome: the answer (the format of ``engine.agent.turn``) and what it cost."""

    answer: dict[str, Any]
    usage: dict[str, Any]  # {"model", "inputTokens", "outputTokens", "costUsd", "latencyMs"}

    def to_variables(self) -> dict[str, Any]:
        """The model job's result variables."""
        return {"answer": self.answer, "usage": self.usage}


def tool_calls_answer(calls: list[dict[str, Any]], content: str | None = None) -> dict[str, Any]:
    """An answer that calls tools; each call is ``{"id", "name", "arguments", "confidence"}``."""
    return {"toolCalls": calls, "content": content}


def final_answer(final: Any, content: str | None = None) -> dict[str, Any]:
    """An answer that ends the agent's run with ``final`` (any JSON)."""
    return {"final": final, "content": content}


def make_usage(model: str, input_tokens: int, output_tokens: int, cost_usd: float, latency_ms: int) -> dict[str, Any]:
    return {
        "model": model,
        "inputTokens": input_tokens,
        "outputTokens": output_tokens,
        "costUsd": cost_usd,
        "latencyMs": latency_ms,
    }


def estimate_tokens(value: Any) -> int:
    """A deterministic token count for offline models: a quarter of the characters of ``value`` as JSON.

    Real tokenizers differ by model; offline models only need a number that
    is stable across runs, so that token budgets behave the same every time.
    """
    # Not engine.canonical: this counts characters, not identity, so non-ASCII text stays unescaped (an
    # escape would count six) and any value is measured rather than refused.
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return math.ceil(len(text) / 4)
