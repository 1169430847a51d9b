"""Deployed DMN decisions: ``/api/v1/decisions`` (their versions) and evaluating one on its own.

``POST /api/v1/decisions/{decisionId}/evaluate`` with ``{"variables": {...}}``
(and ``version`` or ``versionTag`` to pick one) answers the decision's
``result``, the ``matchedRules`` of the decision and every decision evaluated
for it (``evaluatedDecisions``), as ``agenthub decide --json`` prints them.
A decision that is not deployed is a 404; an evaluation that fails (a FEEL
error, a hit policy violated) a 400 that says why.
"""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from hub.api.common import field, hub, json_body, only_fields, require


async def list_decisions(request: Request) -> Response:
    require(request, "read")
    decision_id = request.query_params.get("decisionId") or None
    items = await asyncio.to_thread(hub(request).engine.decisions, decision_id)
    return JSONResponse({"items": items})


async def evaluate(request: Request) -> Response:
    require(request, "start")
    body = await json_body(request, optional=True)
    only_fields(body, {"variables", "version", "versionTag"})
    variables = field(body, "variables", dict, default={})
    version = field(body, "version", int)
    version_tag = field(body, "versionTag", str)
    engine = hub(request).engine
    result = await asyncio.to_thread(engine.evaluate_decision, request.path_params["decisionId"], variables,
                                     version=version, version_tag=version_tag)
    return JSONResponse(result.to_dict())


routes: list[BaseRoute] = [
    Route("/api/v1/decisions", list_decisions, methods=["GET"]),
    Route("/api/v1/decisions/{decisionId}/evaluate", evaluate, methods=["POST"]),
]
