"""Camunda's AI Agent sub-process (job-worker flavour) runs on our agent loop, as Camunda's worker would run it."""

from __future__ import annotations

from typing import Any

import pytest

from engine import DeploymentError, Engine
from tests.engine.agent.harness import DATA, Agent, calls, final

MODEL = "camunda_agent.bpmn"


def _agent(engine: Engine, script: list[Any]) -> Agent:
    return Agent(engine, script, resource=MODEL)


def _start(agent: Agent, *, text: str = "What is 5 + 3?", max_calls: int = 10, response_format: str = "text") -> int:
    return agent.start(process="camunda_agent", max_calls=max_calls, inputText=text, followUpInput=None,
                       responseFormat=response_format, llmEndpoint="http://127.0.0.1:9/v1")


def _feedback(engine: Engine, instance: int) -> Any:
    [task] = [t for t in engine.user_tasks(instance=instance) if t.element_id == "Feedback"]
    return task


def _roles(messages: list[dict[str, Any]]) -> list[str]:
    return [m["role"] for m in messages]


def test_the_model_deploys_without_a_warning_and_its_tools_are_the_inner_activities(engine: Engine) -> None:
    [deployed] = engine.deploy([(MODEL, (DATA / MODEL).read_bytes())])
    assert tuple(deployed.warnings) == ()


def test_a_policy_beside_camundas_elements_naming_no_tool_of_the_agent_is_refused_at_deployment(
        engine: Engine) -> None:
    text = (DATA / MODEL).read_text().replace('tool="Divide"', 'tool="Multiply"')
    with pytest.raises(DeploymentError) as raised:
        engine.deploy([(MODEL, text.encode())])
    assert "agenthub:policy names tool 'Multiply'" in str(raised.value) and "tools: Add, Divide" in str(raised.value)


def test_a_tool_call_then_a_final_answer_writes_camundas_agent_variable(engine: Engine) -> None:
    agent = _agent(engine, [calls({"id": "c1", "name": "Add", "arguments": {"a": 5, "b": 3}}), final("5 + 3 = 8")])
    key = _start(agent)
    first, second = agent.model.seen
    assert first.model == "camunda:openaiCompatible" and [t.name for t in first.tools] == ["Add", "Divide"]
    assert first.messages == [{"role": "system", "content": "You are a careful calculator."},
                              {"role": "user", "content": "What is 5 + 3?"}]
    assert second.messages[-1] == {"role": "tool", "toolCallId": "c1", "name": "Add", "content": 8}
    result = engine.instance(key).variables["agent"]
    assert result["responseText"] == "5 + 3 = 8" and "responseJson" not in result
    assert result["responseMessage"] == {"role": "assistant", "content": [{"type": "text", "text": "5 + 3 = 8"}]}
    context = result["context"]
    assert context["state"] == "READY" and context["metrics"]["modelCalls"] == 2
    assert context["metrics"]["toolCalls"] == 1
    assert [d["name"] for d in context["toolDefinitions"]] == ["Add", "Divide"]
    messages = context["conversation"]["messages"]
    assert _roles(messages) == ["system", "user", "assistant", "tool_call_result", "assistant"]
    assert messages[2]["toolCalls"] == [{"id": "c1", "name": "Add", "arguments": {"a": 5, "b": 3}}]
    assert messages[3]["results"] == [{"id": "c1", "name": "Add", "content": [{"type": "object", "content": 8}]}]
    assert _feedback(engine, key).element_id == "Feedback"  # the agent completed and the process went on


def test_format_json_parses_the_final_answer_into_response_json(engine: Engine) -> None:
    agent = _agent(engine, [final('```json\n{"sum": 8}\n```')])
    key = _start(agent, response_format="json")
    result = engine.instance(key).variables["agent"]
    assert result["responseJson"] == {"sum": 8} and result["responseText"].startswith("```json")


def test_format_json_with_an_answer_that_is_not_json_throws_camundas_parse_error(engine: Engine) -> None:
    agent = _agent(engine, [final("eight")])
    key = _start(agent, response_format="json")
    [thrown] = agent.journal(key, "error_thrown")
    assert thrown["data"]["code"] == "FAILED_TO_PARSE_RESPONSE_CONTENT"
    assert engine.instance(key).state == "incident"


def test_an_agenthub_policy_beside_camundas_elements_makes_a_tool_call_wait_for_approval(engine: Engine) -> None:
    agent = _agent(engine, [calls({"id": "d1", "name": "Divide", "arguments": {"dividend": 8, "divisor": 4}}),
                            final("8 / 4 = 2")])
    key = _start(agent, text="What is 8 / 4?")
    [task] = agent.approvals(key)
    assert task.details["tool"] == "Divide" and task.candidate_groups == ["math"]
    assert "agent" not in engine.instance(key).variables or engine.instance(key).variables["agent"] is None
    engine.complete_user_task(task.key, {"approved": True})
    agent.drive()
    assert agent.model.seen[-1].messages[-1]["content"] == {"quotient": 2}
    assert engine.instance(key).variables["agent"]["responseText"] == "8 / 4 = 2"


def test_a_loop_back_into_the_agent_continues_the_conversation_from_agent_context(engine: Engine) -> None:
    agent = _agent(engine, [calls({"id": "c1", "name": "Add", "arguments": {"a": 5, "b": 3}}), final("8"),
                            calls({"id": "c2", "name": "Add", "arguments": {"a": 8, "b": 1}}), final("9")])
    key = _start(agent)
    engine.complete_user_task(_feedback(engine, key).key, {"userSatisfied": False, "followUpInput": "Add 1 to it"})
    agent.drive()
    third = agent.model.seen[2]
    assert _roles(third.messages) == ["system", "user", "assistant", "tool", "assistant", "user"]
    assert third.messages[1]["content"] == "What is 5 + 3?" and third.messages[-1]["content"] == "Add 1 to it"
    assert third.messages[4] == {"role": "assistant", "content": None, "final": "8"}
    result = engine.instance(key).variables["agent"]
    assert result["responseText"] == "9" and result["context"]["metrics"]["modelCalls"] == 4
    messages = result["context"]["conversation"]["messages"]
    assert _roles(messages) == ["system", "user", "assistant", "tool_call_result", "assistant", "user", "assistant",
                                "tool_call_result", "assistant"]
    conversation_id = result["context"]["conversation"]["conversationId"]
    engine.complete_user_task(_feedback(engine, key).key, {"userSatisfied": True})
    agent.drive()
    assert engine.instance(key).state == "completed"
    assert engine.instance(key).variables["agent"]["context"]["conversation"]["conversationId"] == conversation_id


def test_max_model_calls_counts_over_the_context_and_throws_camundas_error(engine: Engine) -> None:
    agent = _agent(engine, [final("8"), final("9")])
    key = _start(agent, max_calls=1)
    engine.complete_user_task(_feedback(engine, key).key, {"userSatisfied": False, "followUpInput": "Add 1 to it"})
    agent.drive()
    assert len(agent.model.seen) == 1
    [thrown] = agent.journal(key, "error_thrown")
    assert thrown["data"]["code"] == "MAXIMUM_NUMBER_OF_MODEL_CALLS_REACHED"
    assert thrown["data"]["message"] == "Maximum number of model calls reached (modelCalls: 1, limit: 1)"


def test_the_follow_up_turn_continues_after_the_engine_is_reopened(db_url: str, clock: Any) -> None:
    script = [calls({"id": "c1", "name": "Add", "arguments": {"a": 5, "b": 3}}), final("8"), final("9")]
    engine = Engine.open(db_url, clock=clock)
    try:
        key = _start(_agent(engine, script))
    finally:
        engine.close()
    engine = Engine.open(db_url, clock=clock)
    try:
        agent = _agent(engine, script)
        engine.complete_user_task(_feedback(engine, key).key, {"userSatisfied": False, "followUpInput": "Plus 1?"})
        agent.drive()
        [turn] = agent.model.seen
        assert _roles(turn.messages) == ["system", "user", "assistant", "tool", "assistant", "user"]
        assert engine.instance(key).variables["agent"]["responseText"] == "9"
    finally:
        engine.close()
