"""AGENTHUB_MCP_* settings: what one token may hold of /mcp."""

from __future__ import annotations

import pytest

from hub.settings import mcp_limits
from protocols.mcp.limits import McpLimits


def test_the_mcp_limits_default_to_sixteen_sessions_half_an_hour_idle_and_sixty_calls_a_minute() -> None:
    assert mcp_limits({}) == McpLimits(max_sessions=16, session_idle_s=1800, rate_per_minute=60, rate_burst=20)


def test_the_mcp_limits_are_read_from_the_environment() -> None:
    env = {
        "AGENTHUB_MCP_MAX_SESSIONS": "4",
        "AGENTHUB_MCP_SESSION_IDLE_S": "90.5",
        "AGENTHUB_MCP_RATE": "5",
        "AGENTHUB_MCP_RATE_BURST": "5",
    }
    assert mcp_limits(env) == McpLimits(max_sessions=4, session_idle_s=90.5, rate_per_minute=5, rate_burst=5)


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("AGENTHUB_MCP_MAX_SESSIONS", "0"),
        ("AGENTHUB_MCP_MAX_SESSIONS", "2.5"),
        ("AGENTHUB_MCP_SESSION_IDLE_S", "0"),
        ("AGENTHUB_MCP_SESSION_IDLE_S", "nan"),
        ("AGENTHUB_MCP_RATE", "-1"),
        ("AGENTHUB_MCP_RATE_BURST", "0"),
        ("AGENTHUB_MCP_RATE_BURST", "many"),
    ],
)
def test_a_bad_mcp_limit_is_refused_naming_the_variable(name: str, raw: str) -> None:
    with pytest.raises(ValueError, match=name):
        mcp_limits({name: raw})
