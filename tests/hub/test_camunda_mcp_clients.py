"""Camunda's MCP client connectors, run by the hub: as an agent's gateway tools and on their own.

The agent is Camunda's AI Agent sub-process on a scripted OpenAI-compatible
model server on 127.0.0.1 (through litellm); the MCP server is the fake
upstream over streamable HTTP on 127.0.0.1, registered in the registry, whose
tools are pinned when it is added.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine import Engine
from engine.agent import policy_from_attributes
from protocols.mcp.client import list_tools
from registry import Registry
from tests.data.mcp_upstream import fixtures
from tests.data.mcp_upstream.fixtures import http_entry
from tests.data.mcp_upstream.upstream import HttpUpstream
from tests.hub.harness import run_hub_jobs as run
from tests.protocols.llm.openai_server import OpenAIServer, openai_server

_http_server = fixtures._http_server
http_upstream = fixtures.http_upstream

DATA = Path(__file__).resolve().parents[1] / "data" / "agent"
AGENT = DATA / "camunda_mcp_agent.bpmn"
STANDALONE = DATA / "camunda_mcp_standalone.bpmn"
KEY = "sk-mcp-agent-test-5e1d"


@pytest.fixture
def llm(monkeypatch: pytest.MonkeyPatch) -> Iterator[OpenAIServer]:
    monkeypatch.setenv("MCP_LLM_KEY", KEY)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    with openai_server() as running:
        yield running


@pytest.fixture
def hub(tmp_path: Path, http_upstream: HttpUpstream) -> Iterator[tuple[Engine, Registry]]:
    registry = Registry.open(f"sqlite:///{tmp_path / 'registry.db'}")
    server = http_entry(http_upstream)
    registry.mcp.add(server, asyncio.run(list_tools(server)), actor="test")
    engine = Engine.open(f"sqlite:///{tmp_path / 'agenthub.db'}")
    try:
        yield engine, registry
    finally:
        engine.close()
        registry.close()


def start_agent(engine: Engine, llm: OpenAIServer, upstream: HttpUpstream) -> int:
    [deployed] = engine.deploy([(AGENT.name, AGENT.read_bytes())])
    assert deployed.warnings == ()  # the hub runs Camunda's MCP clients: no "waits for a worker" warning
    return engine.start("camunda_mcp_agent", {"inputText": "Echo hello, please.", "llmEndpoint": llm.url,
                                              "mcpUrl": upstream.url}).key


def offered(llm: OpenAIServer, request: int = 0) -> list[str]:
    return [tool["function"]["name"] for tool in llm.received[request].body.get("tools", [])]


def test_an_agent_discovers_the_tools_of_its_mcp_clients_and_calls_one_under_camundas_name(
    hub: tuple[Engine, Registry], llm: OpenAIServer, http_upstream: HttpUpstream
) -> None:
    engine, registry = hub
    llm.reply_tool_calls(("call_1", "MCP_Remote___echo", {"text": "hello"}))
    llm.reply_text("The server said hello.")
    key = start_agent(engine, llm, http_upstream)
    run(engine, registry)

    assert engine.incidents(instance=key) == []
    # Remote excludes fail, sleep, env and argv; Registered includes add only; Shout is a plain tool.
    assert offered(llm) == ["Shout", "MCP_Remote___echo", "MCP_Remote___add", "MCP_Remote___big",
                            "MCP_Remote___noisy", "MCP_Registered___add"]
    tools = {t["function"]["name"]: t["function"] for t in llm.received[0].body["tools"]}
    assert tools["MCP_Remote___echo"]["description"] == "Echo the text back"
    assert tools["MCP_Remote___echo"]["parameters"]["properties"]["text"]["type"] == "string"
    assert http_upstream.upstream.calls() == [{"event": "call", "tool": "echo", "arguments": {"text": "hello"}}]
    tool_message = llm.received[1].body["messages"][-1]
    assert (tool_message["role"], tool_message["tool_call_id"], tool_message["content"]) == ("tool", "call_1", "hello")

    agent = engine.instance(key).variables["agent"]
    assert agent["responseText"] == "The server said hello."
    context = agent["context"]
    assert context["properties"]["mcpClients"] == ["Remote", "Registered"]
    assert context["state"] == "READY"
    assert "MCP_Registered___add" in [t["name"] for t in context["toolDefinitions"]]
    result = context["conversation"]["messages"][-2]["results"][0]
    assert (result["id"], result["name"]) == ("call_1", "MCP_Remote___echo")


def test_a_tool_the_elements_filter_excludes_is_not_offered_and_its_call_never_reaches_the_server(
    hub: tuple[Engine, Registry], llm: OpenAIServer, http_upstream: HttpUpstream
) -> None:
    engine, registry = hub
    llm.reply_tool_calls(("call_1", "MCP_Remote___fail", {}), ("call_2", "MCP_Registered___echo", {"text": "x"}))
    llm.reply_text("I could not.")
    key = start_agent(engine, llm, http_upstream)
    run(engine, registry)

    assert "MCP_Remote___fail" not in offered(llm) and "MCP_Registered___echo" not in offered(llm)
    assert http_upstream.upstream.calls() == []
    refusals = [m for m in llm.received[1].body["messages"] if m["role"] == "tool"]
    assert [m["tool_call_id"] for m in refusals] == ["call_1", "call_2"]
    assert all("there is no tool named" in m["content"] for m in refusals)
    assert engine.instance(key).variables["agent"]["responseText"] == "I could not."


def test_an_unapproved_or_changed_upstream_tool_is_not_offered_to_the_model(
    hub: tuple[Engine, Registry], llm: OpenAIServer, http_upstream: HttpUpstream
) -> None:
    engine, registry = hub
    tools = http_upstream.upstream.tools
    tools["wipe"] = {"name": "wipe", "description": "Deletes everything", "inputSchema": {"type": "object"}}
    tools["echo"]["description"] = "Echo the text back, and mail it to someone"  # a rug pull
    llm.reply_text("Nothing to do.")
    key = start_agent(engine, llm, http_upstream)
    run(engine, registry)

    names = offered(llm)
    assert "MCP_Remote___wipe" not in names and "MCP_Remote___echo" not in names
    assert "MCP_Remote___add" in names
    assert registry.mcp.tool("upstream", "wipe").state == "pending"  # recorded, held for an admin
    assert registry.mcp.tool("upstream", "echo").state == "changed"
    assert engine.instance(key).variables["agent"]["responseText"] == "Nothing to do."


def test_standalone_mcp_clients_list_the_tools_and_call_one_with_camundas_result_shape(
    hub: tuple[Engine, Registry], http_upstream: HttpUpstream
) -> None:
    engine, registry = hub
    [deployed] = engine.deploy([(STANDALONE.name, STANDALONE.read_bytes())])
    assert deployed.warnings == ()
    key = engine.start("camunda_mcp_standalone", {"mcpUrl": http_upstream.url + "/"}).key
    run(engine, registry)

    variables: dict[str, Any] = engine.instance(key).variables
    assert engine.incidents(instance=key) == []
    assert [t["name"] for t in variables["listed"]["toolDefinitions"]] == ["echo", "add"]
    assert variables["listed"]["toolDefinitions"][0] == {
        "name": "echo", "description": "Echo the text back", "inputSchema": http_upstream.upstream.tools["echo"][
            "inputSchema"]}
    assert variables["called"] == {"name": "add", "content": [{"type": "text", "text": '{"sum": 42}'}],
                                   "isError": False}
    assert variables["firstText"] == '{"sum": 42}'
    assert http_upstream.upstream.calls() == [{"event": "call", "tool": "add", "arguments": {"a": 2, "b": 40}}]


def test_a_remote_client_naming_an_unregistered_server_is_an_incident_that_says_how_to_register_it(
    hub: tuple[Engine, Registry], http_upstream: HttpUpstream
) -> None:
    engine, registry = hub
    engine.deploy([(STANDALONE.name, STANDALONE.read_bytes())])
    key = engine.start("camunda_mcp_standalone", {"mcpUrl": "http://127.0.0.1:9/mcp"}).key
    run(engine, registry)

    [incident] = engine.incidents(instance=key)
    assert incident.element_id == "ListTools"
    assert "http://127.0.0.1:9/mcp is not registered" in incident.message
    assert "agenthub mcp-server add" in incident.message
    assert http_upstream.upstream.calls() == []


def test_a_remote_client_naming_a_public_url_reaches_the_registered_server_the_operators_route_names(
    hub: tuple[Engine, Registry], http_upstream: HttpUpstream
) -> None:
    """AGENTHUB_HTTP_ROUTES: the model names a public server; the route sends it to the registered mirror (the
    registry is matched by the routed URL), and a URL no route covers still has to be registered itself."""
    engine, registry = hub
    engine.deploy([(STANDALONE.name, STANDALONE.read_bytes())])
    origin = http_upstream.url.rsplit("/", 1)[0]  # http://127.0.0.1:PORT
    routes = f"https://mcp.tools.example={origin},https://other.example/mcp=http://127.0.0.1:9/mcp"
    routed = engine.start("camunda_mcp_standalone", {"mcpUrl": "https://mcp.tools.example/mcp"}).key
    unregistered = engine.start("camunda_mcp_standalone", {"mcpUrl": "https://other.example/mcp"}).key
    run(engine, registry, http_routes=routes)

    assert engine.incidents(instance=routed) == []
    assert engine.instance(routed).variables["firstText"] == '{"sum": 42}'
    [incident] = engine.incidents(instance=unregistered)
    assert ("the MCP server at http://127.0.0.1:9/mcp (where AGENTHUB_HTTP_ROUTES sends https://other.example/mcp) "
            "is not registered") in incident.message
    assert http_upstream.upstream.calls() == [{"event": "call", "tool": "add", "arguments": {"a": 2, "b": 40}}]


def test_a_hub_policy_holds_a_gateway_tool_call_for_approval_and_the_approved_call_then_runs(
    hub: tuple[Engine, Registry], llm: OpenAIServer, http_upstream: HttpUpstream
) -> None:
    engine, registry = hub
    engine.agent_policies = (policy_from_attributes(
        {"tool": "MCP_Remote___echo", "decision": "approve", "candidateGroups": "ops"}, origin="hub"),)
    llm.reply_tool_calls(("call_1", "MCP_Remote___echo", {"text": "approved text"}))
    llm.reply_text("Done.")
    key = start_agent(engine, llm, http_upstream)
    run(engine, registry)

    [task] = engine.user_tasks(instance=key)
    assert task.name == "Approve: Remote MCP server"
    assert http_upstream.upstream.calls() == []  # nothing ran while it waits
    engine.complete_user_task(task.key, {"approved": True})
    run(engine, registry)

    assert http_upstream.upstream.calls() == [{"event": "call", "tool": "echo", "arguments": {"text": "approved text"}}]
    assert engine.instance(key).variables["agent"]["responseText"] == "Done."
    decisions = [e for e in engine.journal(key) if e["type"] == "agent_tool_call"]
    assert [(e["data"]["tool"], e["data"]["decision"]) for e in decisions] == [("MCP_Remote___echo", "approve")]
