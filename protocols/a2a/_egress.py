"""The A2A client's HTTP connections, each one made to an address the egress policy admits (RELIABILITY A8).

An httpcore network backend resolves the host once, checks every address it
resolves to (``EgressPolicy.admit``) and connects to a checked one. TLS still
runs against the name: httpcore hands the URL's host to ``start_tls`` as the
server name, so certificates are verified for it as usual.

The check sits under httpx and the A2A SDK rather than in front of them, so it
covers every request the SDK makes (send, get, subscribe, cancel) on whichever
interface the card names, and a DNS answer that changes between the check and
the connection cannot redirect it. Rejected alternative: checking the card's
URL once before the call, which a rebinding name defeats. Redirects are not
followed and proxy settings from the environment are ignored: a proxy would
connect on our behalf to an address nobody checked.
"""

from __future__ import annotations

import ssl
from collections.abc import Awaitable, Iterable, Mapping

import httpcore
import httpx

from protocols.http import ConnectionFailed, EgressPolicy, Resolver, system_resolver
from protocols.http.egress import connect_admitted

__all__ = ["checked_client"]


class _CheckedBackend(httpcore.AsyncNetworkBackend):
    """Connects only to addresses the policy admits for the host asked for."""

    def __init__(self, policy: EgressPolicy, resolve: Resolver) -> None:
        self._policy = policy
        self._resolve = resolve
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        def attempt(address: str) -> Awaitable[httpcore.AsyncNetworkStream]:
            return self._inner.connect_tcp(
                address, port, timeout=timeout, local_address=local_address, socket_options=socket_options
            )

        return await connect_admitted(
            self._policy, self._resolve, host, port, attempt, (httpcore.ConnectError, httpcore.ConnectTimeout)
        )

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise ConnectionFailed("the A2A client does not connect to Unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _CheckedTransport(httpx.AsyncHTTPTransport):
    def __init__(self, policy: EgressPolicy, resolve: Resolver, ssl_context: ssl.SSLContext) -> None:
        super().__init__(verify=ssl_context, trust_env=False)
        # httpx builds its pool without a way to pass a network backend; this pool is the one it would build
        # (HTTP/1.1, default limits), over the checked backend.
        limits = httpx.Limits(max_connections=10, max_keepalive_connections=5)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            network_backend=_CheckedBackend(policy, resolve),
        )


def checked_client(
    policy: EgressPolicy,
    *,
    headers: Mapping[str, str],
    timeout_s: float,
    resolve: Resolver = system_resolver,
    ssl_context: ssl.SSLContext | None = None,
) -> httpx.AsyncClient:
    """An httpx client whose every connection goes to an address ``policy`` admits; no redirects, no proxies."""
    context = ssl_context or httpx.create_ssl_context()
    return httpx.AsyncClient(
        transport=_CheckedTransport(policy, resolve, context),
        headers=dict(headers),
        timeout=timeout_s,
        follow_redirects=False,
        trust_env=False,
    )
