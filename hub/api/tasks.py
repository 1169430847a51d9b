"""User tasks: list (filters: state, candidate group, instance), get, claim, complete."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from hub.api.common import ApiError, field, hub, int_param, json_body, page_params, paged, path_int, require

_STATES = ("created", "completed", "canceled", "all")


async def list_tasks(request: Request) -> Response:
    require(request, "tasks")
    limit, after = page_params(request)
    state = request.query_params.get("state", "created")
    if state not in _STATES:
        raise ApiError(400, f"unknown task state '{state}': use {', '.join(_STATES)}")
    views = await asyncio.to_thread(
        hub(request).engine.user_tasks,
        state=None if state == "all" else state,
        instance=int_param(request, "instance"),
        candidate_group=request.query_params.get("candidateGroup") or None,
        limit=limit + 1,
        after=after,
    )
    return paged([v.to_json() for v in views], limit)


async def get_task(request: Request) -> Response:
    require(request, "tasks")
    view = await asyncio.to_thread(hub(request).engine.user_task, path_int(request, "key"))
    return JSONResponse(view.to_json())


async def claim(request: Request) -> Response:
    """``{"assignee": "..."}``; without a body the task goes to the caller's token name; ``null`` unclaims."""
    who = require(request, "tasks")
    key = path_int(request, "key")
    body = await json_body(request, optional=True)
    assignee = field(body, "assignee", str, default=who.name) if "assignee" in body or not body else None
    if "assignee" in body and body["assignee"] is None:
        assignee = None
    engine = hub(request).engine
    await asyncio.to_thread(engine.claim_user_task, key, assignee)
    return JSONResponse((await asyncio.to_thread(engine.user_task, key)).to_json())


async def complete(request: Request) -> Response:
    """``{"variables": {...}}``; 409 when the task is no longer open. The caller's token name is the approver."""
    who = require(request, "tasks")
    key = path_int(request, "key")
    body = await json_body(request, optional=True)
    values = field(body, "variables", dict, default={})
    engine = hub(request).engine
    await asyncio.to_thread(engine.complete_user_task, key, values, completed_by=who.name)
    return JSONResponse((await asyncio.to_thread(engine.user_task, key)).to_json())


routes: list[BaseRoute] = [
    Route("/api/v1/user-tasks", list_tasks, methods=["GET"]),
    Route("/api/v1/user-tasks/{key}", get_task, methods=["GET"]),
    Route("/api/v1/user-tasks/{key}/claim", claim, methods=["POST"]),
    Route("/api/v1/user-tasks/{key}/complete", complete, methods=["POST"]),
]
