"""User tasks: search, assignment, unassignment, completion, under the hub's one rule of who may do what
(``protocols.task_access``): a refusal is a 403 that says who may, and nothing changes.

A search shows an admin every task and anyone else the tasks they may
complete, as ``GET /api/v1/user-tasks`` does. Filters other than ``state``,
``processInstanceKey`` and ``candidateGroup`` are applied to each page the
engine reads, so a page may hold fewer than ``page.limit`` tasks while
``hasMoreTotalItems`` says more follow.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from engine import Channel, Engine, NotFound, TaskView
from hub.api.common import ApiError, field, hub, json_body, require
from hub.api.tasks import assign_now, update_now
from hub.camunda_api.filters import equals, filter_of, key_filter
from hub.camunda_api.wire import TENANT, Definitions, cursor, iso, page_json, path_key, root_of, search_page
from protocols.actors import actor_of
from protocols.task_access import TaskRefused, check_complete, is_admin, may_complete

__all__ = ["assign", "complete", "search", "unassign", "update"]

_STATES = {"CREATED": "created", "COMPLETED": "completed", "CANCELED": "canceled"}
_FILTERS = (
    "userTaskKey",
    "state",
    "assignee",
    "candidateGroup",
    "candidateUser",
    "processInstanceKey",
    "elementId",
    "processDefinitionId",
    "tenantId",
)


async def search(request: Request) -> Response:
    who = require(request, "tasks")
    body = await json_body(request, optional=True)
    where = filter_of(body, _FILTERS)
    limit, after = search_page(body)
    state = equals(where, "state", str)
    if state is not None and state not in _STATES:
        raise ApiError(400, f"unknown state '{state}': use {', '.join(_STATES)}")
    task = key_filter(where, "userTaskKey")
    instance = key_filter(where, "processInstanceKey")
    group = equals(where, "candidateGroup", str)
    wanted = {name: equals(where, name, str) for name in ("assignee", "elementId", "processDefinitionId")}
    user = equals(where, "candidateUser", str)
    engine: Engine = hub(request).engine

    def read() -> dict[str, Any]:
        if task is not None:
            views = [v for v in [engine.user_task(task)] if after is None or v.key > after]
        else:
            views = engine.user_tasks(
                state=_STATES[state] if state else None,
                instance=instance,
                candidate_group=group,
                limit=limit + 1,
                after=after,
            )
        more = len(views) > limit
        views = views[:limit]
        shown = [
            v
            for v in views
            if (is_admin(who) or may_complete(who, v))
            and _matches(v, wanted, user)
            and (state is None or v.state == _STATES[state])
            and (instance is None or v.instance == instance)
        ]
        definitions = Definitions(engine)
        page = page_json([task_json(engine, definitions, v) for v in shown], limit, "userTaskKey")
        if more:  # the cursor goes on from the last task read, shown or not
            page["page"]["hasMoreTotalItems"] = True
            page["page"]["endCursor"] = cursor(str(views[-1].key))
        return page

    return JSONResponse(await asyncio.to_thread(read))


def _matches(view: TaskView, wanted: dict[str, str | None], user: str | None) -> bool:
    actual = {"assignee": view.assignee, "elementId": view.element_id, "processDefinitionId": view.process_id}
    return all(v is None or actual[k] == v for k, v in wanted.items()) and (
        user is None or user in view.candidate_users
    )


def task_json(engine: Engine, definitions: Definitions, view: TaskView) -> dict[str, Any]:
    """Camunda's ``UserTaskResult``; ``formKey`` stays null (agenthub links forms by id), the task's form
    reference is ``externalFormReference``."""
    try:
        instance = engine.instance(view.instance)
        version, definition, root = instance.version, definitions.key_of(instance), str(root_of(engine, instance))
        name = definitions.row(instance.process_id, instance.version).get("name")
    except NotFound:
        version, definition, root, name = 0, "0", str(view.instance), None
    return {
        "name": view.name,
        "state": view.state.upper(),
        "assignee": view.assignee,
        "elementId": view.element_id,
        "candidateGroups": view.candidate_groups,
        "candidateUsers": view.candidate_users,
        "processDefinitionId": view.process_id,
        "creationDate": iso(view.created_at or 0),
        "completionDate": iso(view.ended_at),
        "followUpDate": view.follow_up_date,
        "dueDate": view.due_date,
        "tenantId": TENANT,
        "externalFormReference": view.form_key,
        "processDefinitionVersion": version,
        "customHeaders": {},
        "priority": view.priority,
        "userTaskKey": str(view.key),
        "elementInstanceKey": str(view.element_instance),
        "processName": name,
        "processDefinitionKey": definition,
        "processInstanceKey": str(view.instance),
        "rootProcessInstanceKey": root,
        "businessId": None,
        "formKey": None,
        "tags": [],
    }


async def assign(request: Request) -> Response:
    """``{"assignee", "allowOverride"}``: with ``allowOverride: false`` a task assigned to someone else is a 409."""
    who = require(request, "tasks")
    task = path_key(request, "userTaskKey")
    body = await json_body(request)
    assignee = field(body, "assignee", str, required=True)
    override = field(body, "allowOverride", bool, default=True)
    engine: Engine = hub(request).engine

    def work() -> None:
        current = engine.user_task(task).assignee
        if not override and current and current != assignee:
            raise ApiError(409, f"user task {task} is assigned to '{current}' and 'allowOverride' is false")
        assign_now(engine, who, task, assignee)

    await asyncio.to_thread(work)
    return Response(status_code=204)


async def update(request: Request) -> Response:
    """``{"changeset": {candidateGroups, candidateUsers, dueDate, followUpDate, priority}, "action"}``: 204."""
    who = require(request, "tasks")
    task = path_key(request, "userTaskKey")
    body = await json_body(request, optional=True)
    changes = field(body, "changeset", dict, default={})
    await asyncio.to_thread(update_now, hub(request).engine, who, task, changes)
    return Response(status_code=204)


async def unassign(request: Request) -> Response:
    who = require(request, "tasks")
    task = path_key(request, "userTaskKey")
    await asyncio.to_thread(assign_now, hub(request).engine, who, task, None)
    return Response(status_code=204)


async def complete(request: Request) -> Response:
    """``{"variables"}``: 409 when the task is no longer open; 400 with each field's error when they fail its form."""
    who = require(request, "tasks")
    task = path_key(request, "userTaskKey")
    body = await json_body(request, optional=True)
    values = field(body, "variables", dict, default={})
    engine: Engine = hub(request).engine

    def work() -> None:
        view = engine.user_task(task)
        try:
            done = check_complete(who, view)
        except TaskRefused as exc:
            raise ApiError(403, str(exc)) from None
        engine.complete_user_task(task, values, by=actor_of(who, Channel.REST, override=done.override))

    await asyncio.to_thread(work)
    return Response(status_code=204)
