"""``offline``: each step calls the next uncalled tool whose required parameters the input fills, then summarises."""

from __future__ import annotations

from typing import Any

from protocols.llm import OfflinePlanner
from tests.protocols.llm.conversation import SUPPORT_TOOLS, converse, make_turn, refusal, start, tool


def results(call: dict[str, Any]) -> Any:
    if call["name"] == "delete_account":
        return refusal("accounts are never deleted by agents")
    return {"tool": call["name"], "got": call["arguments"]}


def test_the_planner_calls_each_fillable_tool_once_in_order_then_summarises() -> None:
    _, replies = converse(OfflinePlanner(), {"orderId": "A-17", "amount": 40}, SUPPORT_TOOLS, results)

    calls = [reply.answer["toolCalls"] for reply in replies[:-1]]
    assert calls == [
        [{"id": "call_0_0", "name": "lookup_order", "arguments": {"orderId": "A-17"}, "confidence": None}],
        [{"id": "call_1_0", "name": "refund", "arguments": {"orderId": "A-17", "amount": 40}, "confidence": None}],
        [{"id": "call_2_0", "name": "delete_account", "arguments": {}, "confidence": None}],
    ]
    assert replies[0].answer["content"] == "Calling lookup_order with orderId from the input."
    assert replies[-1].answer == {
        "final": {
            "summary": "Called lookup_order, refund. Refused: delete_account. "
            "Not called (input lacks their required parameters): ask_customer.",
            "results": {
                "lookup_order": {"tool": "lookup_order", "got": {"orderId": "A-17"}},
                "refund": {"tool": "refund", "got": {"orderId": "A-17", "amount": 40}},
            },
        },
        "content": None,
    }


def test_optional_parameters_found_in_the_input_are_passed_too() -> None:
    search = tool("search", ["query"], optional=["limit", "lang"])
    answer = OfflinePlanner().complete(make_turn(start({"query": "q", "limit": 3, "other": 1}), [search])).answer
    assert answer["toolCalls"][0]["arguments"] == {"query": "q", "limit": 3}


def test_a_plain_text_prompt_fills_a_parameter_named_text() -> None:
    summarize = tool("summarize", ["text"])
    answer = OfflinePlanner().complete(make_turn(start("Summarise this."), [summarize, *SUPPORT_TOOLS])).answer
    assert answer["toolCalls"][0] == {
        "id": "call_0_0", "name": "summarize", "arguments": {"text": "Summarise this."}, "confidence": None,
    }


def test_with_no_fillable_tool_the_first_answer_is_final() -> None:
    reply = OfflinePlanner().complete(make_turn(start({"unrelated": 1}), [tool("refund", ["orderId", "amount"])]))
    assert reply.answer["final"] == {
        "summary": "Called no tool. Not called (input lacks their required parameters): refund.",
        "results": {},
    }
    assert reply.usage["model"] == "offline" and reply.usage["costUsd"] == 0


def test_the_same_conversation_gets_the_same_answer() -> None:
    turn = make_turn(start({"orderId": "A-17"}), SUPPORT_TOOLS)
    assert OfflinePlanner().complete(turn).answer == OfflinePlanner().complete(turn).answer
