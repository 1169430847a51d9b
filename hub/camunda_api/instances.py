"""Process instances: create (``awaitCompletion`` included), cancel, search.

``POST /v2/process-instances`` starts the latest version of
``processDefinitionId`` (or ``processDefinitionVersion``), or the definition
``processDefinitionKey``; with ``awaitCompletion`` it answers when the
instance completes, with its variables (``fetchVariables`` picks some), or
504 when ``requestTimeout`` (ms; default 10 s) passes first. An instance that
raises an incident or is terminated while awaited is a 409 saying so, where
Camunda would go on waiting until the timeout.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from engine import Channel, Engine, InstanceView, NotFound, TaskView
from hub.api.common import ApiError, field, hub, json_body, require
from hub.camunda_api.filters import equals, filter_of, key_filter
from hub.camunda_api.tasks import after_listeners, wait_out
from hub.camunda_api.wire import (
    TENANT,
    Definitions,
    iso,
    key,
    page_json,
    parse_key,
    path_key,
    root_of,
    search_page,
)
from protocols.actors import actor_of
from protocols.instances import follow

__all__ = ["cancel", "create", "instance_json", "search", "set_variables"]

DEFAULT_AWAIT_MS = 10_000
MAX_AWAIT_MS = 300_000
_STATES = {"ACTIVE": "active", "COMPLETED": "completed", "TERMINATED": "terminated"}


async def create(request: Request) -> Response:
    principal = require(request, "start")
    body = await json_body(request)
    process_id = field(body, "processDefinitionId", str)
    definition = parse_key(body, "processDefinitionKey")
    if (process_id is None) == (definition is None):
        raise ApiError(400, "give exactly one of 'processDefinitionId' and 'processDefinitionKey'")
    version = field(body, "processDefinitionVersion", int, default=-1)
    variables = field(body, "variables", dict, default={})
    wait = field(body, "awaitCompletion", bool, default=False)
    fetch = field(body, "fetchVariables", list)
    timeout_ms = field(body, "requestTimeout", int, default=0) or DEFAULT_AWAIT_MS
    if not 0 < timeout_ms <= MAX_AWAIT_MS:
        raise ApiError(400, f"'requestTimeout' must be between 0 and {MAX_AWAIT_MS} ms")
    if fetch is not None and not all(isinstance(n, str) for n in fetch):
        raise ApiError(400, "'fetchVariables' must be an array of variable names")
    tenant = field(body, "tenantId", str, default=TENANT)
    if tenant != TENANT:
        raise ApiError(400, f"tenant '{tenant}' does not exist: agenthub has one tenant, '{TENANT}'")
    _no_start_instructions(body)
    engine: Engine = hub(request).engine
    definitions = Definitions(engine)

    def start() -> InstanceView:
        if definition is not None:
            row = definitions.by_key(definition)
            pid, at = str(row["processId"]), int(row["version"])
        else:
            assert process_id is not None
            pid, at = process_id, int(definitions.row(process_id, None if version < 0 else version)["version"])
        return engine.start(
            pid,
            variables,
            version=at,
            owner=principal.name,
            by=actor_of(principal, Channel.REST),
        )

    view = await asyncio.to_thread(start)
    values: dict[str, Any] = {}
    if wait:
        view = await follow(engine, view.key, timeout_ms / 1000, first=view)
        if view.state in ("active",):
            raise ApiError(
                504,
                f"process instance {view.key} did not complete within {timeout_ms} ms; it goes on "
                "running (search for it by its key)",
            )
        if view.state != "completed":
            raise ApiError(
                409,
                f"process instance {view.key} was awaited but is {view.state}: "
                + (
                    "resolve its incident (POST /v2/incidents/search)"
                    if view.state == "incident"
                    else "it will not complete"
                ),
            )
        values = view.variables if fetch is None else {n: view.variables[n] for n in fetch if n in view.variables}
    return JSONResponse(
        {
            "processDefinitionId": view.process_id,
            "processDefinitionVersion": view.version,
            "tenantId": TENANT,
            "variables": values,
            "processDefinitionKey": definitions.key_of(view),
            "processInstanceKey": str(view.key),
            "tags": field(body, "tags", list, default=[]),
            "businessId": None,
        }
    )


def _no_start_instructions(body: dict[str, Any]) -> None:
    if field(body, "startInstructions", list, default=[]):
        raise ApiError(
            400,
            "'startInstructions' (starting at an element other than the start event) is not "
            "supported: agenthub starts an instance at its none start event",
        )


async def cancel(request: Request) -> Response:
    """204 once the instance is terminated: after its user tasks' canceling listeners, as Camunda answers (504
    after 15 s; the cancellation goes on)."""
    who = require(request, "start")
    instance = path_key(request, "processInstanceKey")
    engine = hub(request).engine
    view = await asyncio.to_thread(engine.cancel, instance, by=actor_of(who, Channel.REST))
    if view.state != "terminated":
        await wait_out(engine, lambda: engine.instance(instance).state not in ("terminated", "completed"),
                       f"the canceling listeners of process instance {instance}", "its cancellation")
    return Response(status_code=204)


async def set_variables(request: Request) -> Response:
    """``PUT /v2/element-instances/{elementInstanceKey}/variables`` ``{"variables", "local", "operationReference"}``:
    the key of a process instance (its own scope) or of one of its active element instances. ``local``: only
    in that scope; else each variable where it is already defined, up the scopes, or at the process. On a user
    task's element its updating listeners run first (``"local": true``), as in Camunda 8.8."""
    who = require(request, "start")
    element = path_key(request, "elementInstanceKey")
    body = await json_body(request)
    values = field(body, "variables", dict, required=True)
    local = field(body, "local", bool, default=False)
    field(body, "operationReference", int)  # Camunda's tag for its batch operations: accepted, not kept
    engine = hub(request).engine
    by = actor_of(who, Channel.REST)
    instance, scope = await asyncio.to_thread(engine.element_owner, element)
    task = None if scope is None else await asyncio.to_thread(_open_task_at, engine, instance, scope)

    def apply() -> None:
        engine.set_variables(instance, values, scope=scope, local=local, by=by)

    if task is None:
        await asyncio.to_thread(apply)
        return Response(status_code=204)

    def change() -> TaskView:  # a user task's: answered once its updating listeners let the variables through
        before = engine.user_task(task)
        apply()
        return before

    return await after_listeners(engine, task, "updating", "UPDATE", change)


def _open_task_at(engine: Engine, instance: int, element: int) -> int | None:
    """The open user task whose element instance is ``element``, if any."""
    return next((t.key for t in engine.user_tasks(instance=instance) if t.element_instance == element), None)


async def search(request: Request) -> Response:
    """Filters: ``processInstanceKey``, ``processDefinitionId``, ``processDefinitionKey``, ``state``,
    ``hasIncident``, ``parentProcessInstanceKey``; sorted by key; paged by ``page.after``."""
    require(request, "read")
    body = await json_body(request, optional=True)
    where = filter_of(
        body,
        (
            "processInstanceKey",
            "processDefinitionId",
            "processDefinitionKey",
            "state",
            "hasIncident",
            "parentProcessInstanceKey",
            "tenantId",
        ),
    )
    limit, after = search_page(body)
    instance = key_filter(where, "processInstanceKey")
    process_id = equals(where, "processDefinitionId", str)
    state = equals(where, "state", str)
    if state is not None and state not in _STATES:
        raise ApiError(400, f"unknown state '{state}': use {', '.join(_STATES)}")
    engine: Engine = hub(request).engine

    def read() -> dict[str, Any]:
        definitions = Definitions(engine)
        if instance is not None:
            views = [v for v in [engine.instance(instance)] if after is None or v.key > after]
        else:
            views = engine.instances(
                state=_STATES[state] if state else None, process_id=process_id, limit=limit + 1, after=after
            )
        rows = [instance_json(engine, definitions, v) for v in views]
        return page_json([r for r in rows if _matches(r, where, state)], limit, "processInstanceKey")

    return JSONResponse(await asyncio.to_thread(read))


def _matches(row: dict[str, Any], where: dict[str, Any], state: str | None) -> bool:
    wanted = {
        "processDefinitionId": equals(where, "processDefinitionId", str),
        "processDefinitionKey": None
        if key_filter(where, "processDefinitionKey") is None
        else str(key_filter(where, "processDefinitionKey")),
        "state": state,
        "hasIncident": equals(where, "hasIncident", bool),
        "parentProcessInstanceKey": None
        if key_filter(where, "parentProcessInstanceKey") is None
        else str(key_filter(where, "parentProcessInstanceKey")),
    }
    return all(value is None or row[name] == value for name, value in wanted.items())


def instance_json(engine: Engine, definitions: Definitions, view: InstanceView) -> dict[str, Any]:
    """Camunda's ``ProcessInstanceResult``."""
    try:
        name = definitions.row(view.process_id, view.version).get("name")
    except NotFound:
        name = None
    return {
        "processDefinitionId": view.process_id,
        "processDefinitionName": name,
        "processDefinitionVersion": view.version,
        "processDefinitionVersionTag": None,
        "startDate": iso(view.created_at or 0),
        "endDate": iso(view.ended_at),
        "state": {"completed": "COMPLETED", "terminated": "TERMINATED"}.get(view.state, "ACTIVE"),
        "suspendedDate": None,
        "hasIncident": view.state == "incident",
        "tenantId": TENANT,
        "processInstanceKey": str(view.key),
        "processDefinitionKey": definitions.key_of(view),
        "parentProcessInstanceKey": key(view.parent_instance),
        "parentElementInstanceKey": None,
        "rootProcessInstanceKey": str(root_of(engine, view)),
        "tags": [],
        "businessId": None,
    }
