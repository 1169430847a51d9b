"""Camunda's A2A client as a gateway tool of Camunda's AI Agent (``gatewayType`` ``a2aClient``), run by the hub.

The agent is Camunda's AI Agent sub-process on a scripted OpenAI-compatible
model server on 127.0.0.1 (through litellm); the remote agent is built with
the a2a-sdk on 127.0.0.1 and registered in the registry, its card pinned.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine import Engine
from engine.agent import policy_from_attributes
from registry import Registry
from tests.data.a2a.client.fixtures import TOKEN_ENV, register
from tests.data.a2a.client.remote_agent import TOKEN, RemoteAgent, serve_agent
from tests.hub.harness import run_hub_jobs as run
from tests.protocols.llm.openai_server import OpenAIServer, openai_server

AGENT = Path(__file__).resolve().parents[1] / "data" / "a2a" / "camunda" / "camunda_a2a_agent.bpmn"
KEY = "sk-a2a-agent-test-3c9b"


@pytest.fixture
def llm(monkeypatch: pytest.MonkeyPatch) -> Iterator[OpenAIServer]:
    monkeypatch.setenv("A2A_LLM_KEY", KEY)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    with openai_server() as running:
        yield running


@pytest.fixture
def remote(monkeypatch: pytest.MonkeyPatch) -> Iterator[RemoteAgent]:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    with serve_agent() as agent:
        yield agent


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[tuple[Engine, Registry]]:
    registry = Registry.open(f"sqlite:///{tmp_path / 'registry.db'}")
    engine = Engine.open(f"sqlite:///{tmp_path / 'agenthub.db'}")
    try:
        yield engine, registry
    finally:
        engine.close()
        registry.close()


def start(engine: Engine, llm: OpenAIServer, remote: RemoteAgent) -> int:
    [deployed] = engine.deploy([(AGENT.name, AGENT.read_bytes())])
    assert deployed.warnings == ()
    return engine.start("camunda_a2a_agent", {"inputText": "Ask the helper, please.", "llmEndpoint": llm.url,
                                              "agentUrl": remote.url}).key


def test_an_agent_discovers_its_a2a_client_by_the_pinned_card_and_sends_the_models_message(
    hub: tuple[Engine, Registry], llm: OpenAIServer, remote: RemoteAgent
) -> None:
    engine, registry = hub
    register(registry, remote)
    llm.reply_tool_calls(("call_1", "A2A_Helper", {"text": "What is 6 times 7?"}))
    llm.reply_text("The helper is done.")
    key = start(engine, llm, remote)
    run(engine, registry)

    assert engine.incidents(instance=key) == []
    tools = {t["function"]["name"]: t["function"] for t in llm.received[0].body["tools"]}
    assert list(tools) == ["Shout", "A2A_Helper"]
    card = json.loads(tools["A2A_Helper"]["description"])
    assert card["name"] == "Remote helper" and [s["id"] for s in card["skills"]] == ["answer"]
    assert tools["A2A_Helper"]["parameters"]["required"] == ["text"]
    assert {"text", "taskId", "contextId", "referenceTaskIds"} <= set(tools["A2A_Helper"]["parameters"]["properties"])
    system = llm.received[0].body["messages"][0]
    assert system["role"] == "system" and system["content"].startswith("You delegate to the agents you are given.\n\n")
    assert "input-required" in system["content"]  # how to continue a remote task, as Camunda tells its model
    [received] = remote.received  # discovery fetched the card; the one message is the model's
    assert received.task_id == ""

    tool_message = llm.received[1].body["messages"][-1]
    assert (tool_message["role"], tool_message["tool_call_id"]) == ("tool", "call_1")
    answer = json.loads(tool_message["content"])
    assert answer["kind"] == "task" and answer["status"]["state"] == "completed"
    assert answer["artifacts"][0]["contents"][0]["content"]["text"] == "What is 6 times 7?"

    agent = engine.instance(key).variables["agent"]
    assert agent["responseText"] == "The helper is done."
    assert agent["context"]["properties"]["a2aClients"] == ["Helper"]
    assert "mcpClients" not in agent["context"]["properties"]
    assert [t["name"] for t in agent["context"]["toolDefinitions"]] == ["Shout", "A2A_Helper"]


def test_an_unregistered_a2a_client_of_an_agent_is_an_incident_before_the_model_is_asked(
    hub: tuple[Engine, Registry], llm: OpenAIServer, remote: RemoteAgent
) -> None:
    engine, registry = hub
    key = start(engine, llm, remote)
    run(engine, registry)

    [incident] = engine.incidents(instance=key)
    assert incident.element_id == "Helper" and "agenthub agent add" in incident.message
    assert llm.received == [] and remote.received == []


def test_a_hub_policy_holds_a_call_of_the_a2a_tool_for_approval_and_the_approved_call_then_runs(
    hub: tuple[Engine, Registry], llm: OpenAIServer, remote: RemoteAgent
) -> None:
    engine, registry = hub
    register(registry, remote)
    engine.agent_policies = (policy_from_attributes(
        {"tool": "A2A_Helper", "decision": "approve", "candidateGroups": "ops"}, origin="hub"),)
    llm.reply_tool_calls(("call_1", "A2A_Helper", {"text": "approved text"}))
    llm.reply_text("Done.")
    key = start(engine, llm, remote)
    run(engine, registry)

    [task] = engine.user_tasks(instance=key)
    assert task.name == "Approve: Remote helper agent"
    assert remote.received == []  # nothing was sent while it waits
    engine.complete_user_task(task.key, {"approved": True})
    run(engine, registry)

    assert len(remote.received) == 1
    assert engine.instance(key).variables["agent"]["responseText"] == "Done."


TASK = AGENT.with_name("camunda_a2a_agent_task.bpmn")


def test_an_agent_task_discovers_its_a2a_client_first_then_the_process_runs_the_models_call_through_it(
    hub: tuple[Engine, Registry], llm: OpenAIServer, remote: RemoteAgent
) -> None:
    engine, registry = hub
    register(registry, remote)
    llm.reply_tool_calls(("call_1", "A2A_Helper", {"text": "What is 6 times 7?"}), ("call_2", "Shout", {"text": "hi"}))
    llm.reply_text("The helper is done.")
    [deployed] = engine.deploy([(TASK.name, TASK.read_bytes())])
    assert deployed.warnings == ()
    key = engine.start("camunda_a2a_agent_task", {"inputText": "Ask the helper, please.", "llmEndpoint": llm.url,
                                                  "agentUrl": remote.url}).key
    run(engine, registry)

    assert engine.incidents(instance=key) == []
    first, second = (r.body for r in llm.received)  # the discovery round asked the model nothing
    assert [t["function"]["name"] for t in first["tools"]] == ["Shout", "A2A_Helper"]
    assert json.loads(first["tools"][1]["function"]["description"])["name"] == "Remote helper"
    assert "input-required" in first["messages"][0]["content"]  # Camunda's A2A instructions in the system prompt
    assert [m["role"] for m in first["messages"]] == ["system", "user"]
    results = {m["tool_call_id"]: m["content"] for m in second["messages"] if m["role"] == "tool"}
    answer = json.loads(results["call_1"])
    assert answer["kind"] == "task" and answer["status"]["state"] == "completed"
    assert results["call_2"] == "HI"
    [received] = remote.received  # discovery fetched the card; the one message is the model's
    assert received.task_id == ""

    agent = engine.instance(key).variables["agent"]
    assert agent["responseText"] == "The helper is done." and agent["toolCalls"] == []
    context = agent["context"]
    assert context["state"] == "READY" and context["properties"] == {"a2aClients": ["Helper"]}
    assert [t["name"] for t in context["toolDefinitions"]] == ["Shout", "A2A_Helper"]
    assert context["metrics"]["modelCalls"] == 2
    calls = next(m for m in context["conversation"]["messages"] if m["role"] == "assistant")["toolCalls"]
    assert [c["name"] for c in calls] == ["A2A_Helper", "Shout"]  # the conversation keeps the model's names
