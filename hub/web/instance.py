"""One instance's page: its diagram with the path taken, its variables by scope, journal, incidents, family.

``GET /instances/{key}`` draws the instance on its process's diagram (the
flows it took, the elements it completed, where it waits, where it failed:
``instance_state``), lists its variables scope by scope (each value cut to
``untrusted.LIMIT`` characters, the whole value at ``.../variables/value``),
its incidents with a retry button, its parent and the instances it called,
and its journal as a timeline. The page listens to ``/instances/{key}/events``
(``hub.web.live``) and, when the instance changes, ``static/live.js``
fetches the page again and swaps the parts marked ``data-live-part``.

Changing things needs the scope the REST API needs for the same change
(``start``): setting a variable (with a reason, kept in the journal with
who did it), retrying an incident, cancelling (after a confirm page).
Without it the forms are not shown, and a request made anyway is a 403.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from engine import Channel
from engine.runtime import InstanceState
from engine.store.instance_search import VARIABLE_NAME, InstanceFilter
from hub.journal_text import journal_line
from hub.web.inspector import agent_runs, inspector_url
from hub.web.render import PageError, blocking, form, hub_of, page, render, require_page
from hub.web.untrusted import LIMIT, clip, visible
from protocols.actors import actor_of

__all__ = ["instance_state", "routes"]

JOURNAL_READ = 5000  # entries read for the diagram's path; the timeline shows the last TIMELINE of them
TIMELINE = 300
_LINE = 400


def _key(request: Request) -> int:
    raw = request.path_params["key"]
    if not raw.isdigit():
        raise PageError(404, f"there is no instance '{raw}': an instance key is a number")
    return int(raw)


def read_journal(engine: Any, key: int) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    while len(entries) < JOURNAL_READ:
        page_ = engine.journal(key, after=entries[-1]["position"] if entries else 0, limit=1000)
        entries += page_
        if len(page_) < 1000:
            break
    return entries


def instance_state(state: InstanceState, journal: list[dict[str, Any]]) -> dict[str, Any]:
    """The diagram state of one instance: completed elements and taken flows from the journal, the active ones
    and incidents from its state (an element can be all three: a loop's task done twice and waiting again)."""
    completed: Counter[str] = Counter()
    flows: dict[str, None] = {}
    for entry in journal:
        if entry["type"] == "element_completed" and entry["elementId"]:
            completed[entry["elementId"]] += 1
        elif entry["type"] == "flow_taken" and isinstance(entry["data"], dict) and entry["data"].get("flow"):
            flows[str(entry["data"]["flow"])] = None
    active: Counter[str] = Counter()
    failing: Counter[str] = Counter()
    for e in state.elements.values():
        if e.key == state.root or e.inner:
            continue
        active[e.element_id] += 1
        if e.incident is not None:
            failing[e.element_id] += 1
    elements = {}
    for element_id in sorted(set(completed) | set(active)):
        shown = "incident" if failing[element_id] else "active" if active[element_id] else "completed"
        elements[element_id] = {"state": shown, "active": active[element_id], "completed": completed[element_id],
                                "incidents": failing[element_id]}
    return {"mode": "instance", "elements": elements, "flows": list(flows)}


def _scopes(state: InstanceState, key: int) -> list[dict[str, Any]]:
    scopes = []
    for scope, values in state.variables.items():
        element = state.elements.get(scope)
        label = "process" if scope == state.root else (element.element_id if element else f"scope {scope}")
        shown = []
        for name in sorted(values):
            text = values[name] if isinstance(values[name], str) else json.dumps(values[name], ensure_ascii=False)
            shown.append({"name": visible(name), "raw_name": name, "value": clip(values[name]),
                          "cut": len(text) > LIMIT, "size": len(text)})
        scopes.append({"key": scope, "label": label, "root": scope == state.root, "variables": shown})
    return scopes


def _timeline(journal: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for entry in journal[-TIMELINE:]:
        detail = journal_line({**entry, "position": "", "type": "", "elementId": ""}).strip()
        if len(detail) > _LINE:
            detail = detail[:_LINE] + f"… ({len(detail) - _LINE:,} more characters)"
        rows.append({"position": entry["position"], "at": entry["at"], "type": entry["type"],
                     "element": entry["elementId"] or "", "detail": detail})
    return rows


def _context(request: Request, key: int) -> dict[str, Any]:
    engine = hub_of(request).engine
    view, state = engine.console.detail(key)
    journal = read_journal(engine, key)
    return {
        "view": view, "key": key, "process_id": view.process_id, "version": view.version,
        "state": instance_state(state, journal), "scopes": _scopes(state, key), "timeline": _timeline(journal),
        "journal_total": len(journal), "journal_cut": len(journal) >= JOURNAL_READ,
        "position": journal[-1]["position"] if journal else 0,
        "incidents": engine.incidents(instance=key, state=None, limit=100),
        "children": engine.console.search(InstanceFilter(parent=key), limit=50),
        "jobs": engine.jobs(key) if view.state in ("active", "incident") else [],
        "agents": [(element, inspector_url(key, run)) for element, run in agent_runs(journal)],
    }


@page
async def show(request: Request) -> Response:
    require_page(request, "read")
    context = await blocking(_context, request, _key(request))
    return render(request, "instance.html", context)


@page
async def variable_value(request: Request) -> Response:
    """One variable's whole value as a JSON download (the page shows it cut)."""
    require_page(request, "read")
    key = _key(request)
    scope, name = request.query_params.get("scope", ""), request.query_params.get("name", "")
    state = await blocking(hub_of(request).engine.console.state, key)
    values = state.variables.get(int(scope), {}) if scope.isdigit() else {}
    if name not in values:
        raise PageError(404, f"instance {key} has no variable '{visible(name)}' in scope {visible(scope)}")
    body = json.dumps(values[name], ensure_ascii=False, indent=2)
    safe = name if VARIABLE_NAME.match(name) else "value"
    return Response(body, media_type="application/json", headers={
        "Content-Disposition": f'attachment; filename="instance-{key}-{safe}.json"',
        "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store",
        "Content-Security-Policy": "default-src 'none'; sandbox",
    })


@page
async def set_variable(request: Request) -> Response:
    who = require_page(request, "start")
    data = await form(request)
    key = _key(request)
    name = str(data.get("name") or "").strip()
    reason = str(data.get("reason") or "").strip()
    scope = str(data.get("scope") or "")
    if not VARIABLE_NAME.match(name):
        raise PageError(400, f"'{visible(name)}' is not a variable name: letters, digits and _, not first a digit")
    if not reason:
        raise PageError(400, "say why you change the variable: the reason goes into the instance's journal")
    if not scope.isdigit():
        raise PageError(400, "choose the scope the variable belongs to")
    try:
        value = json.loads(str(data.get("value") or ""))
    except ValueError as exc:
        raise PageError(400, f"the value must be JSON (a string in double quotes, a number, true, an object …): "
                             f"{exc}") from None
    await blocking(hub_of(request).engine.set_variables, key, {name: value}, scope=int(scope),
                   by=actor_of(who, Channel.CONSOLE), reason=reason[:500])
    return RedirectResponse(f"/instances/{key}#variables", status_code=303)


@page
async def retry(request: Request) -> Response:
    who = require_page(request, "start")
    await form(request)
    key = _key(request)
    raw = request.path_params["incident"]
    if not raw.isdigit():
        raise PageError(404, f"there is no incident '{raw}'")
    incident = int(raw)
    found = await blocking(hub_of(request).engine.incidents, instance=key, state=None, limit=1000)
    if all(i.key != incident for i in found):
        raise PageError(404, f"instance {key} has no incident {incident}")
    await blocking(hub_of(request).engine.resolve_incident, incident, by=actor_of(who, Channel.CONSOLE))
    return RedirectResponse(f"/instances/{key}#incidents", status_code=303)


@page
async def confirm_cancel(request: Request) -> Response:
    require_page(request, "start")
    view = await blocking(hub_of(request).engine.instance, _key(request))
    return render(request, "instance_cancel.html", {"view": view})


@page
async def cancel(request: Request) -> Response:
    who = require_page(request, "start")
    await form(request)
    key = _key(request)
    await blocking(hub_of(request).engine.cancel, key, by=actor_of(who, Channel.CONSOLE))
    return RedirectResponse(f"/instances/{key}", status_code=303)


routes: list[BaseRoute] = [
    Route("/instances/{key}", show, methods=["GET"]),
    Route("/instances/{key}/variables/value", variable_value, methods=["GET"]),
    Route("/instances/{key}/variables", set_variable, methods=["POST"]),
    Route("/instances/{key}/incidents/{incident}/retry", retry, methods=["POST"]),
    Route("/instances/{key}/cancel", confirm_cancel, methods=["GET"]),
    Route("/instances/{key}/cancel", cancel, methods=["POST"]),
]
