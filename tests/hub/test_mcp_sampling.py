"""MCP sampling on a live hub: an agent with ``model="mcp:sampling"`` runs on the calling assistant's own model.

The official ``mcp`` client answers ``sampling/createMessage`` with its ``sampling_callback``: as a server request
on 2025-era sessions, and on 2026-07-28 as an input request in the call's result, which the client answers by
calling the tool again (``InputRequiredResult``, SEP-2322). A client without the capability gets a tool error
naming why, and the instance an incident that says the same.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp_types import (
    INVALID_PARAMS,
    CreateMessageRequestParams,
    CreateMessageResult,
    CreateMessageResultWithTools,
    SamplingCapability,
    SamplingToolsCapability,
    TextContent,
    ToolResultContent,
    ToolUseContent,
)

from tests.hub.harness import LiveHub, serve_hub

pytestmark = pytest.mark.anyio
FIXTURE = Path(__file__).resolve().parent / "mcp_fixtures" / "test_sampling.bpmn"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# A tool whose process hands the question to the conformance fixture's process through a call activity.
DELEGATING = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" xmlns:agenthub="urn:agenthub:bpmn:1" id="d" targetNamespace="x">
  <bpmn:process id="ask_through_a_call" isExecutable="true">
    <bpmn:documentation>Asks the caller's model through a called process.</bpmn:documentation>
    <bpmn:extensionElements>
      <agenthub:tool><agenthub:input name="prompt" type="string" required="true"/></agenthub:tool>
    </bpmn:extensionElements>
    <bpmn:startEvent id="s"/>
    <bpmn:callActivity id="call">
      <bpmn:extensionElements><zeebe:calledElement processId="test_sampling" propagateAllChildVariables="true"/>
      </bpmn:extensionElements>
    </bpmn:callActivity>
    <bpmn:endEvent id="e"/>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="call"/>
    <bpmn:sequenceFlow id="f2" sourceRef="call" targetRef="e"/>
  </bpmn:process>
</bpmn:definitions>"""


# Two agents at once, each on the caller's model: on 2026-07-28 their requests travel in the results of the call.
PARALLEL = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:agenthub="urn:agenthub:bpmn:1" id="d2" targetNamespace="x">
  <bpmn:process id="ask_twice_at_once" isExecutable="true">
    <bpmn:documentation>Asks the caller's model two questions in parallel.</bpmn:documentation>
    <bpmn:extensionElements><agenthub:tool/></bpmn:extensionElements>
    <bpmn:startEvent id="s"/>
    <bpmn:parallelGateway id="fork"/>
    <bpmn:adHocSubProcess id="one"><bpmn:extensionElements>
      <agenthub:agent model="mcp:sampling" prompt="=&quot;first&quot;" maxModelCalls="1" resultVariable="first"/>
    </bpmn:extensionElements></bpmn:adHocSubProcess>
    <bpmn:adHocSubProcess id="two"><bpmn:extensionElements>
      <agenthub:agent model="mcp:sampling" prompt="=&quot;second&quot;" maxModelCalls="1" resultVariable="second"/>
    </bpmn:extensionElements></bpmn:adHocSubProcess>
    <bpmn:parallelGateway id="join"/>
    <bpmn:endEvent id="e"/>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="fork"/>
    <bpmn:sequenceFlow id="f2" sourceRef="fork" targetRef="one"/>
    <bpmn:sequenceFlow id="f3" sourceRef="fork" targetRef="two"/>
    <bpmn:sequenceFlow id="f4" sourceRef="one" targetRef="join"/>
    <bpmn:sequenceFlow id="f5" sourceRef="two" targetRef="join"/>
    <bpmn:sequenceFlow id="f6" sourceRef="join" targetRef="e"/>
  </bpmn:process>
</bpmn:definitions>"""


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveHub]:
    with serve_hub(tmp_path_factory.mktemp("sampling")) as live:
        live.deploy("sampling_agent.bpmn", expose=True)
        with live.client() as rest:
            files = [("files", (FIXTURE.name, FIXTURE.read_bytes(), "application/xml")),
                     ("files", ("ask_through_a_call.bpmn", DELEGATING.encode(), "application/xml")),
                     ("files", ("ask_twice_at_once.bpmn", PARALLEL.encode(), "application/xml"))]
            rest.post("/api/v1/deployments", files=files, params={"expose": "true"}).raise_for_status()
        yield live


async def _call(hub: LiveHub, tool: str, arguments: dict[str, Any], mode: str = "legacy", **options: Any) -> Any:
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {hub.admin}"}, timeout=30) as http,
        Client(streamable_http_client(f"{hub.url}/mcp", http_client=http), mode=mode, **options) as client,
    ):
        return await client.call_tool(tool, arguments)


def _journal(hub: LiveHub, instance: int) -> list[dict[str, Any]]:
    with hub.client() as rest:
        answer = rest.get(f"/api/v1/process-instances/{instance}/journal", params={"limit": 1000})
        answer.raise_for_status()
        return list(answer.json()["items"])


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
async def test_a_process_tool_whose_agent_uses_mcp_sampling_runs_on_the_callers_model(hub: LiveHub, mode: str) -> None:
    asked: list[CreateMessageRequestParams] = []

    async def sample(context: Any, params: CreateMessageRequestParams) -> CreateMessageResult:
        asked.append(params)
        return CreateMessageResult(
            role="assistant", content=TextContent(text="Paris"), model="test-model", stop_reason="endTurn"
        )

    done = await _call(hub, "test_sampling", {"prompt": "The capital of France?"}, mode, sampling_callback=sample)
    [params] = asked
    assert [(m.role, m.content.text) for m in params.messages] == [("user", "The capital of France?")]  # type: ignore[union-attr]
    assert params.max_tokens == 4096 and params.tools is None and params.model_preferences is None
    assert not done.is_error
    assert next(b.text for b in done.content if isinstance(b, TextContent)) == "LLM response: Paris"
    called = [e for e in _journal(hub, done.meta["agenthub/instance"]) if e["type"] == "agent_model_called"]
    assert [(e["data"]["model"], e["data"]["stopReason"], e["data"]["inputTokens"]) for e in called] == [
        ("test-model", "endTurn", 0)
    ]


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
async def test_a_process_called_by_the_tools_process_runs_its_agent_on_the_callers_model_too(
    hub: LiveHub, mode: str
) -> None:
    asked: list[CreateMessageRequestParams] = []

    async def sample(context: Any, params: CreateMessageRequestParams) -> CreateMessageResult:
        asked.append(params)
        return CreateMessageResult(role="assistant", content=TextContent(text="Rome"), model="m", stop_reason="endTurn")

    done = await _call(hub, "ask_through_a_call", {"prompt": "The capital of Italy?"}, mode, sampling_callback=sample)
    assert not done.is_error, done
    [params] = asked
    assert [(m.role, m.content.text) for m in params.messages] == [("user", "The capital of Italy?")]  # type: ignore[union-attr]
    with hub.client() as rest:
        root = rest.get(f"/api/v1/process-instances/{done.meta['agenthub/instance']}").json()
    assert root["state"] == "completed" and root["variables"]["answer"]["response"] == "Rome"


async def test_a_client_with_sampling_tools_gets_the_agents_tools_its_budget_and_its_model_hints(
    hub: LiveHub,
) -> None:
    asked: list[CreateMessageRequestParams] = []

    async def sample(context: Any, params: CreateMessageRequestParams) -> CreateMessageResultWithTools:
        asked.append(params)
        if len(asked) == 1:
            use = ToolUseContent(id="u1", name="order_status", input={})
            return CreateMessageResultWithTools(role="assistant", content=[use], model="m", stop_reason="toolUse")
        return CreateMessageResultWithTools(role="assistant", content=TextContent(text="It has shipped."), model="m")

    done = await _call(
        hub,
        "sampling_agent",
        {"question": "Where is order 7?"},
        sampling_callback=sample,
        sampling_capabilities=SamplingCapability(tools=SamplingToolsCapability()),
    )
    first, second = asked
    assert first.system_prompt == "You answer questions about orders." and first.max_tokens == 500
    assert [t.name for t in first.tools or []] == ["order_status"]
    assert [h.name for h in (first.model_preferences and first.model_preferences.hints) or []] == ["claude-test"]
    use, result = second.messages[-2:]
    assert isinstance(use.content, list) and isinstance(use.content[0], ToolUseContent)
    assert isinstance(result.content, list) and isinstance(result.content[0], ToolResultContent)
    assert result.content[0].tool_use_id == "u1"
    assert not done.is_error and done.structured_content["reply"]["response"] == "It has shipped."


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
async def test_a_client_without_the_sampling_capability_gets_an_error_and_the_instance_an_incident_saying_why(
    hub: LiveHub, mode: str
) -> None:
    failed = await _call(hub, "test_sampling", {"prompt": "Anyone there?"}, mode)
    notes = " ".join(b.text for b in failed.content if isinstance(b, TextContent))
    assert failed.is_error and (failed.meta or {})["agenthub/state"] == "incident"
    assert "did not declare the 'sampling' capability" in notes
    with hub.client() as rest:
        incidents = rest.get("/api/v1/incidents", params={"instance": failed.meta["agenthub/instance"]}).json()
    [incident] = incidents["items"]
    assert "did not declare the 'sampling' capability" in incident["message"]


async def test_an_instance_not_started_by_a_waiting_mcp_call_has_an_incident_saying_the_session_is_gone(
    hub: LiveHub,
) -> None:
    with hub.client() as rest:
        body = {"processId": "test_sampling", "variables": {"prompt": "over REST"}, "awaitCompletion": 20}
        started = rest.post("/api/v1/process-instances", json=body)  # answers once the incident is raised
        started.raise_for_status()
        incidents = rest.get("/api/v1/incidents", params={"instance": started.json()["instance"]}).json()["items"]
    assert started.json()["state"] == "incident"  # at once: no retry can find a caller
    assert "the caller's MCP session is gone" in incidents[0]["message"]


async def _unused(context: Any, params: CreateMessageRequestParams) -> CreateMessageResult:
    raise AssertionError("the session-level call does not drive the round trip: the test answers itself")


async def test_on_2026_07_28_the_request_travels_in_the_result_and_only_its_caller_answers_it_once(
    hub: LiveHub,
) -> None:
    """The InputRequiredResult names one ``sampling/createMessage`` request and a state; the answer must come from
    the principal that started the instance, under that request's key, while the step still waits for it."""
    paris = CreateMessageResult(role="assistant", content=TextContent(text="Paris"), model="m", stop_reason="endTurn")

    async def raw(token: str, **call: Any) -> Any:
        """The call's result, or the MCPError it was refused with."""
        async with (
            httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30) as http,
            Client(streamable_http_client(f"{hub.url}/mcp", http_client=http), mode="2026-07-28",
                   sampling_callback=_unused) as client,
        ):
            try:
                return await client.session.call_tool("test_sampling", {"prompt": "The capital of France?"},
                                                      allow_input_required=True, **call)
            except MCPError as exc:
                return exc

    asked = await raw(hub.admin)
    [(key, request)] = asked.input_requests.items()
    assert request.method == "sampling/createMessage" and key.startswith("sampling-")
    assert [m.content.text for m in request.params.messages] == ["The capital of France?"]  # type: ignore[union-attr]
    state = asked.request_state
    for token, responses, said in ((hub.token("start"), {key: paris}, "did not start"),
                                   (hub.admin, {"sampling-0": paris}, f"no sampling/createMessage result for '{key}'")):
        refused = await raw(token, request_state=state, input_responses=responses)
        assert isinstance(refused, MCPError), refused
        assert refused.error.code == INVALID_PARAMS and said in refused.error.message
    done = await raw(hub.admin, request_state=state, input_responses={key: paris})
    texts = [b.text for b in done.content if isinstance(b, TextContent)]
    assert not done.is_error and texts[0] == "LLM response: Paris"
    again = await raw(hub.admin, request_state=state, input_responses={key: paris})
    assert isinstance(again, MCPError) and "waits for no answer any more" in again.error.message


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
async def test_two_agents_asking_at_once_are_both_answered(hub: LiveHub, mode: str) -> None:
    """On 2026-07-28 both requests travel in results (in one, or one after the other as the steps come)."""
    asked: list[str] = []

    async def sample(context: Any, params: CreateMessageRequestParams) -> CreateMessageResult:
        prompt = params.messages[0].content.text  # type: ignore[union-attr]
        asked.append(prompt)
        return CreateMessageResult(role="assistant", content=TextContent(text=f"re: {prompt}"), model="m")

    done = await _call(hub, "ask_twice_at_once", {}, mode, sampling_callback=sample)
    assert not done.is_error, done
    assert sorted(asked) == ["first", "second"]
    with hub.client() as rest:
        root = rest.get(f"/api/v1/process-instances/{done.meta['agenthub/instance']}").json()
    assert root["state"] == "completed"
    assert (root["variables"]["first"]["response"], root["variables"]["second"]["response"]) == ("re: first",
                                                                                                 "re: second")
