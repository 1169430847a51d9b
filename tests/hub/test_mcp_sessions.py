"""One token cannot fill the MCP session table (RELIABILITY.md M15): a cap per token, idle expiry, 404 after.

Over real HTTP on 127.0.0.1 against a live hub; ``initialize`` POSTs open
sessions the way any client does.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import anyio
import httpx
import pytest

from protocols.mcp.limits import McpLimits
from tests.hub.harness import LiveHub, assistant, serve_hub

pytestmark = pytest.mark.anyio

ACCEPT = {"Accept": "application/json, text/event-stream"}
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "flood", "version": "0"}},
}
MORE_THAN_THE_TABLE = 1001  # the hub's whole table held 1000 sessions; one token must not get near it


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@contextmanager
def hub_with(folder: Path, limits: McpLimits) -> Iterator[LiveHub]:
    with serve_hub(folder, mcp=limits) as live:
        yield live


async def open_session(http: httpx.AsyncClient, url: str, token: str) -> httpx.Response:
    headers = {**ACCEPT, "Authorization": f"Bearer {token}"}
    return await http.post(f"{url}/mcp", json=INITIALIZE, headers=headers)


async def test_one_token_opening_sessions_without_end_is_refused_with_429_and_the_admin_still_gets_in(
    live_hub: LiveHub,
) -> None:
    reader = live_hub.token("read")
    opened: list[str] = []
    async with httpx.AsyncClient(timeout=30) as http:
        for _ in range(MORE_THAN_THE_TABLE):
            answer = await open_session(http, live_hub.url, reader)
            if answer.status_code != 200:
                break
            opened.append(answer.headers["mcp-session-id"])
        assert answer.status_code == 429, answer.text
        assert len(opened) == 16  # AGENTHUB_MCP_MAX_SESSIONS's default
        assert 1 <= int(answer.headers["retry-after"]) <= 30 * 60
        error = answer.json()["error"]
        assert "16 MCP sessions" in error["message"] and error["data"]["retryAfterSeconds"] >= 1

    # the admin (and any other token) still opens a session and calls a tool
    async with assistant(live_hub, live_hub.admin, "legacy") as admin:
        listed = await admin.call_tool("agenthub_list_instances", {})
        assert not listed.is_error
    async with assistant(live_hub, live_hub.token("read"), "legacy") as other:
        assert not (await other.call_tool("agenthub_list_instances", {})).is_error


async def test_parallel_initializes_of_one_token_get_exactly_its_cap_of_sessions(tmp_path: Path) -> None:
    with hub_with(tmp_path, McpLimits(max_sessions=4)) as hub:
        reader = hub.token("read")
        statuses: list[int] = []
        async with httpx.AsyncClient(timeout=30) as http:

            async def one() -> None:
                statuses.append((await open_session(http, hub.url, reader)).status_code)

            async with anyio.create_task_group() as group:
                for _ in range(20):
                    group.start_soon(one)
        assert sorted(statuses) == [200] * 4 + [429] * 16


async def test_an_idle_session_expires_answers_404_and_frees_its_place(tmp_path: Path) -> None:
    with hub_with(tmp_path, McpLimits(max_sessions=1, session_idle_s=0.5)) as hub:
        reader = hub.token("read")
        headers = {**ACCEPT, "Authorization": f"Bearer {reader}"}
        async with httpx.AsyncClient(timeout=30) as http:
            first = await open_session(http, hub.url, reader)
            session = first.headers["mcp-session-id"]
            refused = await open_session(http, hub.url, reader)
            assert refused.status_code == 429 and refused.headers["retry-after"] == "1"
            await anyio.sleep(1.0)  # the SDK's idle timer runs on the server's clock; nothing to inject over HTTP
            listed = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
            stale = await http.post(f"{hub.url}/mcp", json=listed, headers={**headers, "Mcp-Session-Id": session})
            assert stale.status_code == 404  # the client initializes again
            assert (await open_session(http, hub.url, reader)).status_code == 200


async def test_a_deleted_session_answers_404_and_frees_its_place(tmp_path: Path) -> None:
    with hub_with(tmp_path, McpLimits(max_sessions=1)) as hub:
        reader = hub.token("read")
        headers = {**ACCEPT, "Authorization": f"Bearer {reader}"}
        async with httpx.AsyncClient(timeout=30) as http:
            session = (await open_session(http, hub.url, reader)).headers["mcp-session-id"]
            assert (await open_session(http, hub.url, reader)).status_code == 429
            assert (await http.delete(f"{hub.url}/mcp", headers={**headers, "Mcp-Session-Id": session})).is_success
            listed = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
            gone = await http.post(f"{hub.url}/mcp", json=listed, headers={**headers, "Mcp-Session-Id": session})
            assert gone.status_code == 404
            assert (await open_session(http, hub.url, reader)).status_code == 200
