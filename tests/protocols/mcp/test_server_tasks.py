"""MCP Tasks (2025-11-25): a task-augmented call is a process instance.

mcp 2.3.0's client cannot send a task-augmented ``tools/call`` (it checks
the answer against ``CallToolResult``), so these tests speak JSON-RPC over
HTTP themselves, with a session opened by the initialize handshake.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import anyio
import httpx2
import mcp_types as types
import pytest

from engine import AskPerson

pytestmark = pytest.mark.anyio

VERSION = "2025-11-25"
REFUND_REVIEW = (Path(__file__).resolve().parents[2] / "data" / "cli" / "refund_review.bpmn").read_bytes()
EXTERNAL = (Path(__file__).resolve().parents[2] / "data" / "hub" / "external.bpmn").read_bytes()


class RawSession:
    """A 2025-11-25 session spoken by hand: JSON-RPC requests, answers as JSON or SSE."""

    def __init__(self, http: httpx2.AsyncClient, url: str) -> None:
        self.http = http
        self.url = url
        self.headers: dict[str, str] = {}
        self.ids = itertools.count(1)
        self.capabilities: dict[str, Any] = {}

    async def open(self) -> None:
        params = {"protocolVersion": VERSION, "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}
        answer = await self.http.post(
            self.url, json={"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": params}
        )
        self.headers = {"mcp-session-id": answer.headers["mcp-session-id"], "mcp-protocol-version": VERSION}
        self.capabilities = _message(answer, 0)["result"]["capabilities"]
        await self.http.post(
            self.url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=self.headers
        )

    async def send(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """The whole JSON-RPC answer: ``result`` or ``error``."""
        request_id = next(self.ids)
        body = {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}
        return _message(await self.http.post(self.url, json=body, headers=self.headers), request_id)

    async def result(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        answer = await self.send(method, params)
        assert "result" in answer, answer
        result: dict[str, Any] = answer["result"]
        return result


def _message(answer: httpx2.Response, request_id: int) -> dict[str, Any]:
    assert answer.status_code == 200, answer.text
    if answer.headers["content-type"].startswith("application/json"):
        found: dict[str, Any] = answer.json()
        return found
    for line in answer.text.splitlines():
        if line.startswith("data:") and line.removeprefix("data:").strip():  # not the empty SSE priming event
            message: dict[str, Any] = json.loads(line.removeprefix("data:"))
            if message.get("id") == request_id:
                return message
    raise AssertionError(f"no answer to request {request_id} in {answer.text!r}")


@pytest.fixture
async def session(mcp_hub: Any) -> Any:
    async with mcp_hub.http("agent") as http:
        raw = RawSession(http, mcp_hub.url)
        await raw.open()
        yield raw


async def test_the_server_advertises_task_augmented_tool_calls(session: RawSession) -> None:
    assert session.capabilities["tasks"] == {"list": {}, "cancel": {}, "requests": {"tools": {"call": {}}}}
    tools = (await session.result("tools/list", {}))["tools"]
    execution = {tool["name"]: tool.get("execution") for tool in tools}
    assert execution["quote"] == {"taskSupport": "optional"}
    assert execution["agenthub_get_instance"] is None


async def test_a_task_is_the_process_instance_from_start_to_result(session: RawSession, mcp_hub: Any) -> None:
    created = await session.result(
        "tools/call", {"name": "approval", "arguments": {"order": "T-1", "amount": 5}, "task": {"ttl": 60000}}
    )
    task = created["task"]
    instance = int(task["taskId"])
    assert mcp_hub.engine.instance(instance).process_id == "approval"
    assert task["status"] == "input_required"
    assert "Approve the refund" in task["statusMessage"]
    assert task["ttl"] is None and task["pollInterval"] == 1000
    assert task["createdAt"].endswith("Z")

    got = await session.result("tasks/get", {"taskId": task["taskId"]})
    assert got["status"] == "input_required"

    [user_task] = mcp_hub.engine.user_tasks(instance=instance)
    mcp_hub.engine.complete_user_task(user_task.key, {})  # a manager's to complete, not this agent's
    assert (await session.result("tasks/get", {"taskId": task["taskId"]}))["status"] == "completed"

    payload = await session.result("tasks/result", {"taskId": task["taskId"]})
    assert payload["structuredContent"] == {"order": "T-1", "amount": 5, "caller": "agent"}
    assert payload["isError"] is False
    assert payload["_meta"]["io.modelcontextprotocol/related-task"] == {"taskId": task["taskId"]}

    listed = await session.result("tasks/list", {})
    assert task["taskId"] in [t["taskId"] for t in listed["tasks"]]


async def test_a_straight_through_task_is_completed_at_once(session: RawSession) -> None:
    created = await session.result("tools/call", {"name": "quote", "arguments": {"amount": 1}, "task": {}})
    assert created["task"]["status"] == "completed"
    payload = await session.result("tasks/result", {"taskId": created["task"]["taskId"]})
    assert payload["structuredContent"]["price"] == 12


async def test_an_incident_is_a_failed_task(session: RawSession) -> None:
    created = await session.result("tools/call", {"name": "routing", "arguments": {"score": 3}, "task": {}})
    assert created["task"]["status"] == "failed"
    assert "no outgoing sequence flow" in created["task"]["statusMessage"]
    payload = await session.result("tasks/result", {"taskId": created["task"]["taskId"]})
    assert payload["isError"] is True


async def test_cancelling_a_task_terminates_its_instance_once(session: RawSession, mcp_hub: Any) -> None:
    created = await session.result("tools/call", {"name": "payment", "arguments": {"orderId": "X"}, "task": {}})
    task_id = created["task"]["taskId"]
    cancelled = await session.result("tasks/cancel", {"taskId": task_id})
    assert cancelled["status"] == "cancelled"
    assert mcp_hub.engine.instance(int(task_id)).state == "terminated"
    again = await session.send("tasks/cancel", {"taskId": task_id})
    assert again["error"]["code"] == -32602 and "already terminated" in again["error"]["message"]


async def test_bad_task_requests_are_refused_and_start_nothing(session: RawSession, mcp_hub: Any) -> None:
    invalid = await session.send("tools/call", {"name": "quote", "arguments": {"amount": "lots"}, "task": {}})
    assert invalid["error"]["code"] == -32602 and "'amount' must be a number" in invalid["error"]["message"]
    builtin = await session.send("tools/call", {"name": "agenthub_list_instances", "arguments": {}, "task": {}})
    assert builtin["error"]["code"] == -32601
    for task_id in ("999999", "abc", "-1", "9999999999999999999", "\u0661"):
        unknown = await session.send("tasks/get", {"taskId": task_id})
        assert unknown["error"]["code"] == -32602
    assert mcp_hub.engine.instances() == []


async def test_a_token_that_may_only_start_follows_its_own_tasks_and_no_others(mcp_hub: Any) -> None:
    someone_else = mcp_hub.engine.start("quote", {"amount": 1, "caller": "x"}).key
    async with mcp_hub.http("starter") as http:
        starter = RawSession(http, mcp_hub.url)
        await starter.open()
        created = await starter.result("tools/call", {"name": "quote", "arguments": {"amount": 2}, "task": {}})
        own = await starter.send("tasks/result", {"taskId": created["task"]["taskId"]})
        other = await starter.send("tasks/get", {"taskId": str(someone_else)})
        missing = await starter.send("tasks/get", {"taskId": "999999"})
        listed = await starter.send("tasks/list", {})
    assert own["result"]["structuredContent"]["price"] == 14
    assert other["error"]["code"] == missing["error"]["code"] == -32602
    assert "not found" in other["error"]["message"] and "not found" in missing["error"]["message"]
    assert listed["error"]["code"] == -32003


async def test_task_methods_check_scopes(mcp_hub: Any) -> None:
    async with mcp_hub.http("clerk") as http:
        clerk = RawSession(http, mcp_hub.url)
        await clerk.open()
        started = await clerk.send("tools/call", {"name": "quote", "arguments": {"amount": 1}, "task": {}})
        listed = await clerk.send("tasks/list", {})
    assert started["error"]["code"] == -32003
    assert listed["error"]["code"] == -32003


async def test_the_2026_protocol_has_no_tasks_so_a_task_request_runs_as_a_plain_call(mcp_hub: Any) -> None:
    request = types.CallToolRequest(
        params=types.CallToolRequestParams(name="quote", arguments={"amount": 1}, task=types.TaskMetadata(ttl=5))
    )
    async with mcp_hub.client("agent", mode="2026-07-28") as client:
        result = await client.session.send_request(request, types.CallToolResult)
        assert client.server_capabilities.tasks is None
    assert result.structured_content == {"amount": 1, "caller": "agent", "price": 12}


async def test_a_task_whose_instance_waits_for_a_worker_nobody_runs_says_which_job_type(
    session: RawSession, mcp_hub: Any
) -> None:
    mcp_hub.engine.deploy([("refund_review.bpmn", REFUND_REVIEW)])
    key = mcp_hub.engine.start("refund_review", {"order": {"customer": "ada", "total": 2, "reason": "late"}}).key
    [user_task] = mcp_hub.engine.user_tasks(instance=key)
    mcp_hub.engine.complete_user_task(user_task.key, {})
    got = await session.result("tasks/get", {"taskId": str(key)})
    assert got["status"] == "working"
    assert got["statusMessage"] == f"instance {key} of refund_review waits for a worker of job type 'refund-payment'"


async def test_a_task_waiting_for_a_person_says_what_the_person_is_asked(session: RawSession, mcp_hub: Any) -> None:
    mcp_hub.engine.deploy([("external.bpmn", EXTERNAL)])
    key = mcp_hub.engine.start("external").key
    [job] = mcp_hub.engine.activate_jobs(["remote-work"], "w")
    mcp_hub.engine.park_job(job.key, AskPerson("Size", details={"question": "S or M?"}), worker="w",
                            lock_version=job.lock_version)
    got = await session.result("tasks/get", {"taskId": str(key)})
    assert got["status"] == "input_required"
    assert got["statusMessage"].endswith(f"'Size' (task {mcp_hub.engine.user_tasks(instance=key)[0].key}) "
                                         'asking "S or M?"')



async def test_the_session_that_created_a_task_hears_its_status_change_until_it_ends(mcp_hub: Any) -> None:
    """``notifications/tasks/status`` (2025-11-25, optional for a server): sent on the session's standalone stream
    (its ``GET``) when the task's status or message changes, here from input_required (a manager's task) to
    completed, and not again once it ended."""
    heard: list[dict[str, Any]] = []
    listening, ended = anyio.Event(), anyio.Event()

    async with mcp_hub.http("agent") as http:
        raw = RawSession(http, mcp_hub.url)
        await raw.open()

        async def listen() -> None:
            headers = {**raw.headers, "Accept": "text/event-stream"}
            async with http.stream("GET", mcp_hub.url, headers=headers) as answer:
                assert answer.status_code == 200
                listening.set()
                async for line in answer.aiter_lines():
                    message = json.loads(line[5:]) if line.startswith("data:") and line[5:].strip() else {}
                    if message.get("method") == "notifications/tasks/status":
                        heard.append(message["params"])
                        if message["params"]["status"] == "completed":
                            ended.set()

        async with anyio.create_task_group() as streams:
            streams.start_soon(listen)
            with anyio.fail_after(10):
                await listening.wait()
            created = await raw.result("tools/call", {"name": "approval", "arguments": {"order": "T-9", "amount": 3},
                                                      "task": {}})
            key = int(created["task"]["taskId"])
            assert created["task"]["status"] == "input_required"
            [user_task] = await anyio.to_thread.run_sync(lambda: mcp_hub.engine.user_tasks(instance=key))
            await anyio.to_thread.run_sync(lambda: mcp_hub.engine.complete_user_task(user_task.key, {}))
            with anyio.fail_after(10):
                await ended.wait()
            streams.cancel_scope.cancel()
    assert [(p["taskId"], p["status"]) for p in heard] == [(str(key), "completed")]  # not what it was told already
    assert heard[0]["pollInterval"] == 1000 and heard[0]["lastUpdatedAt"].endswith("Z")
