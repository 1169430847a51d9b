"""MCP Tasks, the 2026-07-28 extension (SEP-2663, ``io.modelcontextprotocol/tasks``): a tool call may answer with a
task, which the client polls.

The hub advertises the extension under ``capabilities.extensions`` on
2026-07-28 and decides per call, as the extension says the server does:

- a process tool call from a request that declares the extension (in its
  ``_meta`` client capabilities) follows its instance for
  ``TASK_AFTER_S`` at most; an instance that ends by then answers at once
  (the plain ``CallToolResult``), else the call answers ``CreateTaskResult``
  (``resultType: "task"``, the task id is the instance id), written before
  the answer leaves, so ``tasks/get`` finds it at once. A tool declared
  ``taskSupport="forbidden"`` always answers plainly; one declared
  ``"required"`` refuses a request without the extension with ``-32021``.
- ``tasks/get`` maps the instance (the status table in docs/MCP.md):
  completed -> ``completed`` with the call's result inlined (a process's own
  error, ``mcpIsError``, is ``isError`` there); an incident -> ``failed``
  with a JSON-RPC error object (``-32603``); terminated -> ``cancelled``; an
  open user task assigned to the caller, or a sampling request of an
  ``mcp:sampling`` agent, -> ``input_required`` with its ``inputRequests``;
  else ``working``.
- ``tasks/update`` hands ``inputResponses`` to the questions they answer: an
  accepted elicitation completes the user task as the caller, a declined
  one is not asked again by this hub process (the task stays open for the
  inbox), a sampling answer goes to the model step waiting for it; keys
  that are not outstanding are ignored. ``tasks/cancel`` cancels the
  instance (nothing on one that has ended). Both acknowledge with an empty
  result.
- without the extension on the request, ``tasks/get``, ``tasks/update`` and
  ``tasks/cancel`` are ``-32021``; ``tasks/result`` and ``tasks/list``
  (2025-11-25 only) are ``-32601``.

Who may read, update or cancel a task is decided as for 2025-11-25 tasks
(``_tasks.Tasks``): the token that started it, or one with ``read``
(updating and cancelling also need ``start``); anyone else gets "not
found", as for an unknown id. A federated tool's call answers plainly, unless
it waits for a person's approval: then its task is the instance that waits
(``Gateway.call``), and the task's result is the upstream's answer.
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING, Any

from mcp.shared.exceptions import MCPError
from mcp_types import (
    INTERNAL_ERROR,
    METHOD_NOT_FOUND,
    CancelTaskRequestParams,
    ElicitResult,
    GetTaskRequestParams,
    RequestParams,
)
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import Field, ValidationError

from engine import Channel, Conflict, InstanceView, TaskView
from protocols.actors import actor_of
from protocols.mcp._context import Context, in_thread, principal_of, require
from protocols.mcp._elicitation import callers_tasks, elicitation_of, take_answer
from protocols.mcp._process_tools import TASKS_EXTENSION, ProcessTools, needs_tasks_extension
from protocols.mcp._tasks import Tasks, envelope
from protocols.mcp.sampling import PendingRequest

if TYPE_CHECKING:
    from protocols.gateway import Gateway

log = logging.getLogger("agenthub.mcp")

MAX_DECLINED = 10_000
"""Declined questions remembered, so a hub process's memory stays bounded; an older one may be asked again."""


class UpdateTaskRequestParams(RequestParams):
    """``tasks/update``: the answers to a task's outstanding ``inputRequests``, by their keys."""

    task_id: str = Field(alias="taskId")
    input_responses: dict[str, Any] = Field(alias="inputResponses")


def declares_tasks(ctx: Context) -> bool:
    """The request is of 2026-07-28 or later and its client capabilities name the Tasks extension."""
    if ctx.protocol_version not in MODERN_PROTOCOL_VERSIONS:
        return False
    capabilities = ctx.session.client_capabilities
    return capabilities is not None and TASKS_EXTENSION in (capabilities.extensions or {})


def modern(ctx: Context) -> bool:
    return ctx.protocol_version in MODERN_PROTOCOL_VERSIONS


def removed(method: str) -> MCPError:
    return MCPError(METHOD_NOT_FOUND, f"{method} is not a method of the 2026-07-28 Tasks extension: a completed "
                                      "task's tasks/get holds its result, and tasks are not listed")


class TasksExtension:
    """``tasks/get``, ``tasks/update`` and ``tasks/cancel`` on 2026-07-28, and the ``CreateTaskResult`` of a call."""

    def __init__(self, tasks: Tasks, processes: ProcessTools, gateway: Gateway | None = None) -> None:
        self.tasks = tasks
        self.engine = tasks.engine
        self.processes = processes
        self.gateway = gateway
        # user tasks whose question a client declined, oldest first: not asked again (the newest MAX_DECLINED)
        self._declined: dict[int, None] = {}

    async def created(self, view: InstanceView) -> dict[str, Any]:
        """``CreateTaskResult`` for a call that answers with its instance's task: the task as ``tasks/get`` shows
        it now, without what only ``tasks/get`` carries (result, error, input requests)."""
        now = await self.tasks.view(view.key)
        status, message, _ = await self._status(now, None)
        return {"resultType": "task", **self._envelope(now, status, message)}

    async def get(self, ctx: Context, params: GetTaskRequestParams) -> dict[str, Any]:
        self._gate(ctx, "tasks/get")
        view = await self.tasks.readable(ctx, params.task_id)
        return await self.detailed(view, principal_of(ctx).name)

    async def update(self, ctx: Context, params: UpdateTaskRequestParams) -> dict[str, Any]:
        self._gate(ctx, "tasks/update")
        principal = principal_of(ctx)
        require(principal, "start", "answering a task's input requests")
        view = await self.tasks.readable(ctx, params.task_id)
        samples = {p.key: p for p in self.processes.sampling.questions(view.key)}
        open_tasks = await in_thread(lambda: self.engine.user_tasks(instance=view.key))
        asked = {_request_key(t): t for t in self._asked(open_tasks, principal.name)}
        for key, raw in params.input_responses.items():
            if key in samples:
                self._answer_step(view.key, samples[key], raw)
            elif key in asked:
                try:
                    answer = ElicitResult.model_validate(raw)
                except ValidationError:
                    log.info("tasks/update for task %s: the answer to %r is not an elicitation result", view.key, key)
                    continue
                if answer.action != "accept":
                    self._decline(asked[key].key)
                    continue
                await take_answer(self.engine, principal, asked[key].key, answer)
        return {}

    async def cancel(self, ctx: Context, params: CancelTaskRequestParams) -> dict[str, Any]:
        self._gate(ctx, "tasks/cancel")
        who = principal_of(ctx)
        require(who, "start", "cancelling a task")
        view = await self.tasks.readable(ctx, params.task_id)
        if view.state not in ("completed", "terminated"):
            with contextlib.suppress(Conflict):  # it ended meanwhile: a cancel is a wish, acknowledged all the same
                await in_thread(lambda: self.engine.cancel(view.key, by=actor_of(who, Channel.MCP)))
        return {}

    # --- instance -> task ----------------------------------------------------------------------

    async def detailed(self, view: InstanceView, caller: str) -> dict[str, Any]:
        """The task of ``view`` as ``tasks/get`` answers it, for ``caller`` (whose questions it carries)."""
        status, message, extra = await self._status(view, caller)
        return {**self._envelope(view, status, message), **extra}

    @staticmethod
    def _envelope(view: InstanceView, status: str, message: str) -> dict[str, Any]:
        return envelope(view, status, message, ttl="ttlMs", poll="pollIntervalMs")

    async def _status(self, view: InstanceView, caller: str | None) -> tuple[str, str, dict[str, Any]]:
        """Status, message and the fields only ``tasks/get`` carries (when ``caller`` is given)."""
        if view.state == "completed":
            extra = {"result": await self._result(view)} if caller is not None else {}
            return "completed", f"instance {view.key} of {view.process_id} completed", extra
        if view.state == "terminated":
            return "cancelled", f"instance {view.key} of {view.process_id} was terminated", {}
        if view.state == "incident":
            incidents = await in_thread(lambda: self.engine.incidents(instance=view.key))
            said = "; ".join(i.message for i in incidents) or "see the instance"
            message = f"instance {view.key} of {view.process_id} stopped with an incident: {said}"
            error = {"code": INTERNAL_ERROR, "message": message,
                     "data": {"instance": view.key, "incidents": [{"key": i.key, "message": i.message}
                                                                  for i in incidents]}}
            return "failed", message, {"error": error} if caller is not None else {}
        if caller is None:
            return "working", (await self.tasks.status(view))[1], {}
        open_tasks = await in_thread(lambda: self.engine.user_tasks(instance=view.key))
        requests = await self._input_requests(view, caller, open_tasks)
        if requests:
            return "input_required", f"instance {view.key} asks {len(requests)} question(s) of its caller", \
                {"inputRequests": requests}
        return "working", (await self.tasks.status(view, open_tasks))[1], {}

    async def _result(self, view: InstanceView) -> dict[str, Any]:
        if self.gateway is not None and view.process_id == self.gateway.process_id:
            answer = await self.gateway.instance_result(view)
        else:
            answer = await self.processes.result(view)
        return answer.model_dump(by_alias=True, mode="json", exclude_none=True)

    async def _input_requests(self, view: InstanceView, caller: str, open_tasks: list[TaskView]) -> dict[str, Any]:
        """The questions the instance waits for its caller to answer: its open user tasks assigned to them
        (elicitation), and its ``mcp:sampling`` agents' model steps (sampling), by keys that name one question
        each."""
        requests: dict[str, Any] = {}
        for task in self._asked(open_tasks, caller):
            ask = await elicitation_of(self.engine, view, task)
            requests[_request_key(task)] = ask.model_dump(by_alias=True, mode="json", exclude_none=True)
        if view.started_by == caller:
            for pending in self.processes.sampling.questions(view.key):
                requests[pending.key] = pending.request.model_dump(by_alias=True, mode="json", exclude_none=True)
        return requests

    def _asked(self, open_tasks: list[TaskView], caller: str) -> list[TaskView]:
        """The caller's questions among the open user tasks, less those a client declined."""
        return [t for t in callers_tasks(open_tasks, caller) if t.key not in self._declined]

    def _decline(self, task: int) -> None:
        self._declined[task] = None
        while len(self._declined) > MAX_DECLINED:
            del self._declined[next(iter(self._declined))]

    def _answer_step(self, instance: int, pending: PendingRequest, raw: Any) -> None:
        answer = pending.parse(raw)
        if answer is None:
            log.info("tasks/update for task %s: the answer to %r is not a %s result", instance, pending.key,
                     pending.request.method)
            return
        self.processes.sampling.answer(instance, pending.key, answer)

    @staticmethod
    def _gate(ctx: Context, method: str) -> None:
        if not declares_tasks(ctx):
            raise needs_tasks_extension(method)


def _request_key(task: TaskView) -> str:
    """A user task's input request key: its element and its key, so no key names two questions in one task."""
    return f"{task.element_id}-{task.key}"
