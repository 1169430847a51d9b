"""MCP roots asked mid-run (a service task of job type ``mcp:roots``), and every question of an instance asked in one
result (2026-07-28, SEP-2322), on a live hub through the official ``mcp`` client.

On 2025-era sessions the task sends ``roots/list`` on the call's stream; on 2026-07-28 it travels in the call's
result, beside the instance's other questions: the conformance fixture ``test_input_required_result_multiple_inputs``
asks a user task, an ``mcp:sampling`` agent and an ``mcp:roots`` task on three parallel branches, and all three come
in one ``InputRequiredResult``. In an MCP task (the Tasks extension) the roots request is one of the task's
``inputRequests``. An instance no waiting call started, or a client that did not declare roots, gets an incident
that says why.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp_types import (
    CreateMessageRequestParams,
    CreateMessageResult,
    ElicitRequestParams,
    ElicitResult,
    ListRootsResult,
    Root,
    TextContent,
)

from tests.hub.harness import LiveHub, serve_hub
from tests.hub.mcp_tasks_client import TasksClient

pytestmark = pytest.mark.anyio
FIXTURES = Path(__file__).resolve().parent / "mcp_fixtures"
MODES = ["legacy", "2026-07-28"]
TOGETHER = "test_input_required_result_multiple_inputs"

# Decides first, then asks the client's roots: where a review runs depends on them.
WHERE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" xmlns:agenthub="urn:agenthub:bpmn:1" id="w" targetNamespace="x">
  <bpmn:process id="review_where" isExecutable="true">
    <bpmn:documentation>Reviews the caller's workspace: asks the client where it is.</bpmn:documentation>
    <bpmn:extensionElements><agenthub:tool/></bpmn:extensionElements>
    <bpmn:startEvent id="s"/>
    <bpmn:serviceTask id="roots" name="Where is the workspace?">
      <bpmn:extensionElements>
        <zeebe:taskDefinition type="mcp:roots"/>
        <zeebe:taskHeaders><zeebe:header key="resultVariable" value="workspace"/></zeebe:taskHeaders>
      </bpmn:extensionElements>
    </bpmn:serviceTask>
    <bpmn:scriptTask id="say">
      <bpmn:extensionElements>
        <zeebe:script expression="=&quot;reviewing &quot; + workspace[1].uri" resultVariable="said"/>
      </bpmn:extensionElements>
    </bpmn:scriptTask>
    <bpmn:endEvent id="e"/>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="roots"/>
    <bpmn:sequenceFlow id="f2" sourceRef="roots" targetRef="say"/>
    <bpmn:sequenceFlow id="f3" sourceRef="say" targetRef="e"/>
  </bpmn:process>
</bpmn:definitions>"""

ROOTS = ListRootsResult(roots=[Root(uri="file:///home/ada/project", name="project")])  # type: ignore[arg-type]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveHub]:
    with serve_hub(tmp_path_factory.mktemp("roots")) as live:
        files = [("files", (f"{TOGETHER}.bpmn", (FIXTURES / f"{TOGETHER}.bpmn").read_bytes(), "application/xml")),
                 ("files", ("review_where.bpmn", WHERE.encode(), "application/xml"))]
        with live.client() as rest:
            rest.post("/api/v1/deployments", files=files, params={"expose": "true"}).raise_for_status()
        yield live


def _client(hub: LiveHub, http: httpx2.AsyncClient, mode: str, **options: Any) -> Client:
    return Client(streamable_http_client(f"{hub.url}/mcp", http_client=http), mode=mode, **options)  # type: ignore[arg-type]


async def _call(hub: LiveHub, tool: str, mode: str, **options: Any) -> Any:
    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {hub.admin}"}, timeout=30) as http, \
            _client(hub, http, mode, **options) as client:
        return await client.call_tool(tool, {})


def _instance(hub: LiveHub, key: int) -> dict[str, Any]:
    with hub.client() as rest:
        answer = rest.get(f"/api/v1/process-instances/{key}")
        answer.raise_for_status()
        return dict(answer.json())


async def _roots(context: Any) -> ListRootsResult:
    return ROOTS


async def _sample(context: Any, params: CreateMessageRequestParams) -> CreateMessageResult:
    return CreateMessageResult(role="assistant", content=TextContent(text="Hello there!"), model="m",
                               stop_reason="endTurn")


async def _elicit(context: Any, params: ElicitRequestParams) -> ElicitResult:
    return ElicitResult(action="accept", content={"name": "Alice"})


@pytest.mark.parametrize("mode", MODES)
async def test_a_roots_task_asks_the_calling_client_mid_run_into_its_result_variable(hub: LiveHub, mode: str) -> None:
    asked: list[str] = []

    async def roots(context: Any) -> ListRootsResult:
        asked.append("roots")
        return ROOTS

    done = await _call(hub, "review_where", mode, list_roots_callback=roots)
    assert not done.is_error, done
    assert asked == ["roots"]
    variables = _instance(hub, done.meta["agenthub/instance"])["variables"]
    assert variables["workspace"] == [{"uri": "file:///home/ada/project", "name": "project"}]
    assert variables["said"] == "reviewing file:///home/ada/project"


async def test_on_2026_07_28_a_user_task_a_model_step_and_a_roots_task_are_asked_in_one_result(hub: LiveHub) -> None:
    """Three parallel branches ask at once: one ``InputRequiredResult`` with ``elicitation/create``,
    ``sampling/createMessage`` and ``roots/list``; one call with the three answers and the state completes it."""
    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {hub.admin}"}, timeout=30) as http, \
            _client(hub, http, "2026-07-28", list_roots_callback=_roots, sampling_callback=_sample,
                    elicitation_callback=_elicit) as client:
        asked = await client.session.call_tool(TOGETHER, {}, allow_input_required=True)
        methods = {key: request.method for key, request in asked.input_requests.items()}
        assert sorted(methods.values()) == ["elicitation/create", "roots/list", "sampling/createMessage"], methods
        answers: dict[str, Any] = {}
        for key, method in methods.items():
            answers[key] = {"elicitation/create": ElicitResult(action="accept", content={"name": "Alice"}),
                            "roots/list": ROOTS,
                            "sampling/createMessage": await _sample(None, None)}[method]  # type: ignore[arg-type]
        done = await client.session.call_tool(TOGETHER, {}, request_state=asked.request_state,
                                              input_responses=answers)
    assert not done.is_error, done
    assert done.content[0].text == "Hello, Alice; the model said: Hello there!; roots: file:///home/ada/project"
    assert _instance(hub, done.meta["agenthub/instance"])["state"] == "completed"


@pytest.mark.parametrize("mode", MODES)
async def test_the_clients_drivers_answer_the_three_questions_on_either_protocol(hub: LiveHub, mode: str) -> None:
    """On 2025-era sessions as three server requests, on 2026-07-28 by the SDK's multi-round-trip driver."""
    done = await _call(hub, TOGETHER, mode, list_roots_callback=_roots, sampling_callback=_sample,
                       elicitation_callback=_elicit)
    assert not done.is_error, done
    assert done.content[0].text == "Hello, Alice; the model said: Hello there!; roots: file:///home/ada/project"


async def test_in_an_mcp_task_the_roots_request_is_one_of_the_tasks_input_requests(hub: LiveHub) -> None:
    methods: list[str] = []

    async def answer(key: str, request: dict[str, Any]) -> dict[str, Any]:
        methods.append(request["method"])
        if request["method"] == "roots/list":
            return ROOTS.model_dump(mode="json", by_alias=True, exclude_none=True)
        if request["method"] == "sampling/createMessage":
            return (await _sample(None, None)).model_dump(mode="json", by_alias=True, exclude_none=True)  # type: ignore[arg-type]
        return {"action": "accept", "content": {"name": "Alice"}}

    tasks = TasksClient(answer)
    done = await _call(hub, TOGETHER, "2026-07-28", extensions=[tasks], list_roots_callback=_roots,
                       sampling_callback=_sample, elicitation_callback=_elicit)
    assert not done.is_error, done
    assert sorted(methods) == ["elicitation/create", "roots/list", "sampling/createMessage"]
    assert tasks.created and any(t.status == "input_required" for t in tasks.seen)


@pytest.mark.parametrize("mode", MODES)
async def test_a_client_without_roots_gets_a_tool_error_and_the_instance_an_incident_saying_why(
    hub: LiveHub, mode: str
) -> None:
    failed = await _call(hub, "review_where", mode)
    assert failed.is_error and failed.meta["agenthub/state"] == "incident"
    assert "did not declare the 'roots' capability" in " ".join(b.text for b in failed.content)


async def test_a_roots_task_no_waiting_call_started_is_an_incident_at_once(hub: LiveHub) -> None:
    with hub.client() as rest:
        started = rest.post("/api/v1/process-instances",
                            json={"processId": "review_where", "variables": {}, "awaitCompletion": 20})
        started.raise_for_status()
        incidents = rest.get("/api/v1/incidents", params={"instance": started.json()["instance"]}).json()["items"]
    assert started.json()["state"] == "incident"  # at once: no retry can find a caller
    assert "no MCP tool call of this hub is waiting" in incidents[0]["message"]
