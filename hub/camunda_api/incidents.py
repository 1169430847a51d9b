"""Incidents and variables: ``/v2/incidents/search``, ``/v2/incidents/{key}/resolution``, ``/v2/variables/search``.

Variables are an instance's root scope (its process variables) as they
stand now: each a ``VariableSearchResult`` with its value as JSON text, as
Camunda sends it. agenthub keeps no key per variable; ``variableKey`` is the
instance's key followed by the variable's position (four digits), stable
while the instance's variables keep their names.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from engine import Channel, Engine, IncidentView, InstanceView
from hub.api.common import ApiError, hub, json_body, require
from hub.camunda_api.filters import equals, filter_of, key_filter
from hub.camunda_api.wire import TENANT, Definitions, iso, page_json, path_key, root_of, search_page
from protocols.actors import actor_of

__all__ = ["resolve", "search_incidents", "search_variables"]

_STATES = {"ACTIVE": "open", "RESOLVED": "resolved"}
_ERROR_TYPES = {
    "job": "JOB_NO_RETRIES",
    "decision": "DECISION_EVALUATION_ERROR",
    "expression": "EXTRACT_VALUE_ERROR",
    "unhandled-error": "UNHANDLED_ERROR_EVENT",
    "called-process": "CALLED_ELEMENT_ERROR",
}
MAX_VARIABLES = 10_000  # positions in a variable's key: four digits


async def search_incidents(request: Request) -> Response:
    """Filters: ``incidentKey``, ``processInstanceKey``, ``state``, ``elementId``, ``jobKey``, ``errorType``."""
    require(request, "read")
    body = await json_body(request, optional=True)
    where = filter_of(
        body,
        (
            "incidentKey",
            "processInstanceKey",
            "state",
            "elementId",
            "jobKey",
            "errorType",
            "processDefinitionId",
            "tenantId",
        ),
    )
    limit, after = search_page(body)
    state = equals(where, "state", str)
    if state is not None and state not in _STATES:
        raise ApiError(400, f"unknown state '{state}': use {', '.join(_STATES)}")
    incident = key_filter(where, "incidentKey")
    instance = key_filter(where, "processInstanceKey")
    job = key_filter(where, "jobKey")
    wanted = {name: equals(where, name, str) for name in ("elementId", "errorType", "processDefinitionId")}
    engine: Engine = hub(request).engine

    def read() -> dict[str, Any]:
        if incident is not None:
            views = [
                v
                for v in engine.incidents(state=None, instance=instance, limit=1, after=incident - 1)
                if v.key == incident and (after is None or v.key > after)
            ]
        else:
            views = engine.incidents(
                state=_STATES[state] if state else None, instance=instance, limit=limit + 1, after=after
            )
        definitions = Definitions(engine)
        rows = [
            incident_json(engine, definitions, v)
            for v in views
            if (job is None or v.job == job) and (state is None or v.state == _STATES[state])
        ]
        rows = [r for r in rows if all(value is None or r[name] == value for name, value in wanted.items())]
        return page_json(rows, limit, "incidentKey")

    return JSONResponse(await asyncio.to_thread(read))


def incident_json(engine: Engine, definitions: Definitions, view: IncidentView) -> dict[str, Any]:
    """Camunda's ``IncidentResult``; the error type is the nearest of Camunda's to agenthub's own."""
    instance = engine.instance(view.instance)
    return {
        "processDefinitionId": view.process_id,
        "errorType": _ERROR_TYPES.get(view.type, "UNKNOWN"),
        "errorMessage": view.message,
        "elementId": view.element_id,
        "creationTime": iso(view.created_at or 0),
        "state": "ACTIVE" if view.state == "open" else "RESOLVED",
        "tenantId": TENANT,
        "incidentKey": str(view.key),
        "processDefinitionKey": definitions.key_of(instance),
        "processInstanceKey": str(view.instance),
        "rootProcessInstanceKey": str(root_of(engine, instance)),
        "elementInstanceKey": str(view.element_instance),
        "jobKey": None if view.job is None else str(view.job),
    }


async def resolve(request: Request) -> Response:
    who = require(request, "start")
    incident = path_key(request, "incidentKey")
    await asyncio.to_thread(hub(request).engine.resolve_incident, incident, by=actor_of(who, Channel.REST))
    return Response(status_code=204)


async def search_variables(request: Request) -> Response:
    """Filters: ``processInstanceKey`` (required: agenthub searches one instance's variables), ``name``,
    ``scopeKey`` (the instance's key: its root scope)."""
    require(request, "read")
    body = await json_body(request, optional=True)
    where = filter_of(body, ("processInstanceKey", "name", "scopeKey", "tenantId"))
    limit, after = search_page(body)
    instance = key_filter(where, "processInstanceKey")
    if instance is None:
        raise ApiError(
            400,
            "'filter.processInstanceKey' is required: agenthub searches the variables of one "
            "process instance at a time",
        )
    name = equals(where, "name", str)
    scope = key_filter(where, "scopeKey")
    engine: Engine = hub(request).engine

    def read() -> dict[str, Any]:
        view = engine.instance(instance)
        root = str(root_of(engine, view))
        rows = [] if scope not in (None, instance) else variable_rows(view, root)
        rows = [
            r for r in rows if (name is None or r["name"] == name) and (after is None or int(r["variableKey"]) > after)
        ]
        return page_json(rows[: limit + 1], limit, "variableKey")

    return JSONResponse(await asyncio.to_thread(read))


def variable_rows(view: InstanceView, root: str) -> list[dict[str, Any]]:
    """Camunda's ``VariableSearchResult`` for each of the instance's process variables, in name order."""
    return [
        {
            "value": json.dumps(value, separators=(",", ":")),
            "isTruncated": False,
            "name": name,
            "tenantId": TENANT,
            "variableKey": f"{view.key}{position:04d}",
            "scopeKey": str(view.key),
            "processInstanceKey": str(view.key),
            "rootProcessInstanceKey": root,
        }
        for position, (name, value) in enumerate(sorted(view.variables.items())[:MAX_VARIABLES])
    ]
