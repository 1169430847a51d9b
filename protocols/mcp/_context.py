"""What every handler shares: who is calling, what they may do, and how answers and refusals look.

The caller is a ``registry.Principal``. Over HTTP the hub's guard verified
the bearer token and put it in ``scope["state"]["principal"]``, which the
SDK hands us as ``ctx.request.state.principal``; over stdio it is the one
principal ``agenthub mcp`` was started for, carried in the lifespan state.
A request with neither is refused: the server fails closed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio.to_thread
from mcp.server.context import ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_REQUEST, CallToolResult, ContentBlock, TextContent

from registry import Principal

FORBIDDEN = -32003
"""JSON-RPC code for "this token lacks the scope": the code MCP gateways use for access denied (RELIABILITY.md 2.3)."""

MAX_ID = 2**63 - 1
"""Instance, task and incident ids are signed 64-bit keys; a larger number names nothing."""

T = TypeVar("T")
Context = ServerRequestContext["ServerState", Any]


@dataclass(frozen=True, slots=True)
class ServerState:
    """The SDK's lifespan state for our handlers: the fixed principal of a stdio connection, None over HTTP."""

    principal: Principal | None = None


def principal_of(ctx: Context) -> Principal:
    request = ctx.request
    found = getattr(request.state, "principal", None) if request is not None else ctx.lifespan_context.principal
    if not isinstance(found, Principal):
        raise MCPError(INVALID_REQUEST, "this request carries no verified identity: send a bearer token")
    return found


def session_key(ctx: Context) -> str:
    """Who and which session a request belongs to: the principal and ``Mcp-Session-Id`` (stdio: one session)."""
    request = ctx.request
    found = request.headers.get("mcp-session-id") if request is not None else "stdio"
    return f"{principal_of(ctx).name}\x00{found or ''}"


def require(principal: Principal, scope: str, action: str) -> None:
    """Refuse with ``FORBIDDEN`` unless the principal holds ``scope``."""
    if not principal.has(scope):
        raise MCPError(
            FORBIDDEN,
            f"permission denied: {action} needs the '{scope}' scope, which this token lacks",
            {"requiredScope": scope},
        )


def dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def tool_result(
    data: dict[str, Any], *, note: str | None = None, error: bool = False, meta: dict[str, Any] | None = None
) -> CallToolResult:
    """Structured content plus its JSON as the first text block (for clients without structured output),
    and a sentence for the reader after it."""
    content: list[ContentBlock] = [TextContent(text=dumps(data))]
    if note:
        content.append(TextContent(text=note))
    return CallToolResult(content=content, structured_content=data, is_error=error, _meta=meta)


def tool_error(kind: str, message: str, **details: Any) -> CallToolResult:
    """A tool-level failure the model can read and correct: ``{"error": {"type", "message", ...}}``."""
    return tool_result({"error": {"type": kind, "message": message, **details}}, note=message, error=True)


async def in_thread(function: Callable[[], T]) -> T:
    """Run a blocking engine call off the event loop.

    A cancelled request (deadline, client cancel) stops waiting at once; the
    call itself finishes in its thread, and what it committed stays committed,
    as with any request that times out after reaching the server.
    """
    return await anyio.to_thread.run_sync(function, abandon_on_cancel=True)
