"""Virtual MCP servers (``/api/v1/mcp-servers/virtual``): curated sets served at ``/mcp/{name}``.

Reading needs the ``read`` scope; defining and removing need ``admin``. A
``PUT`` creates or replaces the whole definition (201 when new, 200 when
replaced)::

    {"description": "...", "processes": ["order"], "tools": ["files__read_file"], "agents": ["billing"],
     "allowUsers": ["alice"], "allowGroups": ["sales"], "a2a": true}

``a2a`` (default false) serves the set's processes as the skills of an A2A
agent at ``/a2a/{name}`` too, to the same principals (docs/GATEWAY.md).

Members are not checked against what is deployed or registered now: one that
is missing is simply not offered until it is there (``registry.virtual``).
These routes come before ``/api/v1/mcp-servers/{name}``, so a registered MCP
server named ``virtual`` is reached through the CLI, not this path.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from hub.api.common import ApiError, audit_actor, field, hub, json_body, require
from registry import VirtualServer


def _strings(body: dict[str, Any], name: str) -> tuple[str, ...]:
    values = field(body, name, list, default=[])
    if not all(isinstance(v, str) for v in values):
        raise ApiError(400, f"'{name}' must be an array of strings")
    return tuple(values)


async def list_virtual(request: Request) -> Response:
    require(request, "read")
    servers = await asyncio.to_thread(hub(request).registry.virtual.all)
    return JSONResponse({"items": [s.to_json() for s in servers]})


async def get_virtual(request: Request) -> Response:
    require(request, "read")
    server = await asyncio.to_thread(hub(request).registry.virtual.get, request.path_params["name"])
    return JSONResponse(server.to_json())


async def put_virtual(request: Request) -> Response:
    who = require(request, "admin")
    body = await json_body(request)
    server = VirtualServer(
        name=request.path_params["name"],
        description=field(body, "description", str, default=""),
        processes=_strings(body, "processes"),
        tools=_strings(body, "tools"),
        agents=_strings(body, "agents"),
        allow_users=_strings(body, "allowUsers"),
        allow_groups=_strings(body, "allowGroups"),
        a2a=field(body, "a2a", bool, default=False),
    )
    saved, created = await asyncio.to_thread(hub(request).registry.virtual.put, server, actor=audit_actor(who))
    return JSONResponse(saved.to_json(), status_code=201 if created else 200)


async def remove_virtual(request: Request) -> Response:
    who = require(request, "admin")
    await asyncio.to_thread(hub(request).registry.virtual.remove, request.path_params["name"],
                            actor=audit_actor(who))
    return Response(status_code=204)


routes: list[BaseRoute] = [
    Route("/api/v1/mcp-servers/virtual", list_virtual, methods=["GET"]),
    Route("/api/v1/mcp-servers/virtual/{name}", get_virtual, methods=["GET"]),
    Route("/api/v1/mcp-servers/virtual/{name}", put_virtual, methods=["PUT"]),
    Route("/api/v1/mcp-servers/virtual/{name}", remove_virtual, methods=["DELETE"]),
]
