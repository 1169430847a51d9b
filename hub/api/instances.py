"""Process instances: start (optionally waiting for the end), list, get, cancel, journal."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from engine import Channel, InstanceView
from hub.api.common import (
    ApiError,
    field,
    hub,
    int_param,
    json_body,
    only_fields,
    page_params,
    paged,
    path_int,
    require,
)
from protocols.actors import actor_of
from protocols.instances import follow, outcome

MAX_AWAIT_S = 300.0


def instance_json(request: Request, view: InstanceView, *, details: bool = True) -> dict[str, Any]:
    data = outcome(hub(request).engine, view) if details else view.to_json()
    data["version"] = view.version
    data["startedBy"] = view.started_by  # read-only: the engine's record of who started it, not a variable
    data["activeElements"] = view.active_elements
    if view.parent_instance is not None:
        data["parentInstance"] = view.parent_instance
    if view.created_at is not None:
        data["createdAt"] = view.created_at
    if view.ended_at is not None:
        data["endedAt"] = view.ended_at
    return data


async def start(request: Request) -> Response:
    """``{"processId", "variables", "version", "awaitCompletion": seconds}``.

    Answers 201 with the instance as it stands when it ends, raises an
    incident, or the wait runs out (``awaitCompletion``, default 0: answer
    as soon as the first steps are committed).
    """
    principal = require(request, "start")
    body = await json_body(request)
    process_id = field(body, "processId", str, required=True)
    variables = field(body, "variables", dict, default={})
    version = field(body, "version", int)
    wait = float(field(body, "awaitCompletion", (int, float), default=0))
    if not 0 <= wait <= MAX_AWAIT_S:
        raise ApiError(400, f"'awaitCompletion' must be between 0 and {MAX_AWAIT_S:g} seconds")
    only_fields(body, {"processId", "variables", "version", "awaitCompletion"})
    engine = hub(request).engine
    view = await asyncio.to_thread(engine.start, process_id, variables, version=version, owner=principal.name,
                                   by=actor_of(principal, Channel.REST))
    if wait > 0:
        view = await follow(engine, view.key, wait, first=view)
    data = await asyncio.to_thread(instance_json, request, view)
    return JSONResponse(data, status_code=201, headers={"Location": f"/api/v1/process-instances/{view.key}"})


async def list_instances(request: Request) -> Response:
    """Filters: ``state`` (active, completed, terminated, incident), ``processId``; pages by ``after``."""
    require(request, "read")
    limit, after = page_params(request)
    views = await asyncio.to_thread(
        hub(request).engine.instances,
        state=request.query_params.get("state") or None,
        process_id=request.query_params.get("processId") or None,
        limit=limit + 1,
        after=after,
    )
    items = [
        instance_json(request, v, details=False) | {"version": v.version, "createdAt": v.created_at} for v in views
    ]
    return paged(items, limit, key="instance")


async def get_instance(request: Request) -> Response:
    require(request, "read")
    engine = hub(request).engine
    view = await asyncio.to_thread(engine.instance, path_int(request, "key"))
    return JSONResponse(await asyncio.to_thread(instance_json, request, view))


async def cancel(request: Request) -> Response:
    who = require(request, "start")
    view = await asyncio.to_thread(hub(request).engine.cancel, path_int(request, "key"),
                                   by=actor_of(who, Channel.REST))
    return JSONResponse(await asyncio.to_thread(instance_json, request, view))


async def journal(request: Request) -> Response:
    """The instance's audit trail in order; ``after`` is a position, ``limit`` at most 1000."""
    require(request, "read")
    key = path_int(request, "key")
    engine = hub(request).engine
    await asyncio.to_thread(engine.instance, key)  # 404 for an unknown instance
    limit = int_param(request, "limit", 100, low=1, high=1000)
    after = int_param(request, "after", 0) or 0
    assert limit is not None
    rows = await asyncio.to_thread(engine.journal, key, after=after, limit=limit + 1)
    return paged(rows, limit, key="position")


async def variables(request: Request) -> Response:
    """Set variables on the instance's root scope: ``{"variables": {...}}``."""
    who = require(request, "start")
    key = path_int(request, "key")
    body = await json_body(request)
    values = field(body, "variables", dict, required=True)
    engine = hub(request).engine
    await asyncio.to_thread(engine.set_variables, key, values, by=actor_of(who, Channel.REST))
    return JSONResponse(await asyncio.to_thread(instance_json, request, await asyncio.to_thread(engine.instance, key)))


routes: list[BaseRoute] = [
    Route("/api/v1/process-instances", start, methods=["POST"]),
    Route("/api/v1/process-instances", list_instances, methods=["GET"]),
    Route("/api/v1/process-instances/{key}", get_instance, methods=["GET"]),
    Route("/api/v1/process-instances/{key}/cancel", cancel, methods=["POST"]),
    Route("/api/v1/process-instances/{key}/journal", journal, methods=["GET"]),
    Route("/api/v1/process-instances/{key}/variables", variables, methods=["POST"]),
]
