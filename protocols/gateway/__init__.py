"""The hub as a governed MCP gateway: registered upstream MCP tools and A2A agents offered on ``/mcp``.

Owns: which registered servers and agents are federated (``settings``), the
names their tools go by (``names``), what is listed (``catalog``), and the
path of one federated call (``gateway``): rate limits and the hub's policies
(``governance``, through ``engine.agent.decide``: the rules an agent's tool
call obeys), daily call budgets (``budgets``), an approval as a process
instance the caller waits on, under four eyes (``approval``), forwarding (the ``mcp`` job type's pins and session pool;
``agent_tool`` for A2A), and the audit row of every call (``audit``).

Does not know: MCP sessions and transports (``protocols.mcp.server`` hands
calls over with the verified principal), tokens, or the hub's settings file.

    gateway = Gateway(engine, registry, mcp_tool_task, settings, egress)
    endpoint = McpEndpoint(engine, gateway=gateway)
    workers.register(GATEWAY_JOB_TYPE, gateway)      # the calls an approval let through

What is offered and how to turn it on: ``docs/GATEWAY.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from protocols.gateway.settings import GatewaySettings, gateway_settings

if TYPE_CHECKING:
    from protocols.gateway.gateway import Gateway

__all__ = ["GATEWAY_JOB_TYPE", "GATEWAY_PROCESS_ID", "Gateway", "GatewaySettings", "gateway_settings"]

GATEWAY_JOB_TYPE = "agenthub-gateway-call"
GATEWAY_PROCESS_ID = "agenthub_gateway_call"


def __getattr__(name: str) -> Any:
    # Imported on first use, as ``protocols.mcp`` does: ``hub.settings`` reads ``GatewaySettings`` and should not
    # pay for the MCP and A2A SDKs.
    if name == "Gateway":
        from protocols.gateway.gateway import Gateway

        return Gateway
    raise AttributeError(name)
