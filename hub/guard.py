"""The hub's front door: body size, Host and Origin checks, then bearer-token authentication, on every request.

One pure ASGI middleware in front of the whole app (REST, /mcp, /a2a), so no
route can be added without it. First, header values lose the whitespace around
them (RFC 9110, 5.5: a field value excludes it), whichever parser the server
runs: h11 trims it, httptools (the hub's, for speed) does not. Then, in order:

0. Body size: the body is counted while it streams, chunked or declared, and
   cut off at the endpoint's limit with 413 before the app reads more (A12).
   A declared ``Content-Length`` over the limit is refused before anything
   else, including authentication. Any answer given while the body is still
   arriving (a 413, a 401, a route that never reads it) closes the
   connection, so the server does not go on reading what nobody wants.
1. Host: the request must address this hub by a loopback name or a host
   listed in the settings. A DNS-rebinding attacker controls both Host and
   Origin, so "Origin equals Host" is never taken as proof (RELIABILITY.md M2).
2. Origin: when present it must be exactly one of the hub's own origins
   (``http://127.0.0.1:PORT``, ``http://localhost:PORT``, ``http://[::1]:PORT``,
   the public URL) or a configured one; ``null``, look-alikes, other ports
   and other cases are refused with 403 (M1). The one exception: a ``GET``,
   ``HEAD`` or ``OPTIONS`` of an A2A agent card, a public document served
   with CORS (``Access-Control-Allow-Origin: *``, no credentials).
3. Token: ``Authorization: Bearer <token>`` is verified against the
   registry's hashes; missing or wrong gets 401 with a ``WWW-Authenticate``
   challenge. A token in the query string is refused even when valid,
   since URLs end up in logs. Public paths (health, agent cards, protected
   resource metadata) skip this step only, and so do inbound webhooks
   (``/inbound/{id}``), which take a body and authenticate by the means their
   model configures (``hub.inbound``), and agents' push notifications to
   ``/a2a-push/{job}``, which carry their call's own token (``hub.a2a_push``). When sign-in by OpenID Connect is
   configured, a bearer token that is a JWT (three base64url parts) is
   verified by ``hub.oidc`` against the issuer's keys instead; without it a
   JWT is just a wrong API token (401).

The console's pages (every path that is not the API, a protocol endpoint,
health or a well-known document: ``hub.web.is_console_path``) take the
session cookie instead of a bearer token (a bearer token still works, for
scripts); a page asked for without a live session is answered 303 to
``/login`` (with ``next``), and ``/login`` and ``/static/`` are public.

The verified ``registry.Principal`` is put in ``scope["state"]["principal"]``
(``request.state.principal`` in Starlette). Scopes are checked by the routes.
Tokens are never logged or echoed.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.oidc import OidcVerifier, looks_like_jwt
from hub.web import COOKIE, is_console_path, is_public_console_path
from protocols.a2a.refusals import rest_refusal
from registry import Principal, Sessions, Tokens

_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")
_CARD = re.compile(r"^((/a2a/[^/]+)?/\.well-known/agent(-card)?\.json|/\.well-known/jwks\.json)$")
"""A2A cards, 1.0 (agent-card) and 0.3 (agent), and the JWKS their signatures name: public documents."""
_PUBLIC = re.compile(r"^/(health(/live|/ready)?|\.well-known/oauth-protected-resource(/.*)?)$")
_CARD_METHODS = ("GET", "HEAD", "OPTIONS")  # what a page on another origin may do with a card: read it, preflight
_JSONRPC_A2A = re.compile(r"^/a2a(/[^/:]+)?/?$")  # POST here: A2A's JSON-RPC; the rest of /a2a is HTTP+JSON
_WEBHOOK = re.compile(r"^/inbound/[^/]+$")  # authenticated by hub.inbound as the model configures, not by a token
_A2A_PUSH = re.compile(r"^/a2a-push/[0-9]+$")  # an agent's notification: its call's own token (hub.a2a_push)
_CACHE_S = 2.0  # a revoked token stops working within this many seconds
_CLOSE = (b"connection", b"close")
_DRAIN_BYTES = 64 * 1024  # a refused request's body up to this size is read to its end before the answer
log = logging.getLogger("agenthub.hub")


class BearerAuth:
    """Who an ``Authorization`` value names: an API token (verified against the registry's hashes, remembered
    ``_CACHE_S``) or, with ``oidc``, a sign-in JWT. The front door's check, shared with the hub's gRPC endpoint."""

    def __init__(self, tokens: Tokens, oidc: OidcVerifier | None = None) -> None:
        self.tokens = tokens
        self.oidc = oidc
        self._cache: dict[str, tuple[float, Principal]] = {}

    async def principal(self, authorization: str) -> Principal | str:
        """The principal of ``Bearer <token>``, or why there is none (a 401's detail; the token is never in it)."""
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return "this endpoint needs an API token: Authorization: Bearer <token>"
        token = token.strip()
        if self.oidc is not None and looks_like_jwt(token):
            principal = await self.oidc.verify(token)
            if principal is None:
                why = "expired, for another audience or issuer, or not signed by the issuer's keys"
                return f"the sign-in token is not valid ({why}): sign in again"
            return principal
        verified = self._verify(token)
        return verified if verified is not None else "the API token is not valid (wrong, malformed or revoked)"

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
        body_limits: tuple[tuple[str, int], ...] = (),
        oidc: OidcVerifier | None = None,
        sessions: Sessions | None = None,
    ) -> None:
        """``max_body_bytes``: the default limit; ``body_limits``: (path prefix, limit) pairs, the first match wins.

        Public paths (health, cards, metadata) take no body at all. ``oidc``: verifies JWT bearer tokens.
        """
        self.app = app
        self.tokens = tokens
        self.port = port
        self.allowed_hosts = tuple(h.lower() for h in allowed_hosts)
        self.allowed_origins = allowed_origins
        self.resource_metadata = resource_metadata
        self.max_body_bytes = max_body_bytes
        self.body_limits = body_limits
        self.sessions = sessions
        self.auth = BearerAuth(tokens, oidc)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope["headers"] = _trimmed(scope["headers"])
        headers = _headers(scope)
        path: str = scope["path"]
        limit = self._body_limit(path)
        body = BoundedBody(receive, send, path=path, limit=limit, pending=_has_body(headers))
        declared = headers.get("content-length", "")
        if limit is not None and declared.isdigit() and int(declared) > limit:
            await _refuse(body.send, path, 413, "Content Too Large", _too_large(limit), method=scope["method"])
            return
        refusal = await self._refusal(headers, path, scope)
        if refusal is not None and refusal[0] == 303:  # a console page without a session: sign in first
            await body.drain(_DRAIN_BYTES)
            await _redirect(body.send, refusal[2])
            return
        if refusal is not None:
            status, title, detail = refusal
            extra = [(b"www-authenticate", self._challenge(path).encode())] if status == 401 else None
            # A small body is read and dropped first, so the connection stays usable: a client or a reverse proxy
            # still writing it would otherwise see the connection reset instead of this answer. A larger one is
            # not read at all (the answer says Connection: close).
            await body.drain(_DRAIN_BYTES)
            await _refuse(body.send, path, status, title, detail, extra, method=scope["method"])
            return
        try:
            await self.app(scope, body.receive, body.send)
        except Exception:
            if not body.cut:
                raise
            # The client has its 413; what the app made of the cut-off body (ClientDisconnect) is of no interest.
            log.debug("%s: the app failed on a body cut off at %s bytes", path, limit, exc_info=True)

    def _body_limit(self, path: str) -> int | None:
        if _PUBLIC.match(path) or _CARD.match(path):
            return 0
        for prefix, limit in self.body_limits:
            if path == prefix or path.startswith(prefix.rstrip("/") + "/"):
                return limit
        return self.max_body_bytes

    async def _refusal(self, headers: dict[str, str], path: str, scope: Scope) -> tuple[int, str, str] | None:
        """Why the request may not go on (status, title, detail), or None; sets the principal when it may."""
        if not self._host_ok(headers.get("host", "")):
            return 403, "Forbidden", "the Host header does not name this hub"
        card = _CARD.match(path) is not None
        origin = headers.get("origin")
        # A card is a public document (served with CORS, no credentials): any page may read it. Everything else,
        # a POST to a card's path included, keeps refusing foreign origins.
        if origin is not None and origin not in self._origins() and not (card and scope["method"] in _CARD_METHODS):
            return 403, "Forbidden", "requests from this Origin are not allowed"
        if card or _PUBLIC.match(path) or _WEBHOOK.match(path) or _A2A_PUSH.match(path):
            return None
        console = is_console_path(path)
        if console and is_public_console_path(path):
            return None
        query = scope.get("query_string", b"").decode("latin-1")
        if re.search(r"(^|&)access_token=", query):
            return 401, "Unauthorized", "send the token in the Authorization header, never in the URL"
        auth = headers.get("authorization", "")
        if console and not auth:
            return self._session(headers, path, scope)
        principal = await self.auth.principal(auth)
        if isinstance(principal, str):
            return 401, "Unauthorized", principal
        scope.setdefault("state", {})["principal"] = principal
        return None

    def _session(self, headers: dict[str, str], path: str, scope: Scope) -> tuple[int, str, str] | None:
        """A console page: the principal comes from the session cookie; without a live one, 303 to /login."""
        value = cookie_parser(headers.get("cookie", "")).get(COOKIE, "")
        session = self.sessions.get(value) if value and self.sessions is not None else None
        if session is None:
            query = scope.get("query_string", b"").decode("latin-1")
            wanted = path + (f"?{query}" if query else "")
            target = "/login" if wanted == "/" else "/login?" + urlencode({"next": wanted})
            return 303, "See Other", target
        state = scope.setdefault("state", {})
        state["principal"] = session.principal
        state["session"] = session
        return None

    def _host_ok(self, host: str) -> bool:
        host = host.lower()
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        return name in _LOOPBACK_HOSTS or host in self.allowed_hosts or name in self.allowed_hosts

    def _origins(self) -> set[str]:
        port = self.port()
        return {f"http://{h}:{port}" for h in _LOOPBACK_HOSTS} | set(self.allowed_origins)

    def _challenge(self, path: str) -> str:
        """The 401's ``WWW-Authenticate``: for ``/mcp`` the metadata of the MCP endpoint itself (RFC 9728 section
        3.1: its ``resource`` is ``<hub>/mcp``, the URI an MCP client asks the issuer a token for), else the hub's."""
        challenge = 'Bearer realm="agenthub"'
        if self.resource_metadata is not None:
            mcp = path == "/mcp" or path.startswith("/mcp/")
            challenge += f', resource_metadata="{self.resource_metadata()}{"/mcp" if mcp else ""}"'
        return challenge


class BoundedBody:
    """The request body as the app reads it, cut off at ``limit`` bytes, and the app's side of the response.

    Past the limit, ``receive`` answers 413 itself (when no response has started) and from then on
    reports the client gone (``http.disconnect``), so the app stops reading; what the app still
    sends is dropped. A response that starts while the body is still arriving says
    ``Connection: close``, so the server drops the rest instead of reading it to the end.
    """

    def __init__(self, receive: Receive, send: Send, *, path: str, limit: int | None, pending: bool) -> None:
        self._receive = receive
        self._send = send
        self.path = path
        self.limit = limit
        self.pending = pending  # body bytes may still arrive
        self.received = 0
        self.started = False
        self.cut = False

    async def receive(self) -> Message:
        if self.cut:
            return {"type": "http.disconnect"}
        message = await self._receive()
        if message["type"] != "http.request":
            return message
        self.received += len(message.get("body", b""))
        if not message.get("more_body", False):
            self.pending = False
        if self.limit is not None and self.received > self.limit:
            self.cut = True
            if not self.started:
                self.started = True
                await _refuse(self._send, self.path, 413, "Content Too Large", _too_large(self.limit), [_CLOSE])
            return {"type": "http.disconnect"}
        return message

    async def drain(self, most: int) -> None:
        """Read and drop what is left of the body while it stays within ``most`` bytes (and the limit)."""
        while self.pending and not self.cut and self.received <= most:
            message = await self.receive()
            if message["type"] != "http.request":
                break

    async def send(self, message: Message) -> None:
        if self.cut:
            return
        if message["type"] == "http.response.start":
            self.started = True
            if self.pending:
                message = {**message, "headers": [*message.get("headers", []), _CLOSE]}
        await self._send(message)


async def _redirect(send: Send, location: str) -> None:
    headers = [(b"location", location.encode("latin-1", "replace")), (b"content-length", b"0"),
               (b"cache-control", b"no-store")]
    await send({"type": "http.response.start", "status": 303, "headers": headers})
    await send({"type": "http.response.body", "body": b""})


def _has_body(headers: dict[str, str]) -> bool:
    declared = headers.get("content-length", "")
    return "transfer-encoding" in headers or (declared.isdigit() and int(declared) > 0)


def _too_large(limit: int) -> str:
    return f"the body is larger than {limit} bytes, this endpoint's limit: send a smaller one"


_OWS = (b" ", b"\t")


def _trimmed(raw: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The request's headers with each value's surrounding spaces and tabs removed (the list itself when none)."""
    if not any(v[:1] in _OWS or v[-1:] in _OWS for _, v in raw):
        return raw
    return [(k, v.strip(b" \t")) for k, v in raw]


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


async def _refuse(
    send: Send,
    path: str,
    status: int,
    title: str,
    detail: str,
    extra: list[tuple[bytes, bytes]] | None = None,
    *,
    method: str = "POST",
) -> None:
    """A refusal in the caller's language: JSON-RPC (with no id) on /mcp and A2A's JSON-RPC endpoints, A2A's
    HTTP+JSON error on the rest of /a2a, problem+json elsewhere.

    On /a2a the HTTP status carries the meaning and the JSON-RPC code is -32600 for every refusal: A2A defines no
    code for authentication, and its -32001 and -32003 mean TaskNotFound and PushNotificationNotSupported (a
    client would report "task not found" for a missing token). /mcp keeps its codes (the MCP SDK's clients read
    them).
    """
    body: dict[str, Any]
    if path.startswith("/mcp") or (method == "POST" and _JSONRPC_A2A.match(path)):
        code = -32600 if path.startswith("/a2a") else {401: -32001, 413: -32600}.get(status, -32003)
        body = {"jsonrpc": "2.0", "id": None, "error": {"code": code, "message": detail}}
        media = b"application/json"
    elif path.startswith("/a2a/"):
        body = rest_refusal(status, detail)
        media = b"application/json"
    else:
        body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
        if path.startswith("/v2/"):  # Camunda's problem detail names the request (its clients require the field)
            body["instance"] = path
        media = b"application/problem+json"
    data = json.dumps(body).encode()
    headers = [(b"content-type", media), (b"content-length", str(len(data)).encode()), *(extra or [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})
