"""The Discover pages: the process inventory, and one process's brief with plots and a bottleneck map.

``GET /discover`` lists every process that has instances (``discover.inventory``)
with its counts, failure rate and cycle-time percentiles, each linking to its
brief. ``GET /discover/{processId}`` shows the brief (``discover.brief``):
instances started per day (a time series), the spread of cycle times (a
histogram), where the time goes by element (bars, and the same as a map on the
diagram of the latest version: each element's share of the time, on the heat
scale), the ranked automation opportunities, and the agents' own decisions
(``discover.agents``). Plots are SVG drawn here (``hub.web.plots``), each with
its numbers in a table. Both pages only read (scope ``read``).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from discover import DiscoverError, agent_behaviour, brief, inventory
from discover.timeline import timeline
from hub.web import plots
from hub.web.render import PageError, blocking, hub_of, page, render, require_page, signed_in

__all__ = ["duration", "routes"]


def duration(value: Any) -> str:
    """Milliseconds as people read them: ``2.0 h``, ``3.5 min``, ``120 ms``; ``-`` for none."""
    if value is None:
        return "-"
    ms = int(value)
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("min", 60_000), ("s", 1000)):
        if ms >= size:
            return f"{ms / size:.1f} {unit}"
    return f"{ms} ms"


def _inventory(request: Request) -> list[dict[str, Any]]:
    found = [s.to_json() for s in inventory(hub_of(request).engine)]
    for p in found:
        p["cycle"] = {k: duration(v) for k, v in p["cycleTimeMs"].items()}
    return found


@page
async def list_inventory(request: Request) -> Response:
    require_page(request, "read")
    return render(request, "discover.html", {"processes": await blocking(_inventory, request)})


def _bottleneck_state(waiting: list[dict[str, Any]]) -> dict[str, Any]:
    """The diagram state of the bottleneck map (static/diagram.js, mode "bottleneck")."""
    return {"mode": "bottleneck", "flows": [], "elements": {
        w["elementId"]: {"weight": w["totalMs"], "label": f"{w['share']:.0%}",
                         "title": f"{w['share']:.0%} of the time, {duration(w['totalMs'])} over {w['passes']} passes"}
        for w in waiting if w["share"] is not None and w["totalMs"] > 0}}


def _plots(b: dict[str, Any], line: dict[str, Any]) -> dict[str, Any]:
    days = [plots.Mark(d["day"], d["instances"], f"{d['day']}: {d['instances']} started")
            for d in line["startedPerDay"]]
    bins = [plots.Mark(duration(h["fromMs"]), h["instances"],
                       f"{duration(h['fromMs'])} to {duration(h['toMs'])}: {h['instances']} instances")
            for h in line["cycleTimeHistogram"]]
    working = [w for w in b["waitingByElement"] if w["share"] is not None and w["totalMs"] > 0][:12]
    return {
        "started": plots.time_series(f"Instances of {b['processId']} started per day (UTC)", days,
                                     x_label="day", y_label="instances"),
        "cycle": plots.histogram(f"Cycle times of the completed instances of {b['processId']}", bins,
                                 x_label="cycle time", y_label="instances"),
        "waiting": plots.bars(f"Where the instances of {b['processId']} spend their time", [
            plots.Mark(w["name"], w["totalMs"], f"{w['share']:.0%}, {duration(w['totalMs'])}") for w in working]),
    }


def _brief_page(request: Request, process_id: str) -> dict[str, Any]:
    engine = hub_of(request).engine
    try:
        b = brief(engine, process_id)
        line = timeline(engine, process_id).to_json()
        agents = agent_behaviour(engine, process_id)
    except DiscoverError as exc:
        raise PageError(404, str(exc)) from None
    latest = engine.definitions(process_id)[-1]["version"]
    return {"process_id": process_id, "version": latest, "brief": b, "timeline": line, "agents": agents,
            "plots": _plots(b, line), "state": _bottleneck_state(b["waitingByElement"]), "duration": duration,
            "may_draft": signed_in(request).has("deploy")}


@page
async def show_brief(request: Request) -> Response:
    require_page(request, "read")
    return render(request, "discover_process.html",
                  await blocking(_brief_page, request, request.path_params["processId"]))


routes: list[BaseRoute] = [
    Route("/discover", list_inventory, methods=["GET"]),
    Route("/discover/{processId}", show_brief, methods=["GET"]),
]
