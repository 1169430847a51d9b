"""``mcp:sampling`` without a session: the model string, the turn as a createMessage request, the answer back,
and the table of waiting calls (a model step claimed before its call registered waits for it)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from mcp_types import (
    CreateMessageResult,
    CreateMessageResultWithTools,
    TextContent,
    ToolResultContent,
    ToolUseContent,
)

from engine.agent.turn import AgentTurn, ToolDefinition
from protocols.llm import UnknownModel
from protocols.mcp._sampling_format import answer_of, sampling_request
from protocols.mcp.sampling import SamplingCaller, SamplingCallers, SamplingModel, sampling_model


def _turn(messages: list[dict[str, Any]], **fields: Any) -> AgentTurn:
    return AgentTurn(
        job=1,
        instance=7,
        element_id="agent",
        element_instance=2,
        model="mcp:sampling",
        model_endpoint=None,
        messages=messages,
        **fields,
    )


CONVERSATION = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Where is order 7?"},
    {"role": "assistant", "content": None, "toolCalls": [{"id": "c1", "name": "status", "arguments": {"o": 7}}]},
    {"role": "tool", "toolCallId": "c1", "name": "status", "content": {"state": "shipped"}},
]


def test_the_model_string_takes_hints_and_refuses_anything_else() -> None:
    model = sampling_model("sampling?hint=claude&hint=gpt")
    assert isinstance(model, SamplingModel) and model.hints == ("claude", "gpt")
    with pytest.raises(UnknownModel, match="the one MCP model is 'mcp:sampling'"):
        sampling_model("other")
    with pytest.raises(UnknownModel, match="unknown option"):
        sampling_model("sampling?temperature=1")


def test_with_tools_the_conversation_pairs_tool_use_and_tool_result_blocks() -> None:
    tools = [ToolDefinition("status", "Order status", {"type": "object", "properties": {}})]
    params = sampling_request(
        _turn(CONVERSATION, tools=tools, max_tokens=300), tools=True, hints=("x",), default_max_tokens=4096
    )
    assert params.system_prompt == "Be brief." and params.max_tokens == 300
    assert [t.name for t in params.tools or []] == ["status"]
    user, call, result = params.messages
    assert (user.role, call.role, result.role) == ("user", "assistant", "user")
    assert isinstance(call.content, list) and call.content[0] == ToolUseContent(id="c1", name="status", input={"o": 7})
    assert isinstance(result.content, list) and isinstance(result.content[0], ToolResultContent)
    assert result.content[0].content == [TextContent(text='{"state": "shipped"}')]


def test_without_tools_the_request_asks_for_text_and_tells_earlier_calls_as_text() -> None:
    params = sampling_request(_turn(CONVERSATION), tools=False, hints=(), default_max_tokens=4096)
    assert params.tools is None and params.max_tokens == 4096 and params.model_preferences is None
    texts = [
        b.text
        for m in params.messages
        for b in (m.content if isinstance(m.content, list) else [m.content])
        if isinstance(b, TextContent)
    ]
    assert texts == [
        "Where is order 7?",
        'I call the tool status with {"o": 7}.',
        'The tool status answered: {"state": "shipped"}',
    ]


def test_a_tool_use_answer_becomes_tool_calls_and_text_a_final_answer() -> None:
    use = CreateMessageResultWithTools(
        role="assistant",
        model="m",
        content=[TextContent(text="Let me look."), ToolUseContent(id="u1", name="status", input={"o": 7})],
    )
    text = CreateMessageResult(role="assistant", model="m", content=TextContent(text="Shipped."))
    assert answer_of(use) == {
        "toolCalls": [{"id": "u1", "name": "status", "arguments": {"o": 7}, "confidence": None}],
        "content": "Let me look.",
    }
    assert answer_of(text) == {"final": "Shipped.", "content": None}


def test_a_model_step_claimed_between_a_calls_start_and_its_binding_waits_for_the_binding() -> None:
    callers = SamplingCallers()
    nothing: Any = None  # no session is asked here
    caller = SamplingCaller(session=nothing, request_id=1, loop=nothing, can_sample=False, tools=False, deadline=0.0)
    found: list[SamplingCaller | None] = []
    with callers.opening() as pending:
        looking = threading.Thread(target=lambda: found.append(callers.find(7)))
        looking.start()
        pending.bind(7, caller)
        looking.join(timeout=10)
    assert found == [caller]
    assert callers.find(7) is None  # the call has answered: nothing to ask any more
