"""What the gateway federates and how fast one may call through it: plain data, read by ``hub.settings``.

``AGENTHUB_GATEWAY_SERVERS`` and ``AGENTHUB_GATEWAY_AGENTS`` name the registered
MCP servers and A2A agents whose tools ``/mcp`` offers (comma lists, ``*`` for
all). The default is none: registering a server makes its tools callable from
BPMN service tasks, which an author chose one by one; offering them to every
assistant with a token is a second decision, made by an operator on purpose.
Rejected: a registry column, which would need a migration and an API change
for what is one line of deployment configuration.

``AGENTHUB_GATEWAY_PRINCIPAL_RATE`` (calls per minute of one principal, all
federated tools together) and ``AGENTHUB_GATEWAY_TOOL_RATE`` (calls per minute
of one federated tool, all principals together), each with bursts of
``AGENTHUB_GATEWAY_RATE_BURST``; 0 switches a limit off. They come on top of
the per-(token, tool) limit every ``tools/call`` passes (``AGENTHUB_MCP_RATE``).

Beside them, daily budgets: ``AGENTHUB_GATEWAY_PRINCIPAL_DAILY_CALLS`` (calls
one principal may make in a UTC day, all federated tools together) and
``AGENTHUB_GATEWAY_TOOL_DAILY_CALLS`` (calls of one federated tool in a UTC
day, all principals together); 0 switches a budget off. Unlike the buckets,
which live in the hub process, budgets are counted in the registry
(``registry.budgets``): they hold across restarts and hub processes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["GatewaySettings", "gateway_settings"]


@dataclass(frozen=True, slots=True)
class GatewaySettings:
    servers: tuple[str, ...] = ()  # registered MCP servers whose approved tools are federated; ("*",): all
    agents: tuple[str, ...] = ()  # registered A2A agents offered as tools; ("*",): all
    principal_rate_per_minute: float = 0
    tool_rate_per_minute: float = 0
    rate_burst: int = 20
    principal_daily_calls: int = 0  # federated calls of one principal per UTC day; 0: no budget
    tool_daily_calls: int = 0  # calls of one federated tool per UTC day, all principals together; 0: no budget
    listing_ttl_s: float = 10.0  # how long an upstream listing is reused for tools/list (calls always list anew)

    def __post_init__(self) -> None:
        for name, value in (("AGENTHUB_GATEWAY_PRINCIPAL_RATE", self.principal_rate_per_minute),
                            ("AGENTHUB_GATEWAY_TOOL_RATE", self.tool_rate_per_minute)):
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be calls per minute, 0 or more, not {value}")
        if self.rate_burst < 1:
            raise ValueError(f"AGENTHUB_GATEWAY_RATE_BURST must be at least 1, not {self.rate_burst}")
        for name, calls in (("AGENTHUB_GATEWAY_PRINCIPAL_DAILY_CALLS", self.principal_daily_calls),
                            ("AGENTHUB_GATEWAY_TOOL_DAILY_CALLS", self.tool_daily_calls)):
            if calls < 0:
                raise ValueError(f"{name} must be calls per day, 0 or more, not {calls}")

    def federates_server(self, name: str) -> bool:
        return "*" in self.servers or name in self.servers

    def federates_agent(self, name: str) -> bool:
        return "*" in self.agents or name in self.agents


def gateway_settings(env: Mapping[str, str]) -> GatewaySettings:
    """The gateway's settings from the ``AGENTHUB_GATEWAY_*`` variables; ValueError names a wrong one."""

    def names(variable: str) -> tuple[str, ...]:
        return tuple(v.strip() for v in env.get(variable, "").split(",") if v.strip())

    def number(variable: str, default: float) -> float:
        raw = env.get(variable, "").strip()
        if not raw:
            return float(default)
        try:
            return float(raw)
        except ValueError:
            raise ValueError(f"{variable} must be a number, not {raw!r}") from None

    def whole(variable: str, default: int) -> int:
        value = number(variable, default)
        if not value.is_integer():
            raise ValueError(f"{variable} must be a whole number, not {value:g}")
        return int(value)

    return GatewaySettings(
        servers=names("AGENTHUB_GATEWAY_SERVERS"),
        agents=names("AGENTHUB_GATEWAY_AGENTS"),
        principal_rate_per_minute=number("AGENTHUB_GATEWAY_PRINCIPAL_RATE", 0),
        tool_rate_per_minute=number("AGENTHUB_GATEWAY_TOOL_RATE", 0),
        rate_burst=whole("AGENTHUB_GATEWAY_RATE_BURST", 20),
        principal_daily_calls=whole("AGENTHUB_GATEWAY_PRINCIPAL_DAILY_CALLS", 0),
        tool_daily_calls=whole("AGENTHUB_GATEWAY_TOOL_DAILY_CALLS", 0),
    )
