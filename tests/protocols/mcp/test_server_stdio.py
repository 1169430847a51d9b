"""``agenthub mcp``'s transport: ``McpEndpoint.run_stdio`` in a child process, driven by the official stdio client.

The child opens the test's SQLite file (``mcp_engine`` deployed the processes there) and serves one principal.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.shared.exceptions import MCPError

from engine import Engine

pytestmark = pytest.mark.anyio

REPO = Path(__file__).resolve().parents[3]

SERVER = """
import sys
import anyio
from engine import Engine
from protocols.mcp import McpEndpoint
from registry import Principal

engine = Engine.open("sqlite:///" + sys.argv[1])
principal = Principal(name=sys.argv[2], scopes=frozenset(sys.argv[3].split(",")))
anyio.run(McpEndpoint(engine, call_timeout_s=0.5).run_stdio, principal)
"""


def stdio_client(database: Path, name: str, scopes: str, mode: str) -> Client:
    args = ["-c", SERVER, str(database), name, scopes]
    command = StdioServerParameters(command=sys.executable, args=args, cwd=REPO)
    return Client(command, mode=mode)


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
async def test_a_desktop_assistant_runs_processes_over_stdio(mcp_engine: Engine, tmp_path: Path, mode: str) -> None:
    async with stdio_client(tmp_path / "hub.db", "desktop", "start,read,tasks", mode) as client:
        assert client.protocol_version == ("2025-11-25" if mode == "legacy" else mode)
        names = {tool.name for tool in (await client.list_tools()).tools}
        quoted = await client.call_tool("quote", {"amount": 4})
        waiting = await client.call_tool("approval", {"order": "S-1", "amount": 2})
        diagram = await client.read_resource("agenthub://processes/quote.bpmn")
    assert {"quote", "approval", "agenthub_complete_user_task"} <= names
    assert quoted.structured_content == {"amount": 4, "caller": "desktop", "price": 18}
    assert waiting.structured_content["waitingFor"][0]["kind"] == "userTask"  # type: ignore[index]
    assert '<bpmn:process id="quote"' in diagram.contents[0].text  # type: ignore[union-attr]


async def test_the_stdio_principal_s_scopes_apply(mcp_engine: Engine, tmp_path: Path) -> None:
    async with stdio_client(tmp_path / "hub.db", "viewer", "read", "legacy") as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        with pytest.raises(MCPError) as refused:
            await client.call_tool("quote", {"amount": 4})
    assert names == {"agenthub_list_instances", "agenthub_get_instance"}
    assert refused.value.code == -32003
    assert mcp_engine.instances() == []
