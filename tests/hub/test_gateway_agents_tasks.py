"""The gateway beyond plain MCP calls: an A2A agent as a tool, and an approval waited on as an MCP Task.

The agent is the a2a-sdk agent of ``tests/data/a2a/client`` on 127.0.0.1,
registered over REST and federated as ``a2a__helper``. The MCP Task is
spoken as raw JSON-RPC (the ``mcp`` client cannot send a task-augmented
call; see ``tests/protocols/mcp/test_server_tasks.py``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx2
import pytest

from protocols.gateway import GatewaySettings
from protocols.mcp.limits import McpLimits
from tests.data.a2a.client.remote_agent import TOKEN, serve_agent
from tests.data.mcp_upstream import fixtures
from tests.data.mcp_upstream.upstream import HttpUpstream
from tests.hub.harness import LiveHub, assistant, serve_hub
from tests.protocols.mcp.test_server_tasks import RawSession

pytestmark = pytest.mark.anyio

_http_server = fixtures._http_server
http_upstream = fixtures.http_upstream

TOKEN_ENV = "GATEWAY_REMOTE_AGENT_TOKEN"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.parametrize("binding", ["JSONRPC", "GRPC"])
async def test_a_registered_a2a_agent_is_a_tool_that_answers_with_its_finished_task(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, binding: str
) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    gateway = GatewaySettings(agents=("helper",))
    with (
        serve_agent(streaming=False, binding=binding) as remote,
        serve_hub(tmp_path, http_allow="127.0.0.1", gateway=gateway) as hub,
    ):
        with hub.client() as c:
            added = c.post("/api/v1/agents", json={"name": "helper", "url": remote.url, "tokenEnv": TOKEN_ENV})
        assert added.status_code == 201, added.text
        async with assistant(hub, hub.token("start")) as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}
            result = await client.call_tool("a2a__helper", {"message": "hi", "data": {"mode": "complete", "n": 2}})
        with hub.client() as c:
            rows = c.get("/api/v1/audit", params={"subject": "gateway:a2a__helper"}).json()
    assert "Send a message to the A2A agent 'helper'" in (tools["a2a__helper"].description or "")
    assert not result.is_error
    answer = result.structured_content
    assert answer is not None
    assert answer["state"] == "completed"
    assert answer["artifacts"][0]["parts"][0]["echo"] == {"mode": "complete", "n": 2}
    assert answer["artifacts"][0]["parts"][1] == "done"
    assert len(remote.received) == 1
    items = rows["items"] if isinstance(rows, dict) else rows
    assert [r["data"]["outcome"] for r in items] == ["ok"]
    assert items[0]["data"]["agent"] == "helper"


async def test_an_agent_task_still_running_at_the_budget_comes_back_as_its_id_and_is_asked_after_by_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    gateway = GatewaySettings(agents=("helper",))
    with serve_agent(streaming=False) as remote, serve_hub(tmp_path, http_allow="127.0.0.1", gateway=gateway) as hub:
        with hub.client() as c:
            c.post("/api/v1/agents", json={"name": "helper", "url": remote.url, "tokenEnv": TOKEN_ENV}
                   ).raise_for_status()
        async with assistant(hub, hub.token("start")) as client:
            running = await client.call_tool("a2a__helper", {"data": {"mode": "wait"}},
                                             meta={"agenthub/waitSeconds": 1})
            remote.release()
            task_id = (running.structured_content or {})["taskId"]
            deadline = time.monotonic() + 20
            while (later := await client.call_tool("a2a__helper", {"taskId": task_id})).structured_content and \
                    later.structured_content["state"] != "completed":
                assert time.monotonic() < deadline, later
                await anyio.sleep(0.1)
    assert not running.is_error
    assert running.structured_content is not None
    assert running.structured_content["state"] in ("submitted", "working")
    assert f'call again with {{"taskId": "{task_id}"}}' in running.content[1].text
    assert not later.is_error
    assert later.structured_content is not None
    assert later.structured_content["taskId"] == task_id
    assert len(remote.received) == 1  # asking after the task sent no second message


@pytest.fixture
def policies(tmp_path: Path) -> Path:
    path = tmp_path / "policies.json"
    path.write_text(json.dumps([{"tool": "up__echo", "decision": "approve", "reason": "echo needs a look",
                                "allowMachines": "true"}]))
    return path


@pytest.fixture
def hub(tmp_path: Path, policies: Path, http_upstream: HttpUpstream) -> Iterator[LiveHub]:
    gateway = GatewaySettings(servers=("up",))
    with serve_hub(tmp_path, http_allow="127.0.0.1", gateway=gateway, agent_policies=str(policies),
                   mcp=McpLimits(rate_per_minute=0)) as live:
        with live.client() as c:
            c.post("/api/v1/mcp-servers", json={"name": "up", "transport": "http", "url": http_upstream.url}
                   ).raise_for_status()
        yield live


async def test_an_approval_waited_on_as_an_mcp_task_ends_with_the_upstream_result(
    hub: LiveHub, http_upstream: HttpUpstream
) -> None:
    headers = {"Authorization": f"Bearer {hub.token('start')}", "Accept": "application/json, text/event-stream"}
    async with httpx2.AsyncClient(headers=headers, timeout=30) as http:
        session = RawSession(http, f"{hub.url}/mcp")
        await session.open()
        created = await session.result(
            "tools/call", {"name": "up__echo", "arguments": {"text": "later"}, "task": {"ttl": 60000}})
        task_id = created["task"]["taskId"]
        assert created["task"]["status"] == "input_required"
        assert "echo needs a look" in created["task"]["statusMessage"]
        assert http_upstream.upstream.calls("echo") == []
        with hub.client() as c:
            [approval] = c.get("/api/v1/user-tasks", params={"instance": task_id, "all": "true"}).json()["items"]
            c.post(f"/api/v1/user-tasks/{approval['id']}/complete",
                   json={"variables": {"approved": True}}).raise_for_status()
        deadline = time.monotonic() + 20
        while (got := await session.result("tasks/get", {"taskId": task_id}))["status"] != "completed":
            assert got["status"] == "working", got
            assert time.monotonic() < deadline, got
            await anyio.sleep(0.05)
        payload = await session.result("tasks/result", {"taskId": task_id})
    assert payload["content"][0]["text"] == "later"
    assert payload["_meta"]["io.modelcontextprotocol/related-task"] == {"taskId": task_id}
    assert [c["arguments"] for c in http_upstream.upstream.calls("echo")] == [{"text": "later"}]
