"""Our conversation and tools in OpenAI's chat format, and a reply's message back into an answer."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from protocols.llm._openai_format import answer_from, openai_messages, openai_tools
from tests.protocols.llm.conversation import tool


def message(content: str | None, *calls: tuple[str | None, str, Any]) -> Any:
    """A reply's message as litellm returns it: attributes, with arguments as JSON text."""
    tool_calls = [
        SimpleNamespace(id=call_id, type="function", function=SimpleNamespace(name=name, arguments=arguments))
        for call_id, name, arguments in calls
    ]
    return SimpleNamespace(content=content, tool_calls=tool_calls or None)


def test_messages_map_to_openai_roles_with_json_text_for_arguments_and_results() -> None:
    ours: list[dict[str, Any]] = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Refund A-17"},
        {"role": "assistant", "content": "Looking.", "toolCalls": [
            {"id": "c1", "name": "lookup_order", "arguments": {"orderId": "A-17"}},
            {"id": "c2", "name": "refund", "arguments": "{broken"},
        ]},
        {"role": "tool", "toolCallId": "c1", "name": "lookup_order", "content": {"total": 40, "note": "é"}},
        {"role": "tool", "toolCallId": "c2", "name": "refund", "content": "plain text result"},
        {"role": "assistant", "content": None, "final": {"refunded": 40}},
        {"role": "assistant", "content": "All done.", "final": "All done."},
    ]
    assert openai_messages(ours) == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Refund A-17"},
        {"role": "assistant", "content": "Looking.", "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "lookup_order", "arguments": '{"orderId": "A-17"}'}},
            {"id": "c2", "type": "function", "function": {"name": "refund", "arguments": "{broken"}},
        ]},
        {"role": "tool", "tool_call_id": "c1", "content": '{"total": 40, "note": "é"}'},
        {"role": "tool", "tool_call_id": "c2", "content": "plain text result"},
        {"role": "assistant", "content": '{"refunded": 40}'},
        {"role": "assistant", "content": "All done."},
    ]


def test_tools_carry_their_schema_plus_an_optional_confidence_parameter() -> None:
    lookup = tool("lookup_order", ["orderId"], description="Find an order.")
    [mapped] = openai_tools([lookup])

    assert mapped["type"] == "function"
    function = mapped["function"]
    assert function["name"] == "lookup_order" and function["description"] == "Find an order."
    parameters = function["parameters"]
    assert parameters["required"] == ["orderId"]
    assert parameters["additionalProperties"] is False
    assert parameters["properties"]["orderId"] == {"type": "string"}
    assert parameters["properties"]["_confidence"]["type"] == "number"
    assert "how sure you are, 0 to 1" in parameters["properties"]["_confidence"]["description"].lower()
    assert "_confidence" not in lookup.input_schema["properties"]  # the tool's own schema is left as it was


def test_confidence_is_taken_out_of_the_arguments_and_kept_between_0_and_1() -> None:
    answer = answer_from(message(
        "Let me check.",
        ("c1", "lookup_order", '{"orderId": "A-17", "_confidence": 0.7}'),
        ("c2", "refund", '{"orderId": "A-17", "_confidence": 3}'),
        ("c3", "ask_customer", '{"question": "?", "_confidence": "very"}'),
    ))
    assert answer == {
        "toolCalls": [
            {"id": "c1", "name": "lookup_order", "arguments": {"orderId": "A-17"}, "confidence": 0.7},
            {"id": "c2", "name": "refund", "arguments": {"orderId": "A-17"}, "confidence": 1.0},
            {"id": "c3", "name": "ask_customer", "arguments": {"question": "?"}, "confidence": None},
        ],
        "content": "Let me check.",
    }


def test_arguments_that_are_not_a_json_object_are_passed_on_as_text() -> None:
    answer = answer_from(message(None, ("c1", "a", "{orderId: 1"), ("c2", "b", "[1, 2]"), ("c3", "c", "  ")))
    assert [call["arguments"] for call in answer["toolCalls"]] == ["{orderId: 1", "[1, 2]", {}]
    assert answer["content"] is None


def test_a_reply_without_tool_calls_is_the_final_answer() -> None:
    assert answer_from(message("The refund is done.")) == {"final": "The refund is done.", "content": None}
    assert answer_from(message(None)) == {"final": "", "content": None}
