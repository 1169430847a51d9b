"""Camunda's memory window: the last N messages as Camunda counts them, the system message kept, calls with results."""

from __future__ import annotations

from typing import Any

import pytest

from engine.agent.camunda_memory import MemoryConfigError, window, window_size

SYSTEM = {"role": "system", "content": "be brief"}


def _user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": text}


def _calls(*ids: str) -> dict[str, Any]:
    return {"role": "assistant", "content": None, "toolCalls": [{"id": i, "name": "Add", "arguments": {}} for i in ids]}


def _result(call_id: str) -> dict[str, Any]:
    return {"role": "tool", "toolCallId": call_id, "name": "Add", "content": 1}


def _final(text: str) -> dict[str, Any]:
    return {"role": "assistant", "content": None, "final": text}


CONVERSATION = [SYSTEM, _user("q1"), _calls("a", "b"), _result("a"), _result("b"), _final("f1"), _user("q2")]


def test_a_conversation_within_the_window_is_sent_whole_with_one_turns_results_counted_as_one_message() -> None:
    assert window(CONVERSATION, 6) == CONVERSATION  # system, user, call, results, answer, user: six of Camunda's


def test_the_oldest_messages_go_first_and_the_system_message_stays() -> None:
    assert window(CONVERSATION, 5) == [SYSTEM, *CONVERSATION[2:]]


def test_a_tool_call_is_evicted_with_its_results_and_never_leaves_them_behind() -> None:
    assert window(CONVERSATION, 4) == [SYSTEM, _final("f1"), _user("q2")]
    assert window(CONVERSATION, 3) == [SYSTEM, _final("f1"), _user("q2")]


def test_a_conversation_without_a_system_message_keeps_the_last_messages() -> None:
    assert window(CONVERSATION[1:], 3) == [_final("f1"), _user("q2")]


@pytest.mark.parametrize(("data", "size"), [
    (None, 20), ({"memory": {"contextWindowSize": 4}}, 4),
    ({"memory": {"storage": {"type": "in-process"}, "contextWindowSize": 3}}, 3),
])
def test_the_window_size_is_read_from_data_memory_with_camundas_default(data: Any, size: int) -> None:
    assert window_size(data) == size


@pytest.mark.parametrize(("data", "problem"), [
    ({"memory": {"contextWindowSize": 2}}, "at least 3"),
    ({"memory": {"contextWindowSize": "ten"}}, "whole number"),
    ({"memory": {"storage": {"type": "camunda-document"}}}, "'camunda-document' is not supported"),
])
def test_a_window_or_storage_this_engine_cannot_have_is_refused_with_the_field_named(data: Any, problem: str) -> None:
    with pytest.raises(MemoryConfigError, match=problem):
        window_size(data)
