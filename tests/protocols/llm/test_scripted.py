"""``scripted:PATH``: replaying a list of answers, chosen by the conversation so that retries replay the same turn."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from protocols.llm import ModelFileInvalid, ScriptedModel, ScriptExhausted
from tests.protocols.llm.conversation import DATA, SUPPORT_TOOLS, answered, converse, make_turn, start

REPO = Path(__file__).resolve().parents[3]
SCRIPT = DATA / "support_turns.json"


def write(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "turns.json"
    path.write_text(json.dumps(data))
    return path


def ticking() -> Any:
    """A timer that moves 5 ms per reading, so latency is known without sleeping."""
    ticks = iter(range(1000))
    return lambda: next(ticks) * 0.005


def test_a_script_is_replayed_turn_by_turn_until_its_final_answer() -> None:
    model = ScriptedModel.from_file(SCRIPT, timer=ticking())
    messages, replies = converse(model, "Refund order A-17", SUPPORT_TOOLS, lambda call: {"ok": call["name"]})

    assert [reply.answer for reply in replies] == [
        {
            "toolCalls": [
                {"id": "call_0_0", "name": "lookup_order", "arguments": {"orderId": "A-17"}, "confidence": 0.95}
            ],
            "content": "I need the order before I can refund it.",
        },
        {
            "toolCalls": [
                {"id": "refund-1", "name": "refund", "arguments": {"orderId": "A-17", "amount": 40}, "confidence": 0.8},
                {"id": "call_1_1", "name": "ask_customer", "arguments": {"question": "Anything else?"},
                 "confidence": None},
            ],
            "content": None,
        },
        {"final": {"refunded": 40, "orderId": "A-17"}, "content": "Done."},
    ]
    assert messages[-1] == {"role": "assistant", "content": "Done.", "final": {"refunded": 40, "orderId": "A-17"}}


def test_usage_estimates_tokens_from_characters_with_no_cost_and_the_measured_latency() -> None:
    model = ScriptedModel.from_file(SCRIPT, timer=ticking())
    turn = make_turn(start("Refund order A-17"), SUPPORT_TOOLS)
    usage = model.complete(turn).usage

    assert usage["model"] == f"scripted:{SCRIPT}"
    assert usage["costUsd"] == 0
    assert usage["latencyMs"] == 5
    assert usage["inputTokens"] > 0 and usage["outputTokens"] > 0
    assert model.complete(turn).usage["inputTokens"] == usage["inputTokens"]  # same turn, same estimate


def test_the_turn_is_chosen_by_the_conversation_not_by_how_often_the_model_was_asked() -> None:
    model = ScriptedModel.from_file(SCRIPT)
    first = make_turn(start("Refund order A-17"), SUPPORT_TOOLS)
    replies = [model.complete(first) for _ in range(3)]  # a step that crashed twice and is retried

    assert [reply.answer for reply in replies] == [replies[0].answer] * 3
    second = make_turn(answered(first.messages, replies[0], lambda _: {"total": 40}), SUPPORT_TOOLS)
    assert model.complete(second).answer["toolCalls"][0]["name"] == "refund"
    assert model.complete(first).answer == replies[0].answer  # asking for an earlier step again replays it


def test_a_retried_step_in_a_fresh_process_replays_the_same_answer() -> None:
    model = ScriptedModel.from_file(SCRIPT)
    first = make_turn(start("Refund order A-17"), SUPPORT_TOOLS)
    messages = answered(first.messages, model.complete(first), lambda _: {"total": 40})
    expected = model.complete(make_turn(messages, SUPPORT_TOOLS)).answer

    child = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from protocols.llm import ScriptedModel\n"
        "from tests.protocols.llm.conversation import SUPPORT_TOOLS, make_turn\n"
        "messages = json.load(sys.stdin)\n"
        "reply = ScriptedModel.from_file(Path(sys.argv[1])).complete(make_turn(messages, SUPPORT_TOOLS))\n"
        "print(json.dumps(reply.answer))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", child, str(SCRIPT)],
        input=json.dumps(messages),
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        check=True,
    )
    assert json.loads(done.stdout) == expected


def test_asking_past_the_last_turn_says_how_many_turns_the_script_has() -> None:
    model = ScriptedModel.from_file(SCRIPT)
    messages = start("Refund order A-17")
    for _ in range(3):
        messages = answered(messages, model.complete(make_turn(messages, SUPPORT_TOOLS)), lambda _: {})

    with pytest.raises(ScriptExhausted, match=r"has 3 turn\(s\) and the conversation asks for turn 4"):
        model.complete(make_turn(messages, SUPPORT_TOOLS))


def test_arguments_that_are_not_json_can_be_scripted_as_a_string(tmp_path: Path) -> None:
    path = write(tmp_path, [{"tool_calls": [{"name": "refund", "arguments": "{orderId: A-17"}]}])
    answer = ScriptedModel.from_file(path).complete(make_turn(start("x"), SUPPORT_TOOLS)).answer

    assert answer["toolCalls"][0]["arguments"] == "{orderId: A-17"


def test_changing_an_answer_does_not_change_the_script(tmp_path: Path) -> None:
    model = ScriptedModel.from_file(write(tmp_path, [{"final": {"items": [1]}}]))
    turn = make_turn(start("x"))
    model.complete(turn).answer["final"]["items"].append(2)
    assert model.complete(turn).answer["final"] == {"items": [1]}


def test_a_null_final_answer_is_still_a_final_answer(tmp_path: Path) -> None:
    path = write(tmp_path, [{"final": None}])
    assert ScriptedModel.from_file(path).complete(make_turn(start("x"))).answer == {"final": None, "content": None}


def test_every_problem_of_a_malformed_script_is_reported_with_where_it_is(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        [
            {"tool_calls": [{"name": "", "arguments": [1], "confidence": "high"}]},
            {"final": 1, "tool_calls": []},
            {"content": 3, "final": "x", "extra": True},
            "nope",
            {"tool_calls": []},
        ],
    )
    with pytest.raises(ModelFileInvalid) as caught:
        ScriptedModel.from_file(path)

    assert caught.value.problems == (
        "[0].tool_calls[0].name: must be a non-empty string",
        "[0].tool_calls[0].arguments: must be an object (or a string, to send arguments that are not JSON)",
        "[0].tool_calls[0].confidence: must be a number",
        '[1]: needs exactly one of "tool_calls" and "final"',
        "[2]: unknown key(s) ['extra']",
        "[2].content: must be a string",
        '[3]: a turn must be an object with "tool_calls" or "final"',
        "[4].tool_calls: must be a non-empty list of calls",
    )
    assert str(path) in str(caught.value)


def test_a_script_that_is_not_json_is_reported_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "turns.json"
    path.write_text('[\n  {"final": 1},\n  {"final": }\n]')
    with pytest.raises(ModelFileInvalid, match=r"line 3, column 13: not JSON: Expecting value"):
        ScriptedModel.from_file(path)


def test_a_missing_script_is_reported_as_not_found(tmp_path: Path) -> None:
    with pytest.raises(ModelFileInvalid, match="file: not found"):
        ScriptedModel.from_file(tmp_path / "absent.json")
