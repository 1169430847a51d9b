"""The HTTP side of the endpoint: where it answers, what it leaves to the hub's guard, how long a request may run."""

from __future__ import annotations

import time
from typing import Any

import pytest
from mcp.shared.exceptions import MCPError

from engine import Engine
from protocols.mcp import server

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
@pytest.mark.parametrize("path", ["/mcp", "/mcp/"])
async def test_the_endpoint_answers_with_and_without_a_trailing_slash(mcp_hub: Any, mode: str, path: str) -> None:
    async with mcp_hub.client("agent", mode=mode, path=path) as client:
        result = await client.call_tool("quote", {"amount": 0})
    assert result.structured_content == {"amount": 0, "caller": "agent", "price": 10}


async def test_host_and_origin_are_left_to_the_hub_s_guard(mcp_hub: Any) -> None:
    # The hub's guard decides which hosts and origins are allowed; the SDK's own check is off, so a public
    # host name the guard accepted is not refused a second time here.
    params = {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}
    body = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": params}
    headers = {"host": "hub.example.com", "origin": "https://hub.example.com"}
    async with mcp_hub.http("reader") as http:
        answer = await http.post(mcp_hub.url, json=body, headers=headers)
    assert answer.status_code == 200, answer.text
    assert "mcp-session-id" in answer.headers


async def test_a_request_that_outlives_its_deadline_is_stopped_with_a_timeout_error(
    serve_mcp: Any, mcp_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(server, "REQUEST_GRACE_S", 0.05)
    listed = mcp_engine.tools

    def slow_tools() -> Any:
        time.sleep(0.3)  # a stuck database, as the handler sees it
        return listed()

    monkeypatch.setattr(mcp_engine, "tools", slow_tools)
    hub = serve_mcp(call_timeout_s=0)
    async with hub.client("agent") as client:
        with pytest.raises(MCPError) as stopped:
            await client.list_tools()
    assert stopped.value.code == -32001
    assert "did not finish within 0.05 seconds" in stopped.value.message
