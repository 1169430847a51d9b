"""RELIABILITY.md M15 over real HTTP: a token bucket per (token, tool); refusals carry retry info; others unaffected."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError

from protocols.mcp._rate import RATE_LIMITED
from protocols.mcp.limits import McpLimits
from tests.hub.harness import LiveHub, assistant
from tests.hub.test_mcp_sessions import hub_with

pytestmark = pytest.mark.anyio
FIVE_A_MINUTE = McpLimits(rate_per_minute=5, rate_burst=5)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[LiveHub]:
    with hub_with(tmp_path, FIVE_A_MINUTE) as live:
        yield live


async def call(client: Client, outcomes: list[int | MCPError]) -> None:
    try:
        result = await client.call_tool("agenthub_list_instances", {})
    except MCPError as refused:
        outcomes.append(refused)
    else:
        assert not result.is_error
        outcomes.append(200)


def check_five_then_refusals(outcomes: list[int | MCPError]) -> None:
    assert outcomes.count(200) == 5 and len(outcomes) == 20
    for refused in (o for o in outcomes if isinstance(o, MCPError)):
        assert refused.code == RATE_LIMITED
        assert "rate limit" in refused.message
        data = refused.error.data
        assert isinstance(data, dict) and 1 <= data["retryAfterSeconds"] <= 12  # one call refills in 60/5 s


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
async def test_m15_twenty_calls_of_a_get_exactly_five_then_retry_info_and_b_is_unaffected(
    hub: LiveHub, mode: str
) -> None:
    a, b = hub.token("read"), hub.token("read")
    outcomes: list[int | MCPError] = []
    async with assistant(hub, a, mode) as client_a:
        for _ in range(20):
            await call(client_a, outcomes)
    assert outcomes[:5] == [200] * 5
    check_five_then_refusals(outcomes)
    async with assistant(hub, b, mode) as client_b:
        assert not (await client_b.call_tool("agenthub_list_instances", {})).is_error
    async with assistant(hub, a, mode) as client_a:  # another tool has a bucket of its own: answered, not refused
        await client_a.call_tool("agenthub_get_instance", {"instance": 1})


async def test_m15_twenty_parallel_calls_of_a_get_exactly_five_and_b_is_unaffected(hub: LiveHub) -> None:
    a, b = hub.token("read"), hub.token("read")
    outcomes: list[int | MCPError] = []
    async with assistant(hub, a, "legacy") as client_a, anyio.create_task_group() as group:
        for _ in range(20):
            group.start_soon(call, client_a, outcomes)
    check_five_then_refusals(outcomes)
    others: list[int | MCPError] = []
    async with assistant(hub, b, "legacy") as client_b:
        await call(client_b, others)
    assert others == [200]
