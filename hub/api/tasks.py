"""User tasks: list (filters: state, candidate group, instance; sort), get (with its form), assign, unassign,
update (Camunda's changeset), complete (400 with each field's ``errors`` when the variables fail the task's form).
An assignment, update or completion that the task's listeners hold answers 202 (``engine.runtime.behaviors``).

Who may do what is ``protocols.task_access``: a refused completion or
assignment is a 403 that says who may, and nothing changes.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from engine import TASK_SORTS, Actor, Channel, Engine, TaskView
from hub.api.common import (
    ApiError,
    field,
    hub,
    int_param,
    json_body,
    only_fields,
    page_params,
    paged,
    path_int,
    require,
)
from protocols.actors import actor_of
from protocols.task_access import TaskRefused, check_assign, check_complete, is_admin, may_complete
from registry import Principal

_STATES = ("created", "completed", "canceled", "all")
_SCAN_PAGES = 10  # pages of a principal's listing read to fill one page of what it may see
_SELF = "\x00self"  # claim without a body: the caller (a control character, so never a principal's name)
log = logging.getLogger("agenthub.tasks")


async def list_tasks(request: Request) -> Response:
    """A principal's own and its groups' tasks; an admin's listing (or ``?all=true``, admins only) shows every task."""
    who = require(request, "tasks")
    limit, after = page_params(request)
    state = request.query_params.get("state", "created")
    if state not in _STATES:
        raise ApiError(400, f"unknown task state '{state}': use {', '.join(_STATES)}")
    everything = request.query_params.get("all", "").lower() in ("1", "true", "yes")
    if everything and not is_admin(who):
        raise ApiError(403, "only an admin may list every user task ('all=true')", requiredScope="admin")
    engine = hub(request).engine
    instance = int_param(request, "instance")
    group = request.query_params.get("candidateGroup") or None
    sort = request.query_params.get("sort") or None
    if sort is not None and sort not in TASK_SORTS:
        raise ApiError(400, f"unknown sort '{sort}': use one of {', '.join(TASK_SORTS)}")

    def read(after: int | None) -> list[TaskView]:
        return engine.user_tasks(state=None if state == "all" else state, instance=instance, candidate_group=group,
                                 limit=limit + 1, after=after, sort=sort)

    if is_admin(who):
        return paged([v.to_json() for v in await asyncio.to_thread(read, after)], limit)
    shown, scanned_to = await asyncio.to_thread(_visible_page, who, read, limit, after)
    if scanned_to is not None and len(shown) <= limit:  # stopped scanning before the end: go on from there
        return JSONResponse({"items": [v.to_json() for v in shown], "page": {"limit": limit, "next": scanned_to}})
    return paged([v.to_json() for v in shown], limit)


def _visible_page(
    who: Principal, read: Callable[[int | None], list[TaskView]], limit: int, after: int | None
) -> tuple[list[TaskView], int | None]:
    """Up to ``limit + 1`` tasks ``who`` may complete, reading the engine's pages after ``after``.

    The engine filters by one candidate group in SQL, not by "assigned to me or offered to one of my groups", so
    the filter runs here. To keep one listing cheap it reads at most ``_SCAN_PAGES`` pages; when it stops early
    the second value is the last task id read, to pass as ``after`` (a page may then hold fewer than ``limit``).
    """
    shown: list[TaskView] = []
    for _ in range(_SCAN_PAGES):
        views = read(after)
        shown.extend(v for v in views if may_complete(who, v))
        if len(shown) > limit or len(views) <= limit:
            return shown, None
        after = views[-1].key
    return shown, after


async def get_task(request: Request) -> Response:
    """The task, with ``form`` (``engine.form_links.LinkedForm``: the link and the form-js schema) when it has one."""
    require(request, "tasks")
    engine, key = hub(request).engine, path_int(request, "key")
    view = await asyncio.to_thread(engine.user_task, key)
    form = await asyncio.to_thread(engine.user_task_form, key)
    return JSONResponse({**view.to_json(), **({"form": form.to_json()} if form is not None else {})})


async def claim(request: Request) -> Response:
    """``{"assignee": "..."}``; without a body the task goes to the caller; ``null`` unassigns."""
    body = await json_body(request, optional=True)
    if "assignee" in body and body["assignee"] is None:
        return await _assign(request, None)
    return await _assign(request, field(body, "assignee", str, default=_SELF))


async def assign(request: Request) -> Response:
    """``POST .../assignment`` with ``{"assignee": ID}``: claim it for yourself, or (admins) give it to anyone."""
    body = await json_body(request)
    return await _assign(request, field(body, "assignee", str, required=True))


async def unassign(request: Request) -> Response:
    """``DELETE .../assignment``: the task is offered to its candidates again."""
    return await _assign(request, None)


async def _assign(request: Request, assignee: str | None) -> Response:
    who = require(request, "tasks")
    key = path_int(request, "key")
    engine = hub(request).engine
    await asyncio.to_thread(assign_now, engine, who, key, who.name if assignee is _SELF else assignee)
    view = await asyncio.to_thread(engine.user_task, key)
    # 202: the task has assigning listeners, and is assigned when their jobs have (or keeps its assignee, denied)
    return JSONResponse(view.to_json(), status_code=202 if view.held("assigning") else 200)


async def update(request: Request) -> Response:
    """``PATCH`` with Camunda's changeset (``candidateGroups``, ``candidateUsers``, ``dueDate``, ``followUpDate``,
    ``priority``; null: unchanged, "" or []: cleared), by whoever may complete the task. 202 while its updating
    listeners run (``"listener": {"state": "updating"}``); 400 naming a field it cannot change."""
    who = require(request, "tasks")
    key = path_int(request, "key")
    body = await json_body(request)
    engine = hub(request).engine
    await asyncio.to_thread(update_now, engine, who, key, body)
    view = await asyncio.to_thread(engine.user_task, key)
    return JSONResponse(view.to_json(), status_code=202 if view.held("updating") else 200)


async def task_variables(request: Request) -> Response:
    """``PUT .../variables`` ``{"variables": {...}}``: set variables in the task's own scope (local to it, as
    Camunda's set variables at the task's element instance), by whoever may complete the task. 202 while its
    updating listeners run (``"listener": {"state": "updating", "changes": ["variables"]}``): written once they
    have, not at all when one denies."""
    view = await _variables_by_completer(request, Engine.set_user_task_variables)
    return JSONResponse(view.to_json(), status_code=202 if view.held("updating") else 200)


async def task_draft(request: Request) -> Response:
    """``PUT .../draft`` ``{"variables": {...}}``: keep a draft of the task's values with it (as Camunda
    Tasklist's draft variables; the console's Save draft), by whoever may complete the task: nothing reaches
    the process, no listener runs; 200 with the task, its ``draft`` among the details."""
    view = await _variables_by_completer(request, Engine.save_user_task_draft)
    return JSONResponse(view.to_json())


async def _variables_by_completer(
    request: Request, command: Callable[..., None]
) -> TaskView:
    """A body ``{"variables": {...}}`` given to the engine's ``command(engine, key, values, by=...)`` (an
    ``Engine`` method) for the task in the path, as whoever may complete it (403 otherwise); the task after."""
    who = require(request, "tasks")
    key = path_int(request, "key")
    body = await json_body(request)
    values = field(body, "variables", dict, required=True)
    only_fields(body, {"variables"})
    engine = hub(request).engine

    def apply() -> TaskView:
        _, by = _as_completer(engine, who, key)
        command(engine, key, values, by=by)
        return engine.user_task(key)

    return await asyncio.to_thread(apply)


def _as_completer(engine: Engine, who: Principal, key: int) -> tuple[TaskView, Actor]:
    """The task, and ``who`` as the actor of a change that whoever may complete it may make (403 otherwise)."""
    task = engine.user_task(key)
    try:
        done = check_complete(who, task)
    except TaskRefused as exc:
        raise _refused(task, exc) from None
    return task, actor_of(who, Channel.REST, override=done.override)


def _refused(task: TaskView, exc: TaskRefused) -> ApiError:
    """A 403 saying why, with who may act on the task (its assignee and candidates)."""
    return ApiError(403, str(exc), assignee=task.assignee, candidateUsers=task.candidate_users,
                    candidateGroups=task.candidate_groups)


def update_now(engine: Engine, who: Principal, key: int, changes: dict[str, Any]) -> TaskView:
    """Update as ``who`` may (whoever may complete the task: ``protocols.task_access``); Camunda's /v2 shares it.
    The task as it was before."""
    task, by = _as_completer(engine, who, key)
    kept = {name: value for name, value in changes.items() if value is not None}
    engine.update_user_task(key, kept, by=by)
    return task


def assign_now(engine: Engine, who: Principal, key: int, assignee: str | None) -> TaskView:
    """Assign (``None``: unassign) as ``who`` may (``protocols.task_access``): a 403 saying who may, otherwise;
    an assignment only ``who``'s admin scope allowed is journaled as an override. Camunda's /v2 shares it.
    The task as it was before."""
    task = engine.user_task(key)
    try:
        check_assign(who, task, assignee)
    except TaskRefused as exc:
        raise _refused(task, exc) from None
    engine.claim_user_task(key, assignee, by=actor_of(who, Channel.REST, override=_overrides(who, task, assignee)))
    return task


def _overrides(who: Principal, task: TaskView, assignee: str | None) -> bool:
    """Did only ``who``'s admin scope allow this assignment? The journal then says so (``override``)."""
    if not is_admin(who):
        return False
    try:
        check_assign(dataclasses.replace(who, scopes=who.scopes - {"admin"}), task, assignee)
    except TaskRefused:
        return True
    return False


async def complete(request: Request) -> Response:
    """``{"variables": {...}}``; 409 when the task is no longer open, 403 (nothing changes) when the caller may not.

    A task with completing listeners answers 202 with ``"listener": {"state": "completing"}``: it completes when
    their jobs have, or stays open with ``{"state": "denied", "deniedReason"}`` when one denies it.
    """
    who = require(request, "tasks")
    key = path_int(request, "key")
    body = await json_body(request, optional=True)
    values = field(body, "variables", dict, default={})
    engine = hub(request).engine

    def work() -> None:
        task = engine.user_task(key)
        try:
            done = check_complete(who, task)
        except TaskRefused as exc:
            raise _refused(task, exc) from None
        engine.complete_user_task(key, values, by=actor_of(who, Channel.REST, override=done.override))
        if done.override:
            log.warning("user task %s completed by %s", key, done.completed_by)

    await asyncio.to_thread(work)
    view = await asyncio.to_thread(engine.user_task, key)
    # 202: the task has completing listeners, and completes when their jobs have (or stays open, denied)
    return JSONResponse(view.to_json(), status_code=202 if view.held("completing") else 200)


routes: list[BaseRoute] = [
    Route("/api/v1/user-tasks", list_tasks, methods=["GET"]),
    Route("/api/v1/user-tasks/{key}", get_task, methods=["GET"]),
    Route("/api/v1/user-tasks/{key}", update, methods=["PATCH"]),
    Route("/api/v1/user-tasks/{key}/variables", task_variables, methods=["PUT"]),
    Route("/api/v1/user-tasks/{key}/draft", task_draft, methods=["PUT"]),
    Route("/api/v1/user-tasks/{key}/assignment", assign, methods=["POST"]),
    Route("/api/v1/user-tasks/{key}/assignment", unassign, methods=["DELETE"]),
    Route("/api/v1/user-tasks/{key}/claim", claim, methods=["POST"]),
    Route("/api/v1/user-tasks/{key}/complete", complete, methods=["POST"]),
]
