"""Who sees and may call what: tools and resources gated by the caller's scopes, sessions bound to the caller."""

from __future__ import annotations

from typing import Any

import pytest
from mcp.shared.exceptions import MCPError

pytestmark = pytest.mark.anyio

PROCESS_TOOLS = {"approval", "echo", "payment", "quote", "routing"}
FORBIDDEN = -32003


async def names(hub: Any, token: str, mode: str = "legacy") -> set[str]:
    async with hub.client(token, mode=mode) as client:
        return {tool.name for tool in (await client.list_tools()).tools}


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
async def test_each_caller_is_offered_only_the_tools_its_scopes_allow(mcp_hub: Any, mode: str) -> None:
    read = {"agenthub_list_instances", "agenthub_get_instance"}
    tasks = {"agenthub_list_user_tasks", "agenthub_complete_user_task"}
    assert await names(mcp_hub, "reader", mode) == read
    assert await names(mcp_hub, "clerk", mode) == tasks
    assert await names(mcp_hub, "starter", mode) == PROCESS_TOOLS | {"agenthub_publish_message"}
    assert await names(mcp_hub, "worker", mode) == set()
    assert await names(mcp_hub, "admin", mode) == PROCESS_TOOLS | read | tasks | {"agenthub_publish_message"}


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
async def test_calling_a_process_tool_without_the_start_scope_is_refused_and_starts_nothing(
    mcp_hub: Any, mode: str
) -> None:
    async with mcp_hub.client("reader", mode=mode) as client:
        with pytest.raises(MCPError) as refused:
            await client.call_tool("quote", {"amount": 1})
    assert refused.value.code == FORBIDDEN
    assert "'start' scope" in refused.value.message
    assert mcp_hub.engine.instances() == []


@pytest.mark.parametrize(
    ("token", "tool", "arguments"),
    [
        ("starter", "agenthub_get_instance", {"instance": 1}),
        ("reader", "agenthub_complete_user_task", {"task": 1}),
        ("clerk", "agenthub_publish_message", {"name": "paid"}),
        ("starter", "agenthub_list_user_tasks", {}),
    ],
)
async def test_calling_a_builtin_tool_without_its_scope_is_refused(
    mcp_hub: Any, token: str, tool: str, arguments: dict[str, Any]
) -> None:
    async with mcp_hub.client(token) as client:
        with pytest.raises(MCPError) as refused:
            await client.call_tool(tool, arguments)
    assert refused.value.code == FORBIDDEN


async def test_unknown_tools_are_a_protocol_error_naming_the_tool(mcp_hub: Any) -> None:
    async with mcp_hub.client("agent") as client:
        for name in ("internal", "nope", "agenthub_nope"):
            with pytest.raises(MCPError, match=f"unknown tool '{name}'") as unknown:
                await client.call_tool(name, {})
            assert unknown.value.code == -32602


async def test_a_request_without_a_verified_principal_is_refused_with_401(mcp_hub: Any) -> None:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    async with mcp_hub.http(token=None) as http:
        answer = await http.post(mcp_hub.url, json=body)
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == -32600


async def test_a_session_belongs_to_the_token_that_opened_it_until_it_is_deleted(mcp_hub: Any) -> None:
    initialize = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
    }
    async with mcp_hub.http("agent") as alice, mcp_hub.http("reader") as mallory:
        opened = await alice.post(mcp_hub.url, json=initialize)
        session = opened.headers["mcp-session-id"]
        headers = {"mcp-session-id": session, "mcp-protocol-version": "2025-11-25"}
        listing = {"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}}
        stolen = await mallory.post(mcp_hub.url, json=listing, headers=headers)
        own = await alice.post(mcp_hub.url, json=listing, headers=headers)
        ended = await alice.delete(mcp_hub.url, headers=headers)
        after_end = await alice.post(mcp_hub.url, json=listing, headers=headers)
    assert opened.status_code == 200
    assert stolen.status_code == 404
    assert own.status_code == 200
    assert ended.status_code == 200
    assert after_end.status_code == 404


async def test_resources_need_the_read_scope(mcp_hub: Any) -> None:
    async with mcp_hub.client("starter") as client:
        assert (await client.list_resources()).resources == []
        with pytest.raises(MCPError) as refused:
            await client.read_resource("agenthub://processes/quote.bpmn")
    assert refused.value.code == FORBIDDEN
