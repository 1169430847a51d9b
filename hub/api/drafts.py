"""AI-drafted process changes over REST, under ``/api/v1/discover/drafts`` (``discover.drafts``).

``POST`` (scope ``deploy``) ``{"processId", "goal", "model"}`` asks the
model and answers 201 with the draft: its checks, its diff, the diagram
marks and its BPMN. ``GET`` lists (``?process=&state=&limit=&after=``,
newest first) and shows one (a deployed one with ``result``, its version
against the one it was drawn from), with ``read``. ``.../approve`` and
``.../reject`` (``{"reason"}``) take ``tasks``, like any approval, and the
caller must be a member of the process's owner group (``agenthub:ownerGroup``)
and, to approve, not the draft's requester: 403 otherwise; 409 for a draft
that is not proposed, or is stale.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from discover.drafts import Drafts
from hub.api.common import field, hub, json_body, page_params, paged, path_int, require
from hub.api.discover import discovering
from hub.drafting import draft_json, model_ask

__all__ = ["routes"]


def _drafts(request: Request) -> Drafts:
    return Drafts(hub(request).registry.store, hub(request).engine)


async def propose(request: Request) -> Response:
    who = require(request, "deploy")
    body = await json_body(request)
    process_id = field(body, "processId", str, required=True)
    goal = field(body, "goal", str, required=True)
    model = field(body, "model", str, required=True)
    files = hub(request).settings.model_files
    ask = model_ask(model, Path(files) if files else None)
    drafts, engine = _drafts(request), hub(request).engine
    found: dict[str, Any] = await asyncio.to_thread(discovering, lambda: draft_json(
        engine, drafts.propose(process_id, goal, model, ask, by=who.name), full=True))
    return JSONResponse(found, status_code=201)


async def list_drafts(request: Request) -> Response:
    require(request, "read")
    limit, after = page_params(request)
    process, state = request.query_params.get("process") or None, request.query_params.get("state") or None
    drafts = _drafts(request)
    found = await asyncio.to_thread(discovering, lambda: drafts.all(process, state, limit=limit + 1, after=after))
    return paged([d.to_json() for d in found], limit)


async def show(request: Request) -> Response:
    require(request, "read")
    draft_id = path_int(request, "draftId")
    drafts, engine = _drafts(request), hub(request).engine
    found: dict[str, Any] = await asyncio.to_thread(
        discovering, lambda: draft_json(engine, drafts.get(draft_id), full=True))
    return JSONResponse(found)


async def approve(request: Request) -> Response:
    who = require(request, "tasks")
    draft_id = path_int(request, "draftId")
    drafts, engine = _drafts(request), hub(request).engine
    found: dict[str, Any] = await asyncio.to_thread(
        discovering, lambda: draft_json(engine, drafts.approve(draft_id, who.name, who.groups)))
    return JSONResponse(found)


async def reject(request: Request) -> Response:
    who = require(request, "tasks")
    draft_id = path_int(request, "draftId")
    reason = field(await json_body(request, optional=True), "reason", str)
    drafts, engine = _drafts(request), hub(request).engine
    found: dict[str, Any] = await asyncio.to_thread(
        discovering, lambda: draft_json(engine, drafts.reject(draft_id, who.name, who.groups, reason)))
    return JSONResponse(found)


routes: list[BaseRoute] = [
    Route("/api/v1/discover/drafts", propose, methods=["POST"]),
    Route("/api/v1/discover/drafts", list_drafts, methods=["GET"]),
    Route("/api/v1/discover/drafts/{draftId}", show, methods=["GET"]),
    Route("/api/v1/discover/drafts/{draftId}/approve", approve, methods=["POST"]),
    Route("/api/v1/discover/drafts/{draftId}/reject", reject, methods=["POST"]),
]
