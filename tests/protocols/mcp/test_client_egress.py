"""Every connection the MCP client makes is checked against the egress allow-list when it is made.

Registration checks a server's URL once (``admit_server``); after that, the
name may resolve elsewhere (DNS rebinding) or the allow-list may have been
narrowed. With an ``egress`` policy, each connection resolves the host itself,
checks every address and connects to a checked one: a refused address is a
configuration error naming it and ``AGENTHUB_HTTP_ALLOW``, and the server is
never asked anything; an admitted name connects to the address that was
checked, not to whatever the system resolver says next.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from protocols.http import EgressPolicy
from protocols.mcp.client import McpClientError, McpConfigError, call_tool, connect
from registry import McpServer
from tests.data.mcp_upstream import fixtures
from tests.data.mcp_upstream.fixtures import http_entry
from tests.data.mcp_upstream.upstream import HttpUpstream

_http_server = fixtures._http_server
http_upstream = fixtures.http_upstream
earlier_children = fixtures.earlier_children

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _requests(upstream: HttpUpstream) -> list[dict[str, str]]:
    return [e["headers"] for e in upstream.upstream.events("request")]


async def test_a_call_to_an_address_the_allow_list_refuses_is_a_config_error_and_sends_nothing(
    http_upstream: HttpUpstream,
) -> None:
    server = http_entry(http_upstream)
    with pytest.raises(McpConfigError) as refused:
        await call_tool(server, "add", {"a": 1, "b": 2}, timeout_s=10, egress=EgressPolicy.from_env("public"))
    message = str(refused.value)
    assert "MCP server 'upstream'" in message and "127.0.0.1 (loopback)" in message
    assert "AGENTHUB_HTTP_ALLOW" in message
    assert _requests(http_upstream) == []
    # the same call under a policy that admits the address goes through
    outcome = await call_tool(server, "add", {"a": 1, "b": 2}, timeout_s=10, egress=EgressPolicy.from_env("127.0.0.1"))
    assert outcome.structured_content == {"sum": 3} and not outcome.is_error


async def test_a_name_is_resolved_and_checked_at_each_connection_so_rebinding_cannot_redirect_it(
    http_upstream: HttpUpstream,
) -> None:
    port = urlsplit(http_upstream.url).port
    server = McpServer(name="rebinding", transport="http", url=f"http://upstream.test:{port}/mcp")
    answer = ["127.0.0.1"]  # what the name resolves to now: loopback, then (rebound) cloud metadata

    async def resolve(host: str, port: int) -> list[str]:
        assert host == "upstream.test"
        return list(answer)

    policy = EgressPolicy.from_env("127.0.0.1")
    # first connection: the name resolves (by our resolver, not the system's) to an admitted address
    with pytest.raises(McpClientError):  # the upstream refuses a Host it does not serve; it was reached
        async with connect(server, egress=policy, resolve=resolve) as session:
            await session.list_tools()
    hosts = {r.get("host") for r in _requests(http_upstream)}
    assert f"upstream.test:{port}" in hosts
    reached = len(_requests(http_upstream))
    answer[:] = ["169.254.169.254"]
    # the next connection: the name now resolves to a refused address, and nothing is sent
    with pytest.raises(McpConfigError, match=r"169\.254\.169\.254 \(link-local\)"):
        async with connect(server, egress=policy, resolve=resolve) as session:
            await session.list_tools()
    assert len(_requests(http_upstream)) == reached


