"""The console's incidents: every open incident across instances, grouped by cause, and retrying one after a fix.

Reading needs ``read``; fixing and retrying need ``start``, as the REST
routes do (``POST .../variables`` and ``POST /api/v1/incidents/{key}/resolve``).
A retry may first set one variable, on the instance (what the REST API
sets) or on the failed element alone; the person says why, and the journal's
``variables_set`` entry keeps the reason beside who set it.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from engine import Channel, Engine, IncidentView
from hub.api.common import ApiError, parse_json
from hub.web.render import PageError, blocking, form, hub_of, page, render, require_page
from hub.web.untrusted import clip, visible
from protocols.actors import actor_of
from registry import Principal

__all__ = ["routes"]

PAGE = 200
_NAME_CHARS = 200


def _groups(views: list[IncidentView]) -> list[dict[str, Any]]:
    """Incidents with the same type and message together, the largest group first."""
    groups: dict[tuple[str, str], list[IncidentView]] = {}
    for view in views:
        groups.setdefault((view.type, view.message), []).append(view)
    ordered = sorted(groups.items(), key=lambda item: (-len(item[1]), item[0]))
    return [{"type": kind, "message": clip(message, 1000), "incidents": members}
            for (kind, message), members in ordered]


@page
async def incident_list(request: Request) -> Response:
    require_page(request, "read")
    raw_after = request.query_params.get("after")
    after = int(raw_after) if raw_after and raw_after.isdigit() else None
    retried = request.query_params.get("retried", "")
    views = await blocking(hub_of(request).engine.incidents, state="open", limit=PAGE + 1, after=after)
    more = len(views) > PAGE
    views = views[:PAGE]
    return render(request, "incidents.html", {
        "groups": _groups(views), "count": len(views), "next": views[-1].key if more and views else None,
        "retried": retried if retried.isdigit() and len(retried) < 20 else None,
    })


def _retry(engine: Engine, who: Principal, key: int, name: str, value: Any, scope: str, reason: str) -> None:
    found = [v for v in engine.incidents(state=None, limit=1, after=key - 1) if v.key == key]
    if not found:
        raise PageError(404, f"incident {key} does not exist")
    incident = found[0]
    by = actor_of(who, Channel.CONSOLE)
    if name:
        element = incident.element_instance if scope == "element" else None
        engine.set_variables(incident.instance, {name: value}, scope=element, by=by, reason=reason[:2000])
    engine.resolve_incident(key, by=by)


@page
async def retry(request: Request) -> Response:
    who = require_page(request, "start")
    raw = request.path_params["key"]
    if not raw.isdigit():
        raise PageError(404, f"'{raw}' is not an incident id")
    data = await form(request)
    name = str(data.get("name") or "").strip()
    reason = str(data.get("reason") or "").strip()
    scope = str(data.get("scope") or "instance")
    if scope not in ("instance", "element"):
        raise PageError(400, "set the variable on the instance or on the element")
    value: Any = None
    if name:
        if len(name) > _NAME_CHARS or not name.isidentifier():
            raise PageError(400, f"'{visible(name[:80])}' is not a variable name (letters, digits and _)")
        if not reason:
            raise PageError(400, "say why you change the variable: the reason is kept with the retry")
        try:
            value = parse_json(str(data.get("value") or "null").encode())
        except ApiError as exc:
            raise PageError(400, f"the value must be JSON (a string in quotes): {exc.detail}") from None
    await blocking(_retry, hub_of(request).engine, who, int(raw), name, value, scope, reason)
    return RedirectResponse(f"/incidents?retried={raw}", status_code=303)


routes: list[BaseRoute] = [
    Route("/incidents", incident_list, methods=["GET"]),
    Route("/incidents/{key}/retry", retry, methods=["POST"]),
]
