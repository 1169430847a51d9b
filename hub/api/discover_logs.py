"""Imported event logs over REST: ``/api/v1/discover/logs`` (upload with ``deploy``, list with ``read``),
``/api/v1/discover/logs/{name}`` (delete), and the analyses on one log: ``.../brief``, ``.../model`` (pm4py)
and ``.../conformance/{processId}`` (pm4py), all with ``read``.

An upload is the file itself as the body (up to the hub's body limit);
the query names the log and, where the file's name does not tell it, its
format: ``?name=orders&format=csv&caseColumn=..`` (``discover.log_import``).
A file with problems is a 400 listing each with its line, and nothing is
stored.
"""

from __future__ import annotations

import asyncio
import io
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from discover.log_analysis import log_brief, log_conformance, log_model
from discover.log_import import CsvColumns, ImportFormat, LogReader
from discover.log_store import ImportedLogs
from hub.api.common import ApiError, hub, int_param, read_body, require
from hub.api.discover import discovering

__all__ = ["routes"]

_TYPES = {"text/csv": ImportFormat.CSV, "application/json": ImportFormat.OCEL, "application/xml": ImportFormat.XES,
          "text/xml": ImportFormat.XES}


def _logs(request: Request) -> ImportedLogs:
    return ImportedLogs(hub(request).registry.store)


def _format(request: Request, source: str) -> ImportFormat:
    given = request.query_params.get("format")
    if given:
        return discovering(lambda: ImportFormat.parse(given))
    by_type = _TYPES.get(request.headers.get("content-type", "").split(";")[0].strip().lower())
    if request.query_params.get("filename"):
        return discovering(lambda: ImportFormat.of_file(source))
    if by_type is None:
        raise ApiError(400, "say the log's format: ?format=xes|ocel|csv (or ?filename= with its suffix)")
    return by_type


async def upload(request: Request) -> Response:
    """Import the body as an event log named ``?name=``: 201 with the log's summary."""
    who = require(request, "deploy")
    name = request.query_params.get("name")
    if not name:
        raise ApiError(400, "query parameter 'name' is required: the name to give the imported log")
    source = request.query_params.get("filename") or name
    fmt = _format(request, source)
    q = request.query_params
    columns = CsvColumns(q.get("caseColumn"), q.get("activityColumn"), q.get("timestampColumn"),
                         q.get("resourceColumn"), q.get("lifecycleColumn"))
    body = await read_body(request)
    reader = LogReader(io.BytesIO(body), fmt, source=source, columns=columns, case_type=q.get("caseType"))
    logs = _logs(request)
    log = await asyncio.to_thread(discovering, lambda: logs.add(name, reader, by=who.name))
    return JSONResponse(log.to_json(), status_code=201)


async def list_logs(request: Request) -> Response:
    """``{"items": [{"name", "format", "source", "cases", "events", "activities", ...}]}``."""
    require(request, "read")
    logs = _logs(request)
    found = await asyncio.to_thread(logs.all)
    return JSONResponse({"items": [log.to_json() for log in found]})


async def delete_log(request: Request) -> Response:
    require(request, "deploy")
    logs, name = _logs(request), request.path_params["name"]
    await asyncio.to_thread(discovering, lambda: logs.delete(name))
    return Response(status_code=204)


async def brief_of_log(request: Request) -> Response:
    """The log's improvement brief, as ``/api/v1/discover/brief/{processId}`` has it for a process."""
    require(request, "read")
    logs, name = _logs(request), request.path_params["name"]
    found: dict[str, Any] = await asyncio.to_thread(discovering, lambda: log_brief(logs, name))
    return JSONResponse(found)


async def model_of_log(request: Request) -> Response:
    """A BPMN model mined from the log (pm4py's inductive miner), with its diagram."""
    require(request, "read")
    logs, name = _logs(request), request.path_params["name"]
    raw = request.query_params.get("noise") or "0"
    try:
        noise = float(raw)
    except ValueError:
        raise ApiError(400, f"query parameter 'noise' must be a number from 0 to 1, not '{raw}'") from None
    xml = await asyncio.to_thread(discovering, lambda: log_model(logs, name, noise=noise))
    return Response(xml, media_type="application/xml")


async def conformance_of_log(request: Request) -> Response:
    """How well the log's cases fit a deployed process (``?version=``, else its latest), by activity name."""
    require(request, "read")
    logs, name, process_id = _logs(request), request.path_params["name"], request.path_params["processId"]
    version = int_param(request, "version", None, low=1)
    engine = hub(request).engine
    found: dict[str, Any] = await asyncio.to_thread(
        discovering, lambda: log_conformance(engine, logs, name, process_id, version))
    return JSONResponse(found)


routes: list[BaseRoute] = [
    Route("/api/v1/discover/logs", upload, methods=["POST"]),
    Route("/api/v1/discover/logs", list_logs, methods=["GET"]),
    Route("/api/v1/discover/logs/{name}", delete_log, methods=["DELETE"]),
    Route("/api/v1/discover/logs/{name}/brief", brief_of_log, methods=["GET"]),
    Route("/api/v1/discover/logs/{name}/model", model_of_log, methods=["GET"]),
    Route("/api/v1/discover/logs/{name}/conformance/{processId}", conformance_of_log, methods=["GET"]),
]
