"""What the gateway offers on ``tools/list``: the federated servers' approved tools and the federated agents.

An MCP server's tools are listed upstream (through the ``mcp`` job type's
session pool, recorded in the registry like any listing) and only those
whose definition as listed hashes to the approved pin are offered, under
their namespaced name with the upstream's title, description and input
schema. A listing is reused for ``listing_ttl_s``: the list is a menu, and
every call lists and checks the pin again before it goes upstream. A server
that cannot be listed offers nothing for that while, and the log says why:
one broken upstream does not break the hub's listing.

On a virtual server (``registry.VirtualServer``, served at ``/mcp/{name}``)
the set is the server's own: its ``tools`` (federated names) and ``agents``,
whatever ``AGENTHUB_GATEWAY_*`` federates on ``/mcp``; naming them there is
the operator's decision to offer them, to that server's principals only.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

from mcp.shared.inbound import x_mcp_header_map

from protocols.gateway.agent_tool import AGENT_INPUT_SCHEMA, describe
from protocols.gateway.names import SEPARATOR, agent_tool_name, mcp_tool_name, parse
from protocols.gateway.settings import GatewaySettings
from protocols.mcp.client import McpClientError
from protocols.mcp.tool_task import McpToolTask
from registry import McpServer, PinnedTool, Registry, RegistryError, VirtualServer

__all__ = ["Catalog", "FederatedTool"]

log = logging.getLogger("agenthub.gateway")

_LIST_TIMEOUT_S = 10.0


@dataclass(frozen=True, slots=True)
class FederatedTool:
    name: str
    title: str | None
    description: str
    input_schema: dict[str, Any]


class Catalog:
    def __init__(self, registry: Registry, mcp: McpToolTask, settings: GatewaySettings) -> None:
        self.registry = registry
        self.mcp = mcp
        self.settings = settings
        self._listed: dict[str, tuple[float, list[FederatedTool]]] = {}  # server -> (when, its tools)
        # the input schemas with x-mcp-header annotations (2026-07-28), by namespaced tool name, as last listed
        self._header_schemas: dict[str, dict[str, Any]] = {}

    def header_schema(self, name: str) -> dict[str, Any] | None:
        """The federated tool's input schema as last listed, when it mirrors arguments in ``Mcp-Param-*`` headers
        (the MCP SDK then checks a call's headers against its arguments before it is dispatched); else None."""
        return self._header_schemas.get(name)

    async def tools(self, within: VirtualServer | None = None) -> list[FederatedTool]:
        """What ``/mcp`` offers (``within`` None), or what the virtual server ``within`` offers of its set."""
        servers = await asyncio.to_thread(self.registry.mcp.all)
        if within is None:
            chosen = [s for s in servers if self.settings.federates_server(s.name)]
        else:
            owners = {target.owner for target in map(parse, within.tools) if target is not None}
            chosen = [s for s in servers if s.name in owners]
        listed = await asyncio.gather(*(self._server_tools(s) for s in chosen))
        tools = [tool for tools in listed for tool in tools]
        if within is not None:
            tools = [tool for tool in tools if tool.name in within.tools]
        return tools + await self._agent_tools(within)

    async def _server_tools(self, server: McpServer) -> list[FederatedTool]:
        now = time.monotonic()
        cached = self._listed.get(server.name)
        if cached is not None and now - cached[0] < self.settings.listing_ttl_s:
            return cached[1]
        try:
            pins = await self.mcp.offered(server, min(_LIST_TIMEOUT_S, float(server.timeout_s)))
        except (McpClientError, RegistryError, OSError) as exc:
            log.warning("gateway: MCP server '%s' could not be listed, its tools are not offered now: %s",
                        server.name, exc)
            pins = []
        tools = [t for t in (_federated(server.name, p) for p in pins) if t is not None]
        self._listed[server.name] = (now, tools)
        prefix = f"{server.name}{SEPARATOR}"  # this server's tools: replaced by the listing just read
        self._header_schemas = {
            **{k: v for k, v in self._header_schemas.items() if not k.startswith(prefix)},
            **{t.name: t.input_schema for t in tools if x_mcp_header_map(t.input_schema)},
        }
        return tools

    async def _agent_tools(self, within: VirtualServer | None) -> list[FederatedTool]:
        agents = await asyncio.to_thread(self.registry.agents.all)
        tools = []
        for agent in agents:
            name = agent_tool_name(agent.name)
            chosen = self.settings.federates_agent(agent.name) if within is None else agent.name in within.agents
            if name is None or not agent.callable or not chosen:
                continue
            tools.append(FederatedTool(name, str(agent.card.get("name") or agent.name), describe(agent),
                                       AGENT_INPUT_SCHEMA))
        return tools


def _federated(server: str, pin: PinnedTool) -> FederatedTool | None:
    name = mcp_tool_name(server, pin.name)
    if name is None:
        return None
    definition = pin.definition
    schema = definition.get("inputSchema")
    return FederatedTool(
        name,
        definition.get("title"),
        str(definition.get("description") or ""),
        dict(schema) if isinstance(schema, dict) else {"type": "object"},
    )
