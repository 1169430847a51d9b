"""User tasks: search, assignment, unassignment, completion, under the hub's one rule of who may do what
(``protocols.task_access``): a refusal is a 403 that says who may, and nothing changes.

A search shows an admin every task and anyone else the tasks they may
complete, as ``GET /api/v1/user-tasks`` does. An assignment, update or
completion that the task's listeners hold is answered, as Camunda answers
it, when they have run: 204 once applied, 409 ``INVALID_STATE`` with the
listener's reason when one denied it, 504 ``DEADLINE_EXCEEDED`` when they
have not finished within 15 s (the change then waits on; the task's
``listener`` field in ``/api/v1`` shows where). Filters other than ``state``,
``processInstanceKey`` and ``candidateGroup`` are applied to each page the
engine reads, so a page may hold fewer than ``page.limit`` tasks while
``hasMoreTotalItems`` says more follow.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from engine import Channel, Engine, NotFound, TaskView
from hub.api.common import ApiError, field, hub, json_body, require
from hub.api.tasks import assign_now, update_now
from hub.camunda_api.filters import equals, filter_of, key_filter
from hub.camunda_api.wire import TENANT, Definitions, cursor, iso, page_json, path_key, root_of, search_page
from protocols.actors import actor_of
from protocols.commits import commit_signal
from protocols.task_access import TaskRefused, check_complete, is_admin, may_complete

__all__ = ["after_listeners", "assign", "complete", "search", "unassign", "update", "wait_out"]

_LISTENERS_S = 15.0  # how long a held change is awaited: Camunda's gateway waits as long for a command's result
_POLL_S = 0.5  # listener jobs completed by another hub process are seen by reading again
_DENIED = {"assigning": "Assignment", "updating": "Update", "completing": "Completion"}
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

    def change() -> TaskView:
        if not override and (current := engine.user_task(task).assignee) and current != assignee:
            raise ApiError(409, f"user task {task} is assigned to '{current}' and 'allowOverride' is false")
        return assign_now(engine, who, task, assignee)

    return await after_listeners(engine, task, "assigning", "ASSIGN", change)


async def update(request: Request) -> Response:
    """``{"changeset": {candidateGroups, candidateUsers, dueDate, followUpDate, priority}, "action"}``: 204."""
    who = require(request, "tasks")
    task = path_key(request, "userTaskKey")
    body = await json_body(request, optional=True)
    changes = field(body, "changeset", dict, default={})
    engine: Engine = hub(request).engine
    return await after_listeners(engine, task, "updating", "UPDATE", lambda: update_now(engine, who, task, changes))


async def unassign(request: Request) -> Response:
    who = require(request, "tasks")
    task = path_key(request, "userTaskKey")
    engine: Engine = hub(request).engine
    return await after_listeners(engine, task, "assigning", "ASSIGN", lambda: assign_now(engine, who, task, None))


async def complete(request: Request) -> Response:
    """``{"variables"}``: 409 when the task is no longer open; 400 with each field's error when they fail its form."""
    who = require(request, "tasks")
    task = path_key(request, "userTaskKey")
    body = await json_body(request, optional=True)
    values = field(body, "variables", dict, default={})
    engine: Engine = hub(request).engine

    def change() -> TaskView:
        view = engine.user_task(task)
        try:
            done = check_complete(who, view)
        except TaskRefused as exc:
            raise ApiError(403, str(exc)) from None
        engine.complete_user_task(task, values, by=actor_of(who, Channel.REST, override=done.override))
        return view

    return await after_listeners(engine, task, "completing", "COMPLETE", change)


async def wait_out(engine: Engine, holding: Callable[[], bool], listeners: str, change: str) -> bool:
    """Wait while ``holding()`` (read on a worker thread after every commit of this process, and every
    ``_POLL_S`` for other processes') says ``listeners`` hold ``change``; 504 after ``_LISTENERS_S``, as
    Camunda's gateway answers. Whether it held at all."""
    held = False
    async with commit_signal(engine) as committed:
        deadline = time.monotonic() + _LISTENERS_S
        while await asyncio.to_thread(holding):
            held = True
            left = deadline - time.monotonic()
            if left <= 0:
                raise ApiError(504, f"{listeners} have not finished within {_LISTENERS_S:g} s; {change} waits on "
                                    "them")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(committed.wait(), min(left, _POLL_S))
            committed.clear()
    return held


async def after_listeners(
    engine: Engine, task: int, transition: str, command: str, change: Callable[[], TaskView]
) -> Response:
    """``change()`` on a worker thread (it gives the task as it was before), then 204 once the task's
    ``transition`` listeners have let the change through (at once without listeners).

    409 when one denied it; 504 when they have not finished within ``_LISTENERS_S``.
    """
    before = await asyncio.to_thread(change)
    seen: list[TaskView] = []

    def holding() -> bool:
        seen.append(engine.user_task(task))
        return seen[-1].held(transition)

    held = await wait_out(engine, holding, f"the {transition} listeners of user task {task}", "the change")
    view = seen[-1]
    listener = view.details.get("listener")
    # a denial from before this change (the task had no such listeners, or they ran before the first read) is old
    fresh = held or listener != before.details.get("listener")
    if isinstance(listener, dict) and listener.get("state") == "denied" and fresh:
        reason = listener.get("deniedReason") or ""
        raise ApiError(409, f"Command '{command}' rejected with code 'INVALID_STATE': {_DENIED[transition]} of the "
                            f"User Task with key '{task}' was denied by Task Listener. Reason to deny: '{reason}'")
    return Response(status_code=204)
