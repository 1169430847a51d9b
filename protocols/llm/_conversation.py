"""What the offline models read from a turn: facts derived from the messages alone, never from memory.

Everything here is a function of ``turn.messages`` and ``turn.tools``, so a
model step that is retried after a crash, in a fresh process, sees exactly the
same facts and gives the same answer.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from engine.agent.turn import AgentTurn
from protocols.llm.reply import ModelReply, estimate_tokens, make_usage

Timer = Callable[[], float]  # seconds from any fixed point, e.g. time.perf_counter


@dataclass(frozen=True, slots=True)
class Conversation:
    """The conversation so far, as the offline models see it (also the FEEL context of rules)."""

    input: dict[str, Any]  # the first user message: its JSON object, else {"text": message}
    results: dict[str, Any]  # tool name -> content of its latest result that was not a refusal
    calls: dict[str, int]  # tool name -> calls the model made so far (every available tool is listed)
    refused: dict[str, Any]  # tool name -> content of its latest refusal (a result object with "error")
    turn: int  # assistant messages so far: 0 at the first model step
    tools: tuple[str, ...]  # the available tools' names, in the turn's order

    @classmethod
    def of(cls, turn: AgentTurn) -> Conversation:
        tools = tuple(tool.name for tool in turn.tools)
        calls = dict.fromkeys(tools, 0)
        call_names: dict[str, str] = {}  # tool call id -> tool name, for tool messages that carry no name
        results: dict[str, Any] = {}
        refused: dict[str, Any] = {}
        assistant_messages = 0
        first_user: Any = None
        for message in turn.messages:
            role = message.get("role")
            if role == "user" and first_user is None:
                first_user = message.get("content")
            elif role == "assistant":
                assistant_messages += 1
                for call in message.get("toolCalls") or ():
                    name = str(call.get("name"))
                    calls[name] = calls.get(name, 0) + 1
                    call_names[str(call.get("id"))] = name
            elif role == "tool":
                name = message.get("name") or call_names.get(str(message.get("toolCallId")), "")
                content = message.get("content")
                if is_refusal(content):
                    refused[name] = content
                else:
                    results[name] = content
        return cls(_input(first_user), results, calls, refused, assistant_messages, tools)

    def variables(self) -> dict[str, Any]:
        """The FEEL context: ``input``, ``results``, ``calls``, ``refused``, ``turn`` and ``tools``."""
        return {
            "input": self.input,
            "results": self.results,
            "calls": self.calls,
            "refused": self.refused,
            "turn": self.turn,
            "tools": list(self.tools),
        }


def is_refusal(content: Any) -> bool:
    """Whether a tool result says the call was refused: the engine sends those as an object with ``error``."""
    return isinstance(content, dict) and "error" in content


def _input(message: Any) -> dict[str, Any]:
    if message is None:
        return {}
    if isinstance(message, dict):
        return message
    text = message if isinstance(message, str) else json.dumps(message)
    try:
        parsed = json.loads(text)
    except ValueError:
        return {"text": text}
    return parsed if isinstance(parsed, dict) else {"text": text}


def offline_reply(model: str, turn: AgentTurn, answer: dict[str, Any], started: float, timer: Timer) -> ModelReply:
    """The reply of an offline model: estimated tokens, no cost, the measured latency."""
    tools = [[tool.name, tool.description, tool.input_schema] for tool in turn.tools]
    input_tokens = estimate_tokens([turn.messages, tools])
    latency_ms = max(0, round((timer() - started) * 1000))
    return ModelReply(answer, make_usage(model, input_tokens, estimate_tokens(answer), 0, latency_ms))


def call_id(turn: int, index: int) -> str:
    """A tool call id that is the same whenever the same step is answered again."""
    return f"call_{turn}_{index}"
