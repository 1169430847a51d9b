"""The ASGI layer in front of the SDK's Streamable HTTP handler: identity and strict JSON.

1. A request without a verified ``registry.Principal`` in
   ``scope["state"]["principal"]`` gets 401 (the hub's guard should have
   answered first; this is the fail-closed backstop).
2. The principal is shown to the SDK as ``scope["user"]``, which the SDK
   binds a session to: a session opened with one token answers 404 to
   another (RELIABILITY.md M8). The token itself is not passed on.
3. A POST body is read once (413 above ``max_body`` bytes) and parsed
   strictly (``engine.strict_json``) before the SDK parses it again:
   duplicate keys, ``NaN``, ``Infinity`` and numbers like ``1e999`` that
   overflow to it, lone surrogates, and nesting too deep for the parser are
   refused with a JSON-RPC parse error naming the field (``data.field``) and
   HTTP 400 (M14). Python's parser would otherwise keep the last duplicate
   and accept ``NaN``.
4. On 2026-07-28 (the ``MCP-Protocol-Version`` header), ``tasks/get``,
   ``tasks/update`` and ``tasks/cancel`` must carry ``Mcp-Name`` equal to
   ``params.taskId`` (the Tasks extension's routing header, SEP-2663, which
   the SDK checks only for the core methods): else HTTP 400 and
   ``-32020`` (header mismatch), as for the core methods.
5. A new session the session manager refuses (``_sessions.SessionRefused``:
   this token holds its most sessions, or the table is full) is answered
   here: 429 or 503 with ``Retry-After`` and a JSON-RPC error whose
   ``data.retryAfterSeconds`` says the same (M15).
"""

from __future__ import annotations

import json
from typing import Any

from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken
from mcp.shared.inbound import decode_header_value
from mcp_types import HEADER_MISMATCH, INTERNAL_ERROR, INVALID_REQUEST, PARSE_ERROR
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from engine import strict_json
from engine.strict_json import JsonProblem
from protocols.mcp._rate import RATE_LIMITED
from protocols.mcp._sessions import SessionRefused
from registry import Principal


class McpHttpFront:
    def __init__(self, app: ASGIApp, *, max_body: int) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        principal = (scope.get("state") or {}).get("principal")
        if not isinstance(principal, Principal):
            await _error(send, 401, INVALID_REQUEST, "authentication required: send a bearer token")
            return
        owner = AccessToken(
            token="",  # the SDK compares client_id, issuer and subject; it never needs the secret
            client_id=principal.token_id or principal.name,
            scopes=sorted(principal.scopes),
            subject=principal.name,
        )
        scope = {**scope, "user": AuthenticatedUser(owner)}
        if scope["method"] == "POST":
            body = await _read_body(receive, self.max_body)
            if body is None:
                await _error(send, 413, INVALID_REQUEST, f"the request body is larger than {self.max_body} bytes")
                return
            try:
                parsed = strict_json.loads(body)
            except JsonProblem as problem:
                data = None if problem.path is None else {"field": problem.path}
                await _error(send, 400, PARSE_ERROR, f"Parse error: {problem}", data)
                return
            mismatch = task_name_mismatch(scope, parsed)
            if mismatch is not None:
                await _error(send, 400, HEADER_MISMATCH, mismatch, request_id=parsed.get("id"))
                return
            receive = _replay(body, receive)
        try:
            await self.app(scope, receive, send)
        except SessionRefused as refused:  # raised before the SDK answered anything
            code = RATE_LIMITED if refused.status == 429 else INTERNAL_ERROR
            wait = refused.retry_after_s
            await _error(send, refused.status, code, refused.message, {"retryAfterSeconds": wait}, retry_after=wait)


TASK_METHODS = frozenset({"tasks/get", "tasks/update", "tasks/cancel"})


def task_name_mismatch(scope: Scope, body: Any) -> str | None:
    """Why a 2026-07-28 task request's ``Mcp-Name`` header does not name its task, or None (other requests too)."""
    if not isinstance(body, dict) or body.get("method") not in TASK_METHODS:
        return None
    headers = dict(scope.get("headers") or [])
    version = headers.get(b"mcp-protocol-version", b"").decode("latin-1").strip()
    if version not in MODERN_PROTOCOL_VERSIONS:
        return None
    params = body.get("params")
    task_id = params.get("taskId") if isinstance(params, dict) else None
    raw = headers.get(b"mcp-name")
    said = decode_header_value(raw.decode("latin-1").strip()) if raw is not None else None
    if raw is None:
        return f"{body['method']} needs the Mcp-Name header, set to params.taskId"
    if said != task_id:
        return f"the Mcp-Name header does not match the request body's 'taskId' parameter of {body['method']}"
    return None


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands out the body read already, then waits on the real one (for disconnects)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _error(
    send: Send,
    status: int,
    code: int,
    message: str,
    data: dict[str, Any] | None = None,
    *,
    retry_after: int | None = None,
    request_id: Any = None,
) -> None:
    error: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    answered = request_id if isinstance(request_id, str | int) and not isinstance(request_id, bool) else None
    body = json.dumps({"jsonrpc": "2.0", "id": answered, "error": error}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if retry_after is not None:
        headers.append((b"retry-after", str(retry_after).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
