"""Messages, signals and incidents."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from engine import Channel
from hub.api.common import ApiError, field, hub, int_param, json_body, page_params, paged, path_int, require
from protocols.actors import actor_of

MAX_TTL_MS = 365 * 24 * 3600 * 1000


async def publish(request: Request) -> Response:
    """``{"name", "correlationKey", "variables", "timeToLive": ms, "messageId"}``."""
    who = require(request, "start")
    body = await json_body(request)
    name = field(body, "name", str, required=True)
    if not name:
        raise ApiError(400, "'name' must not be empty")
    ttl = field(body, "timeToLive", int, default=0)
    if not 0 <= ttl <= MAX_TTL_MS:
        raise ApiError(400, "'timeToLive' is in milliseconds, from 0 to one year")
    result = await asyncio.to_thread(
        hub(request).engine.publish_message,
        name,
        field(body, "correlationKey", str, default=""),
        field(body, "variables", dict, default={}),
        ttl_ms=ttl,
        message_id=field(body, "messageId", str),
        by=actor_of(who, Channel.REST),
    )
    return JSONResponse(result, status_code=201)


async def signal(request: Request) -> Response:
    """``{"name", "variables"}``: reaches every waiting catch event and signal start event."""
    who = require(request, "start")
    body = await json_body(request)
    name = field(body, "name", str, required=True)
    count = await asyncio.to_thread(
        hub(request).engine.broadcast_signal, name, field(body, "variables", dict, default={}),
        by=actor_of(who, Channel.REST),
    )
    return JSONResponse({"name": name, "reached": count}, status_code=201)


async def list_incidents(request: Request) -> Response:
    """Filters: ``state`` (open, resolved, all; default open), ``instance``."""
    require(request, "read")
    limit, after = page_params(request)
    state = request.query_params.get("state", "open")
    if state not in ("open", "resolved", "all"):
        raise ApiError(400, f"unknown incident state '{state}': use open, resolved or all")
    views = await asyncio.to_thread(
        hub(request).engine.incidents,
        state=None if state == "all" else state,
        instance=int_param(request, "instance"),
        limit=limit + 1,
        after=after,
    )
    return paged([v.to_json() for v in views], limit)


async def resolve(request: Request) -> Response:
    """Retry what failed (the job, with one more retry, or the expression)."""
    who = require(request, "start")
    key = path_int(request, "key")
    await asyncio.to_thread(hub(request).engine.resolve_incident, key, by=actor_of(who, Channel.REST))
    return JSONResponse({"id": key, "state": "resolved"})


routes: list[BaseRoute] = [
    Route("/api/v1/messages", publish, methods=["POST"]),
    Route("/api/v1/signals", signal, methods=["POST"]),
    Route("/api/v1/incidents", list_incidents, methods=["GET"]),
    Route("/api/v1/incidents/{key}/resolve", resolve, methods=["POST"]),
]
