"""Deployments and process definitions: ``/api/v1/deployments``, ``/api/v1/process-definitions``."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from hub.api.common import ApiError, hub, int_param, page_params, paged, read_body, require
from hub.deployment_report import deployment_report

_XML_TYPES = ("application/xml", "text/xml", "application/bpmn+xml")


async def deploy(request: Request) -> Response:
    """Multipart upload of one or more BPMN (and .dmn) files (any field name), or one raw XML body.

    Answers the processes deployed and the ``warnings`` about what they use that the engine accepts but will
    not act on (each with file, line, element and message, as the problems of a rejected deployment), and the
    DMN ``decisions`` deployed (new versions or reused).
    """
    require(request, "deploy")
    engine = hub(request).engine
    expose = request.query_params.get("expose", "false").lower() in ("true", "1", "yes")
    name = request.query_params.get("name")
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    resources: list[tuple[str, bytes]] = []
    if media == "multipart/form-data":
        limit: int = hub(request).settings.max_body_bytes
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise ApiError(413, f"the upload is larger than {limit} bytes")
        async with request.form(max_files=100, max_fields=100) as form:
            for _, value in form.multi_items():
                if isinstance(value, str):
                    continue
                data = await value.read()
                resources.append((value.filename or "upload.bpmn", data))
        if not resources:
            raise ApiError(400, "the multipart upload holds no file: send each BPMN file as a file field")
    elif media in _XML_TYPES:
        body = await read_body(request)
        resources.append((request.query_params.get("resourceName") or "upload.bpmn", body))
    else:
        raise ApiError(
            415,
            "send BPMN as multipart/form-data (one or more files) or as a raw application/xml body",
        )
    deployed, decisions = await asyncio.to_thread(engine.deploy_all, resources, name=name, expose=expose)
    return JSONResponse(deployment_report(deployed, expose=expose, decisions=decisions), status_code=201)


async def list_deployments(request: Request) -> Response:
    require(request, "read")
    limit, after = page_params(request)
    items = await asyncio.to_thread(hub(request).engine.deployments, limit=limit + 1, after=after)
    return paged(items, limit, key="key")


def _latest(rows: list[dict[str, object]]) -> list[dict[str, object]]:
    latest: dict[object, dict[str, object]] = {}
    for row in rows:  # ordered by process id and version
        latest[row["processId"]] = row
    return list(latest.values())


async def list_definitions(request: Request) -> Response:
    """The latest version of each deployed process (``?all=true``: every version)."""
    require(request, "read")
    limit, after = page_params(request)
    rows = await asyncio.to_thread(hub(request).engine.definitions)
    if request.query_params.get("all", "").lower() != "true":
        rows = _latest(rows)
    rows = sorted(rows, key=lambda r: int(str(r["key"])))
    if after is not None:
        rows = [r for r in rows if int(str(r["key"])) > after]
    return paged(rows[: limit + 1], limit, key="key")


async def get_definition(request: Request) -> Response:
    """Every version of one process, oldest first."""
    require(request, "read")
    process_id = request.path_params["processId"]
    rows = await asyncio.to_thread(hub(request).engine.definitions, process_id)
    if not rows:
        raise ApiError(404, f"process '{process_id}' is not deployed")
    latest = rows[-1]
    return JSONResponse({"processId": process_id, "latestVersion": latest["version"], "versions": rows})


async def start_form(request: Request) -> Response:
    """The form of the process's none start event (``?version=``, or the latest): 404 when it has none."""
    require(request, "read")
    process_id = request.path_params["processId"]
    version = int_param(request, "version", None, low=1)
    form = await asyncio.to_thread(hub(request).engine.start_form, process_id, version)
    if form is None:
        raise ApiError(404, f"process '{process_id}' has no start form (zeebe:formDefinition on its start event)")
    return JSONResponse(form.to_json())


async def definition_xml(request: Request) -> Response:
    require(request, "read")
    version = int_param(request, "version", None, low=1)
    xml = await asyncio.to_thread(hub(request).engine.definition_xml, request.path_params["processId"], version)
    return Response(xml, media_type="application/xml")


routes: list[BaseRoute] = [
    Route("/api/v1/deployments", deploy, methods=["POST"]),
    Route("/api/v1/deployments", list_deployments, methods=["GET"]),
    Route("/api/v1/process-definitions", list_definitions, methods=["GET"]),
    Route("/api/v1/process-definitions/{processId}", get_definition, methods=["GET"]),
    Route("/api/v1/process-definitions/{processId}/xml", definition_xml, methods=["GET"]),
    Route("/api/v1/process-definitions/{processId}/form", start_form, methods=["GET"]),
]
