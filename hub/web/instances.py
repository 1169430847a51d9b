"""The Instances page: every instance, filtered, newest first, a page at a time; bulk cancel and retry.

``GET /instances`` filters by process, version, state (active, incident,
completed, terminated), a root-scope variable (``var=name=value``, the value
read as JSON when it is JSON, else as text), and start and end dates (UTC
days, ``*_from`` and ``*_to`` both inclusive). The engine keeps no business
key (Camunda 8 has none either): a variable filter finds instances by what
they carry. Pages are keyset pages (``before``: the last key of the page
shown), each one indexed query with a ``LIMIT`` whatever its depth; a
variable filter looks at ``SCAN`` instances a page and, when it found too few
there, offers to search on below where it stopped.

``POST /instances/bulk`` (scope ``start``, as the REST API's cancel and
incident resolve need) first answers a page that names what will happen and
asks to confirm, then (``confirm=yes``) cancels the instances or retries their
open incidents one by one, and shows how each went.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from engine import Channel, EngineError
from engine.store.instance_search import SCAN, VARIABLE_NAME, InstanceFilter
from hub.web.render import PageError, blocking, form, hub_of, page, render, require_page
from protocols.actors import actor_of

__all__ = ["routes"]

PAGE = 50
MAX_BULK = 500
STATES = ("active", "incident", "completed", "terminated")
_FIELDS = ("process", "version", "state", "var", "created_from", "created_to", "ended_from", "ended_to")


def _day(raw: str, name: str, *, end: bool) -> int:
    """A date (``2026-12-06``) or a minute (``2026-12-06T10:30``), UTC, as epoch ms; an end date counts whole."""
    try:
        if "T" in raw:
            moment = dt.datetime.fromisoformat(raw).replace(tzinfo=dt.UTC)
            step = dt.timedelta(minutes=1)
        else:
            moment = dt.datetime.combine(dt.date.fromisoformat(raw), dt.time(), tzinfo=dt.UTC)
            step = dt.timedelta(days=1)
    except ValueError:
        raise PageError(400, f"'{name}' must be a date like 2026-12-06, not '{raw}'") from None
    return int(((moment + step) if end else moment).timestamp() * 1000)


def _variable(raw: str) -> tuple[str, Any]:
    name, sep, text = raw.partition("=")
    name = name.strip()
    if not sep or not VARIABLE_NAME.match(name):
        raise PageError(400, f"the variable filter is name=value (like order=A-1 or amount=5), not '{raw}'")
    try:
        return name, json.loads(text)
    except ValueError:
        return name, text


def parse_filter(params: dict[str, str]) -> InstanceFilter:
    state = params.get("state") or None
    if state is not None and state not in STATES:
        raise PageError(400, f"unknown state '{state}': use {', '.join(STATES)}")
    version = params.get("version") or None
    if version is not None and not version.isdigit():
        raise PageError(400, f"version must be a whole number, not '{version}'")
    dates: dict[str, int | None] = {}
    for name in ("created_from", "created_to", "ended_from", "ended_to"):
        raw = (params.get(name) or "").strip()
        dates[name] = _day(raw, name, end=name.endswith("_to")) if raw else None
    return InstanceFilter(
        process_id=params.get("process") or None,
        version=int(version) if version else None,
        status=state if state != "incident" else None,
        incidents_only=state == "incident",
        variable=_variable(params["var"]) if params.get("var") else None,
        created_from=dates["created_from"], created_to=dates["created_to"],
        ended_from=dates["ended_from"], ended_to=dates["ended_to"],
    )


def _cursor(raw: str | None) -> int | None:
    if not raw:
        return None
    if not raw.isdigit():
        raise PageError(400, f"'before' is an instance key, not '{raw}'")
    return int(raw)


@page
async def list_instances(request: Request) -> Response:
    require_page(request, "read")
    params = {k: request.query_params.get(k, "").strip() for k in _FIELDS}
    where = parse_filter(params)
    before = _cursor(request.query_params.get("before"))
    engine = hub_of(request).engine
    views = await blocking(engine.console.search, where, limit=PAGE + 1, before=before)
    more = len(views) > PAGE
    views = views[:PAGE]
    kept = {k: v for k, v in params.items() if v}
    next_url = f"/instances?{urlencode({**kept, 'before': views[-1].key})}" if more else None
    searched_to = None  # a variable filter looks at SCAN instances a page: where it stopped, if it did
    if not more and where.variable is not None:
        searched_to = await blocking(engine.console.scanned_to, where, before=before)
        if searched_to is not None:
            next_url = f"/instances?{urlencode({**kept, 'before': searched_to})}"
    first_url = f"/instances?{urlencode(kept)}" if before is not None else None
    processes = sorted({d["processId"] for d in await blocking(engine.definitions)})
    return render(request, "instances.html", {
        "views": views, "params": params, "next_url": next_url, "first_url": first_url, "processes": processes,
        "states": STATES, "filtered": bool(kept), "searched_to": searched_to, "scan": SCAN,
    })


def _bulk(request: Request, action: str, keys: list[int]) -> list[dict[str, Any]]:
    engine = hub_of(request).engine
    who = request.state.principal
    done = []
    for key in keys:
        try:
            if action == "cancel":
                engine.cancel(key, by=actor_of(who, Channel.CONSOLE))
                done.append({"key": key, "ok": True, "message": "cancelled"})
                continue
            open_incidents = engine.incidents(instance=key, state="open")
            for incident in open_incidents:
                engine.resolve_incident(incident.key, by=actor_of(who, Channel.CONSOLE))
            message = f"{len(open_incidents)} incident(s) retried" if open_incidents else "no open incident"
            done.append({"key": key, "ok": bool(open_incidents), "message": message})
        except EngineError as exc:
            done.append({"key": key, "ok": False, "message": str(exc)})
    return done


def _back(raw: object) -> str:
    """Where the confirm page's "back" goes: an instances list of this hub, nothing else."""
    return raw if isinstance(raw, str) and raw.startswith("/instances") and "\\" not in raw else "/instances"


@page
async def bulk(request: Request) -> Response:
    require_page(request, "start")
    data = await form(request)
    action = data.get("action")
    if action not in ("cancel", "retry"):
        raise PageError(400, "choose what to do: cancel, or retry the incidents of, the instances you selected")
    raw = [str(k) for k in data.getlist("key")]
    if not raw:
        raise PageError(400, "select at least one instance first")
    if len(raw) > MAX_BULK or not all(k.isdigit() for k in raw):
        raise PageError(400, f"select at most {MAX_BULK} instances, by their keys")
    keys = list(dict.fromkeys(int(k) for k in raw))
    if data.get("confirm") != "yes":
        engine = hub_of(request).engine
        views = []
        for key in keys:
            try:
                views.append(await blocking(engine.instance, key))
            except EngineError:
                continue
        return render(request, "instances_confirm.html", {"action": action, "views": views, "keys": keys,
                                                          "back": _back(data.get("back"))})
    results = await blocking(_bulk, request, action, keys)
    return render(request, "instances_done.html", {"action": action, "results": results})


routes: list[BaseRoute] = [
    Route("/instances", list_instances, methods=["GET"]),
    Route("/instances/bulk", bulk, methods=["POST"]),
]
