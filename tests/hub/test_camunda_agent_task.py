"""Camunda's AI Agent Task and the memory window of both flavours, run by the hub's job handlers.

The model is a scripted OpenAI-compatible server on 127.0.0.1 that the agents reach through their
``provider.openaiCompatible`` configuration, so what each model call was sent is what the server received.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine import Engine
from engine.ports import ManualClock
from engine.scheduler import WorkerRegistry, run_until_idle
from hub.job_types import job_handlers
from hub.settings import HubSettings
from registry import Registry
from tests.protocols.llm.openai_server import OpenAIServer, openai_server

DATA = Path(__file__).resolve().parents[1] / "data" / "agent"
TASK = DATA / "camunda_agent_task.bpmn"
SUBPROCESS = DATA / "camunda_agent.bpmn"


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    opened = Engine.open(f"sqlite:///{tmp_path / 'agenthub.db'}", clock=ManualClock())
    yield opened
    opened.close()


@pytest.fixture
def workers(engine: Engine, tmp_path: Path) -> WorkerRegistry:
    return job_handlers(Registry.open(f"sqlite:///{tmp_path / 'registry.db'}"), HubSettings(), engine=engine)


KEY = "sk-calc-secret-5f1a"


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[OpenAIServer]:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("CALC_LLM_KEY", KEY)  # the models' {{secrets.CALC_LLM_KEY}}
    with openai_server() as running:
        yield running


def _start_task(engine: Engine, server: OpenAIServer, *, window: int = 20, max_calls: int = 10,
                text: str = "What is 5 + 3, and 8 / 4?") -> int:
    [deployed] = engine.deploy([(TASK.name, TASK.read_bytes())])
    assert deployed.warnings == ()  # the task's job type is built in: no worker to wait for
    return engine.start("camunda_agent_task", {"inputText": text, "followUpInput": None, "maxCalls": max_calls,
                                               "window": window, "responseFormat": "text",
                                               "llmEndpoint": server.url}).key


def _roles(messages: list[dict[str, Any]]) -> list[str]:
    return [m["role"] for m in messages]


def _answer_feedback(engine: Engine, instance: int, variables: dict[str, Any]) -> None:
    [task] = [t for t in engine.user_tasks(instance=instance) if t.element_id == "Feedback"]
    engine.complete_user_task(task.key, variables)


def test_an_agent_task_has_the_process_run_two_tools_loops_back_and_follows_up_on_the_same_context(
        engine: Engine, workers: WorkerRegistry, server: OpenAIServer) -> None:
    server.reply_tool_calls(("c1", "Add", {"a": 5, "b": 3}), ("c2", "Divide", {"dividend": 8, "divisor": 4}))
    server.reply_text("5 + 3 = 8 and 8 / 4 = 2")
    key = _start_task(engine, server)
    run_until_idle(engine, workers, timeout_s=60)
    assert all(r.headers["authorization"] == f"Bearer {KEY}" for r in server.received)
    first, second = (r.body for r in server.received)
    assert [t["function"]["name"] for t in first["tools"]] == ["Add", "Divide"]
    assert first["tools"][0]["function"]["parameters"]["properties"]["a"] == {
        "type": "number", "description": "The first number"}
    assert _roles(first["messages"]) == ["system", "user"]
    assert second["messages"][-2:] == [{"role": "tool", "tool_call_id": "c1", "content": "8"},
                                       {"role": "tool", "tool_call_id": "c2", "content": '{"quotient": 2}'}]
    agent = engine.instance(key).variables["agent"]
    assert agent["responseText"] == "5 + 3 = 8 and 8 / 4 = 2" and agent["toolCalls"] == []
    assert agent["responseJson"] is None
    assert agent["responseMessage"]["content"] == [{"type": "text", "text": "5 + 3 = 8 and 8 / 4 = 2"}]
    messages = agent["context"]["conversation"]["messages"]
    assert _roles(messages) == ["system", "user", "assistant", "tool_call_result", "assistant"]
    assert messages[2]["toolCalls"][1] == {"id": "c2", "name": "Divide", "arguments": {"dividend": 8, "divisor": 4}}
    assert [r["content"] for r in messages[3]["results"]] == [
        [{"type": "object", "content": 8}], [{"type": "object", "content": {"quotient": 2}}]]
    assert agent["context"]["metrics"]["modelCalls"] == 2 and agent["context"]["metrics"]["toolCalls"] == 2
    assert agent["context"]["metrics"]["tokenUsage"] == {"inputTokenCount": 62, "outputTokenCount": 18}
    journal = [(e["type"], e.get("elementId")) for e in engine.journal(key, limit=1000)]
    assert journal.count(("element_completed", "Agent")) == 2  # the process looped back through its gateway
    assert ("element_completed", "Add") in journal and ("element_completed", "Divide") in journal

    server.reply_text("8 + 1 = 9")
    _answer_feedback(engine, key, {"userSatisfied": False, "followUpInput": "Add 1 to the sum"})
    run_until_idle(engine, workers, timeout_s=60)
    third = server.received[2].body["messages"]
    assert _roles(third) == ["system", "user", "assistant", "tool", "tool", "assistant", "user"]
    assert third[-1] == {"role": "user", "content": "Add 1 to the sum"}
    agent = engine.instance(key).variables["agent"]
    assert agent["responseText"] == "8 + 1 = 9" and agent["context"]["metrics"]["modelCalls"] == 3
    _answer_feedback(engine, key, {"userSatisfied": True})
    run_until_idle(engine, workers, timeout_s=60)
    view = engine.instance(key)
    assert view.state == "completed"
    assert KEY not in json.dumps(engine.journal(key, limit=1000)) + json.dumps(view.variables, default=str)


def test_a_memory_window_of_four_sends_the_model_fewer_messages_while_the_context_keeps_them_all(
        engine: Engine, workers: WorkerRegistry, server: OpenAIServer) -> None:
    server.reply_tool_calls(("c1", "Add", {"a": 5, "b": 3}))
    server.reply_text("8")
    server.reply_text("9")
    key = _start_task(engine, server, window=4, text="What is 5 + 3?")
    run_until_idle(engine, workers, timeout_s=60)
    _answer_feedback(engine, key, {"userSatisfied": False, "followUpInput": "Add 1 to it"})
    run_until_idle(engine, workers, timeout_s=60)
    sent = [r.body["messages"] for r in server.received]
    # system, user, assistant(call), result: four of Camunda's messages, so all of them
    assert _roles(sent[1]) == ["system", "user", "assistant", "tool"]
    # six of them now: the first question goes, and the tool call goes with its result, never one without the other
    assert _roles(sent[2]) == ["system", "assistant", "user"]
    assert sent[2][0]["content"] == "You are a careful calculator." and sent[2][-1]["content"] == "Add 1 to it"
    kept = engine.instance(key).variables["agent"]["context"]["conversation"]["messages"]
    assert _roles(kept) == ["system", "user", "assistant", "tool_call_result", "assistant", "user", "assistant"]


def test_the_sub_process_agent_sends_its_model_only_the_window_its_memory_asks_for(
        engine: Engine, workers: WorkerRegistry, server: OpenAIServer) -> None:
    text = SUBPROCESS.read_text().replace('source="=20" target="data.memory.contextWindowSize"',
                                          'source="=3" target="data.memory.contextWindowSize"')
    engine.deploy([(SUBPROCESS.name, text.encode())])
    server.reply_tool_calls(("c1", "Add", {"a": 5, "b": 3}))
    server.reply_tool_calls(("c2", "Add", {"a": 8, "b": 1}))
    server.reply_text("9")
    key = engine.start("camunda_agent", {"inputText": "What is 5 + 3 + 1?", "followUpInput": None, "maxCalls": 5,
                                         "responseFormat": "text", "llmEndpoint": server.url}).key
    run_until_idle(engine, workers, timeout_s=60)
    sent = [_roles(r.body["messages"]) for r in server.received]
    assert sent == [["system", "user"], ["system", "assistant", "tool"], ["system", "assistant", "tool"]]
    agent = engine.instance(key).variables["agent"]
    assert agent["responseText"] == "9"
    assert _roles(agent["context"]["conversation"]["messages"]) == [
        "system", "user", "assistant", "tool_call_result", "assistant", "tool_call_result", "assistant"]


def test_the_model_call_limit_is_camundas_error_which_the_tasks_error_expression_turns_into_a_bpmn_error(
        engine: Engine, workers: WorkerRegistry, server: OpenAIServer) -> None:
    server.reply_tool_calls(("c1", "Add", {"a": 5, "b": 3}))
    key = _start_task(engine, server, max_calls=1)
    run_until_idle(engine, workers, timeout_s=60)
    assert len(server.received) == 1  # the second turn is refused before the model is asked
    view = engine.instance(key)
    assert view.state == "completed"
    [thrown] = [e for e in engine.journal(key, limit=1000) if e["type"] == "error_thrown"]
    assert thrown["data"]["code"] == "MAXIMUM_NUMBER_OF_MODEL_CALLS_REACHED"
    assert thrown["data"]["message"].endswith("Maximum number of model calls reached (modelCalls: 1, limit: 1)")
    assert ("element_completed", "GaveUp") in [(e["type"], e.get("elementId")) for e in engine.journal(key, limit=1000)]


def test_a_blank_prompt_stops_the_task_with_an_incident_that_names_camundas_code(
        engine: Engine, workers: WorkerRegistry, server: OpenAIServer) -> None:
    key = _start_task(engine, server, text="  ")
    run_until_idle(engine, workers, timeout_s=60)
    view = engine.instance(key)
    assert view.state == "incident" and server.received == []
    [incident] = engine.incidents(instance=key)
    assert "data.userPrompt.prompt must be a text that is not blank" in incident.message


def test_the_hubs_model_for_camunda_agents_answers_the_task_too(engine: Engine, tmp_path: Path) -> None:
    (tmp_path / "calc.json").write_text(json.dumps([
        {"tool_calls": [{"id": "c1", "name": "Add", "arguments": {"a": 5, "b": 3}}]}, {"final": "8"}]))
    settings = HubSettings(model_files=str(tmp_path), camunda_model="scripted:calc.json")
    scripted = job_handlers(Registry.open(f"sqlite:///{tmp_path / 'scripted.db'}"), settings, engine=engine)
    engine.deploy([(TASK.name, TASK.read_bytes())])
    key = engine.start("camunda_agent_task", {"inputText": "What is 5 + 3?", "followUpInput": None, "maxCalls": 5,
                                              "window": 20, "responseFormat": "text",
                                              "llmEndpoint": "http://127.0.0.1:9/v1"}).key
    run_until_idle(engine, scripted, timeout_s=60)
    agent = engine.instance(key).variables["agent"]
    assert agent["responseText"] == "8" and agent["context"]["metrics"]["toolCalls"] == 1
