"""How much of the hub's MCP server one token may hold: open sessions, their idle life, tool calls per minute.

Plain data, read by ``hub.settings`` from ``AGENTHUB_MCP_MAX_SESSIONS``,
``AGENTHUB_MCP_SESSION_IDLE_S``, ``AGENTHUB_MCP_RATE`` and
``AGENTHUB_MCP_RATE_BURST`` and handed to ``McpEndpoint``; this module
imports nothing of the SDK so the settings stay cheap to load.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class McpLimits:
    """Per-token bounds of the MCP server over HTTP (RELIABILITY.md M15).

    ``max_sessions``: open Streamable HTTP sessions one token may hold; the
    next ``initialize`` gets 429 with ``Retry-After`` until one ends (DELETE
    or idle expiry). Refusing the newcomer was chosen over closing the
    token's oldest session: a client never loses a session under its feet,
    and the answer does not depend on what else that token is doing.

    ``session_idle_s``: a session with no request in flight for this long is
    closed; its id then answers 404 and the client initializes again.

    ``rate_per_minute`` / ``rate_burst``: a token bucket per (token, tool)
    for ``tools/call``: ``rate_burst`` calls at once, refilled at
    ``rate_per_minute``; 0 per minute switches the limit off.
    """

    max_sessions: int = 16
    session_idle_s: float = 30 * 60
    rate_per_minute: float = 60
    rate_burst: int = 20

    def __post_init__(self) -> None:
        if self.max_sessions < 1:
            raise ValueError(f"AGENTHUB_MCP_MAX_SESSIONS must be at least 1, not {self.max_sessions}")
        if not (math.isfinite(self.session_idle_s) and self.session_idle_s > 0):
            raise ValueError(f"AGENTHUB_MCP_SESSION_IDLE_S must be seconds above 0, not {self.session_idle_s}")
        if not (math.isfinite(self.rate_per_minute) and self.rate_per_minute >= 0):
            raise ValueError(f"AGENTHUB_MCP_RATE must be calls per minute, 0 or more, not {self.rate_per_minute}")
        if self.rate_burst < 1:
            raise ValueError(f"AGENTHUB_MCP_RATE_BURST must be at least 1, not {self.rate_burst}")
