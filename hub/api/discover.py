"""Discover over REST: ``/api/v1/export`` (an event log, streamed), ``/api/v1/discover/inventory``,
``/api/v1/discover/brief/{processId}``, ``/api/v1/discover/agents?process=`` (the agents' own decisions) and
``/api/v1/discover/conformance/{processId}`` (JSON), and
``/api/v1/discover/model`` (a mined BPMN model). All of them read, with the ``read`` scope; the last two need
pm4py (the optional extra ``agenthub[discover]``) and answer 501 without it.

``/api/v1/export?format=xes|ocel&process=ID&version=N&from=ISO&to=ISO``
streams the document as it is read from the journal (``discover.export``):
an unknown process or a bad parameter is a 4xx before the first byte, and
the body of a large log is never held in memory.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from discover import (
    DiscoverError,
    ExportFormat,
    LogFilter,
    MiningUnavailable,
    UnknownProcess,
    agent_behaviour,
    brief,
    conformance,
    discover_model,
    inventory,
)
from discover.compare import compare_versions
from discover.exceptions import DraftConflict, DraftRefused, LogExists, LogFormatError, UnknownDraft, UnknownLog
from discover.export import epoch_millis, export_chunks, media_type
from hub.api.common import ApiError, hub, int_param, require

T = TypeVar("T")


def discovering(fn: Callable[[], T]) -> T:
    """``fn()``, with discover's errors as the API's: 404 unknown, 403 refused, 409 conflict, 501 no pm4py, 400."""
    try:
        return fn()
    except (UnknownProcess, UnknownLog, UnknownDraft) as exc:
        raise ApiError(404, str(exc)) from None
    except MiningUnavailable as exc:
        raise ApiError(501, str(exc)) from None
    except DraftRefused as exc:
        raise ApiError(403, str(exc)) from None
    except (LogExists, DraftConflict) as exc:
        raise ApiError(409, str(exc)) from None
    except LogFormatError as exc:
        raise ApiError(400, str(exc), title="Unreadable event log", problems=exc.problems) from None
    except DiscoverError as exc:
        raise ApiError(400, str(exc)) from None


def _moment(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    return None if not raw else discovering(lambda: epoch_millis(raw, f"query parameter '{name}'"))


async def export(request: Request) -> Response:
    """The instances' journal as XES (``application/xml``) or OCEL 2.0 JSON, streamed."""
    require(request, "read")
    fmt = discovering(lambda: ExportFormat.parse(request.query_params.get("format", "xes")))
    process = request.query_params.get("process") or None
    version = int_param(request, "version", None, low=1)
    if version is not None and process is None:
        raise ApiError(400, "query parameter 'version' needs 'process'")
    where = LogFilter(process_id=process, version=version, started_from=_moment(request, "from"),
                      started_to=_moment(request, "to"))
    engine = hub(request).engine
    chunks = await asyncio.to_thread(discovering, lambda: export_chunks(engine, fmt, where))
    name = f"{process or 'agenthub'}.{'xes' if fmt == ExportFormat.XES else 'ocel.json'}"
    return StreamingResponse(chunks, media_type=media_type(fmt),
                             headers={"Content-Disposition": f'attachment; filename="{name}"'})


async def discover_inventory(request: Request) -> Response:
    """``{"processes": [{"processId", "instances", "completed", "incidents", "cycleTimeMs": {...}, ...}]}``."""
    require(request, "read")
    found = await asyncio.to_thread(inventory, hub(request).engine)
    return JSONResponse({"processes": [s.to_json() for s in found]})


async def discover_brief(request: Request) -> Response:
    """One process's improvement brief (``discover.brief``); 404 for a process that is not deployed.
    ``?compare=OLD,NEW``: two versions side by side on the same measures instead (``discover.compare``)."""
    require(request, "read")
    process_id = request.path_params["processId"]
    engine = hub(request).engine
    raw = request.query_params.get("compare")
    if raw:
        old, new = _versions(raw)
        compared = await asyncio.to_thread(discovering, lambda: compare_versions(engine, process_id, old, new))
        return JSONResponse(compared)
    found: dict[str, Any] = await asyncio.to_thread(discovering, lambda: brief(engine, process_id))
    return JSONResponse(found)


def _versions(raw: str) -> tuple[int, int]:
    parts = raw.split(",")
    if len(parts) != 2 or not all(p.strip().isdigit() and int(p) > 0 for p in parts):
        raise ApiError(400, f"query parameter 'compare' must be two versions, OLD,NEW (such as 1,2), not '{raw}'")
    return int(parts[0]), int(parts[1])


async def discover_agents(request: Request) -> Response:
    """``{"agents": [...]}``: each agent region's own decisions (``discover.agents``), of ``process`` or all."""
    require(request, "read")
    process = request.query_params.get("process") or None
    engine = hub(request).engine
    found = await asyncio.to_thread(discovering, lambda: agent_behaviour(engine, process))
    return JSONResponse({"agents": found})


async def discover_conformance(request: Request) -> Response:
    """``{"processId", "version", "instances", "fitness", "fittingInstances", "precision", "deviations": [...]}``."""
    require(request, "read")
    process_id = request.path_params["processId"]
    version = int_param(request, "version", None, low=1)
    engine = hub(request).engine
    found: dict[str, Any] = await asyncio.to_thread(discovering, lambda: conformance(engine, process_id, version))
    return JSONResponse(found)


async def discover_bpmn(request: Request) -> Response:
    """A BPMN model with its diagram, mined from the instances of ``process`` (all without it)."""
    require(request, "read")
    process = request.query_params.get("process") or None
    where = LogFilter(process_id=process, version=int_param(request, "version", None, low=1))
    raw_noise = request.query_params.get("noise") or "0"
    try:
        noise = float(raw_noise)
    except ValueError:
        raise ApiError(400, f"query parameter 'noise' must be a number from 0 to 1, not '{raw_noise}'") from None
    engine = hub(request).engine
    xml = await asyncio.to_thread(discovering, lambda: discover_model(engine, where, noise=noise))
    return Response(xml, media_type="application/xml")


routes: list[BaseRoute] = [
    Route("/api/v1/export", export, methods=["GET"]),
    Route("/api/v1/discover/inventory", discover_inventory, methods=["GET"]),
    Route("/api/v1/discover/brief/{processId}", discover_brief, methods=["GET"]),
    Route("/api/v1/discover/agents", discover_agents, methods=["GET"]),
    Route("/api/v1/discover/conformance/{processId}", discover_conformance, methods=["GET"]),
    Route("/api/v1/discover/model", discover_bpmn, methods=["GET"]),
]
