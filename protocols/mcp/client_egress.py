"""Whether the hub may contact an upstream MCP server's URL: the egress allow-list, checked before connecting.

Registering a server (and refreshing its tools) is the first time the hub
contacts its URL, so the same allow-list that governs outbound calls
(``AGENTHUB_HTTP_ALLOW``, ``protocols.http.EgressPolicy``) is applied there:
the host is resolved once and every address it resolves to must be admitted,
or ``EgressDenied`` (naming the address and the setting) is raised and
nothing is contacted. A stdio server has no URL and is not checked here.

Known limit: the MCP SDK's transport resolves the name again when it
connects, so a name whose DNS answer changes in between (rebinding) is not
pinned to the checked address, as the A2A client's connections are
(``protocols.a2a._egress``). Pinning needs a checked network backend under
``httpx2`` in ``client.connect``; until then, literal addresses and names that
resolve to refused addresses are stopped here, before any connection.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from protocols.http import EgressDenied, EgressPolicy, IPAddress, Resolver, system_resolver
from registry import McpServer

__all__ = ["admit_server"]

_DEFAULT_PORTS = {"http": 80, "https": 443}


async def admit_server(server: McpServer, policy: EgressPolicy, resolve: Resolver = system_resolver) -> list[IPAddress]:
    """The checked addresses of ``server``'s URL host; EgressDenied when the policy refuses one of them."""
    if server.transport != "http" or server.url is None:
        return []
    parts = urlsplit(server.url)
    host = parts.hostname or ""
    port = parts.port or _DEFAULT_PORTS.get(parts.scheme.lower(), 80)  # check_server refused a bad port
    try:
        return await policy.admit(host, port, resolve)
    except EgressDenied as exc:
        raise EgressDenied(f"MCP server '{server.name}': {exc}", exc.host, exc.refused) from None
