"""Upstream MCP servers (``/api/v1/mcp-servers``): register them, review and approve their pinned tools.

Listing needs the ``read`` scope; registering, removing and approving need
``admin``. Registering connects to the server (or starts its command) and
fetches its tools, which are pinned as approved by that act, so only an admin
may do it. Answers show header names and variable names, never a secret; the
caller's own token is never sent upstream (the client sends only the entry's
credentials).

Upstream failures answer 502 (unreachable, timed out, malformed) or 400 (a
variable the entry needs is not set in the hub's environment). A URL whose
host resolves to an address the egress allow-list (``AGENTHUB_HTTP_ALLOW``)
does not admit answers 400 before anything is contacted, on registering and
on every refresh.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from hub.api.common import ApiError, audit_actor, field, hub, json_body, require
from protocols.http import ConnectionFailed, EgressDenied, EgressPolicy
from protocols.mcp.client import McpClientError, McpConfigError, list_tools
from protocols.mcp.client_egress import admit_server
from protocols.mcp.client_review import review
from registry import McpServer, RegistryConflict, RegistryNotFound, tool_hash
from registry.mcp import check_server


async def _fetch(request: Request, server: McpServer) -> list[dict[str, Any]]:
    """The server's tools, once its URL passed the egress allow-list (nothing is contacted otherwise)."""
    egress = EgressPolicy.from_env(hub(request).settings.http_allow)
    try:
        await admit_server(server, egress)
    except EgressDenied as exc:
        raise ApiError(400, str(exc), title="Destination Not Allowed", refused=list(exc.refused)) from None
    except ConnectionFailed as exc:
        raise ApiError(502, f"MCP server '{server.name}': {exc}", title="Bad Gateway") from None
    try:
        return await list_tools(server, egress=egress)  # each connection checked again as it is made
    except McpConfigError as exc:
        raise ApiError(400, str(exc)) from None
    except McpClientError as exc:
        raise ApiError(502, str(exc), title="Bad Gateway") from None


def _strings(body: dict[str, Any], name: str) -> list[str]:
    values = field(body, name, list, default=[])
    if not all(isinstance(v, str) for v in values):
        raise ApiError(400, f"'{name}' must be an array of strings")
    return list(values)


def _server(body: dict[str, Any]) -> McpServer:
    url = field(body, "url", str)
    command = _strings(body, "command")
    if (url is None) == (not command):
        raise ApiError(400, "give either 'url' (streamable HTTP) or 'command' (stdio: the argv, run without a shell)")
    headers = field(body, "headers", dict, default={})
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items()):
        raise ApiError(400, "'headers' must map header names to strings (a value, or 'env:VAR')")
    server = McpServer(
        name=field(body, "name", str, required=True),
        transport="http" if url is not None else "stdio",
        url=url,
        command=command,
        headers=dict(headers),
        bearer_env=field(body, "bearerEnv", str),
        env=_strings(body, "env"),
        timeout_s=field(body, "timeoutSeconds", int, default=60),
    )
    check_server(server)
    return server


async def list_servers(request: Request) -> Response:
    require(request, "read")
    servers = await asyncio.to_thread(hub(request).registry.mcp.all)
    return JSONResponse({"items": [s.to_json() for s in servers]})


async def add_server(request: Request) -> Response:
    """``{"name", "url" | "command": [argv], "headers", "bearerEnv", "env", "timeoutSeconds"}``."""
    who = require(request, "admin")
    server = _server(await json_body(request))
    registry = hub(request).registry.mcp
    try:
        await asyncio.to_thread(registry.get, server.name)
    except RegistryNotFound:
        pass
    else:  # refuse before anything is started or contacted
        raise RegistryConflict(f"an MCP server named '{server.name}' is registered already")
    tools = await _fetch(request, server)
    added = await asyncio.to_thread(registry.add, server, tools, actor=audit_actor(who))
    listed = [{"name": t["name"], "hash": tool_hash(t), "description": t.get("description")} for t in tools]
    return JSONResponse({**added.to_json(), "tools": listed}, status_code=201)


async def get_server(request: Request) -> Response:
    require(request, "read")
    name = request.path_params["name"]
    server = await asyncio.to_thread(hub(request).registry.mcp.get, name)
    tools = await asyncio.to_thread(hub(request).registry.mcp.tools, name)
    states = [{"name": t.name, "state": t.state, "callable": t.callable} for t in tools]
    return JSONResponse({**server.to_json(), "tools": states})


async def remove_server(request: Request) -> Response:
    who = require(request, "admin")
    await asyncio.to_thread(hub(request).registry.mcp.remove, request.path_params["name"], actor=audit_actor(who))
    return Response(status_code=204)


async def server_tools(request: Request) -> Response:
    """Each tool's pinning state and changed fields; ``?refresh=true`` fetches and records the tools first."""
    who = require(request, "read")
    registry = hub(request).registry
    name = request.path_params["name"]
    server = await asyncio.to_thread(registry.mcp.get, name)
    report = None
    if request.query_params.get("refresh", "").lower() in ("1", "true", "yes"):
        tools = await _fetch(request, server)
        report = await asyncio.to_thread(registry.mcp.sync, name, tools, actor=audit_actor(who))
    items = await asyncio.to_thread(review, registry, name)
    return JSONResponse({"items": items, "sync": report.to_json() if report else None})


async def approve_tools(request: Request) -> Response:
    """``{"tool"?, "hash"?}``: approve one held tool (refused if its hash is no longer ``hash``), or all of them."""
    who = require(request, "admin")
    body = await json_body(request, optional=True)
    tool = field(body, "tool", str)
    expected = field(body, "hash", str)
    if expected is not None and tool is None:
        raise ApiError(400, "'hash' needs 'tool': it names the definition of one tool")
    registry = hub(request).registry
    name = request.path_params["name"]
    if tool is not None and expected is not None:
        current = (await asyncio.to_thread(registry.mcp.tool, name, tool)).hash
        if current != expected.removeprefix("sha256:"):
            detail = f"tool '{tool}' changed again since it was reviewed; fetch its tools again"
            raise ApiError(409, detail, hash=current)
    approved = await asyncio.to_thread(
        registry.mcp.approve,
        name,
        tool,
        expected_hash=expected.removeprefix("sha256:") if expected else None,
        actor=audit_actor(who),
    )
    items = await asyncio.to_thread(review, registry, name)
    return JSONResponse({"approved": approved, "items": items})


async def reject_tool(request: Request) -> Response:
    """``{"tool", "hash", "reason"?}``: refuse the reviewed definition of a held tool; it stays blocked."""
    who = require(request, "admin")
    body = await json_body(request)
    tool = field(body, "tool", str)
    expected = field(body, "hash", str)
    reason = field(body, "reason", str)
    if tool is None or expected is None:
        raise ApiError(400, "reject one tool: {\"tool\": NAME, \"hash\": the hash of the definition you reviewed}")
    registry = hub(request).registry
    rejected = await asyncio.to_thread(
        registry.mcp.reject, request.path_params["name"], tool, expected_hash=expected.removeprefix("sha256:"),
        reason=reason, actor=audit_actor(who),
    )
    return JSONResponse({"rejected": rejected.name, "state": str(rejected.state), "hash": rejected.hash})


routes: list[BaseRoute] = [
    Route("/api/v1/mcp-servers", list_servers, methods=["GET"]),
    Route("/api/v1/mcp-servers", add_server, methods=["POST"]),
    Route("/api/v1/mcp-servers/{name}", get_server, methods=["GET"]),
    Route("/api/v1/mcp-servers/{name}", remove_server, methods=["DELETE"]),
    Route("/api/v1/mcp-servers/{name}/tools", server_tools, methods=["GET"]),
    Route("/api/v1/mcp-servers/{name}/approve", approve_tools, methods=["POST"]),
    Route("/api/v1/mcp-servers/{name}/reject", reject_tool, methods=["POST"]),
]
