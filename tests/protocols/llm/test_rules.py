"""``rules:PATH``: the first rule whose FEEL condition holds answers, with FEEL arguments, confidence and refusals."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from protocols.llm import ModelFileInvalid, NoRuleMatched, RuleFailed, RuleModel
from tests.protocols.llm.conversation import (
    DATA,
    SUPPORT_TOOLS,
    answered,
    converse,
    make_turn,
    refusal,
    start,
)

RULES = DATA / "support_rules.json"
ORDER = {"orderId": "A-17"}


def write(tmp_path: Path, rules: list[dict[str, Any]]) -> Path:
    path = tmp_path / "rules.json"
    path.write_text(json.dumps({"rules": rules}))
    return path


def shop(total: int, refund: Any = None) -> Any:
    """Tools that find a delivered order of ``total`` and refund it (or answer ``refund`` for refund calls)."""

    def run(call: dict[str, Any]) -> Any:
        if call["name"] == "lookup_order":
            return {"status": "delivered", "total": total}
        return refund if refund is not None else {"amount": call["arguments"]["amount"]}

    return run


def test_rules_drive_a_conversation_with_arguments_computed_in_feel() -> None:
    _, replies = converse(RuleModel.from_file(RULES), ORDER, SUPPORT_TOOLS, shop(40))

    lookup, refund, final = (reply.answer for reply in replies)
    assert lookup == {
        "toolCalls": [{"id": "call_0_0", "name": "lookup_order", "arguments": {"orderId": "A-17"}, "confidence": 0.9}],
        "content": "I need the order first.",
    }
    assert refund == {
        "toolCalls": [
            {
                "id": "call_1_0",
                "name": "refund",
                "arguments": {"orderId": "A-17", "amount": 40},
                "confidence": 0.9,
            }
        ],
        "content": "Refunding 40",
    }
    assert final == {"final": {"refunded": 40, "order": "A-17"}, "content": None}
    assert replies[0].usage["model"] == f"rules:{RULES}" and replies[0].usage["costUsd"] == 0


def test_confidence_can_be_computed_from_the_conversation() -> None:
    _, replies = converse(RuleModel.from_file(RULES), ORDER, SUPPORT_TOOLS, shop(250))
    assert replies[1].answer["toolCalls"][0]["confidence"] == 0.4


def test_a_refused_call_is_seen_under_refused_and_not_as_a_result() -> None:
    run = shop(40, refund=refusal("refunds over 100 need finance"))
    _, replies = converse(RuleModel.from_file(RULES), ORDER, SUPPORT_TOOLS, run)

    assert replies[-1].answer == {"final": "Refund refused: refunds over 100 need finance", "content": None}
    assert len(replies) == 3


def test_the_first_user_message_that_is_not_a_json_object_is_input_text(tmp_path: Path) -> None:
    path = write(tmp_path, [{"when": "input.text = \"hello\" and turn = 0", "final": "=input.text + \" back\""}])
    reply = RuleModel.from_file(path).complete(make_turn(start("hello"), SUPPORT_TOOLS))
    assert reply.answer["final"] == "hello back"


def test_the_feel_context_holds_calls_results_refusals_turn_and_tools(tmp_path: Path) -> None:
    path = write(tmp_path, [{"final": "={calls: calls, results: results, refused: refused, turn: turn, tools: tools}"}])
    first = [
        {"id": "a", "name": "lookup_order", "arguments": ORDER},
        {"id": "b", "name": "delete_account", "arguments": {}},
    ]
    messages = [
        *start(ORDER),
        {"role": "assistant", "content": None, "toolCalls": first},
        {"role": "tool", "toolCallId": "a", "name": "lookup_order", "content": {"total": 1}},
        {"role": "tool", "toolCallId": "b", "content": refusal("accounts are never deleted by agents")},  # no name
        {"role": "assistant", "content": None, "toolCalls": [{"id": "c", "name": "lookup_order", "arguments": ORDER}]},
        {"role": "tool", "toolCallId": "c", "name": "lookup_order", "content": {"total": 2}},
    ]
    final = RuleModel.from_file(path).complete(make_turn(messages, SUPPORT_TOOLS)).answer["final"]

    assert final == {
        "calls": {"lookup_order": 2, "refund": 0, "delete_account": 1, "ask_customer": 0},
        "results": {"lookup_order": {"total": 2}},
        "refused": {"delete_account": {"error": "accounts are never deleted by agents"}},
        "turn": 2,
        "tools": ["lookup_order", "refund", "delete_account", "ask_customer"],
    }


def test_literal_values_are_taken_as_they_are_and_when_may_carry_the_equals_marker(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        [{"when": "=true", "call": [{"name": "lookup_order", "arguments": {"orderId": 7, "tags": ["a"]}}],
          "content": "plain text"}],
    )
    answer = RuleModel.from_file(path).complete(make_turn(start("x"), SUPPORT_TOOLS)).answer
    assert answer == {
        "toolCalls": [{"id": "call_0_0", "name": "lookup_order", "arguments": {"orderId": 7, "tags": ["a"]},
                       "confidence": None}],
        "content": "plain text",
    }


def test_a_condition_that_is_null_does_not_match(tmp_path: Path) -> None:
    path = write(tmp_path, [{"when": "results.lookup_order.total > 10", "final": "big"}, {"final": "other"}])
    answer = RuleModel.from_file(path).complete(make_turn(start("x"), SUPPORT_TOOLS)).answer
    assert answer["final"] == "other"


def test_no_matching_rule_is_an_error_that_says_where_the_conversation_stands(tmp_path: Path) -> None:
    path = write(tmp_path, [{"when": "turn > 5", "final": "late"}])
    first = make_turn(start(ORDER), SUPPORT_TOOLS)
    messages = answered(first.messages, RuleModel.from_file(RULES).complete(first), lambda _: {"total": 1})
    with pytest.raises(NoRuleMatched, match=r"no rule applies at turn 1 \(calls so far: \{'lookup_order': 1\}"):
        RuleModel.from_file(path).complete(make_turn(messages, SUPPORT_TOOLS))


def test_a_feel_expression_that_fails_while_evaluating_names_its_rule(tmp_path: Path) -> None:
    path = write(tmp_path, [{"final": "=for i in 1..1000000000 return i"}])
    with pytest.raises(RuleFailed, match=r"rules\[0\]\.final"):
        RuleModel.from_file(path).complete(make_turn(start("x")))


def test_every_problem_of_a_rules_file_is_reported_before_the_first_step(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        [
            {"when": "calls.x = = 1", "final": "x"},
            {"call": [{"name": "a", "arguments": {"k": "=1 +"}, "confidence": "high"}]},
            {"call": [], "final": 1},
            {"when": 3, "call": [{"arguments": {}}], "content": 5},
        ],
    )
    with pytest.raises(ModelFileInvalid) as caught:
        RuleModel.from_file(path)

    problems = caught.value.problems
    assert [problem.split(":")[0] for problem in problems] == [
        "rules[0].when",
        "rules[1].call[0].arguments.k",
        "rules[1].call[0].confidence",
        "rules[2]",
        "rules[3].when",
        "rules[3].content",
        "rules[3].call[0].name",
    ]
    assert problems[0].startswith("rules[0].when: FEEL: ")


def test_a_file_without_rules_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "rules.json"
    path.write_text('{"rules": []}')
    with pytest.raises(ModelFileInvalid, match="at least one rule"):
        RuleModel.from_file(path)
