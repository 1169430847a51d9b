"""The A2A client's gRPC channel: to addresses the egress policy admits, the bearer token on every call.

A gRPC interface's URL names the server in one of these forms (A2A 1.0 shows
``https://grpc.example.com/a2a``; the a2a-sdk's samples and this hub's own
cards write ``host:port``):

- ``https://host[:port]`` or ``grpcs://host[:port]``: TLS, port 443 by default, the certificate verified for
  ``host`` against gRPC's root certificates;
- ``http://host[:port]``, ``grpc://host[:port]`` or ``host:port``: plain HTTP/2 (port 80 by default), as a
  plain ``http`` JSON-RPC URL is, for agents on a trusted network or behind a proxy that adds TLS.

A path is ignored: gRPC's method paths are fixed by A2A's service (``/lf.a2a.v1.A2AService/...``).

As the HTTP bindings' connections (``_egress``), the host is resolved once, here, and every address it
resolves to is checked by the policy before the channel exists; the channel then connects to those addresses
only (``ipv4:`` / ``ipv6:`` targets), so a DNS answer that changes later cannot redirect it. TLS still runs
against the name (``grpc.ssl_target_name_override``, with ``:authority`` the name).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import grpc  # type: ignore[import-untyped]
import grpc.aio  # type: ignore[import-untyped]
import httpx

from protocols.http import EgressPolicy, Resolver

__all__ = ["GrpcTarget", "checked_channel", "grpc_target"]

_TLS = {"https": True, "grpcs": True, "http": False, "grpc": False}


@dataclass(frozen=True, slots=True)
class GrpcTarget:
    host: str
    port: int
    tls: bool


def grpc_target(url: str) -> GrpcTarget | None:
    """Where a gRPC interface's ``url`` points (the module's docstring), or None when it names no host."""
    text = url.strip()
    if "://" not in text:
        text = f"grpc://{text}"
        if not text.rsplit(":", 1)[-1].isdigit():  # a bare name needs its port
            return None
    try:
        parsed = httpx.URL(text)
    except httpx.InvalidURL:
        return None
    tls = _TLS.get(parsed.scheme)
    if tls is None or not parsed.host:
        return None
    return GrpcTarget(parsed.host, parsed.port or (443 if tls else 80), tls)


def _with(details: Any, extra: tuple[tuple[str, str], ...]) -> Any:
    metadata = grpc.aio.Metadata(*tuple(details.metadata or ()), *extra)
    return grpc.aio.ClientCallDetails(details.method, details.timeout, metadata, details.credentials,
                                      details.wait_for_ready)


class _UnaryHeaders(grpc.aio.UnaryUnaryClientInterceptor):  # type: ignore[misc]
    """Adds fixed metadata (the bearer token) to every unary call."""

    def __init__(self, extra: tuple[tuple[str, str], ...]) -> None:
        self._extra = extra

    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(_with(details, self._extra), request)


class _StreamHeaders(grpc.aio.UnaryStreamClientInterceptor):  # type: ignore[misc]
    """The same for every server-streaming call (grpc.aio files an interceptor under one kind only)."""

    def __init__(self, extra: tuple[tuple[str, str], ...]) -> None:
        self._extra = extra

    async def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(_with(details, self._extra), request)


async def checked_channel(
    policy: EgressPolicy,
    target: GrpcTarget,
    *,
    headers: Mapping[str, str],
    resolve: Resolver,
    max_message_bytes: int = 4 * 1024 * 1024,
) -> grpc.aio.Channel:
    """A channel (in the running event loop) to the addresses of ``target`` that ``policy`` admits, sending
    ``headers`` as metadata on every call. Raises EgressDenied when an address is refused."""
    addresses = await policy.admit(target.host, target.port, resolve)
    family = addresses[0].version
    same = [a for a in addresses if a.version == family]  # one target lists one family's addresses
    listed = ",".join(f"{a}:{target.port}" if family == 4 else f"[{a}]:{target.port}" for a in same)
    name = f"[{target.host}]" if ":" in target.host else target.host  # an IPv6 literal in brackets
    authority = name if target.port == (443 if target.tls else 80) else f"{name}:{target.port}"
    options: list[tuple[str, Any]] = [
        ("grpc.default_authority", authority),
        ("grpc.max_receive_message_length", max_message_bytes),
        ("grpc.enable_http_proxy", 0),  # a proxy would connect on our behalf to an address nobody checked
    ]
    address = f"ipv{family}:{listed}"
    extra = tuple((name.lower(), value) for name, value in headers.items())
    interceptors = [_UnaryHeaders(extra), _StreamHeaders(extra)] if extra else None
    if target.tls:
        options.append(("grpc.ssl_target_name_override", target.host))
        return grpc.aio.secure_channel(address, grpc.ssl_channel_credentials(), options=options,
                                       interceptors=interceptors)
    return grpc.aio.insecure_channel(address, options=options, interceptors=interceptors)

