"""MCP Tasks as the 2026-07-28 extension (SEP-2663) on a live hub, driven by the official SDK's ``Client`` with the
extension added through its public API (``mcp_tasks_client.TasksClient``).

The processes are the conformance suite's task fixtures under ``mcp_fixtures/`` (``slow_compute``: a timer;
``confirm_delete`` and ``multi_input``: questions for the caller; ``failing_job``: a process that reports an
error, declared ``taskSupport="required"``; ``protocol_error_job``: an error nobody catches; ``greet``:
``taskSupport="forbidden"``).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult, TextContent

from tests.hub.harness import LiveHub, serve_hub
from tests.hub.mcp_tasks_client import TASKS, CreatedTask, GetTask, TaskIdParams, TasksClient, cancel, get, update

FIXTURES = Path(__file__).resolve().parent / "mcp_fixtures"
pytestmark = pytest.mark.anyio
TOOLS = ("greet", "slow_compute", "failing_job", "protocol_error_job", "confirm_delete", "multi_input",
         "test_sampling")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveHub]:
    with serve_hub(tmp_path_factory.mktemp("tasks-ext")) as live:
        files = [("files", (f"{name}.bpmn", (FIXTURES / f"{name}.bpmn").read_bytes(), "application/xml"))
                 for name in TOOLS]
        with live.client() as rest:
            rest.post("/api/v1/deployments", files=files, params={"expose": "true"}).raise_for_status()
        yield live


@asynccontextmanager
async def connected(hub: LiveHub, *, token: str | None = None, mode: str = "2026-07-28",
                    tasks: TasksClient | None = None) -> AsyncIterator[Client]:
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {token or hub.admin}"}, timeout=30) as http,
        Client(streamable_http_client(f"{hub.url}/mcp", http_client=http), mode=mode,
               extensions=[tasks] if tasks is not None else None) as client,
    ):
        yield client


def _text(result: CallToolResult) -> str:
    first = result.content[0]
    assert isinstance(first, TextContent)
    return first.text


def _instance(hub: LiveHub, key: str) -> dict[str, Any]:
    with hub.client() as rest:
        answer = rest.get(f"/api/v1/process-instances/{key}")
        answer.raise_for_status()
        return dict(answer.json())


async def test_a_call_that_outlasts_the_inline_wait_answers_with_a_task_the_client_polls_to_its_result(
    hub: LiveHub,
) -> None:
    tasks = TasksClient()
    async with connected(hub, tasks=tasks) as client:
        discovered = (await client.session.send_discover("2026-07-28"))["capabilities"]
        assert discovered["extensions"] == {TASKS: {}} and "tasks" not in discovered
        result = await client.call_tool("slow_compute", {"seconds": 1, "label": "report"})
        assert _text(result) == "computed report in 1 seconds" and not result.is_error
        [created] = tasks.created
        assert created.status == "working" and created.ttl_ms is None and created.poll_interval_ms == 1000
        assert "timer" in (created.status_message or "") or "running" in (created.status_message or "")
        assert tasks.seen[-1].status == "completed" and tasks.seen[-1].task_id == created.task_id
        assert _instance(hub, created.task_id)["state"] == "completed"  # the task is the instance
        quick = await client.call_tool("greet", {"name": "Ada"})  # taskSupport="forbidden": answered at once
        assert _text(quick) == "Hello, Ada!" and len(tasks.created) == 1
        # a zero-second timer usually fires within the inline wait, and the call answers at once (the extension's
        # immediate-result shortcut); on a loaded machine it may become a task: the client sees the same result
        instant = await client.call_tool("slow_compute", {"seconds": 0})
        assert _text(instant) == "computed in 0 seconds" and len(tasks.created) in (1, 2)


async def test_the_callers_questions_are_the_tasks_input_requests_answered_with_tasks_update(hub: LiveHub) -> None:
    asked: list[tuple[str, dict[str, Any]]] = []

    async def answer(key: str, request: dict[str, Any]) -> dict[str, Any]:
        asked.append((key, request))
        return {"action": "accept", "content": {"confirm": True}}

    async with connected(hub, tasks=TasksClient(answer)) as client:
        result = await client.call_tool("confirm_delete", {"filename": "old.log"})
    assert _text(result) == "deleted old.log"
    [(key, request)] = asked
    assert key.startswith("confirm-") and request["method"] == "elicitation/create"
    assert request["params"]["message"] == "Delete the file?"
    assert request["params"]["requestedSchema"]["required"] == ["confirm"]


async def test_an_mcp_sampling_agents_model_step_is_an_input_request_of_the_task(hub: LiveHub) -> None:
    """An agent on ``mcp:sampling`` asks the caller's model through the task: ``sampling/createMessage`` in
    ``inputRequests``, the model's answer through ``tasks/update``."""
    asked: list[dict[str, Any]] = []

    async def answer(key: str, request: dict[str, Any]) -> dict[str, Any]:
        asked.append(request)
        return {"role": "assistant", "content": {"type": "text", "text": "Paris"}, "model": "the-callers-model",
                "stopReason": "endTurn"}

    async def unused(context: Any, params: Any) -> Any:
        raise AssertionError("the request travels in the task, not in a result of the call")

    tasks = TasksClient(answer)
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {hub.admin}"}, timeout=30) as http,
        Client(streamable_http_client(f"{hub.url}/mcp", http_client=http), mode="2026-07-28", extensions=[tasks],
               sampling_callback=unused) as client,
    ):
        result = await client.call_tool("test_sampling", {"prompt": "The capital of France?"})
    assert _text(result) == "LLM response: Paris"
    [request] = asked
    assert request["method"] == "sampling/createMessage"
    assert "The capital of France?" in json.dumps(request["params"]["messages"])
    assert any(t.status == "input_required" for t in tasks.seen)


async def test_two_questions_at_once_are_answered_one_by_one_and_a_declined_one_is_not_asked_again(
    hub: LiveHub,
) -> None:
    async with connected(hub) as plain, connected(hub, tasks=TasksClient()) as client:
        created = await client.session.call_tool("multi_input", {}, allow_claimed=True)
        assert isinstance(created, CreatedTask)
        session = client.session
        task = await get(session, created.task_id)
        assert task.status == "input_required" and task.input_requests is not None
        first, second = sorted(task.input_requests)
        acked = await update(session, created.task_id, {first: {"action": "accept", "content": {"name": "Ada"}},
                                                        "no-such-question": {"action": "accept"}})
        assert acked.model_dump(by_alias=True, exclude_none=True, exclude={"meta"}) == {"resultType": "complete"}
        task = await get(session, created.task_id)
        assert task.status == "input_required" and list(task.input_requests or {}) == [second]
        await update(session, created.task_id, {second: {"action": "decline"}})
        task = await get(session, created.task_id)  # declined: not asked again; the user task stays open
        assert task.status == "working" and not task.input_requests
        with pytest.raises(MCPError) as refused:  # the task methods need the extension on the request
            await get(plain.session, created.task_id)
        assert refused.value.code == -32021
        assert refused.value.error.data == {"requiredCapabilities": {"extensions": {TASKS: {}}}}
        assert await cancel(session, created.task_id) is not None
        assert (await get(session, created.task_id)).status == "cancelled"
        assert _instance(hub, created.task_id)["state"] == "terminated"
        await cancel(session, created.task_id)  # again, on an ended task: acknowledged all the same


async def test_a_process_error_completes_the_task_with_is_error_and_an_incident_fails_it_with_a_json_rpc_error(
    hub: LiveHub,
) -> None:
    async with connected(hub, tasks=TasksClient()) as client:
        reported = await client.call_tool("failing_job", {})
        assert reported.is_error and _text(reported) == "the job failed: its input could not be processed"
        assert reported.structured_content is not None and "mcpIsError" not in reported.structured_content
        with pytest.raises(MCPError) as failed:
            await client.call_tool("protocol_error_job", {})
    assert failed.value.code == -32603 and "stopped with an incident" in failed.value.error.message
    data = failed.value.error.data
    assert isinstance(data, dict) and data["incidents"] and _instance(hub, str(data["instance"]))["state"] == \
        "incident"


async def test_a_required_task_tool_refuses_a_client_without_the_extension_and_removed_methods_are_unknown(
    hub: LiveHub,
) -> None:
    async with connected(hub) as client:
        with pytest.raises(MCPError) as refused:
            await client.call_tool("failing_job", {})
        assert refused.value.code == -32021 and "runs only as a task" in refused.value.error.message
        answer = await client.call_tool("slow_compute", {"seconds": 1})  # optional: a plain call, which answers
        assert answer.structured_content is not None and answer.structured_content["state"] == "active"  # waiting
        assert "waits for: a timer" in str(answer.content[1])
        for method in ("tasks/result", "tasks/list"):
            with pytest.raises(MCPError) as unknown:
                await client.session.send_request(_raw(method), CallToolResult)
            assert unknown.value.code == -32601
    async with connected(hub, mode="legacy") as legacy:
        with pytest.raises(MCPError) as legacy_refused:
            await legacy.call_tool("failing_job", {})
        assert legacy_refused.value.code == -32601 and "with 'task'" in legacy_refused.value.error.message


async def test_someone_elses_task_is_not_found_and_an_unknown_id_is_invalid_params(hub: LiveHub) -> None:
    async with connected(hub, tasks=TasksClient()) as client:
        created = await client.session.call_tool("slow_compute", {"seconds": 30}, allow_claimed=True)
        assert isinstance(created, CreatedTask)
        other = hub.token("start")
        async with connected(hub, token=other, tasks=TasksClient()) as stranger:
            for task_id in (created.task_id, "no-such-task"):
                with pytest.raises(MCPError) as hidden:
                    await get(stranger.session, task_id)
                assert hidden.value.code == -32602 and "not found" in hidden.value.error.message
            with pytest.raises(MCPError):
                await cancel(stranger.session, created.task_id)
        assert (await get(client.session, created.task_id)).status == "working"
        await cancel(client.session, created.task_id)


def _raw(method: str) -> Any:
    request = GetTask(params=TaskIdParams(task_id="1"))
    return request.model_copy(update={"method": method})
