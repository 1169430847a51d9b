"""MCP Tasks (protocol 2025-11-25): a task-augmented ``tools/call`` is a process instance.

- ``tools/call`` with ``task`` on a process tool starts the instance and
  answers at once with ``CreateTaskResult``; the task id is the instance id.
- ``tasks/get`` maps the instance's state: completed -> ``completed``,
  terminated -> ``cancelled``, incident -> ``failed``, an open user task ->
  ``input_required`` (a person must act), else ``working``.
- ``tasks/result`` waits (up to the call budget) and answers what a plain call
  would: the output, or the instance id and ``waitingFor`` while it still waits.
- ``tasks/list`` pages through instances; ``tasks/cancel`` cancels one.
- ``notifications/tasks/status`` goes to the session that created a task whenever its status or message
  changes, until it ends (its instance watched as a resource subscription is: ``_subscriptions``).

mcp 2.3.0 defines the task types but dispatches none of this, and it checks a
``tools/call`` result against ``CallToolResult``, which a ``CreateTaskResult``
is not. So a middleware sends task-augmented calls to a method of our own,
``TASK_CALL_METHOD``, whose result the SDK passes through as it is; the
``tasks/*`` methods are registered as custom request handlers. The SDK's
initialization gate and params validation still apply to both.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from mcp.server.context import CallNext, HandlerResult
from mcp.shared.exceptions import MCPError
from mcp_types import (
    INVALID_PARAMS,
    METHOD_NOT_FOUND,
    CallToolRequestParams,
    CallToolResult,
    CancelTaskRequestParams,
    GetTaskPayloadRequestParams,
    GetTaskRequestParams,
    PaginatedRequestParams,
    ServerTasksCapability,
    ServerTasksRequestsCapability,
    TasksCallCapability,
    TasksCancelCapability,
    TasksListCapability,
    TaskStatusNotification,
    TaskStatusNotificationParams,
    TasksToolsCapability,
)

from engine import Channel, Conflict, Engine, InstanceView, TaskView
from protocols.actors import actor_of
from protocols.instances import follow, is_settled
from protocols.mcp._context import MAX_ID, Context, in_thread, principal_of, require, session_key
from protocols.mcp._process_tools import BUILTIN_PREFIX, ProcessTools
from protocols.mcp._subscriptions import Subscriptions
from protocols.mcp._virtual import virtual_of

if TYPE_CHECKING:
    from protocols.gateway import Gateway

log = logging.getLogger("agenthub.mcp")

TASK_VERSIONS = frozenset({"2025-11-25"})
ENDED = frozenset({"completed", "cancelled", "failed"})  # task statuses after which nothing changes
TASK_CALL_METHOD = "agenthub/taskAugmentedToolCall"
RELATED_TASK = "io.modelcontextprotocol/related-task"
POLL_INTERVAL_MS = 1000
_PAGE = 50
_TASK_ID = re.compile(r"^[0-9]{1,19}$")

CAPABILITY = ServerTasksCapability(
    list=TasksListCapability(),
    cancel=TasksCancelCapability(),
    requests=ServerTasksRequestsCapability(tools=TasksToolsCapability(call=TasksCallCapability())),
)


class Tasks:
    def __init__(self, engine: Engine, processes: ProcessTools, gateway: Gateway | None = None,
                 subscriptions: Subscriptions | None = None) -> None:
        self.engine = engine
        self.processes = processes
        self.gateway = gateway  # a federated tool's task is an instance of the gateway's call process
        self.subscriptions = subscriptions  # watches a created task's instance, for notifications/tasks/status

    async def route(self, ctx: Context, call_next: CallNext) -> HandlerResult:
        """Server middleware: send a task-augmented ``tools/call`` to ``TASK_CALL_METHOD``."""
        params = ctx.params
        if (
            ctx.method == "tools/call"
            and ctx.protocol_version in TASK_VERSIONS
            and isinstance(params, Mapping)
            and params.get("task") is not None
        ):
            return await call_next(dataclasses.replace(ctx, method=TASK_CALL_METHOD))
        return await call_next(ctx)

    async def create(self, ctx: Context, params: CallToolRequestParams) -> dict[str, Any]:
        principal = principal_of(ctx)
        if params.name.startswith(BUILTIN_PREFIX):
            raise MCPError(METHOD_NOT_FOUND, f"the tool '{params.name}' cannot run as a task: call it without 'task'")
        within = virtual_of(ctx)  # on /mcp/{name}: the server's middleware let only its set through
        if self.gateway is not None and self.gateway.owns(params.name, within):
            started = await self.gateway.start_task(principal, params.name, params.arguments, within)
        else:
            started = await self.processes.start(principal, params.name, params.arguments)
        if isinstance(started, CallToolResult):  # invalid arguments: nothing started, no task
            raise MCPError(INVALID_PARAMS, _error_message(started))
        task = await self._task(started.key)
        await self._announce(ctx, started.key, task)
        return {"task": task}

    async def _announce(self, ctx: Context, key: int, task: dict[str, Any]) -> None:
        """Send the session ``notifications/tasks/status`` whenever the new task's status or message changes,
        until it ends (on its standalone stream; a session that cannot be reached any more is forgotten)."""
        subscriptions = self.subscriptions
        if subscriptions is None:
            return
        session, watch = ctx.session, f"task\x00{session_key(ctx)}\x00{key}"
        last = [(task["status"], task["statusMessage"])]

        async def changed(_uri: str) -> None:
            now = await self._task(key)
            if (now["status"], now["statusMessage"]) == last[0]:
                return
            last[0] = (now["status"], now["statusMessage"])
            if now["status"] in ENDED:
                subscriptions.forget(watch)
            # the SDK's notification union leaves it out, though 2025-11-25 defines it; the session only dumps it
            notification = TaskStatusNotification(params=TaskStatusNotificationParams.model_validate(now))
            await session.send_notification(notification)  # type: ignore[arg-type]

        try:
            await subscriptions.watch(watch, [f"agenthub://instances/{key}"], changed)
        except MCPError as exc:  # the hub watches too much already: the client polls, as it may anyway
            log.info("task %s: no status notifications: %s", key, exc.error.message)

    async def get(self, ctx: Context, params: GetTaskRequestParams) -> dict[str, Any]:
        return await self._describe(await self.readable(ctx, params.task_id))

    async def result(self, ctx: Context, params: GetTaskPayloadRequestParams) -> dict[str, Any]:
        view = await self.readable(ctx, params.task_id)
        key = view.key
        if not is_settled(view):
            view = await follow(self.engine, key, self.processes.budget(ctx), first=view)
        if self.gateway is not None and view.process_id == self.gateway.process_id:
            answer = await self.gateway.instance_result(view)
        else:
            answer = await self.processes.result(view)
        meta = {**(answer.meta or {}), RELATED_TASK: {"taskId": str(key)}}
        return answer.model_copy(update={"meta": meta}).model_dump(by_alias=True, mode="json", exclude_none=True)

    async def list_tasks(self, ctx: Context, params: PaginatedRequestParams) -> dict[str, Any]:
        require(principal_of(ctx), "read", "listing tasks")
        after = _key(params.cursor) if params.cursor else None
        views = await in_thread(lambda: self.engine.instances(limit=_PAGE + 1, after=after))
        tasks = [await self._describe(view) for view in views[:_PAGE]]
        answer: dict[str, Any] = {"tasks": tasks}
        if len(views) > _PAGE:
            answer["nextCursor"] = str(views[_PAGE - 1].key)
        return answer

    async def cancel(self, ctx: Context, params: CancelTaskRequestParams) -> dict[str, Any]:
        who = principal_of(ctx)
        require(who, "start", "cancelling a task")
        view = await self.readable(ctx, params.task_id)  # only a task one may read: someone else's is "not found"
        key = view.key
        if view.state in ("completed", "terminated"):
            raise MCPError(INVALID_PARAMS, f"cannot cancel task {key}: its instance is already {view.state}")
        try:
            await in_thread(lambda: self.engine.cancel(key, by=actor_of(who, Channel.MCP)))
        except Conflict as exc:
            raise MCPError(INVALID_PARAMS, f"cannot cancel task {key}: {exc}") from None
        return await self._task(key)

    # --- instance -> task ----------------------------------------------------------------------

    async def readable(self, ctx: Context, task_id: str) -> InstanceView:
        """The task's instance, if the caller may read it: any instance with ``read``; with only ``start``,
        the instances it started (the engine's ``started_by``, not the ``caller`` variable, which any ``start``
        token can set), so a client can follow the tasks it created. Someone else's instance is "not found", as
        an unknown id is."""
        principal = principal_of(ctx)
        if not principal.has("start"):
            require(principal, "read", "reading a task")
        key = _key(task_id)
        view = await self.view(key)
        if not principal.has("read") and view.started_by != principal.name:
            raise _not_found(key)
        return view

    async def view(self, key: int) -> InstanceView:
        """The instance with its row's timestamps (``Engine.instance`` leaves them out)."""
        views = await in_thread(lambda: self.engine.instances(limit=1, after=key - 1))
        if not views or views[0].key != key:
            raise _not_found(key)
        return views[0]

    async def _task(self, key: int) -> dict[str, Any]:
        return await self._describe(await self.view(key))

    async def _describe(self, view: InstanceView) -> dict[str, Any]:
        return envelope(view, *await self.status(view))

    async def status(self, view: InstanceView, open_tasks: list[TaskView] | None = None) -> tuple[str, str]:
        """The task status of ``view`` and a sentence on it; ``open_tasks``: its open user tasks, when read already."""
        if view.state == "completed":
            return "completed", f"instance {view.key} of {view.process_id} completed"
        if view.state == "terminated":
            return "cancelled", f"instance {view.key} of {view.process_id} was terminated"
        if view.state == "incident":
            incidents = await in_thread(lambda: self.engine.incidents(instance=view.key))
            return "failed", "; ".join(i.message for i in incidents) or "the instance has an incident"
        if open_tasks is None:
            open_tasks = await in_thread(lambda: self.engine.user_tasks(instance=view.key, limit=5))
        if open_tasks:
            names = ", ".join(f"'{t.name or t.element_id}' (task {t.key}){_asking(t.inputs)}" for t in open_tasks[:5])
            return "input_required", f"waiting for a person to complete user task {names}"
        waits = sorted({str(e["waitingFor"]["jobType"]) for e in view.active_elements
                        if "jobType" in e.get("waitingFor", {}) and not e["waitingFor"]["claims"]})
        if waits:
            types = ", ".join(f"'{t}'" for t in waits)
            return "working", f"instance {view.key} of {view.process_id} waits for a worker of job type {types}"
        return "working", f"instance {view.key} of {view.process_id} is running"


def envelope(view: InstanceView, status: str, message: str, *, ttl: str = "ttl", poll: str = "pollInterval"
             ) -> dict[str, Any]:
    """The task of an instance, under the keys of its protocol version (2026-07-28: ``ttlMs``, ``pollIntervalMs``)."""
    created = iso_time(view.created_at)
    return {
        "taskId": str(view.key),
        "status": status,
        "statusMessage": message,
        "createdAt": created,
        "lastUpdatedAt": iso_time(view.ended_at) if view.ended_at is not None else created,
        ttl: None,  # instances are kept: the task lives as long as the instance
        poll: POLL_INTERVAL_MS,
    }


def _asking(inputs: Mapping[str, Any]) -> str:
    """A task's question, when its inputs hold one: what the person is asked, in the status message."""
    question = inputs.get("question")
    return f' asking "{question[:200]}"' if isinstance(question, str) and question else ""


def _key(task_id: str) -> int:
    if not _TASK_ID.match(task_id) or int(task_id) > MAX_ID:
        raise MCPError(INVALID_PARAMS, f"task {task_id!r} not found: task ids are process instance ids")
    return int(task_id)


def _not_found(key: int) -> MCPError:
    return MCPError(INVALID_PARAMS, f"task {key} not found: no process instance with this id is visible to you")


def iso_time(millis: int | None) -> str:
    return datetime.fromtimestamp((millis or 0) / 1000, tz=UTC).isoformat().replace("+00:00", "Z")


def _error_message(result: CallToolResult) -> str:
    error = (result.structured_content or {}).get("error", {})
    return str(error.get("message", "the arguments are invalid"))
