"""The Processes pages: every deployed process, one process's diagram as a heat map, and starting an instance.

``GET /processes`` lists each process with its versions, whether it is offered
as an MCP tool and A2A skill (its latest version exposed), and how many of its
instances are active, have an incident, completed or were terminated.
``GET /processes/{processId}?version=N`` shows that version's diagram with, on
each element, how many instances are there now and how many passed it (SQL
aggregates over the journal, kept current by ``hub.web.heat``), and a start form built from the
inputs the process declares (``<agenthub:tool>``, the same declaration its MCP
tool's input schema comes from); without declared inputs the form takes a JSON
object of variables. ``POST /processes/{processId}/start`` (scope ``start``, the
session's CSRF token) starts the instance and answers 303 to its page.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from engine import Channel
from engine.exposure import ToolInput, tool_spec
from hub.web.heat import HeatMaps
from hub.web.render import PageError, blocking, form, hub_of, page, render, require_page
from protocols.actors import actor_of

__all__ = ["heat_state", "routes"]

_STATUSES = ("active", "incident", "completed", "terminated")


_made = threading.Lock()


def _heat_maps(request: Request) -> HeatMaps:
    """The app's heat maps (``hub.web.heat``), made on first use and kept on ``app.state``."""
    with _made:
        found: HeatMaps | None = getattr(request.app.state, "console_heat_maps", None)
        if found is None:
            found = request.app.state.console_heat_maps = HeatMaps()
        return found


def _counts(request: Request) -> dict[tuple[str, int], dict[str, int]]:
    found: dict[tuple[str, int], dict[str, int]] = {}
    for c in hub_of(request).engine.console.counts():
        found.setdefault((c.process_id, c.version), dict.fromkeys(_STATUSES, 0))[c.status] = c.count
    return found


def _summaries(request: Request) -> list[dict[str, Any]]:
    engine = hub_of(request).engine
    counts = _counts(request)
    processes: dict[str, dict[str, Any]] = {}
    for d in engine.definitions():  # ordered by process id and version
        entry = processes.setdefault(d["processId"], {"id": d["processId"], "versions": [],
                                                      "counts": dict.fromkeys(_STATUSES, 0)})
        entry["versions"].append(d["version"])
        entry["name"] = d["name"]
        entry["exposed"] = d["exposed"]  # the latest version's, which is what MCP and A2A offer
        entry["deployedAt"] = d["deployedAt"]
        for status, n in counts.get((d["processId"], d["version"]), {}).items():
            entry["counts"][status] += n
    return list(processes.values())


@page
async def list_processes(request: Request) -> Response:
    require_page(request, "read")
    return render(request, "processes.html", {"processes": await blocking(_summaries, request)})


def heat_state(counts: list[Any]) -> dict[str, Any]:
    """The diagram state of a heat map: per element, instances there now, passed, and open incidents."""
    elements = {}
    for c in counts:
        state = "incident" if c.incidents else "active" if c.active else "completed"
        elements[c.element_id] = {"state": state, "active": c.active, "completed": c.completed,
                                  "incidents": c.incidents}
    return {"mode": "heat", "elements": elements, "flows": []}


def _version(request: Request) -> int | None:
    raw = request.query_params.get("version") or None
    if raw is None:
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise PageError(400, f"version must be a positive whole number, not '{raw}'")
    return int(raw)


def _process_page(request: Request, process_id: str, version: int | None) -> dict[str, Any]:
    engine = hub_of(request).engine
    versions = engine.definitions(process_id)
    if not versions:
        raise PageError(404, f"process '{process_id}' is not deployed: deploy it with `agenthub deploy`")
    chosen = next((d for d in versions if d["version"] == version), None) if version else versions[-1]
    if chosen is None:
        raise PageError(404, f"process '{process_id}' has no version {version}: it has "
                             f"{', '.join(str(d['version']) for d in versions)}")
    process = engine.process(process_id, chosen["version"])
    spec = tool_spec(process, exposed=True)
    assert spec is not None  # exposed=True always gives one
    counts = _counts(request).get((process_id, chosen["version"]), dict.fromkeys(_STATUSES, 0))
    heat = _heat_maps(request).counts(engine, process_id, chosen["version"])
    return {
        "process_id": process_id, "version": chosen["version"], "definition": chosen, "versions": versions,
        "latest": versions[-1], "spec": spec, "counts": counts, "state": heat_state(heat),
        "heat": sorted(heat, key=lambda c: c.element_id),
    }


@page
async def show_process(request: Request) -> Response:
    require_page(request, "read")
    process_id = request.path_params["processId"]
    context = await blocking(_process_page, request, process_id, _version(request))
    return render(request, "process.html", {**context, "values": {}, "error": None})


class _BadInput(ValueError):
    pass


def _value(item: ToolInput, raw: str, checked: bool) -> Any:
    """A form field as the type the process declared for it."""
    if item.type == "boolean":
        return checked
    if item.type == "string":
        return raw
    if item.type in ("number", "integer"):
        try:
            number = float(raw)
        except ValueError:
            raise _BadInput(f"'{item.name}' must be a number, not '{raw}'") from None
        if item.type == "integer":
            if not number.is_integer():
                raise _BadInput(f"'{item.name}' must be a whole number, not '{raw}'")
            return int(number)
        return int(number) if number.is_integer() and "." not in raw else number
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise _BadInput(f"'{item.name}' must be JSON ({item.type}): {exc}") from None
    if not isinstance(value, dict if item.type == "object" else list):
        raise _BadInput(f"'{item.name}' must be a JSON {item.type}")
    return value


def _variables(inputs: tuple[ToolInput, ...], data: FormData) -> dict[str, Any]:
    if not inputs:
        raw = str(data.get("variables") or "").strip() or "{}"
        try:
            values = json.loads(raw)
        except ValueError as exc:
            raise _BadInput(f"the variables must be a JSON object: {exc}") from None
        if not isinstance(values, dict):
            raise _BadInput("the variables must be a JSON object, like {\"order\": \"A-1\"}")
        return values
    values = {}
    for item in inputs:
        raw = str(data.get(f"in.{item.name}") or "")
        checked = data.get(f"in.{item.name}") is not None
        if item.type != "boolean" and raw.strip() == "":
            if item.required:
                raise _BadInput(f"'{item.name}' is required")
            continue
        values[item.name] = _value(item, raw, checked)
    return values


@page
async def start(request: Request) -> Response:
    who = require_page(request, "start")
    data = await form(request)
    process_id = request.path_params["processId"]
    version = _version(request)
    context = await blocking(_process_page, request, process_id, version)
    try:
        variables = _variables(context["spec"].inputs, data)
    except _BadInput as exc:
        values = {k: str(v) for k, v in data.items() if k != "csrf"}
        return render(request, "process.html", {**context, "values": values, "error": str(exc)}, status=400)
    view = await blocking(hub_of(request).engine.start, process_id, variables, version=version, owner=who.name,
                          by=actor_of(who, Channel.CONSOLE))
    return RedirectResponse(f"/instances/{view.key}", status_code=303)


routes: list[BaseRoute] = [
    Route("/processes", list_processes, methods=["GET"]),
    Route("/processes/{processId}", show_process, methods=["GET"]),
    Route("/processes/{processId}/start", start, methods=["POST"]),
]
