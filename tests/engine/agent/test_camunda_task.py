"""Camunda's AI Agent Task as data: the task's variables to a model turn, the model's answer to ``agent``."""

from __future__ import annotations

from typing import Any

import pytest

from engine import Engine
from engine.agent.camunda_task import AgentTaskError, task_result, task_turn
from engine.model import Process
from tests.engine.agent.harness import DATA

MODEL = "camunda_agent_task.bpmn"


@pytest.fixture
def process(engine: Engine) -> Process:
    engine.deploy([(MODEL, (DATA / MODEL).read_bytes())])
    return engine.process("camunda_agent_task")


def _variables(**data: Any) -> dict[str, Any]:
    return {"provider": {"type": "openaiCompatible"}, "data": {
        "systemPrompt": {"prompt": "Be exact."}, "userPrompt": {"prompt": "What is 5 + 3?"},
        "tools": {"containerElementId": "Tools", "toolCallResults": None}, "context": None, **data}}


def _turn(process: Process, **data: Any) -> Any:
    return task_turn(process, _variables(**data), instance=7, definition=None, conversation_id="7-1")


USAGE = {"inputTokens": 3, "outputTokens": 2}


def test_the_first_turn_asks_with_the_system_and_user_messages_and_the_container_elements_as_tools(
        process: Process) -> None:
    turn = _turn(process)
    assert turn.model == "camunda:openaiCompatible" and [t.name for t in turn.tools] == ["Add", "Divide"]
    assert turn.messages == [{"role": "system", "content": "Be exact."}, {"role": "user", "content": "What is 5 + 3?"}]
    agent = task_result(turn, {"toolCalls": [{"name": "Add", "arguments": '{"a": 5, "b": 3}'}]}, USAGE, None)
    assert agent["toolCalls"] == [{"_meta": {"id": "call_1_1", "name": "Add"}, "a": 5, "b": 3}]
    assert (agent["responseText"], agent["responseJson"], agent["responseMessage"]) == (None, None, None)


def test_the_next_turn_answers_each_call_from_tool_call_results_in_call_order(process: Process) -> None:
    first = task_result(_turn(process), {"toolCalls": [{"id": "x", "name": "Add", "arguments": {"a": 1, "b": 2}},
                                                       {"id": "y", "name": "Add", "arguments": {"a": 3, "b": 4}}]},
                        USAGE, None)
    results = [{"id": "y", "name": "Add", "content": 7}, {"id": "x", "name": "Add", "content": 3}]
    turn = _turn(process, context=first["context"], tools={"containerElementId": "Tools", "toolCallResults": results})
    assert [(m["role"], m.get("content")) for m in turn.messages[-2:]] == [("tool", 3), ("tool", 7)]
    agent = task_result(turn, {"final": '```json\n{"sum": 3}\n```'}, USAGE,
                        {"response": {"format": {"type": "json"}}})
    assert agent["responseJson"] == {"sum": 3} and agent["toolCalls"] == []
    assert agent["context"]["metrics"] == {"modelCalls": 2, "toolCalls": 2,
                                           "tokenUsage": {"inputTokenCount": 6, "outputTokenCount": 4}}


@pytest.mark.parametrize(("answer", "problem"), [
    ({"toolCalls": [{"name": "Multiply", "arguments": {}}]}, "not one of the agent's tools"),
    ({"toolCalls": [{"name": "Add", "arguments": {"a": "five", "b": 3}}]}, "do not fit its schema"),
    ({"final": "eight"}, "not JSON"),
])
def test_an_answer_the_task_cannot_use_is_a_retryable_model_error(process: Process, answer: dict[str, Any],
                                                                  problem: str) -> None:
    with pytest.raises(AgentTaskError, match=problem) as raised:
        task_result(_turn(process), answer, USAGE, {"response": {"format": {"type": "json"}}})
    assert raised.value.retry and raised.value.code in ("FAILED_MODEL_CALL", "FAILED_TO_PARSE_RESPONSE_CONTENT")


def test_inputs_that_make_no_turn_are_refused_with_camundas_codes_where_it_has_them(process: Process) -> None:
    with pytest.raises(AgentTaskError, match=r"'Nowhere' is not an ad-hoc subprocess.*Tools"):
        _turn(process, tools={"containerElementId": "Nowhere"})
    with pytest.raises(AgentTaskError) as raised:
        _turn(process, tools={"containerElementId": "Tools", "toolCallResults": [{"id": "x", "content": 1}]})
    assert raised.value.code == "TOOL_CALL_RESULTS_ON_EMPTY_CONTEXT"
    first = task_result(_turn(process), {"toolCalls": [{"id": "x", "name": "Add", "arguments": {"a": 1, "b": 2}}]},
                        USAGE, None)
    with pytest.raises(AgentTaskError, match=r"no result for the tool call\(s\) \['x'\]"):
        _turn(process, context=first["context"], tools={"containerElementId": "Tools", "toolCallResults": []})
    with pytest.raises(AgentTaskError) as raised:
        _turn(process, context=first["context"], limits={"maxModelCalls": 1},
              tools={"containerElementId": "Tools", "toolCallResults": [{"id": "x", "name": "Add", "content": 3}]})
    assert raised.value.code == "MAXIMUM_NUMBER_OF_MODEL_CALLS_REACHED" and not raised.value.retry
