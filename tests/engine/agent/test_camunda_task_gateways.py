"""Gateway tools of Camunda's AI Agent Task as data: discovery first, then the gateways' tools and calls.

The round-trip is the process's (a multi-instance ad-hoc subprocess runs each ``toolCall``); here the task's
variables go to ``task_turn`` and the model's answer to ``task_result``, as the job handler does.
"""

from __future__ import annotations

from typing import Any

import pytest

from engine.agent.camunda_task import AgentTaskError, discovery_result, task_result, task_turn
from engine.model import Process
from engine.parser import parse_bpmn
from tests.engine.agent.harness import DATA

MODEL = "camunda_agent_task_gateways.bpmn"
LISTING = {"toolDefinitions": [{"name": "read", "description": "Reads a file.", "inputSchema": {
    "type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]}}]}
CARD = {"kind": "agentCard", "name": "Helper", "description": "Helps.", "skills": []}
USAGE = {"inputTokens": 1, "outputTokens": 1}


@pytest.fixture
def process() -> Process:
    return parse_bpmn((DATA / MODEL).read_bytes(), source_name=MODEL).processes["camunda_agent_task_gateways"]


def _turn(process: Process, context: Any = None, results: Any = None) -> Any:
    variables = {"provider": {"type": "openaiCompatible"}, "data": {
        "systemPrompt": {"prompt": "Be exact."}, "userPrompt": {"prompt": "Read a.txt"},
        "tools": {"containerElementId": "Tools", "toolCallResults": results}, "context": context}}
    return task_turn(process, variables, instance=7, definition=None, conversation_id="7-1")


def _discovered(process: Process) -> Any:
    first = discovery_result(_turn(process))
    assert first is not None
    results = [{"id": "MCP_toolsList_Files", "name": "Files", "content": LISTING},
               {"id": "A2A_fetchAgentCard_Helper", "name": "Helper", "content": CARD}]
    return _turn(process, first["context"], results)


def test_the_first_activation_asks_no_model_and_sends_each_gateway_its_discovery_call(process: Process) -> None:
    agent = discovery_result(_turn(process))

    assert agent is not None and agent["responseText"] is None
    assert agent["toolCalls"] == [
        {"_meta": {"id": "MCP_toolsList_Files", "name": "Files"}, "method": "tools/list"},
        {"_meta": {"id": "A2A_fetchAgentCard_Helper", "name": "Helper"}, "operation": "fetchAgentCard"}]
    context = agent["context"]
    assert context["state"] == "TOOL_DISCOVERY" and context["conversation"]["messages"] == []
    assert context["properties"] == {"mcpClients": ["Files"], "a2aClients": ["Helper"]}
    assert [t["name"] for t in context["toolDefinitions"]] == ["Shout"]
    assert context["metrics"]["modelCalls"] == 0


def test_the_listings_become_the_models_tools_and_its_calls_go_to_their_gateway_elements(process: Process) -> None:
    turn = _discovered(process)

    assert discovery_result(turn) is None
    assert [t.name for t in turn.tools] == ["Shout", "MCP_Files___read", "A2A_Helper"]
    assert [m["role"] for m in turn.messages] == ["system", "user"]
    assert "A2A_" in turn.messages[0]["content"]  # the A2A instructions follow the system prompt
    agent = task_result(turn, {"toolCalls": [{"id": "c1", "name": "MCP_Files___read", "arguments": {"path": "a"}},
                                             {"id": "c2", "name": "A2A_Helper", "arguments": {"text": "hi"}},
                                             {"id": "c3", "name": "Shout", "arguments": {"text": "x"}}]}, USAGE, None)
    assert agent["toolCalls"] == [
        {"_meta": {"id": "c1", "name": "Files"}, "method": "tools/call",
         "params": {"name": "read", "arguments": {"path": "a"}}},
        {"_meta": {"id": "c2", "name": "Helper"}, "operation": "sendMessage", "params": {"text": "hi"}},
        {"_meta": {"id": "c3", "name": "Shout"}, "text": "x"}]
    assert agent["context"]["state"] == "READY"

    results = [{"id": "c1", "name": "Files", "content": {"name": "read", "isError": False,
                                                        "content": [{"type": "text", "text": "hello"}]}},
               {"id": "c2", "name": "Helper", "content": {"kind": "message", "contents": []}},
               {"id": "c3", "name": "Shout", "content": "X"}]
    nxt = _turn(process, agent["context"], results)
    assert [(m["name"], m["content"]) for m in nxt.messages if m["role"] == "tool"] == [
        ("MCP_Files___read", "hello"), ("A2A_Helper", {"kind": "message", "contents": []}), ("Shout", "X")]


def test_a_missing_listing_fails_the_task_and_names_the_discovery_call(process: Process) -> None:
    first = discovery_result(_turn(process))
    assert first is not None
    with pytest.raises(AgentTaskError, match="MCP_toolsList_Files"):
        _turn(process, first["context"], [{"id": "A2A_fetchAgentCard_Helper", "name": "Helper", "content": CARD}])
