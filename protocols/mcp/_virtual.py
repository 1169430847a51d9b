"""Virtual MCP servers at ``/mcp/{name}``: who gets in, and which tools each request may see.

A virtual server (``registry.VirtualServer``) is the same MCP server as
``/mcp``, the same SDK ``Server``, sessions, limits and gateway path, offering
only its set: the processes it names (of those exposed as tools), the
federated tools and A2A agents it names, and none of the hub's ``agenthub_*``
tools. ``VirtualFront`` sits in front of ``_http.McpHttpFront`` for that
route:

1. the name must be a registered virtual server, else 404;
2. the verified principal must be admitted (``VirtualServer.admits``), else
   403 with a JSON-RPC error, before the SDK sees the request, so no session
   is ever made for a refused principal;
3. the server's definition goes into ``scope["state"]`` for the handlers
   (``virtual_of``), read anew on every request: a change or a removal
   applies to the next request, not to the next session.

A session belongs to its token, as on ``/mcp``; every request is judged by
the path it was sent to, so a session opened at one path gives nothing at
another that the token could not have there anyway. Rejected: binding a
session to its path through the SDK's owner identity, which would also
split the per-token session cap by path.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from starlette.types import ASGIApp, Receive, Scope, Send

from engine.exposure import ToolSpec
from protocols.mcp._context import FORBIDDEN, Context
from protocols.mcp._http import _error as send_error
from protocols.mcp._process_tools import _by_name as by_name
from registry import Principal, VirtualServer

__all__ = ["STATE_KEY", "VirtualFront", "processes_within", "virtual_of"]

STATE_KEY = "mcp_virtual_server"
"""Where ``scope["state"]`` carries the virtual server a request was sent to."""

_NOT_FOUND = -32001


class VirtualFront:
    """The ASGI app of ``/mcp/{name}``: ``find(name)`` reads a definition (blocking: run on a thread)."""

    def __init__(self, app: ASGIApp, find: Callable[[str], VirtualServer | None]) -> None:
        self.app = app
        self.find = find

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.get("state") or {}
        principal = state.get("principal")
        if not isinstance(principal, Principal):
            await self.app(scope, receive, send)  # the front answers 401
            return
        name = str((scope.get("path_params") or {}).get("name", ""))
        server = await asyncio.to_thread(self.find, name)
        if server is None:
            await send_error(send, 404, _NOT_FOUND, f"no virtual MCP server '{name}' on this hub")
            return
        if not server.admits(principal):
            await send_error(send, 403, FORBIDDEN, f"permission denied: '{principal.name}' may not use the virtual "
                             f"MCP server '{name}' (an admin allows users or groups with `agenthub mcp-server "
                             f"virtual add {name} --allow-user ... --allow-group ...`)")
            return
        await self.app({**scope, "state": {**state, STATE_KEY: server}}, receive, send)


def virtual_of(ctx: Context) -> VirtualServer | None:
    """The virtual server this request was sent to; None on ``/mcp`` and over stdio."""
    request = ctx.request
    found = getattr(request.state, STATE_KEY, None) if request is not None else None
    return found if isinstance(found, VirtualServer) else None


def processes_within(specs: list[ToolSpec], server: VirtualServer) -> set[str]:
    """The tool names of the exposed processes ``server`` names, by process id or by tool name."""
    return {name for name, spec in by_name(specs).items() if spec.process_id in server.processes
            or name in server.processes}
