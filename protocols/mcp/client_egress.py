"""Whether the hub may contact an upstream MCP server's URL: the egress allow-list, checked before connecting.

Registering a server (and refreshing its tools) is the first time the hub
contacts its URL, so the same allow-list that governs outbound calls
(``AGENTHUB_HTTP_ALLOW``, ``protocols.http.EgressPolicy``) is applied there:
the host is resolved once and every address it resolves to must be admitted,
or ``EgressDenied`` (naming the address and the setting) is raised and
nothing is contacted. A stdio server has no URL and is not checked here.

Then every connection a call makes goes through ``checked_transport``: an
``httpx2`` transport over an ``httpcore2`` network backend that resolves the
host once, checks every address against the same policy and connects to a
checked one (``protocols.http.egress.connect_admitted``, shared with the A2A
client). A name whose DNS answer changes after registration (rebinding) is
checked again at each connection and cannot redirect it; a policy narrowed
since registration applies to the next call. TLS still runs against the name.
"""

from __future__ import annotations

import ssl
from collections.abc import Awaitable, Iterable
from urllib.parse import urlsplit

import httpcore2
import httpx2

from protocols.http import ConnectionFailed, EgressDenied, EgressPolicy, IPAddress, Resolver, system_resolver
from protocols.http.egress import connect_admitted
from registry import McpServer

__all__ = ["admit_server", "checked_transport"]

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


class _CheckedBackend(httpcore2.AsyncNetworkBackend):
    """Connects only to addresses the policy admits for the host asked for."""

    def __init__(self, policy: EgressPolicy, resolve: Resolver) -> None:
        self._policy = policy
        self._resolve = resolve
        self._inner = httpcore2.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore2's interface
        local_address: str | None = None,
        socket_options: Iterable[httpcore2.SOCKET_OPTION] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        def attempt(address: str) -> Awaitable[httpcore2.AsyncNetworkStream]:
            return self._inner.connect_tcp(
                address, port, timeout=timeout, local_address=local_address, socket_options=socket_options
            )

        return await connect_admitted(
            self._policy, self._resolve, host, port, attempt, (httpcore2.ConnectError, httpcore2.ConnectTimeout)
        )

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore2's interface
        socket_options: Iterable[httpcore2.SOCKET_OPTION] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        raise ConnectionFailed("the MCP client does not connect to Unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def checked_transport(
    policy: EgressPolicy, resolve: Resolver = system_resolver, ssl_context: ssl.SSLContext | None = None
) -> httpx2.AsyncHTTPTransport:
    """An httpx2 transport whose every connection goes to an address ``policy`` admits; no proxy."""
    transport = httpx2.AsyncHTTPTransport(verify=ssl_context or True, trust_env=False)
    limits = httpx2.Limits(max_connections=10, max_keepalive_connections=5)
    # httpx2 builds its pool without a way to pass a network backend; this is the pool it builds (HTTP/1.1,
    # those limits) over the checked backend.
    transport._pool = httpcore2.AsyncConnectionPool(
        ssl_context=httpx2.create_ssl_context(verify=ssl_context or True, trust_env=False),
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=_CheckedBackend(policy, resolve),
    )
    return transport
