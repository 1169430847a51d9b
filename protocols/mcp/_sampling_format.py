"""An agent's turn as a ``sampling/createMessage`` request, and the client's answer back as the agent's answer.

Pure data in, data out (tested without a session):

- system messages become ``systemPrompt`` (joined by blank lines); user and
  assistant messages keep their role; MCP has no system or tool role;
- with tools (the client declared ``sampling.tools``): the agent's tools go
  as MCP ``Tool``s, an assistant's tool calls as ``tool_use`` blocks and the
  tool results that follow as one user message of ``tool_result`` blocks, as
  SEP-1577 pairs them;
- without: the request asks for text only; tool calls and results already in
  the conversation (an agent that ran on another model before) are told as
  text, so the model still knows what happened;
- ``maxTokens``: what is left of the agent's token budget, else a default.

Back: ``tool_use`` blocks become tool calls (``arguments`` the block's
``input``); otherwise the text blocks, joined, are the final answer.
"""

from __future__ import annotations

import json
from typing import Any

from mcp_types import (
    CreateMessageRequestParams,
    CreateMessageResult,
    CreateMessageResultWithTools,
    ModelHint,
    ModelPreferences,
    SamplingContent,
    SamplingMessage,
    SamplingMessageContentBlock,
    TextContent,
    Tool,
    ToolResultContent,
    ToolUseContent,
)

from engine.agent.turn import AgentTurn
from protocols.llm.reply import final_answer, tool_calls_answer

__all__ = ["answer_of", "sampling_request"]


def sampling_request(
    turn: AgentTurn, *, tools: bool, hints: tuple[str, ...], default_max_tokens: int
) -> CreateMessageRequestParams:
    """The ``sampling/createMessage`` parameters for ``turn``; ``tools``: the client takes tools."""
    system = [_text(m.get("content")) for m in turn.messages if m.get("role") == "system"]
    messages = _messages(turn.messages, tools=tools)
    if not messages:  # MCP asks for at least one message: an agent with instructions only still gets asked
        messages = [SamplingMessage(role="user", content=TextContent(text="Begin."))]
    offered = [Tool(name=t.name, description=t.description, input_schema=t.input_schema) for t in turn.tools]
    return CreateMessageRequestParams(
        messages=messages,
        system_prompt="\n\n".join(s for s in system if s) or None,
        max_tokens=turn.max_tokens if turn.max_tokens is not None else default_max_tokens,
        model_preferences=ModelPreferences(hints=[ModelHint(name=h) for h in hints]) if hints else None,
        tools=offered if tools and offered else None,
    )


def answer_of(result: CreateMessageResult | CreateMessageResultWithTools) -> dict[str, Any]:
    """The agent's answer in the client's reply: its tool calls, else its text as the final answer."""
    blocks = result.content if isinstance(result.content, list) else [result.content]
    text = "\n".join(b.text for b in blocks if isinstance(b, TextContent)) or None
    calls = [
        {"id": b.id, "name": b.name, "arguments": dict(b.input), "confidence": None}
        for b in blocks
        if isinstance(b, ToolUseContent)
    ]
    if calls:
        return tool_calls_answer(calls, text)
    return final_answer(text or "")


def _messages(conversation: list[dict[str, Any]], *, tools: bool) -> list[SamplingMessage]:
    out: list[SamplingMessage] = []
    results: list[SamplingMessageContentBlock] = []  # tool results since the last assistant message
    for message in conversation:
        role = message.get("role")
        if role == "tool":
            results.append(_result(message, tools=tools))
            continue
        if results:
            out.append(SamplingMessage(role="user", content=results))
            results = []
        if role == "user":
            out.append(SamplingMessage(role="user", content=TextContent(text=_text(message.get("content")))))
        elif role == "assistant":
            out.append(SamplingMessage(role="assistant", content=_assistant(message, tools=tools)))
    if results:
        out.append(SamplingMessage(role="user", content=results))
    return out


def _assistant(message: dict[str, Any], *, tools: bool) -> SamplingContent | list[SamplingMessageContentBlock]:
    said = message["final"] if "final" in message else message.get("content")
    calls = message.get("toolCalls") or []
    if not calls:
        return TextContent(text=_text(said))
    blocks: list[SamplingMessageContentBlock] = [TextContent(text=_text(said))] if said else []
    for call in calls:
        arguments = call.get("arguments")
        if tools:
            given = arguments if isinstance(arguments, dict) else {"value": arguments}
            blocks.append(ToolUseContent(id=str(call.get("id")), name=str(call.get("name")), input=given))
        else:
            blocks.append(TextContent(text=f"I call the tool {call.get('name')} with {_text(arguments)}."))
    return blocks


def _result(message: dict[str, Any], *, tools: bool) -> SamplingMessageContentBlock:
    content = _text(message.get("content"))
    if tools:
        return ToolResultContent(tool_use_id=str(message.get("toolCallId")), content=[TextContent(text=content)])
    return TextContent(text=f"The tool {message.get('name')} answered: {content}")


def _text(content: Any) -> str:
    if content is None:
        return ""
    return content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
