"""Building turns and playing the engine's side of the agent loop, for the model provider tests."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from engine.agent.turn import AgentTurn, ToolDefinition
from protocols.llm import ChatModel, ModelReply

DATA = Path(__file__).resolve().parents[2] / "data" / "llm"

ToolRunner = Callable[[dict[str, Any]], Any]  # a tool call -> its result content


def tool(
    name: str, required: Sequence[str] = (), optional: Sequence[str] = (), description: str = ""
) -> ToolDefinition:
    properties = {key: {"type": "string"} for key in [*required, *optional]}
    schema = {"type": "object", "properties": properties, "required": list(required), "additionalProperties": False}
    return ToolDefinition(name, description or f"The {name} tool.", schema)


SUPPORT_TOOLS = [
    tool("lookup_order", ["orderId"], description="Find an order by its number."),
    tool("refund", ["orderId", "amount"], description="Refund an amount of an order."),
    tool("delete_account"),
    tool("ask_customer", ["question"]),
]


def make_turn(
    messages: list[dict[str, Any]],
    tools: Sequence[ToolDefinition] = (),
    *,
    model: str = "offline",
    endpoint: str | None = None,
) -> AgentTurn:
    assistant = sum(1 for message in messages if message["role"] == "assistant")
    return AgentTurn(
        job=100 + len(messages),
        instance=1,
        element_id="Support",
        element_instance=2,
        model=model,
        model_endpoint=endpoint,
        messages=list(messages),
        tools=list(tools),
        model_calls=assistant,
    )


def start(prompt: Any, instructions: str = "You resolve customer requests.") -> list[dict[str, Any]]:
    text = prompt if isinstance(prompt, str) else json.dumps(prompt)
    return [{"role": "system", "content": instructions}, {"role": "user", "content": text}]


def answered(messages: list[dict[str, Any]], reply: ModelReply, run: ToolRunner) -> list[dict[str, Any]]:
    """The conversation after the engine records ``reply`` and runs its tool calls with ``run``."""
    answer = reply.answer
    if "final" in answer:
        return [*messages, {"role": "assistant", "content": answer.get("content"), "final": answer["final"]}]
    calls = [{"id": c["id"], "name": c["name"], "arguments": c["arguments"]} for c in answer["toolCalls"]]
    results = [{"role": "tool", "toolCallId": c["id"], "name": c["name"], "content": run(c)} for c in calls]
    return [*messages, {"role": "assistant", "content": answer.get("content"), "toolCalls": calls}, *results]


def converse(
    model: ChatModel,
    prompt: Any,
    tools: Sequence[ToolDefinition],
    run: ToolRunner,
    *,
    max_steps: int = 10,
) -> tuple[list[dict[str, Any]], list[ModelReply]]:
    """Run the loop until the model's final answer; returns the conversation and every reply."""
    messages, replies = start(prompt), []
    for _ in range(max_steps):
        reply = model.complete(make_turn(messages, tools))
        replies.append(reply)
        messages = answered(messages, reply, run)
        if "final" in reply.answer:
            return messages, replies
    raise AssertionError(f"no final answer within {max_steps} steps")


def refusal(reason: str) -> dict[str, Any]:
    """A tool result as the engine sends it for a call that a policy denied."""
    return {"error": reason}
