"""The hub's front door: Host and Origin checks, then bearer-token authentication, on every request.

One pure ASGI middleware in front of the whole app (REST, /mcp, /a2a), so no
route can be added without it. In order:

1. Host: the request must address this hub by a loopback name or a host
   listed in the settings. A DNS-rebinding attacker controls both Host and
   Origin, so "Origin equals Host" is never taken as proof (RELIABILITY.md M2).
2. Origin: when present it must be exactly one of the hub's own origins
   (``http://127.0.0.1:PORT``, ``http://localhost:PORT``, ``http://[::1]:PORT``,
   the public URL) or a configured one; ``null``, look-alikes, other ports
   and other cases are refused with 403 (M1).
3. Token: ``Authorization: Bearer <token>`` is verified against the
   registry's hashes; missing or wrong gets 401 with a ``WWW-Authenticate``
   challenge. A token in the query string is refused even when valid,
   since URLs end up in logs. Public paths (health, agent cards, protected
   resource metadata) skip this step only.

The verified ``registry.Principal`` is put in ``scope["state"]["principal"]``
(``request.state.principal`` in Starlette). Scopes are checked by the routes.
Tokens are never logged or echoed.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from registry import Principal, Tokens

_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")
_PUBLIC = re.compile(
    r"^/(health|\.well-known/agent-card\.json|\.well-known/oauth-protected-resource(/.*)?"
    r"|a2a/[^/]+/\.well-known/agent-card\.json)$"
)
_CACHE_S = 2.0  # a revoked token stops working within this many seconds


class Guard:
    def __init__(
        self,
        app: ASGIApp,
        *,
        tokens: Tokens,
        port: Callable[[], int],
        allowed_hosts: tuple[str, ...] = (),
        allowed_origins: tuple[str, ...] = (),
        resource_metadata: Callable[[], str] | None = None,
        max_body_bytes: int | None = None,
    ) -> None:
        self.app = app
        self.tokens = tokens
        self.port = port
        self.allowed_hosts = tuple(h.lower() for h in allowed_hosts)
        self.allowed_origins = allowed_origins
        self.resource_metadata = resource_metadata
        self.max_body_bytes = max_body_bytes
        self._cache: dict[str, tuple[float, Principal]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        path: str = scope["path"]
        if not self._host_ok(headers.get("host", "")):
            await _refuse(send, path, 403, "Forbidden", "the Host header does not name this hub")
            return
        origin = headers.get("origin")
        if origin is not None and origin not in self._origins():
            await _refuse(send, path, 403, "Forbidden", "requests from this Origin are not allowed")
            return
        declared = headers.get("content-length", "")
        if self.max_body_bytes is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await _refuse(send, path, 413, "Content Too Large", f"the body is larger than {self.max_body_bytes} bytes")
            return
        if _PUBLIC.match(path):
            await self.app(scope, receive, send)
            return
        query = scope.get("query_string", b"").decode("latin-1")
        if re.search(r"(^|&)access_token=", query):
            await self._unauthorized(send, path, "send the token in the Authorization header, never in the URL")
            return
        auth = headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            await self._unauthorized(send, path, "this endpoint needs an API token: Authorization: Bearer <token>")
            return
        principal = self._verify(token.strip())
        if principal is None:
            await self._unauthorized(send, path, "the API token is not valid (wrong, malformed or revoked)")
            return
        scope.setdefault("state", {})["principal"] = principal
        await self.app(scope, receive, send)

    def _host_ok(self, host: str) -> bool:
        host = host.lower()
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        return name in _LOOPBACK_HOSTS or host in self.allowed_hosts or name in self.allowed_hosts

    def _origins(self) -> set[str]:
        port = self.port()
        return {f"http://{h}:{port}" for h in _LOOPBACK_HOSTS} | set(self.allowed_origins)

    def _verify(self, token: str) -> Principal | None:
        now = time.monotonic()
        cached = self._cache.get(token)
        if cached is not None and now - cached[0] < _CACHE_S:
            return cached[1]
        principal = self.tokens.verify(token)
        if principal is not None:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[token] = (now, principal)
        return principal

    async def _unauthorized(self, send: Send, path: str, detail: str) -> None:
        challenge = 'Bearer realm="agenthub"'
        if self.resource_metadata is not None:
            challenge += f', resource_metadata="{self.resource_metadata()}"'
        await _refuse(send, path, 401, "Unauthorized", detail, [(b"www-authenticate", challenge.encode())])


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


async def _refuse(
    send: Send, path: str, status: int, title: str, detail: str, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    """A refusal in the caller's language: JSON-RPC (with no id) on /mcp and /a2a, problem+json elsewhere."""
    body: dict[str, Any]
    if path.startswith(("/mcp", "/a2a")) or path == "/":
        body = {"jsonrpc": "2.0", "id": None, "error": {"code": -32001 if status == 401 else -32003, "message": detail}}
        media = b"application/json"
    else:
        body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
        media = b"application/problem+json"
    data = json.dumps(body).encode()
    headers = [(b"content-type", media), (b"content-length", str(len(data)).encode()), *(extra or [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})
