"""An assistant on the hub's MCP server, the way users connect one: the `/mcp` URL with a token, or `agenthub mcp`.

Runs the official ``mcp`` client against a live hub (real guard, real token),
and against ``agenthub mcp`` started as a subprocess over stdio.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from tests.hub.harness import DATA, LiveHub, assistant

pytestmark = pytest.mark.anyio
AGENTHUB = str(Path(sys.executable).with_name("agenthub"))


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
async def test_an_assistant_runs_a_process_waits_for_a_person_and_sees_the_result(live_hub: LiveHub, mode: str) -> None:
    live_hub.deploy("straight.bpmn")
    live_hub.deploy("review.bpmn", expose=True)
    token = live_hub.token("start", "read")
    async with assistant(live_hub, token, mode) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        assert {"straight", "review", "agenthub_get_instance"} <= set(tools)
        assert "agenthub_complete_user_task" not in tools  # the token has no 'tasks' scope
        assert tools["straight"].description == "Doubles the amount."
        assert tools["straight"].input_schema["required"] == ["amount"]

        done = await client.call_tool("straight", {"amount": 4})
        assert not done.is_error and done.structured_content is not None
        assert done.structured_content["doubled"] == 8

        waiting = await client.call_tool("review", {"text": "refund", "orderId": "o-9"})
        data = waiting.structured_content
        assert data is not None and data["state"] == "active" and data["variables"]["echoed"] == "refund"
        [wait] = data["waitingFor"]
        assert wait["kind"] == "userTask" and wait["name"] == "Approve the request"

        # a person completes the task over REST; the message arrives; the assistant sees the end
        with live_hub.client() as rest:
            assert rest.post(f"/api/v1/user-tasks/{wait['task']}/complete", json={"variables": {"ok": 1}}).is_success
            assert rest.post("/api/v1/messages", json={"name": "paid", "correlationKey": "o-9"}).is_success
        final = await client.call_tool("agenthub_get_instance", {"instance": data["instance"]})
        assert final.structured_content is not None
        assert final.structured_content["state"] == "completed"
        assert final.structured_content["variables"]["ok"] == 1


async def test_the_mcp_endpoint_refuses_a_missing_or_wrong_token(live_hub: LiveHub) -> None:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    headers = {"Accept": "application/json, text/event-stream"}
    async with httpx.AsyncClient() as http:
        assert (await http.post(f"{live_hub.url}/mcp", json=body, headers=headers)).status_code == 401
        wrong = {**headers, "Authorization": "Bearer ahk_00000000_" + "x" * 43}
        assert (await http.post(f"{live_hub.url}/mcp", json=body, headers=wrong)).status_code == 401


@pytest.fixture
def deployed_db(tmp_path: Path) -> str:
    db = f"sqlite:///{tmp_path / 'hub.db'}"
    for name in ("straight.bpmn", "review.bpmn"):
        subprocess.run([AGENTHUB, "deploy", "--expose", str(DATA / name), "--db", db], check=True, capture_output=True)
    return db


async def test_agenthub_mcp_serves_a_desktop_assistant_over_stdio(deployed_db: str, tmp_path: Path) -> None:
    db = deployed_db
    command = StdioServerParameters(
        command=AGENTHUB,
        args=["mcp", "--db", db, "--scopes", "start,read,tasks", "--workers", str(DATA / "workers.py")],
        env={**os.environ},
        cwd=tmp_path,
    )
    async with Client(command, mode="legacy") as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        assert {"straight", "review", "agenthub_list_user_tasks", "agenthub_complete_user_task"} <= names
        done = await client.call_tool("straight", {"amount": 5})
        assert done.structured_content is not None and done.structured_content["doubled"] == 10
        waiting = await client.call_tool("review", {"text": "hi", "orderId": "o-1"})
        assert waiting.structured_content is not None
        # `agenthub mcp` runs the worker loop too (with --workers): the echo job runs, then a person is needed
        assert waiting.structured_content["variables"]["echoed"] == "hi"
        [wait] = waiting.structured_content["waitingFor"]
        assert wait["kind"] == "userTask"
        # the task is offered to the managers group; the stdio principal (no groups, not admin) may not take it
        listed = await client.call_tool("agenthub_list_user_tasks", {})
        assert listed.structured_content == {"tasks": [], "next": None}
        done = await client.call_tool("agenthub_complete_user_task", {"task": wait["task"], "variables": {"ok": True}})
        assert done.is_error and done.structured_content is not None
        assert done.structured_content["error"]["type"] == "forbidden"
        diagram = await client.read_resource("agenthub://processes/straight.bpmn")
        assert '<bpmn:process id="straight"' in diagram.contents[0].text  # type: ignore[union-attr]
