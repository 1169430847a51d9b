"""Whose an A2A or MCP task is: the principal that started it, kept by the engine, not the ``caller`` variable.

Over real HTTP on a live hub, with real tokens: a principal with the
``start`` scope may set any instance's variables over REST and start
instances with any variables, so neither may move a task into its own
list or plant one in someone else's.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from a2a.client import Client, ClientConfig, ClientFactory
from a2a.types import CancelTaskRequest, GetTaskRequest, ListTasksRequest, TaskNotFoundError, TaskState
from a2a.utils.constants import TransportProtocol

from tests.hub.harness import LiveHub
from tests.protocols.a2a.harness import message, send

pytestmark = pytest.mark.anyio

CONFIRM = Path(__file__).resolve().parents[1] / "data" / "a2a" / "confirm.bpmn"  # a user task for "=caller"
MCP_TASKS = "2025-11-25"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def named_token(hub: LiveHub, name: str, *scopes: str) -> str:
    with hub.client() as admin:
        answer = admin.post("/api/v1/tokens", json={"name": name, "scopes": list(scopes)})
        answer.raise_for_status()
        return str(answer.json()["token"])


def deploy_confirm(hub: LiveHub) -> None:
    with hub.client() as admin:
        files = [("files", ("confirm.bpmn", CONFIRM.read_bytes(), "application/xml"))]
        admin.post("/api/v1/deployments", files=files).raise_for_status()


@asynccontextmanager
async def agent(hub: LiveHub, token: str) -> AsyncIterator[Client]:
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
        config = ClientConfig(httpx_client=http, supported_protocol_bindings=[TransportProtocol.JSONRPC.value])
        client = await ClientFactory(config).create_from_url(f"{hub.url}/a2a/confirm")
        async with client:
            yield client


async def mcp_call(hub: LiveHub, token: str, method: str, params: dict[str, Any]) -> dict[str, Any]:
    """One request in a fresh 2025-11-25 MCP session (the protocol version that has tasks)."""
    async with httpx.AsyncClient(
        base_url=hub.url,
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json, text/event-stream"},
        timeout=30,
    ) as http:
        hello = {"protocolVersion": MCP_TASKS, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}
        opened = await http.post("/mcp", json={"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": hello})
        session = {"mcp-session-id": opened.headers["mcp-session-id"], "mcp-protocol-version": MCP_TASKS}
        await http.post("/mcp", json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=session)
        answer = await http.post(
            "/mcp", json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params}, headers=session
        )
    assert answer.status_code == 200, answer.text
    if answer.headers["content-type"].startswith("application/json"):
        found: dict[str, Any] = answer.json()
        return found
    for line in answer.text.splitlines():
        if line.startswith("data:") and line.removeprefix("data:").strip() and \
                json.loads(line.removeprefix("data:")).get("id") == 1:  # not the empty SSE priming event
            data: dict[str, Any] = json.loads(line.removeprefix("data:"))
            return data
    raise AssertionError(f"no answer in {answer.text!r}")


async def test_rewriting_the_caller_variable_does_not_hand_an_a2a_task_to_another_principal(
    live_hub: LiveHub,
) -> None:
    deploy_confirm(live_hub)
    alice = named_token(live_hub, "alice", "start")
    bob = named_token(live_hub, "bob", "start")
    async with agent(live_hub, alice) as client:
        task = await send(client, message(data={"order": "o-1"}))
    assert task.status.state == TaskState.TASK_STATE_INPUT_REQUIRED

    with live_hub.client(bob) as rest:
        rewritten = rest.post(f"/api/v1/process-instances/{task.id}/variables", json={"variables": {"caller": "bob"}})
    assert rewritten.status_code == 200 and rewritten.json()["variables"]["caller"] == "bob"

    async with agent(live_hub, bob) as client:
        with pytest.raises(TaskNotFoundError):
            await client.get_task(GetTaskRequest(id=task.id))
        with pytest.raises(TaskNotFoundError):
            await client.cancel_task(CancelTaskRequest(id=task.id))
        assert (await client.list_tasks(ListTasksRequest())).tasks == []

    async with agent(live_hub, alice) as client:
        mine = await client.get_task(GetTaskRequest(id=task.id))
        assert mine.status.state == TaskState.TASK_STATE_INPUT_REQUIRED  # the user task is still hers
        assert [t.id for t in (await client.list_tasks(ListTasksRequest())).tasks] == [task.id]
        done = await send(client, message(data={"confirmed": True}, task_id=task.id))
    assert done.status.state == TaskState.TASK_STATE_COMPLETED


async def test_a_caller_variable_given_at_start_plants_no_task_in_another_principals_list(live_hub: LiveHub) -> None:
    deploy_confirm(live_hub)
    alice = named_token(live_hub, "alice", "start")
    bob = named_token(live_hub, "bob", "start")
    with live_hub.client(bob) as rest:
        started = rest.post(
            "/api/v1/process-instances",
            json={"processId": "confirm", "variables": {"order": "o-2", "caller": "alice"}},
        )
    assert started.status_code == 201
    planted = str(started.json()["instance"])

    async with agent(live_hub, alice) as client:
        assert (await client.list_tasks(ListTasksRequest())).tasks == []
        with pytest.raises(TaskNotFoundError):
            await client.get_task(GetTaskRequest(id=planted))
    got = await mcp_call(live_hub, alice, "tasks/get", {"taskId": planted})
    assert got["error"]["code"] == -32602 and "not found" in got["error"]["message"]


async def test_an_mcp_task_stays_its_starters_after_its_caller_variable_is_rewritten(live_hub: LiveHub) -> None:
    deploy_confirm(live_hub)
    alice = named_token(live_hub, "alice", "start")
    bob = named_token(live_hub, "bob", "start")
    created = await mcp_call(
        live_hub, alice, "tools/call", {"name": "confirm", "arguments": {"order": "o-3"}, "task": {}}
    )
    task_id = created["result"]["task"]["taskId"]
    with live_hub.client(bob) as rest:
        rest.post(f"/api/v1/process-instances/{task_id}/variables", json={"variables": {"caller": "bob"}})
    assert "error" in await mcp_call(live_hub, bob, "tasks/get", {"taskId": task_id})
    assert "error" in await mcp_call(live_hub, bob, "tasks/cancel", {"taskId": task_id})
    own = await mcp_call(live_hub, alice, "tasks/get", {"taskId": task_id})
    assert own["result"]["status"] == "input_required"


async def test_rest_shows_who_started_an_instance_and_no_variable_changes_it(live_hub: LiveHub) -> None:
    deploy_confirm(live_hub)
    alice = named_token(live_hub, "alice", "start")
    bob = named_token(live_hub, "bob", "start", "read")
    async with agent(live_hub, alice) as client:
        task = await send(client, message(data={"order": "o-4"}))
    with live_hub.client(bob) as rest:
        started = rest.post("/api/v1/process-instances", json={"processId": "confirm", "variables": {"order": "o-5"}})
        assert started.json()["startedBy"] == "bob"
        changed = rest.post(
            f"/api/v1/process-instances/{task.id}/variables", json={"variables": {"startedBy": "bob", "caller": "bob"}}
        )
        assert changed.json()["startedBy"] == "alice"
        assert rest.get(f"/api/v1/process-instances/{task.id}").json()["startedBy"] == "alice"
        listed = {item["instance"]: item for item in rest.get("/api/v1/process-instances").json()["items"]}
    assert listed[int(task.id)]["startedBy"] == "alice"
    assert listed[started.json()["instance"]]["startedBy"] == "bob"
